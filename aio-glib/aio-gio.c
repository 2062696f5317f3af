/* aio-gio.c: GIO's _async/_finish pairs awaited from tasks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioGioCall:
 *
 * A future for one GIO-style `_async` call: what a task awaits to wait
 * for any `_async`/`_finish` pair without writing an adapter.
 *
 * A call gives the `_async` function its own `GCancellable` and a
 * `GAsyncReadyCallback` (`aio_gio_call_ready()`); when GIO reports, the
 * call resolves with the `GAsyncResult`, which the task hands to the
 * matching `_finish` function:
 *
 * ```c
 * g_autoptr(GAsyncResult) res = NULL;
 * g_autofree char *contents = NULL;
 * gsize length;
 *
 * res = aio_await_gio (AIO_GIO_START (g_file_load_contents_async, file), &error);
 * if (res == NULL ||
 *     !g_file_load_contents_finish (file, res, &contents, &length, NULL, &error))
 *   {
 *     aio_task_return_error (task, g_steal_pointer (&error));
 *     return;
 *   }
 * ```
 *
 * ## Cancellation
 *
 * Cancelling the call — which is what every way of cancelling the task
 * that awaits it does: [method@Aio.Task.cancel], a [func@Aio.wait_for] or
 * [class@Aio.Timeout] deadline, a failing sibling in an
 * [class@Aio.TaskGroup], [func@Aio.run]'s shutdown — cancels the call's
 * `GCancellable`, and the call **stays pending until GIO has reported**.
 * So when the awaiting task resumes with `G_IO_ERROR_CANCELLED` (or
 * `G_IO_ERROR_TIMED_OUT` from a deadline), the operation is over and the
 * stream, socket or file it used is free for the next one.
 *
 * Each call has a `GCancellable` of its own, which is never reset: unlike
 * the task's ([method@Aio.Task.get_cancellable]), which
 * [method@Aio.Task.uncancel] resets, it cannot be un-cancelled before
 * GIO saw the cancellation.
 *
 * When GIO reports after a cancellation, the call ends cancelled unless
 * the operation finished anyway: a `GTask` result that carries no error (the
 * operation won the race) resolves the call as usual, as a coroutine that
 * catches `CancelledError` and returns a value does. The `GAsyncResult` is
 * kept either way ([method@Aio.GioCall.get_result]), for a `_finish` that
 * must be called to release what the operation holds.
 *
 * GIO reports to the thread-default `GMainContext` of the thread that made
 * the `_async` call: in a task, the loop's own while it runs
 * ([method@Aio.Loop.run_until_complete] and [func@Aio.run] push it). A call
 * may be completed from any thread.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-future-private.h"
#include "aio-gio.h"
#include "aio-private.h"
#include "aio-task.h"

struct _AioGioCall
{
  AioFuture     parent_instance;

  /* Owned.  Set at construction, never replaced nor reset. */
  GCancellable *cancellable;

  /* Owned; set once GIO reported, read-only after. */
  GAsyncResult *result;

  /* Owned.  Written in the loop's thread before @cancellable is
   * cancelled, read when GIO reports, which comes after. */
  char         *cancel_message;

  /* Atomic: set by the first cancel(); read where GIO reports, which may
   * be another thread. */
  gint          cancel_requested;
};

struct _AioGioCallClass
{
  AioFutureClass parent_class;
};

G_DEFINE_FINAL_TYPE (AioGioCall, aio_gio_call, AIO_TYPE_FUTURE)

/* The loop aio_gio_call_new_for_loop() asks constructed() to use. */
static AIO_TLS AioLoop *loop_for_new;

static void
aio_gio_call_constructed (GObject *object)
{
  AioFuture *future = (AioFuture *) object;

  G_OBJECT_CLASS (aio_gio_call_parent_class)->constructed (object);

  /* AioFuture leaves subclasses to pick their loop; bindings construct
   * calls with g_object_new() too. */
  if (future->loop == NULL)
    _aio_future_set_loop (future, loop_for_new);
}

static void
aio_gio_call_finalize (GObject *object)
{
  AioGioCall *self = (AioGioCall *) object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->result);
  g_free (self->cancel_message);

  G_OBJECT_CLASS (aio_gio_call_parent_class)->finalize (object);
}

/* Cancelling asks GIO to stop and waits for it to say it did: the future
 * stays pending until the callback. */
static gboolean
aio_gio_call_cancel (AioFuture  *future,
                     const char *message)
{
  AioGioCall *self = (AioGioCall *) future;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING ||
      g_atomic_int_get (&future->claimed))
    return FALSE;

  if (!g_atomic_int_get (&self->cancel_requested))
    {
      self->cancel_message = g_strdup (message);
      g_atomic_int_set (&self->cancel_requested, TRUE);
      /* GIO may report right here, from inside the cancellation: the call
       * then completes before this returns, through the ready queue. */
      g_cancellable_cancel (self->cancellable);
    }

  return TRUE;
}

static void
aio_gio_call_class_init (AioGioCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->constructed = aio_gio_call_constructed;
  object_class->finalize = aio_gio_call_finalize;
  future_class->cancel = aio_gio_call_cancel;
}

static void
aio_gio_call_init (AioGioCall *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * aio_gio_call_new:
 *
 * Creates a call for one GIO `_async` function, on the running loop, or
 * on the default one when none runs. Pass it to exactly one `_async`
 * call, with `AIO_GIO_CALL_ARGS()` (or `AIO_GIO_START()`, which
 * does all of it); see [class@Aio.GioCall].
 *
 * Returns: (transfer full): a new pending call; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioGioCall *
aio_gio_call_new (void)
{
  return g_object_new (AIO_TYPE_GIO_CALL, NULL);
}

/**
 * aio_gio_call_new_for_loop:
 * @loop: an [class@Aio.Loop]
 *
 * Creates a call, as [ctor@Aio.GioCall.new] does, that belongs to @loop.
 *
 * Returns: (transfer full): a new pending call
 *
 * Since: 1.0
 */
AioGioCall *
aio_gio_call_new_for_loop (AioLoop *loop)
{
  AioGioCall *self;

  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  loop_for_new = loop;
  self = g_object_new (AIO_TYPE_GIO_CALL, NULL);
  loop_for_new = NULL;
  return self;
}

/**
 * aio_gio_call_get_cancellable:
 * @call: an [class@Aio.GioCall]
 *
 * Gets the `GCancellable` to pass to the `_async` function. It is
 * cancelled when @call is, and never reset.
 *
 * Returns: (transfer none): the call's cancellable; it belongs to @call: do
 *   not unref it
 *
 * Since: 1.0
 */
GCancellable *
aio_gio_call_get_cancellable (AioGioCall *call)
{
  g_return_val_if_fail (AIO_IS_GIO_CALL (call), NULL);

  return call->cancellable;
}

/**
 * aio_gio_call_return_result:
 * @call: a pending [class@Aio.GioCall]
 * @result: the result GIO reported
 *
 * Completes @call with @result, as `aio_gio_call_ready()` does: for
 * language bindings, whose `_async` callbacks are their own. @call
 * resolves with @result, or ends cancelled if it was cancelled and @result
 * is not known to carry a success (see [class@Aio.GioCall]). This may be
 * called from any thread.
 *
 * Since: 1.0
 */
void
aio_gio_call_return_result (AioGioCall   *call,
                            GAsyncResult *result)
{
  AioFuture *future = (AioFuture *) call;
  gboolean cancelled;

  g_return_if_fail (AIO_IS_GIO_CALL (call));
  g_return_if_fail (G_IS_ASYNC_RESULT (result));

  if (!_aio_future_try_claim (future))
    {
      g_critical ("aio_gio_call_return_result: the call %p has a result already; "
                  "a call serves one _async function, once", call);
      return;
    }

  call->result = g_object_ref (result);

  /* A GTask says whether it failed without giving its error away; with
   * its cancellable cancelled, it fails unless told not to check it.  Any
   * other kind of result after a cancellation is taken for cancelled. */
  cancelled = g_atomic_int_get (&call->cancel_requested) &&
              !(G_IS_TASK (result) && !g_task_had_error (G_TASK (result)));

  if (cancelled)
    {
      future->error = _aio_future_new_cancelled_error (call->cancel_message);
      _aio_future_publish (future, AIO_FUTURE_CANCELLED);
      return;
    }

  future->value_type = AIO_VALUE_OBJECT;
  future->value.p = g_object_ref (result);
  _aio_future_publish (future, AIO_FUTURE_RESOLVED);
}

/**
 * aio_gio_call_ready: (skip)
 * @source_object: (nullable): the object the operation ran on
 * @result: the operation's result
 * @user_data: (transfer full): a reference to an [class@Aio.GioCall]
 *
 * The `GAsyncReadyCallback` to pass to an `_async` function, with a
 * reference to the call as its data, which it drops: it completes the
 * call with @result ([method@Aio.GioCall.return_result]).
 * `AIO_GIO_CALL_ARGS()` passes both.
 *
 * Since: 1.0
 */
void
aio_gio_call_ready (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  AioGioCall *call = user_data;

  g_return_if_fail (AIO_IS_GIO_CALL (call));

  aio_gio_call_return_result (call, result);
  g_object_unref (call);
}

/**
 * aio_gio_call_get_result:
 * @call: an [class@Aio.GioCall]
 *
 * Gets the result GIO reported to @call, even when the call ended
 * cancelled, for the `_finish` function.
 *
 * Returns: (transfer none) (nullable): the result, or %NULL while GIO has not
 *   reported; it belongs to @call: do not unref it
 *
 * Since: 1.0
 */
GAsyncResult *
aio_gio_call_get_result (AioGioCall *call)
{
  g_return_val_if_fail (AIO_IS_GIO_CALL (call), NULL);

  if (_aio_future_state ((AioFuture *) call) == AIO_FUTURE_PENDING)
    return NULL;
  return call->result;
}

/**
 * aio_future_get_async_result:
 * @future: a done [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the `GAsyncResult` @future resolved with — an [class@Aio.GioCall],
 * or a future that took a call's outcome ([func@Aio.wait_for],
 * [func@Aio.shield]) — for the `_finish` function. This is what a stepped
 * body calls with the call it waited for.
 *
 * Returns: (transfer none): the result, or %NULL with @error set when @future
 *   did not resolve; it belongs to @future: do not unref it
 *
 * Since: 1.0
 */
GAsyncResult *
aio_future_get_async_result (AioFuture  *future,
                             GError    **error)
{
  gpointer object;

  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!aio_future_propagate (future, error))
    return NULL;

  object = future->value_type == AIO_VALUE_OBJECT ? future->value.p : NULL;
  if (!G_IS_ASYNC_RESULT (object))
    {
      g_critical ("aio_future_get_async_result: the future %p did not resolve "
                  "with a GAsyncResult", future);
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                           _("The future did not resolve with a GAsyncResult"));
      return NULL;
    }

  return object;
}

/**
 * aio_await_gio: (skip)
 * @future: (transfer full): an [class@Aio.GioCall], or a future that takes
 *   one's outcome
 * @error: return location for an error
 *
 * Waits for a GIO call from a fiber task, as `aio_await()` does, and
 * returns its `GAsyncResult` for the `_finish` function. Takes ownership
 * of @future, so that `aio_await_gio (AIO_GIO_START (...), &error)` leaks
 * nothing.
 *
 * If the task is cancelled meanwhile, the call is cancelled and this
 * returns `G_IO_ERROR_CANCELLED` once GIO has reported; see
 * [class@Aio.GioCall].
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 *
 * Since: 1.0
 */
GAsyncResult *
aio_await_gio (AioFuture  *future,
               GError    **error)
{
  gpointer object;

  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  object = aio_await_object (future, error);
  if (object != NULL && !G_IS_ASYNC_RESULT (object))
    {
      g_critical ("aio_await_gio: the future did not resolve with a GAsyncResult");
      g_clear_object (&object);
    }
  if (object == NULL && error != NULL && *error == NULL)
    g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                         _("The future did not resolve with a GAsyncResult"));

  return object;
}

/* ---- exporting a future as a GIO pair ------------------------------------ */

typedef struct
{
  /* Owned.  NULL once returned. */
  GTask        *gtask;
  /* Owned. */
  AioFuture    *future;
  /* The caller's, borrowed from @gtask. */
  GCancellable *cancellable;
  gulong        cancelled_id;
} Export;

typedef struct
{
  AioLink    link;
  AioFuture *future;
} ExportCancel;

static void
export_cancel_run (AioLink  *link,
                   gboolean  discard)
{
  ExportCancel *request = (ExportCancel *) link;

  if (!discard)
    aio_future_cancel (request->future, NULL);
  _aio_unref (request->future);
  g_free (request);
}

/* The caller's GCancellable was cancelled, in any thread: cancel the
 * future in its loop's thread. */
static void
export_cancelled (GCancellable *cancellable,
                  gpointer      user_data)
{
  AioFuture *future = user_data;
  ExportCancel *request;

  if (_aio_loop_is_current (future->loop))
    {
      aio_future_cancel (future, NULL);
      return;
    }

  request = g_new0 (ExportCancel, 1);
  request->link.func = export_cancel_run;
  request->future = _aio_ref (future);
  _aio_loop_push_inbox (future->loop, &request->link);
}

static void
export_done (AioFuture *future,
             gpointer   user_data)
{
  Export *export = user_data;
  g_autoptr(GTask) gtask = g_steal_pointer (&export->gtask);
  GError *error = NULL;

  if (export->cancelled_id != 0)
    g_cancellable_disconnect (export->cancellable, export->cancelled_id);

  if (!aio_future_propagate (future, &error))
    g_task_return_error (gtask, error);
  else
    switch ((AioValueType) future->value_type)
      {
      case AIO_VALUE_NONE:
        g_task_return_boolean (gtask, TRUE);
        break;
      case AIO_VALUE_BOOLEAN:
        g_task_return_boolean (gtask, future->value.b);
        break;
      case AIO_VALUE_INT64:
        g_task_return_int (gtask, (gssize) future->value.i);
        break;
      case AIO_VALUE_DOUBLE:
        {
          GValue value = G_VALUE_INIT;

          g_value_init (&value, G_TYPE_DOUBLE);
          g_value_set_double (&value, future->value.d);
          g_task_return_value (gtask, &value);
          g_value_unset (&value);
        }
        break;
      case AIO_VALUE_STRING:
        g_task_return_pointer (gtask, g_strdup (future->value.p), g_free);
        break;
      case AIO_VALUE_OBJECT:
        g_task_return_pointer (gtask, future->value.p ? g_object_ref (future->value.p) : NULL,
                               g_object_unref);
        break;
      case AIO_VALUE_POINTER:
        if (future->value_destroy != NULL)
          {
            /* The caller of _finish owns it from now on. */
            g_task_return_pointer (gtask, g_steal_pointer (&future->value.p),
                                   future->value_destroy);
            future->value_destroy = NULL;
          }
        else
          {
            /* Borrowed: it lives as long as the future does. */
            g_object_set_data_full (G_OBJECT (gtask), "aio-future", g_object_ref (future),
                                    g_object_unref);
            g_task_return_pointer (gtask, future->value.p, NULL);
          }
        break;
      case AIO_VALUE_VALUE:
        g_task_return_value (gtask, future->value.p);
        break;
      default:
        g_assert_not_reached ();
      }

  _aio_unref (export->future);
  g_free (export);
}

/**
 * aio_future_export:
 * @future: (transfer full): the work, usually an [class@Aio.Task]
 * @source_object: (type GObject) (nullable): the object the operation
 *   runs on, for `g_async_result_get_source_object()`
 * @source_tag: (nullable): the `_async` function, for
 *   `g_task_is_valid()` and `g_async_result_is_tagged()`
 * @cancellable: (nullable): the caller's `GCancellable`
 * @callback: (scope async) (closure user_data): the caller's callback
 * @user_data: data for @callback
 *
 * Reports @future to a GIO-style caller: the body of an `_async` function
 * whose work is a task. A `GTask` with @source_object and @source_tag
 * carries @future's outcome to @callback, in the thread-default
 * `GMainContext` of the caller of this function, as GIO requires; and
 * cancelling @cancellable, from any thread, cancels @future (so a task's
 * body sees `G_IO_ERROR_CANCELLED` where it awaits).
 *
 * ```c
 * void
 * my_fetch_async (MyClient            *self,
 *                 const char          *name,
 *                 GCancellable        *cancellable,
 *                 GAsyncReadyCallback  callback,
 *                 gpointer             user_data)
 * {
 *   aio_future_export (AIO_FUTURE (aio_create_task (fetch_body, fetch_new (self, name),
 *                                                   fetch_free)),
 *                      self, my_fetch_async, cancellable, callback, user_data);
 * }
 *
 * char *
 * my_fetch_finish (MyClient      *self,
 *                  GAsyncResult  *result,
 *                  GError       **error)
 * {
 *   g_return_val_if_fail (g_task_is_valid (result, self), NULL);
 *   g_return_val_if_fail (g_async_result_is_tagged (result, my_fetch_async), NULL);
 *
 *   return g_task_propagate_pointer (G_TASK (result), error);
 * }
 * ```
 *
 * The `_finish` function reads the outcome with GTask's own functions:
 *
 * | the future resolved with | `_finish` calls |
 * |---|---|
 * | no value, or a boolean | `g_task_propagate_boolean()` (%TRUE for no value) |
 * | an int64 | `g_task_propagate_int()` |
 * | a double or a `GValue` | `g_task_propagate_value()` |
 * | a string, an object or a pointer | `g_task_propagate_pointer()`, which gives a copy, a reference or the pointer itself (transfer full) |
 *
 * An error, cancellation included, comes out of any of them; and GTask
 * reports `G_IO_ERROR_CANCELLED` whenever @cancellable was cancelled.
 *
 * Since: 1.0
 */
void
aio_future_export (AioFuture           *future,
                   gpointer             source_object,
                   gpointer             source_tag,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  Export *export;

  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (source_object == NULL || G_IS_OBJECT (source_object));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  export = g_new0 (Export, 1);
  export->future = future;
  export->gtask = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (export->gtask, source_tag);
  export->cancellable = cancellable;

  /* A cancellable cancelled already cancels the future right here. */
  if (cancellable != NULL)
    export->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (export_cancelled),
                                                  future, NULL);

  aio_future_add_done_callback (future, export_done, export, NULL);
}

/* ---- GTask's thread pool as an executor ---------------------------------- */

/**
 * AioGTaskExecutor:
 *
 * An [iface@Aio.Executor] that runs its jobs on GIO's own thread pool,
 * through `g_task_run_in_thread()`, so that blocking work shares the
 * threads GIO uses for its blocking calls (file I/O, name resolution).
 *
 * The loop's default executor stays a pool of aio-glib's own, which
 * measured faster for short jobs (each job here costs a `GTask` and an
 * idle source in the submitting thread's context); and GIO's pool is
 * small (it grows past ten threads only slowly), so jobs that block for
 * long hold GIO's own calls up. Set it as a loop's default with
 * [method@Aio.Loop.set_default_executor] where sharing GIO's threads
 * matters more.
 *
 * Since: 1.0
 */
struct _AioGTaskExecutor
{
  GObject parent_instance;

  GMutex  mutex;
  GCond   idle_cond;
  /* Under @mutex. */
  guint   running;
  guint   shut_down : 1;
};

typedef struct
{
  AioGTaskExecutor *executor;       /* owned */
  AioFuture        *future;         /* borrowed: valid until @destroy */
  GCancellable     *cancellable;    /* same */
  AioExecutorFunc   func;
  gpointer          data;
  GDestroyNotify    destroy;
} GTaskJob;

static void aio_gtask_executor_iface_init (AioExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AioGTaskExecutor, aio_gtask_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AIO_TYPE_EXECUTOR,
                                                      aio_gtask_executor_iface_init))

static void
gtask_job_thread (GTask        *gtask,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *unused)
{
  GTaskJob *job = task_data;
  AioGTaskExecutor *self = job->executor;

  job->func (job->future, job->cancellable, job->data);
  if (job->destroy != NULL)
    job->destroy (job->data);

  g_mutex_lock (&self->mutex);
  if (--self->running == 0)
    g_cond_broadcast (&self->idle_cond);
  g_mutex_unlock (&self->mutex);

  /* GTask wants a return; nobody reads it (the future has the outcome). */
  g_task_return_boolean (gtask, TRUE);
}

static void
gtask_job_free (gpointer data)
{
  GTaskJob *job = data;

  g_object_unref (job->executor);
  g_free (job);
}

static void
aio_gtask_executor_submit (AioExecutor     *executor,
                           AioFuture       *future,
                           GCancellable    *cancellable,
                           AioExecutorFunc  func,
                           gpointer         user_data,
                           GDestroyNotify   destroy)
{
  AioGTaskExecutor *self = (AioGTaskExecutor *) executor;
  g_autoptr(GTask) gtask = NULL;
  GTaskJob *job;

  g_mutex_lock (&self->mutex);
  if (self->shut_down)
    {
      g_mutex_unlock (&self->mutex);
      if (destroy != NULL)
        destroy (user_data);
      return;
    }
  self->running++;
  g_mutex_unlock (&self->mutex);

  job = g_new0 (GTaskJob, 1);
  job->executor = g_object_ref (self);
  job->future = future;
  job->cancellable = cancellable;
  job->func = func;
  job->data = user_data;
  job->destroy = destroy;

  gtask = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (gtask, aio_gtask_executor_submit);
  g_task_set_name (gtask, "[aio-glib] executor job");
  g_task_set_task_data (gtask, job, gtask_job_free);
  g_task_run_in_thread (gtask, gtask_job_thread);
}

static void
aio_gtask_executor_shutdown (AioExecutor *executor,
                             gboolean     wait)
{
  AioGTaskExecutor *self = (AioGTaskExecutor *) executor;

  /* GTask's pool has no queue of ours to drop: the jobs submitted run. */
  g_mutex_lock (&self->mutex);
  self->shut_down = TRUE;
  while (wait && self->running > 0)
    g_cond_wait (&self->idle_cond, &self->mutex);
  g_mutex_unlock (&self->mutex);
}

static void
aio_gtask_executor_iface_init (AioExecutorInterface *iface)
{
  iface->submit = aio_gtask_executor_submit;
  iface->shutdown = aio_gtask_executor_shutdown;
}

static void
aio_gtask_executor_finalize (GObject *object)
{
  AioGTaskExecutor *self = (AioGTaskExecutor *) object;

  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->idle_cond);

  G_OBJECT_CLASS (aio_gtask_executor_parent_class)->finalize (object);
}

static void
aio_gtask_executor_class_init (AioGTaskExecutorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = aio_gtask_executor_finalize;
}

static void
aio_gtask_executor_init (AioGTaskExecutor *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->idle_cond);
}

/**
 * aio_gtask_executor_new:
 *
 * Creates an executor that runs jobs on GIO's thread pool; see
 * [class@Aio.GTaskExecutor].
 *
 * Returns: (transfer full): a new executor; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioGTaskExecutor *
aio_gtask_executor_new (void)
{
  return g_object_new (AIO_TYPE_GTASK_EXECUTOR, NULL);
}

/* ---- typed helpers ------------------------------------------------------- */

/* A call that a helper's own callback completes with the value its
 * _finish gave: the same future, cancelled the same way, but holding a
 * value rather than the GAsyncResult.  @keep (a buffer the operation
 * reads) lives as long as the call. */
static AioGioCall *
typed_call_new (gpointer       keep,
                GDestroyNotify keep_destroy)
{
  AioGioCall *call = aio_gio_call_new ();

  if (keep != NULL)
    g_object_set_data_full (G_OBJECT (call), "aio-keep", keep, keep_destroy);
  return call;
}

/* Completes @call (and drops the reference the operation held) with
 * @pointer, or with @error, which wins. */
static void
typed_call_complete (AioGioCall     *call,
                     GAsyncResult   *result,
                     gpointer        pointer,
                     GDestroyNotify  destroy,
                     GError         *error)
{
  AioFuture *future = (AioFuture *) call;

  if (!_aio_future_try_claim (future))
    g_assert_not_reached ();

  call->result = g_object_ref (result);
  if (error != NULL)
    {
      /* Cancelled by us: with the message of the cancellation, as the
       * generic call's is. */
      if (_aio_error_is_cancelled (error) && g_atomic_int_get (&call->cancel_requested))
        {
          g_error_free (error);
          error = _aio_future_new_cancelled_error (call->cancel_message);
        }
      future->error = error;
      _aio_future_publish (future, _aio_error_is_cancelled (error) ? AIO_FUTURE_CANCELLED
                                                                   : AIO_FUTURE_REJECTED);
    }
  else
    {
      future->value_type = AIO_VALUE_POINTER;
      future->value.p = pointer;
      future->value_destroy = destroy;
      _aio_future_publish (future, AIO_FUTURE_RESOLVED);
    }
  g_object_unref (call);
}

static void
load_bytes_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GError *error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    typed_call_complete (user_data, result, NULL, NULL, error);
  else
    typed_call_complete (user_data, result, g_bytes_new_take (contents, length),
                         (GDestroyNotify) g_bytes_unref, NULL);
}

/**
 * aio_file_load_bytes: (skip)
 * @file: a `GFile`
 *
 * Loads the contents of @file (`g_file_load_contents_async()`), for a
 * task to await with `aio_await_pointer()`:
 *
 * ```c
 * g_autoptr(GBytes) bytes = aio_await_pointer (aio_file_load_bytes (file), &error);
 * ```
 *
 * It is an [class@Aio.GioCall]: cancelling it cancels the load, and it
 * stays pending until GIO has reported. Language bindings call
 * `load_contents_async` themselves.
 *
 * Returns: (transfer full): a future for the contents, a `GBytes` that
 *   `aio_await_pointer()` gives away
 *
 * Since: 1.0
 */
AioFuture *
aio_file_load_bytes (GFile *file)
{
  AioGioCall *call;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  call = typed_call_new (NULL, NULL);
  g_file_load_contents_async (file, call->cancellable, load_bytes_ready, g_object_ref (call));
  return (AioFuture *) call;
}

static void
read_bytes_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GError *error = NULL;
  GBytes *bytes;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  typed_call_complete (user_data, result, bytes, (GDestroyNotify) g_bytes_unref, error);
}

/**
 * aio_input_stream_read_bytes: (skip)
 * @stream: a `GInputStream`
 * @count: the most bytes to read
 *
 * Reads up to @count bytes from @stream
 * (`g_input_stream_read_bytes_async()`), for a task to await with
 * `aio_await_pointer()`; an empty `GBytes` means the end of the stream.
 *
 * ```c
 * g_autoptr(GBytes) chunk = aio_await_pointer (aio_input_stream_read_bytes (in, 4096), &error);
 * ```
 *
 * It is an [class@Aio.GioCall]: cancelling it cancels the read, and it
 * stays pending until GIO has reported, so @stream is free for the next
 * read when the task resumes.
 *
 * Returns: (transfer full): a future for the bytes read
 *
 * Since: 1.0
 */
AioFuture *
aio_input_stream_read_bytes (GInputStream *stream,
                             gsize         count)
{
  AioGioCall *call;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  call = typed_call_new (NULL, NULL);
  g_input_stream_read_bytes_async (stream, count, G_PRIORITY_DEFAULT, call->cancellable,
                                   read_bytes_ready, g_object_ref (call));
  return (AioFuture *) call;
}

static void
write_all_ready (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GError *error = NULL;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);
  typed_call_complete (user_data, result, NULL, NULL, error);
}

/**
 * aio_output_stream_write_all: (skip)
 * @stream: a `GOutputStream`
 * @bytes: what to write; the call keeps a reference until it is done
 *
 * Writes all of @bytes to @stream (`g_output_stream_write_all_async()`),
 * for a task to await with `aio_await()`:
 *
 * ```c
 * if (!aio_await (aio_output_stream_write_all (out, chunk), &error))
 *   return fail (task, error);
 * ```
 *
 * It is an [class@Aio.GioCall]: cancelling it cancels the write, and it
 * stays pending until GIO has reported.
 *
 * Returns: (transfer full): a future that resolves, with no value, once
 *   all was written
 *
 * Since: 1.0
 */
AioFuture *
aio_output_stream_write_all (GOutputStream *stream,
                             GBytes        *bytes)
{
  AioGioCall *call;
  gsize size;
  gconstpointer data;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  call = typed_call_new (g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  data = g_bytes_get_data (bytes, &size);
  g_output_stream_write_all_async (stream, data, size, G_PRIORITY_DEFAULT, call->cancellable,
                                   write_all_ready, g_object_ref (call));
  return (AioFuture *) call;
}
