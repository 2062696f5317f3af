/* aio-timeout.c: AioTimeout, asyncio's timeout() scopes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioTimeout:
 *
 * A deadline for a stretch of a task's body: asyncio's `timeout()` and
 * `timeout_at()` context managers.
 *
 * [func@Aio.Timeout.enter] opens a scope in the current task and
 * [method@Aio.Timeout.exit] closes it. If the deadline passes in between,
 * the task is cancelled ([method@Aio.Task.cancel]), so the
 * `aio_await()` it is suspended in returns `G_IO_ERROR_CANCELLED`;
 * [method@Aio.Timeout.exit] then turns that cancellation into
 * `G_IO_ERROR_TIMED_OUT` and takes it back ([method@Aio.Task.uncancel]),
 * so the task goes on as a task that was never cancelled:
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * AioTimeout *scope = aio_timeout_enter (1.0);
 * gboolean ok;
 *
 * ok = aio_await (aio_sleep (5.0), &error);   // cancelled at the deadline
 * ok = aio_timeout_exit (scope, &error);      // G_IO_ERROR_TIMED_OUT
 * ```
 *
 * The scope may hold any number of awaits; the error of the one that was
 * cancelled is what [method@Aio.Timeout.exit] looks at, so pass it the
 * same `GError` location (unlike GLib's convention, it may be set), and
 * leave the scope as soon as an await fails. A scope whose own deadline
 * fired reports `G_IO_ERROR_TIMED_OUT` even when that location was
 * cleared first; [method@Aio.Timeout.exit_with] is the form that follows
 * GLib's convention:
 *
 * ```c
 * AioTimeout *scope = aio_timeout_enter (10.0);
 * if (aio_await (connect (), &error) && aio_await (handshake (), &error))
 *   aio_await (send_request (), &error);
 * if (!aio_timeout_exit (scope, &error))
 *   return fail (error);   // TIMED_OUT if it was the deadline
 * ```
 *
 * The exact rule, asyncio's: when the deadline fired, exit calls
 * [method@Aio.Task.uncancel]; if that leaves no more cancellation
 * requests than there were when the scope was entered, the cancellation
 * was the scope's own, and a `G_IO_ERROR_CANCELLED` in the error becomes
 * `G_IO_ERROR_TIMED_OUT`. Otherwise the task was also cancelled from
 * elsewhere (or an outer scope expired too): the error stays
 * `G_IO_ERROR_CANCELLED` and the task stays cancelled. So scopes nest,
 * and only the one whose deadline fired reports the timeout.
 *
 * A scope costs one entry in the loop's timer heap
 * ([method@Aio.Loop.call_at]), never a `GSource`. It works in fiber and
 * stepped tasks alike; outside of a task, entering one is a programmer
 * error.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "aio-error.h"
#include "aio-future-private.h"
#include "aio-task-private.h"
#include "aio-timeout.h"
#include "aio-waiter-private.h"

enum {
  TIMEOUT_ENTERED,
  TIMEOUT_EXPIRING,
  TIMEOUT_EXPIRED,
  TIMEOUT_EXITED,
};

struct _AioTimeout
{
  GObject     parent_instance;

  /* Owned.  Set when entered, dropped when exited. */
  AioTask    *task;
  /* Borrowed from @task. */
  AioLoop    *loop;

  /* Loop thread only.  The timer, owned, while armed; it points back at
   * us without a reference, and finalizing cancels it. */
  AioHandle  *handle;
  gdouble     when;
  guint       state;
  /* The task's cancellation requests when the scope was entered. */
  guint       cancelling;
};

G_DEFINE_FINAL_TYPE (AioTimeout, aio_timeout, G_TYPE_OBJECT)

static gboolean
is_no_deadline (gdouble when)
{
  return when >= G_MAXDOUBLE;
}

static void
aio_timeout_disarm (AioTimeout *self)
{
  if (self->handle != NULL)
    {
      aio_handle_cancel (self->handle);
      g_clear_pointer (&self->handle, aio_handle_unref);
    }
}

static void
aio_timeout_finalize (GObject *object)
{
  AioTimeout *self = (AioTimeout *) object;

  aio_timeout_disarm (self);
  g_clear_object (&self->task);

  G_OBJECT_CLASS (aio_timeout_parent_class)->finalize (object);
}

static void
aio_timeout_class_init (AioTimeoutClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = aio_timeout_finalize;
}

static void
aio_timeout_init (AioTimeout *self)
{
  self->when = G_MAXDOUBLE;
}

static void
aio_timeout_fired (gpointer user_data)
{
  AioTimeout *self = user_data;

  g_clear_pointer (&self->handle, aio_handle_unref);
  self->state = TIMEOUT_EXPIRING;
  aio_task_cancel (self->task, NULL);
}

static void
aio_timeout_arm (AioTimeout *self,
                 gdouble     when)
{
  aio_timeout_disarm (self);
  self->when = is_no_deadline (when) ? G_MAXDOUBLE : when;
  if (!is_no_deadline (when))
    self->handle = aio_loop_call_at (self->loop, when, aio_timeout_fired, self, NULL);
}

/* The task a scope opens in: the current one.  Outside of a task, a
 * programmer error. */
static AioTask *
timeout_current_task (void)
{
  AioTask *task = aio_task_get_current ();

  if (task == NULL)
    g_critical ("aio_timeout_enter: timeout scopes are for the bodies of tasks");
  return task;
}

/**
 * aio_timeout_enter_at:
 * @when: the deadline, on the clock of [method@Aio.Loop.time];
 *   `G_MAXDOUBLE` or more (`INFINITY` included) for none
 *
 * Opens a timeout scope in the current task with a deadline at @when
 * (asyncio's `timeout_at(when)`); see [class@Aio.Timeout]. A deadline in
 * the past cancels the task at its next await.
 *
 * Calling this outside of a task is a programmer error.
 *
 * Returns: (transfer full): the scope, to be closed with
 *   [method@Aio.Timeout.exit], which frees it
 *
 * Since: 1.0
 */
AioTimeout *
aio_timeout_enter_at (gdouble when)
{
  AioTimeout *self;
  AioTask *task;

  g_return_val_if_fail (!isnan (when), NULL);

  if ((task = timeout_current_task ()) == NULL)
    return NULL;

  self = g_object_new (AIO_TYPE_TIMEOUT, NULL);
  self->task = g_object_ref (task);
  self->loop = aio_future_get_loop ((AioFuture *) task);
  self->cancelling = aio_task_cancelling (task);
  self->state = TIMEOUT_ENTERED;
  aio_timeout_arm (self, when);
  return self;
}

/**
 * aio_timeout_enter:
 * @seconds: the delay until the deadline; `G_MAXDOUBLE` or more
 *   (`INFINITY` included) for none
 *
 * Opens a timeout scope in the current task with a deadline @seconds from
 * now (asyncio's `timeout(delay)`); see [class@Aio.Timeout].
 *
 * Calling this outside of a task is a programmer error.
 *
 * Returns: (transfer full): the scope, to be closed with
 *   [method@Aio.Timeout.exit], which frees it
 *
 * Since: 1.0
 */
AioTimeout *
aio_timeout_enter (gdouble seconds)
{
  AioTask *task;

  g_return_val_if_fail (!isnan (seconds), NULL);

  if ((task = timeout_current_task ()) == NULL)
    return NULL;

  if (is_no_deadline (seconds))
    return aio_timeout_enter_at (G_MAXDOUBLE);
  return aio_timeout_enter_at (aio_loop_time (aio_future_get_loop ((AioFuture *) task)) + seconds);
}

/**
 * aio_timeout_reschedule:
 * @scope: an [class@Aio.Timeout] that has not expired
 * @when: the new deadline, on the clock of [method@Aio.Loop.time];
 *   `G_MAXDOUBLE` or more for none
 *
 * Moves the deadline of @scope (asyncio's `reschedule()`), earlier or
 * later, or removes it. Rescheduling a scope that has expired or was
 * exited is a programmer error.
 *
 * Since: 1.0
 */
void
aio_timeout_reschedule (AioTimeout *scope,
                        gdouble     when)
{
  g_return_if_fail (AIO_IS_TIMEOUT (scope));
  g_return_if_fail (!isnan (when));

  if (scope->state != TIMEOUT_ENTERED)
    {
      g_critical ("aio_timeout_reschedule: the timeout scope %p has %s",
                  scope, scope->state == TIMEOUT_EXITED ? "been exited" : "expired");
      return;
    }

  aio_timeout_arm (scope, when);
}

/**
 * aio_timeout_when:
 * @scope: an [class@Aio.Timeout]
 *
 * Gets the deadline of @scope (asyncio's `when()`).
 *
 * Returns: the deadline on the clock of [method@Aio.Loop.time], or
 *   `G_MAXDOUBLE` when there is none
 *
 * Since: 1.0
 */
gdouble
aio_timeout_when (AioTimeout *scope)
{
  g_return_val_if_fail (AIO_IS_TIMEOUT (scope), G_MAXDOUBLE);

  return scope->when;
}

/**
 * aio_timeout_expired:
 * @scope: an [class@Aio.Timeout]
 *
 * Whether the deadline of @scope has passed, cancelling its task
 * (asyncio's `expired()`).
 *
 * Returns: %TRUE once the deadline fired
 *
 * Since: 1.0
 */
gboolean
aio_timeout_expired (AioTimeout *scope)
{
  g_return_val_if_fail (AIO_IS_TIMEOUT (scope), FALSE);

  return scope->state == TIMEOUT_EXPIRING || scope->state == TIMEOUT_EXPIRED;
}

/* Closes @scope; see aio_timeout_exit().  @unset_is_success says what a
 * body error left unset means when the scope's deadline fired: that the
 * body succeeded all the same (exit_with(), whose caller says exactly
 * whether the body was cancelled), or that its cancellation was not
 * passed in (exit(), where the caller may have cleared it). */
static gboolean
aio_timeout_exit_internal (AioTimeout  *scope,
                           GError     **error,
                           gboolean     unset_is_success)
{
  gboolean handled = FALSE;
  gboolean unseen = FALSE;
  gboolean ok;

  if (scope->state == TIMEOUT_EXITED || scope->state == TIMEOUT_EXPIRED)
    {
      g_critical ("aio_timeout_exit: the timeout scope %p was exited already", scope);
      return FALSE;
    }

  if (aio_task_get_current () != scope->task)
    {
      g_critical ("aio_timeout_exit: the timeout scope %p belongs to task %s",
                  scope, aio_task_get_name (scope->task));
      return FALSE;
    }

  aio_timeout_disarm (scope);

  if (scope->state == TIMEOUT_EXPIRING)
    {
      scope->state = TIMEOUT_EXPIRED;
      /* The deadline fired after what the body waited for had completed:
       * the body got that outcome (an item, a lock) and never saw the
       * cancellation, which is taken back here.  It succeeded, as in
       * asyncio, whatever its error location says. */
      unseen = _aio_task_cancel_is_pending (scope->task);
      /* asyncio: "Since there are no new cancel requests, we're handling
       * this." */
      handled = aio_task_uncancel (scope->task) <= scope->cancelling;
    }
  else
    scope->state = TIMEOUT_EXITED;

  if (error != NULL)
    {
      gboolean timed_out = FALSE;

      if (handled && *error != NULL && _aio_error_is_cancelled (*error))
        {
          g_clear_error (error);
          timed_out = TRUE;
        }
      else if (handled && *error == NULL && !unset_is_success && !unseen)
        timed_out = TRUE;

      if (timed_out)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                             _("The operation timed out"));
      ok = *error == NULL;
    }
  else
    ok = !handled || unseen;

  g_clear_object (&scope->task);
  g_object_unref (scope);
  return ok;
}

/**
 * aio_timeout_exit: (skip)
 * @scope: (transfer full): the [class@Aio.Timeout] to close
 * @error: (nullable): the error of the scope's body: `NULL` or the error
 *   its failed await reported; on return, the error to report
 *
 * Closes @scope (the end of asyncio's `async with timeout()` block),
 * disarming its timer, and frees it. Call it from the task that entered
 * it, once, whether the scope's body succeeded or not.
 *
 * Unlike GLib's functions, this one takes a @error that may already be
 * set: the error the body's await reported, if any (so pass the body's
 * own `GError` location and do not clear it first). When the scope's
 * deadline fired and the cancellation was the scope's own (see
 * [class@Aio.Timeout] for the exact rule), the cancellation request is
 * taken back from the task and @error is set to `G_IO_ERROR_TIMED_OUT`,
 * whether it held the body's `G_IO_ERROR_CANCELLED` or nothing: a body
 * error that was cleared before the call still counts as a timeout, never
 * as a success. Any other error, and a cancellation that came from
 * elsewhere, is left as it is. A deadline that fired after the future the
 * body awaited had completed never reached the body, which got that
 * future's outcome (a queue's item, a lock): it is taken back, and the
 * body's success stands. (asyncio lets a body that caught the
 * cancellation and ended normally succeed; to get that, say whether the
 * body was cancelled with [method@Aio.Timeout.exit_with], which follows
 * GLib's convention for @error.)
 *
 * Returns: %TRUE when the body counts as a success: the deadline did not
 *   fire, was not the scope's to report, or never reached the body, and
 *   `*error` is unset on return
 *
 * Since: 1.0
 */
gboolean
aio_timeout_exit (AioTimeout  *scope,
                  GError     **error)
{
  g_return_val_if_fail (AIO_IS_TIMEOUT (scope), FALSE);

  return aio_timeout_exit_internal (scope, error, FALSE);
}

/**
 * aio_timeout_exit_with:
 * @scope: (transfer full): the [class@Aio.Timeout] to close
 * @body_cancelled: whether the body's last await reported
 *   `G_IO_ERROR_CANCELLED`
 * @error: return location for the error to report
 *
 * Closes @scope as [method@Aio.Timeout.exit] does, with GLib's convention
 * for @error (unset on entry): the caller says whether the body was
 * cancelled instead of passing in the body's error. This is the form for
 * language bindings, and for C code that has already handled or freed the
 * body's error:
 *
 * ```c
 * gboolean cancelled = FALSE;
 * AioTimeout *scope = aio_timeout_enter (10.0);
 * if (!aio_await (fetch (), &body_error))
 *   {
 *     cancelled = g_error_matches (body_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
 *     g_clear_error (&body_error);
 *   }
 * if (!aio_timeout_exit_with (scope, cancelled, &error))
 *   return fail (error);   // TIMED_OUT if it was the deadline
 * ```
 *
 * As in asyncio, a body that was not cancelled counts as a success even
 * when the deadline fired (it caught the cancellation, or had no await
 * left to cancel).
 *
 * Returns: %TRUE when the body counts as a success; %FALSE with
 *   `G_IO_ERROR_TIMED_OUT` when the scope's deadline cancelled it, or with
 *   `G_IO_ERROR_CANCELLED` when it was cancelled from elsewhere
 *
 * Since: 1.0
 */
gboolean
aio_timeout_exit_with (AioTimeout  *scope,
                       gboolean     body_cancelled,
                       GError     **error)
{
  GError *body_error = NULL;

  g_return_val_if_fail (AIO_IS_TIMEOUT (scope), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (body_cancelled)
    body_error = _aio_future_new_cancelled_error (NULL);

  aio_timeout_exit_internal (scope, &body_error, TRUE);
  if (body_error != NULL)
    {
      g_propagate_error (error, body_error);
      return FALSE;
    }
  return TRUE;
}
