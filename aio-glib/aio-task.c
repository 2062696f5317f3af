/* aio-task.c: AioTask, a future that drives a body on its loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioTask:
 *
 * A future that drives a body on its loop: asyncio's `Task`.
 *
 * A task has one of two kinds of body:
 *
 * - a **fiber body** ([callback@Aio.TaskFunc]: the task and one
 *   `user_data` pointer, returning its result through the task as a
 *   `GTask` does with `g_task_return_*()`), which runs on a stack of its
 *   own and may call `aio_await()` anywhere below it to wait for a future
 *   without blocking the loop. This is what end-user code writes:
 *
 *   ```c
 *   static void
 *   fetch (AioTask  *task,
 *          gpointer  user_data)
 *   {
 *     g_autoptr(GError) error = NULL;
 *
 *     if (!aio_await (aio_sleep (1.0), &error))
 *       {
 *         aio_task_return_error (task, g_steal_pointer (&error));
 *         return;
 *       }
 *     aio_task_return_int64 (task, 42);
 *   }
 *
 *   AioTask *task = aio_create_task (fetch, NULL, NULL);
 *   ```
 *
 * - a **stepped body** ([callback@Aio.StepFunc]), a state machine called
 *   with each future it waited for, for very many tasks, for frameworks,
 *   and for language bindings (the Python override drives coroutines this
 *   way).
 *
 * The first step runs on the loop's next iteration, not inside
 * [func@Aio.create_task]. The loop holds a strong reference to every
 * pending task, so a task nobody keeps is not collected mid-flight (in
 * asyncio, the loop keeps only weak references, a well-known trap); the
 * reference returned by [func@Aio.create_task] is yours to drop.
 *
 * ## Cancellation
 *
 * [method@Aio.Task.cancel] follows asyncio: if the task waits on a future,
 * that future is cancelled, so the body sees `G_IO_ERROR_CANCELLED` at the
 * `aio_await()` where it stands; otherwise the cancellation is
 * delivered at its next wait. A future that completed before the
 * cancellation came is never taken from the body: it gets the outcome
 * (a queue's item, a lock), and the cancellation at its next wait, in
 * fiber and stepped tasks alike. The body may clean up and return, or call
 * [method@Aio.Task.uncancel] and go on. A body that returns without a value
 * while a delivered cancellation stands makes the task cancelled, as a
 * `CancelledError` propagating out of a coroutine does. Each task owns a
 * `GCancellable` ([method@Aio.Task.get_cancellable]) that is cancelled with
 * it, and cancelling that `GCancellable`, from any thread, cancels the
 * task, as [method@Aio.Task.cancel] itself does from any thread.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-error-private.h"
#include "aio-fiber-private.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-private.h"
#include "aio-task-private.h"

/* What most tasks never use, allocated when first needed, so that a task
 * costs less memory: a program may keep a hundred thousand of them. */
typedef struct
{
  /* Owned.  NULL until asked for (the default is "Task-N"). */
  char           *name;
  /* Owned; the message of the last cancel() that had one. */
  char           *cancel_message;
  /* Owned; created when first asked for. */
  GCancellable   *cancellable;
  gulong          cancellable_id;
  /* Atomic: set while we cancel @cancellable ourselves, so that its
   * handler does not count the cancellation twice.  (The handler runs in
   * any thread, but only once @cancellable exists, so after this struct
   * does.) */
  gint            cancelling_own;
  /* 0 for the loop's setting. */
  gsize           stack_size;
} AioTaskExtra;

struct _AioTask
{
  AioFuture       parent_instance;

  /* In the loop's list of pending tasks, which holds a reference through
   * it, until the task finishes.  Loop thread only. */
  GList           loop_link;

  /* The body: @func for a fiber body, @step for a stepped one, as
   * @stepped says.  @data is freed with @destroy once the task is over. */
  union {
    AioTaskFunc   func;
    AioStepFunc   step;
  } body;
  gpointer        data;
  GDestroyNotify  destroy;

  /* Owned; created at the first step, freed once the body returned. */
  AioFiber       *fiber;

  /* Owned: the future the body waits for, with our done callback on it. */
  AioFuture      *waiting;
  /* Owned: the future the fiber is resumed with, for aio_await(). */
  AioFuture      *resumed_with;

  /* Queues the first step and yields; or, while the task sleeps on a
   * timer of its own (see aio_task_wait_on()), is that timer: a task never
   * does both at once. */
  union {
    AioLink       step_link;
    AioTimer      sleep_timer;
  } u;

  AioTaskExtra   *extra;

  guint           number;
  guint           waiting_id;

  /* Cancellation, loop thread only.  As asyncio's Task: the number of
   * cancel() calls not yet matched by uncancel(), and whether a requested
   * cancellation still has to be delivered at the next await. */
  guint           n_cancels;

  guint           stepped : 1;
  guint           sleeping : 1;     /* on @u.sleep_timer, which holds a ref */
  guint           must_cancel : 1;
  guint           cancel_delivered : 1;
  guint           started : 1;
  guint           in_body : 1;
  guint           returned : 1;
  guint           finished : 1;
};

static AioTaskExtra *
aio_task_extra (AioTask *self)
{
  if (self->extra == NULL)
    self->extra = g_new0 (AioTaskExtra, 1);
  return self->extra;
}

static inline const char *
aio_task_cancel_message (AioTask *self)
{
  return self->extra != NULL ? self->extra->cancel_message : NULL;
}

static inline GCancellable *
aio_task_peek_cancellable (AioTask *self)
{
  return self->extra != NULL ? self->extra->cancellable : NULL;
}

/* Cancels the task's GCancellable on the task's behalf: its handler must
 * not take this for a new request. */
static void
aio_task_cancel_own_cancellable (AioTaskExtra *extra)
{
  g_atomic_int_set (&extra->cancelling_own, TRUE);
  g_cancellable_cancel (extra->cancellable);
  g_atomic_int_set (&extra->cancelling_own, FALSE);
}

struct _AioTaskClass
{
  AioFutureClass parent_class;
};

G_DEFINE_FINAL_TYPE (AioTask, aio_task, AIO_TYPE_FUTURE)

/* The task whose body is running in this thread. */
static AIO_TLS AioTask *current_task;

/* The resolved future that yields (see aio_yield_future()).  Immutable
 * once made, shared by every thread. */
static AioFuture *yield_singleton;

static void aio_task_step (AioTask   *self,
                           AioFuture *completed);

static const char *
aio_task_cancel_text (AioTask *self)
{
  const char *message = aio_task_cancel_message (self);

  return message != NULL ? message : _AIO_CACHED_(N_("The task was cancelled"));
}

static gboolean
aio_task_stop_sleeping (AioTask *self)
{
  AioLoop *loop = ((AioFuture *) self)->loop;
  gboolean acquired;

  g_assert (self->sleeping);

  if (!_aio_loop_enter (loop, &acquired))
    return FALSE;
  _aio_loop_remove_timer (loop, &self->u.sleep_timer);
  _aio_loop_leave (loop, acquired);

  self->sleeping = FALSE;
  _aio_unref (self);                    /* the timer's */
  return TRUE;
}

static void
aio_task_clear_waiting (AioTask *self)
{
  if (self->sleeping)
    aio_task_stop_sleeping (self);
  if (self->waiting != NULL)
    {
      if (self->waiting_id != 0)
        aio_future_remove_done_callback (self->waiting, self->waiting_id);
      self->waiting_id = 0;
      g_clear_object (&self->waiting);
    }
}

static void
aio_task_disconnect_cancellable (AioTask *self)
{
  if (self->extra != NULL && self->extra->cancellable_id != 0)
    {
      g_cancellable_disconnect (self->extra->cancellable, self->extra->cancellable_id);
      self->extra->cancellable_id = 0;
    }
}

static void
aio_task_finalize (GObject *object)
{
  AioTask *self = (AioTask *) object;

  if (!self->finished)
    g_warning ("Task %s (%p) was destroyed while it was still pending; "
               "its loop was closed before it finished",
               aio_task_get_name (self), self);

  aio_task_clear_waiting (self);
  g_clear_object (&self->resumed_with);
  g_clear_pointer (&self->fiber, aio_fiber_free);
  aio_task_disconnect_cancellable (self);

  if (self->destroy != NULL)
    g_clear_pointer (&self->data, self->destroy);

  if (self->extra != NULL)
    {
      g_clear_object (&self->extra->cancellable);
      g_free (self->extra->name);
      g_free (self->extra->cancel_message);
      g_free (self->extra);
    }

  G_OBJECT_CLASS (aio_task_parent_class)->finalize (object);
}

/* ---- finishing ----------------------------------------------------------- */

static void
aio_task_finish (AioTask *self)
{
  AioFuture *future = (AioFuture *) self;
  AioFutureState state;
  GDestroyNotify destroy;
  gpointer data;

  g_assert (!self->finished);
  self->finished = TRUE;

  aio_task_clear_waiting (self);
  g_clear_object (&self->resumed_with);

  if (self->returned)
    {
      /* asyncio: a cancel() the body never saw wins over its return value. */
      if (self->must_cancel)
        {
          g_clear_error (&future->error);
          _aio_future_clear_value (future);
          future->error = _aio_future_new_cancelled_error (aio_task_cancel_text (self));
        }
    }
  else
    {
      gboolean ok = _aio_future_try_claim (future);

      g_assert (ok);
      if (self->must_cancel || (self->cancel_delivered && self->n_cancels > 0))
        future->error = _aio_future_new_cancelled_error (aio_task_cancel_text (self));
    }

  if (future->error == NULL)
    state = AIO_FUTURE_RESOLVED;
  else if (_aio_error_is_cancelled (future->error))
    state = AIO_FUTURE_CANCELLED;
  else
    state = AIO_FUTURE_REJECTED;

  self->must_cancel = FALSE;
  aio_task_disconnect_cancellable (self);

  destroy = g_steal_pointer (&self->destroy);
  data = g_steal_pointer (&self->data);

  /* Publishing the outcome queues the awaiters for the next drain rather
   * than running them here, so chains of tasks finishing each other never
   * pile up on this stack. */
  _aio_future_publish (future, state);

  _aio_loop_untrack_task (future->loop, &self->loop_link);

  if (destroy != NULL)
    destroy (data);
}

/* ---- stepping ------------------------------------------------------------ */

static void
aio_task_yield_link (AioLink  *link,
                     gboolean  discard)
{
  AioTask *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioTask, u.step_link));

  if (!discard && !self->finished)
    aio_task_step (self, aio_yield_future ());
  _aio_unref (self);
}

/* Steps the task again on the next iteration, with no future of its own:
 * the ready queue's link in the task is all a yield costs. */
static void
aio_task_schedule_yield (AioTask *self)
{
  g_assert (self->waiting == NULL);

  self->u.step_link.func = aio_task_yield_link;
  _aio_loop_push_ready (((AioFuture *) self)->loop, &((AioTask *) _aio_ref (self))->u.step_link);
}

static void
aio_task_wakeup (AioFuture *future,
                 gpointer   user_data)
{
  AioTask *self = user_data;

  g_assert (self->waiting == future);
  self->waiting_id = 0;
  aio_task_step (self, g_steal_pointer (&self->waiting));
}

static void
aio_task_sleep_timer (AioTimer *timer,
                      gboolean  discard)
{
  AioTask *self = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (AioTask, u.sleep_timer));

  self->sleeping = FALSE;
  /* The sleep resolved with no value: the body gets a resolved future
   * with no value, as it would have from the sleep itself. */
  if (!discard && !self->finished)
    aio_task_step (self, aio_yield_future ());
  _aio_unref (self);
}

/* Takes @future (transfer full): the body waits for it.  A sleep that
 * only the body knows of is not kept: the task takes its place in the
 * loop's timer heap with a timer of its own, so that a sleeping task
 * costs no future (see _aio_sleep_absorb()).  The body cannot tell: it
 * gave up its only reference, and resumes with a resolved future as it
 * would have, or a cancelled one if the task is cancelled meanwhile. */
static void
aio_task_wait_on (AioTask   *self,
                  AioFuture *future)
{
  g_assert (self->waiting == NULL);
  g_assert (!self->sleeping);

  /* asyncio: a cancel() that could not be delivered yet cancels the next
   * future the body waits for. */
  if (self->must_cancel && aio_future_cancel (future, aio_task_cancel_message (self)))
    self->must_cancel = FALSE;

  if (!self->must_cancel && _aio_is_sleep (future))
    {
      self->u.sleep_timer.index = 0;
      self->u.sleep_timer.func = aio_task_sleep_timer;
      if (_aio_sleep_absorb (future, &self->u.sleep_timer))
        {
          self->sleeping = TRUE;
          _aio_ref (self);              /* the timer's */
          return;
        }
    }

  self->waiting = future;
  self->waiting_id = aio_future_add_done_callback (future, aio_task_wakeup, self, NULL);
}

static void
aio_task_fiber_main (gpointer user_data)
{
  AioTask *self = user_data;

  self->body.func (self, self->data);
}

/* Names the task in its fiber's stack overflow report, from a signal
 * handler: no allocation, as aio_task_get_name() may do. */
static void
aio_task_describe_fiber (gpointer  user_data,
                         char     *buf,
                         gsize     size)
{
  AioTask *self = user_data;
  char digits[16];
  guint n = self->number, i = sizeof digits;

  if (self->extra != NULL && self->extra->name != NULL)
    {
      g_strlcpy (buf, self->extra->name, size);
      return;
    }
  digits[--i] = '\0';
  do
    digits[--i] = (char) ('0' + n % 10);
  while ((n /= 10) > 0 && i > 0);
  g_strlcpy (buf, "Task-", size);
  g_strlcat (buf, &digits[i], size);
}

static void
aio_task_run_fiber (AioTask   *self,
                    AioFuture *completed)
{
  g_autoptr(GError) error = NULL;
  AioTask *previous = current_task;
  gboolean ok;

  if (self->fiber == NULL)
    {
      gsize stack_size = self->extra != NULL ? self->extra->stack_size : 0;

      if (stack_size == 0)
        stack_size = _aio_loop_get_stack_size (((AioFuture *) self)->loop);
      self->fiber = aio_fiber_new (aio_task_fiber_main, self, stack_size);
      aio_fiber_set_describe_func (self->fiber, aio_task_describe_fiber);
    }

  g_assert (self->resumed_with == NULL);
  self->resumed_with = completed;

  current_task = self;
  self->in_body = TRUE;
  ok = aio_fiber_resume (self->fiber, &error);
  self->in_body = FALSE;
  current_task = previous;

  if (!ok)
    {
      /* No stack for the body: the task fails, the process goes on. */
      g_clear_pointer (&self->fiber, aio_fiber_free);
      g_clear_object (&self->resumed_with);
      if (_aio_future_try_claim ((AioFuture *) self))
        {
          ((AioFuture *) self)->error = g_steal_pointer (&error);
          self->returned = TRUE;
        }
      aio_task_finish (self);
      return;
    }

  if (aio_fiber_is_finished (self->fiber))
    {
      g_clear_pointer (&self->fiber, aio_fiber_free);
      aio_task_finish (self);
    }
}

/* Whether a cancellation requested while the body was off the loop's
 * stack is delivered now, on resuming it with @completed, rather than at
 * its next wait.  Only when @completed carries nothing: the yield future
 * (a yield, or a sleep the cancellation cut short, which resume with it)
 * or a cancelled future.  A future that completed with an outcome is
 * always what the body gets, so that nothing it carries is lost -- a
 * queue's item, a lock's or a semaphore's ownership, a group's errors --
 * and the cancellation comes at the next wait (DESIGN.md, "GIO both
 * ways"): the cancel() could not stop what was done already, as asyncio's
 * cannot stop a coroutine that awaits a done future. */
static inline gboolean
aio_task_delivers_cancel_on (AioTask   *self,
                             AioFuture *completed)
{
  return self->must_cancel &&
         (completed == yield_singleton ||
          _aio_future_state (completed) == AIO_FUTURE_CANCELLED);
}

static void
aio_task_run_step (AioTask   *self,
                   AioFuture *completed)
{
  AioTask *previous = current_task;
  AioFuture *next;

  /* A cancellation that arrived while the task yielded or slept is what
   * the step gets to see, in place of the future it waited for. */
  if (completed != NULL && aio_task_delivers_cancel_on (self, completed))
    {
      AioFuture *cancelled = aio_future_new_for_loop (((AioFuture *) self)->loop);

      _aio_future_cancel_now (cancelled, aio_task_cancel_message (self), FALSE);
      _aio_unref (completed);
      completed = cancelled;
      self->must_cancel = FALSE;
      self->cancel_delivered = TRUE;
    }
  else if (completed != NULL && aio_future_is_cancelled (completed) && self->n_cancels > 0)
    self->cancel_delivered = TRUE;

  current_task = self;
  self->in_body = TRUE;
  next = self->body.step (self, completed, self->data);
  self->in_body = FALSE;
  current_task = previous;

  if (completed != NULL)
    _aio_future_unref (completed);

  if (self->finished)
    {
      g_clear_object (&next);
      return;
    }

  if (next == NULL || self->returned)
    {
      g_clear_object (&next);
      aio_task_finish (self);
      return;
    }

  if (next == yield_singleton)
    {
      _aio_unref (next);
      aio_task_schedule_yield (self);
      return;
    }

  /* Waiting on itself would wait forever: the step gets the error back,
   * as a coroutine awaiting its own task gets RuntimeError. */
  if (next == (AioFuture *) self)
    {
      _aio_unref (next);
      next = aio_future_new_for_loop (((AioFuture *) self)->loop);
      aio_future_reject_literal (next, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                                 _("A task cannot await itself"));
    }

  aio_task_wait_on (self, next);
}

static void
aio_task_step (AioTask   *self,
               AioFuture *completed)
{
  _aio_ref (self);

  if (!self->started)
    {
      self->started = TRUE;

      /* asyncio: a task cancelled before it started never runs its body. */
      if (self->must_cancel)
        {
          self->cancel_delivered = TRUE;
          aio_task_finish (self);
          g_clear_object (&completed);
          _aio_unref (self);
          return;
        }
    }

  if (!self->stepped)
    aio_task_run_fiber (self, completed);
  else
    aio_task_run_step (self, completed);

  _aio_unref (self);
}

static void
aio_task_first_step (AioLink  *link,
                     gboolean  discard)
{
  AioTask *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioTask, u.step_link));

  if (!discard && !self->finished)
    aio_task_step (self, NULL);
  _aio_unref (self);
}

/* ---- cancellation -------------------------------------------------------- */

/* Loop thread. */
static gboolean
aio_task_cancel_in_loop (AioTask    *self,
                         const char *message)
{
  AioFuture *future = (AioFuture *) self;

  if (self->finished || _aio_future_state (future) != AIO_FUTURE_PENDING)
    return FALSE;

  self->n_cancels++;
  if (message != NULL || aio_task_cancel_message (self) != NULL)
    {
      AioTaskExtra *extra = aio_task_extra (self);

      g_free (extra->cancel_message);
      extra->cancel_message = g_strdup (message);
    }

  if (aio_task_peek_cancellable (self) != NULL &&
      !g_cancellable_is_cancelled (self->extra->cancellable))
    aio_task_cancel_own_cancellable (self->extra);

  if (self->waiting != NULL && aio_future_cancel (self->waiting, message))
    return TRUE;

  /* Sleeping on its own timer: the sleep ends, and the cancellation is
   * delivered as one that came after what the body waited for completed
   * (at its await for a fiber, with a cancelled future for a step): what
   * the body sees is the same as if the sleep itself had been cancelled,
   * and a fiber's costs no future. */
  if (self->sleeping && aio_task_stop_sleeping (self))
    {
      self->must_cancel = TRUE;
      aio_task_schedule_yield (self);
      return TRUE;
    }

  self->must_cancel = TRUE;
  return TRUE;
}

/* A cancellation asked for in another thread, or by the task's
 * GCancellable, on its way to the loop's thread. */
typedef struct
{
  AioLink  link;
  AioTask *task;
  char    *message;
} CancelRequest;

static void
cancel_request_run (AioLink  *link,
                    gboolean  discard)
{
  CancelRequest *request = (CancelRequest *) link;

  if (!discard)
    aio_task_cancel_in_loop (request->task, request->message);
  _aio_unref (request->task);
  g_free (request->message);
  g_free (request);
}

/* Any thread but the loop's: hands the request over through the loop's
 * inbox, which wakes the loop, as the GCancellable's handler does.  The
 * task's own state is only ever touched in the loop's thread. */
static gboolean
aio_task_cancel_from_thread (AioTask    *self,
                             const char *message)
{
  AioLoop *loop = ((AioFuture *) self)->loop;
  CancelRequest *request;

  if (_aio_future_state ((AioFuture *) self) != AIO_FUTURE_PENDING)
    return FALSE;

  request = g_new0 (CancelRequest, 1);
  request->link.func = cancel_request_run;
  request->task = _aio_ref (self);
  request->message = g_strdup (message);
  /* A closed loop drops the request: nothing of the task will ever run
   * again. */
  return _aio_loop_push_inbox (loop, &request->link);
}

static gboolean
aio_task_real_cancel (AioFuture  *future,
                      const char *message)
{
  AioTask *self = (AioTask *) future;
  gboolean acquired;
  gboolean ret;

  if (_aio_loop_is_current (future->loop))
    return aio_task_cancel_in_loop (self, message);

  if (!_aio_loop_enter (future->loop, &acquired))
    {
      /* A closed loop runs nothing more; its thread may still look at
       * its tasks, as it always could. */
      if (_aio_loop_is_home_thread (future->loop) && aio_loop_is_closed (future->loop))
        return aio_task_cancel_in_loop (self, message);
      return aio_task_cancel_from_thread (self, message);
    }

  ret = aio_task_cancel_in_loop (self, message);
  _aio_loop_leave (future->loop, acquired);
  return ret;
}

/* Runs in whichever thread cancelled the GCancellable. */
static void
aio_task_cancellable_cancelled (GCancellable *cancellable,
                                gpointer      user_data)
{
  AioTask *self = user_data;

  if (g_atomic_int_get (&self->extra->cancelling_own))
    return;

  if (_aio_loop_is_current (((AioFuture *) self)->loop))
    aio_task_cancel_in_loop (self, NULL);
  else
    aio_task_cancel_from_thread (self, NULL);
}

/* ---- class --------------------------------------------------------------- */

/* A task made with g_object_new() from outside the library (a language
 * binding's default constructor, say) has no body: it gets a loop, as a
 * future would, so that it can be dropped cleanly, and a critical. */
static void
aio_task_constructed (GObject *object)
{
  AioFuture *future = (AioFuture *) object;

  /* Unchecked: every task comes through here. */
  ((GObjectClass *) aio_task_parent_class)->constructed (object);

  if (_aio_future_is_constructing_internally () || future->loop != NULL)
    return;

  _aio_future_set_loop (future, NULL);
  g_critical ("An AioTask cannot be constructed with g_object_new(): it would have "
              "no body; use aio_create_task() or aio_create_stepped_task()");
}

static void
aio_task_class_init (AioTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->constructed = aio_task_constructed;
  object_class->finalize = aio_task_finalize;
  future_class->cancel = aio_task_real_cancel;
}

static void
aio_task_init (AioTask *self)
{
  self->u.step_link.func = aio_task_first_step;
}

static AioTask *
aio_task_new (AioLoop        *loop,
              AioTaskFunc     func,
              AioStepFunc     step,
              gpointer        data,
              GDestroyNotify  destroy)
{
  AioTask *self;
  gboolean acquired = FALSE;

  if (aio_loop_is_closed (loop))
    {
      g_critical ("Cannot create a task on the closed loop %p", loop);
      if (destroy != NULL)
        destroy (data);
      return NULL;
    }

  if (!_aio_loop_is_current (loop))
    {
      if (!_aio_loop_acquire (loop))
        {
          g_critical ("Cannot create a task on the loop %p from another thread", loop);
          if (destroy != NULL)
            destroy (data);
          return NULL;
        }
      acquired = TRUE;
    }

  self = _aio_future_new (AIO_TYPE_TASK, loop);
  self->number = _aio_loop_next_task_number ();
  if (func != NULL)
    self->body.func = func;
  else
    {
      self->body.step = step;
      self->stepped = TRUE;
    }
  self->data = data;
  self->destroy = destroy;

  _aio_loop_track_task (loop, self, &self->loop_link);
  /* The queued first step holds a reference: a stepped task completed
   * from outside before it ran may lose every other one. */
  _aio_loop_push_ready (loop, &((AioTask *) _aio_ref (self))->u.step_link);

  if (acquired)
    _aio_loop_release (loop);

  return self;
}

/**
 * aio_create_task: (skip)
 * @func: the body, run on a fiber
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task that runs @func on a fiber of the running loop, or of the
 * default loop when none runs (asyncio's `create_task()`). The body starts
 * on the loop's next iteration.
 *
 * Bindings use [func@Aio.create_stepped_task] instead.
 *
 * Returns: (transfer full): the new task
 *
 * Since: 1.0
 */
AioTask *
aio_create_task (AioTaskFunc    func,
                 gpointer       user_data,
                 GDestroyNotify destroy)
{
  g_return_val_if_fail (func != NULL, NULL);

  return aio_task_new (_aio_loop_get_current_or_default (), func, NULL, user_data, destroy);
}

/**
 * aio_loop_create_task: (skip)
 * @loop: an [class@Aio.Loop]
 * @func: the body, run on a fiber
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task that runs @func on a fiber of @loop (asyncio's
 * `loop.create_task()`). Creating a task on a closed loop is a programmer
 * error.
 *
 * Returns: (transfer full): the new task
 *
 * Since: 1.0
 */
AioTask *
aio_loop_create_task (AioLoop        *loop,
                      AioTaskFunc     func,
                      gpointer        user_data,
                      GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return aio_task_new (loop, func, NULL, user_data, destroy);
}

/**
 * aio_create_stepped_task:
 * @func: (scope notified) (closure user_data) (destroy destroy): the step
 *   function
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task with a stepped body on the running loop, or on the
 * default loop when none runs. @func is first called on the loop's next
 * iteration with %NULL.
 *
 * Returns: (transfer full): the new task
 *
 * Since: 1.0
 */
AioTask *
aio_create_stepped_task (AioStepFunc    func,
                         gpointer       user_data,
                         GDestroyNotify destroy)
{
  g_return_val_if_fail (func != NULL, NULL);

  return aio_task_new (_aio_loop_get_current_or_default (), NULL, func, user_data, destroy);
}

/**
 * aio_loop_create_stepped_task:
 * @loop: an [class@Aio.Loop]
 * @func: (scope notified) (closure user_data) (destroy destroy): the step
 *   function
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task with a stepped body on @loop.
 *
 * Returns: (transfer full): the new task
 *
 * Since: 1.0
 */
AioTask *
aio_loop_create_stepped_task (AioLoop        *loop,
                              AioStepFunc     func,
                              gpointer        user_data,
                              GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return aio_task_new (loop, NULL, func, user_data, destroy);
}

/**
 * aio_task_get_current:
 *
 * Gets the task whose body is running in this thread (asyncio's
 * `current_task()`).
 *
 * Returns: (transfer none) (nullable): the current task, or %NULL outside of
 *   a task's body; a borrowed pointer: do not unref it (to await it or keep
 *   it, take a reference with `g_object_ref()`)
 *
 * Since: 1.0
 */
AioTask *
aio_task_get_current (void)
{
  return current_task;
}

/**
 * aio_loop_all_tasks:
 * @loop: an [class@Aio.Loop]
 *
 * Lists the tasks of @loop that are not done yet (asyncio's
 * `all_tasks()`), oldest first. Plain futures, executor jobs among them,
 * are not tasks and are not listed.
 *
 * Returns: (transfer container) (element-type AioTask): the pending
 *   tasks; the caller owns the array and must free it with
 *   `g_ptr_array_unref()`, which also drops the reference it holds on
 *   each task
 *
 * Since: 1.0
 */
GPtrArray *
aio_loop_all_tasks (AioLoop *loop)
{
  GPtrArray *tasks;
  GQueue *queue;

  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  queue = _aio_loop_get_tasks (loop);
  tasks = g_ptr_array_new_full (queue->length, g_object_unref);
  for (GList *l = queue->head; l != NULL; l = l->next)
    g_ptr_array_add (tasks, g_object_ref (l->data));

  return tasks;
}

/**
 * aio_task_get_name:
 * @task: an [class@Aio.Task]
 *
 * Gets the task's name: the one set with [method@Aio.Task.set_name], or
 * `Task-N` as asyncio names them.
 *
 * Returns: (transfer none): the name; it belongs to @task: do not free it
 *
 * Since: 1.0
 */
const char *
aio_task_get_name (AioTask *task)
{
  g_return_val_if_fail (AIO_IS_TASK (task), NULL);

  if (aio_task_extra (task)->name == NULL)
    task->extra->name = g_strdup_printf ("Task-%u", task->number);
  return task->extra->name;
}

/**
 * aio_task_set_name:
 * @task: an [class@Aio.Task]
 * @name: (nullable): the new name, or %NULL for the default
 *
 * Names the task, for debugging.
 *
 * Since: 1.0
 */
void
aio_task_set_name (AioTask    *task,
                   const char *name)
{
  g_return_if_fail (AIO_IS_TASK (task));

  g_free (aio_task_extra (task)->name);
  task->extra->name = g_strdup (name);
}

/**
 * aio_task_get_stack_size:
 * @task: an [class@Aio.Task]
 *
 * Gets the stack size of the task's fiber.
 *
 * Returns: the size in bytes, or 0 for the loop's setting
 *
 * Since: 1.0
 */
gsize
aio_task_get_stack_size (AioTask *task)
{
  g_return_val_if_fail (AIO_IS_TASK (task), 0);

  return task->extra != NULL ? task->extra->stack_size : 0;
}

/**
 * aio_task_set_stack_size:
 * @task: an [class@Aio.Task] that has not started
 * @stack_size: the size in bytes, or 0 for the loop's setting
 *
 * Sets the stack size of the task's fiber, overriding the loop's
 * [property@Aio.Loop:stack-size]. It only has effect before the body
 * starts, that is, right after the task was created.
 *
 * Since: 1.0
 */
void
aio_task_set_stack_size (AioTask *task,
                         gsize    stack_size)
{
  g_return_if_fail (AIO_IS_TASK (task));
  g_return_if_fail (!task->started);

  if (stack_size != 0 || task->extra != NULL)
    aio_task_extra (task)->stack_size = stack_size;
}

/**
 * aio_task_get_cancellable:
 * @task: an [class@Aio.Task]
 *
 * Gets the task's `GCancellable`. It is cancelled when the task is, and
 * cancelling it, from any thread, cancels the task.
 *
 * To await a GIO call, give it an [class@Aio.GioCall] instead: the task's
 * `GCancellable` is reset by [method@Aio.Task.uncancel] (and so by a
 * [class@Aio.Timeout] scope's exit), possibly before GIO saw it cancelled,
 * while a call's own is cancelled whenever the await is and the await
 * returns only once GIO has reported.
 *
 * Returns: (transfer none): the task's cancellable
 *
 * Since: 1.0
 */
GCancellable *
aio_task_get_cancellable (AioTask *task)
{
  g_return_val_if_fail (AIO_IS_TASK (task), NULL);

  if (aio_task_extra (task)->cancellable == NULL)
    {
      AioTaskExtra *extra = task->extra;

      extra->cancellable = g_cancellable_new ();

      if (!task->finished)
        extra->cancellable_id = g_cancellable_connect (extra->cancellable,
                                                       G_CALLBACK (aio_task_cancellable_cancelled),
                                                       task, NULL);

      /* A task being cancelled hands out a cancelled GCancellable; this
       * is not a new request. */
      if (task->n_cancels > 0)
        aio_task_cancel_own_cancellable (extra);
    }

  return task->extra->cancellable;
}

/**
 * aio_task_cancel:
 * @task: an [class@Aio.Task]
 * @message: (nullable): the message of the cancellation error
 *
 * Asks @task to stop (asyncio's `Task.cancel()`).
 *
 * If the task waits on a future, that future is cancelled and the body
 * sees `G_IO_ERROR_CANCELLED`, with @message, where it awaits; otherwise
 * the cancellation is delivered at its next wait, and a task that has not
 * started never runs its body. The task's `GCancellable` is cancelled too.
 * Each call counts ([method@Aio.Task.cancelling]).
 *
 * A future the task waited for that completed before the cancellation
 * came is what the body gets: its outcome may carry something (a queue's
 * item, a lock's ownership) that must not be lost. The cancellation then
 * comes at the body's next wait, as asyncio's comes at the coroutine's
 * next suspension point.
 *
 * Like `g_cancellable_cancel()`, this may be called from any thread. From
 * a thread other than the loop's, the request is handed to the loop
 * through its inbox, which wakes it, and takes effect on its next
 * iteration, whatever the task waits for; the return value then says
 * whether the task was still pending when asked.
 *
 * Returns: %TRUE if the cancellation was requested; %FALSE if the task was
 *   done already (or its loop is closed, for a call from another thread)
 *
 * Since: 1.0
 */
gboolean
aio_task_cancel (AioTask    *task,
                 const char *message)
{
  g_return_val_if_fail (AIO_IS_TASK (task), FALSE);

  return aio_future_cancel ((AioFuture *) task, message);
}

gboolean
_aio_task_cancel_is_pending (AioTask *task)
{
  return task->must_cancel;
}

/**
 * aio_task_cancelling:
 * @task: an [class@Aio.Task]
 *
 * Counts the cancellation requests not yet matched by
 * [method@Aio.Task.uncancel] (asyncio's `Task.cancelling()`).
 *
 * Returns: the number of pending cancellation requests
 *
 * Since: 1.0
 */
guint
aio_task_cancelling (AioTask *task)
{
  g_return_val_if_fail (AIO_IS_TASK (task), 0);

  return task->n_cancels;
}

/**
 * aio_task_uncancel:
 * @task: an [class@Aio.Task]
 *
 * Takes back one cancellation request (asyncio's `Task.uncancel()`), for a
 * body that handled a cancellation and goes on. When none is left, the
 * task is no longer being cancelled: returning without a value resolves
 * it, and its `GCancellable` is reset for further GIO calls.
 *
 * Returns: the number of cancellation requests left
 *
 * Since: 1.0
 */
guint
aio_task_uncancel (AioTask *task)
{
  g_return_val_if_fail (AIO_IS_TASK (task), 0);

  if (task->n_cancels > 0)
    task->n_cancels--;

  if (task->n_cancels == 0)
    {
      task->must_cancel = FALSE;
      task->cancel_delivered = FALSE;
      GCancellable *cancellable = aio_task_peek_cancellable (task);

      if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
        g_cancellable_reset (cancellable);
    }

  return task->n_cancels;
}

/* ---- returning ----------------------------------------------------------- */

static gboolean
aio_task_begin_return (AioTask    *self,
                       const char *func)
{
  if (!self->stepped && !self->in_body)
    {
      g_critical ("%s: a fiber task returns from its own body only", func);
      return FALSE;
    }

  if (self->finished || self->returned || !_aio_future_try_claim ((AioFuture *) self))
    {
      g_critical ("%s: the task %s (%p) has returned already; a task returns once",
                  func, aio_task_get_name (self), self);
      return FALSE;
    }

  return TRUE;
}

static void
aio_task_end_return (AioTask *self)
{
  self->returned = TRUE;

  /* From inside the body the outcome waits for the body to end, as a
   * coroutine's return value does; a stepped task completed from outside
   * its step ends now. */
  if (!self->in_body)
    aio_task_finish (self);
}

/* Returns @value, of @type, which the task takes: should it have returned
 * already, @value is freed (with @destroy, for a pointer).  @func names
 * the caller in the critical. */
G_ALWAYS_INLINE static inline void
aio_task_return_with (AioTask        *self,
                      const char     *func,
                      AioValueType    type,
                      AioValue        value,
                      GDestroyNotify  destroy)
{
  if (!aio_task_begin_return (self, func))
    {
      _aio_value_free (type, value, destroy);
      return;
    }
  _aio_future_store_value ((AioFuture *) self, type, value, destroy);
  aio_task_end_return (self);
}

/**
 * aio_task_return:
 * @task: an [class@Aio.Task]
 *
 * Resolves @task with no value. A body that just returns does the same,
 * unless it was cancelled.
 *
 * Since: 1.0
 */
void
aio_task_return (AioTask *task)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_NONE, (AioValue) { .p = NULL }, NULL);
}

/**
 * aio_task_return_boolean:
 * @task: an [class@Aio.Task]
 * @value: the result
 *
 * Resolves @task with @value once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_boolean (AioTask  *task,
                         gboolean  value)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_BOOLEAN, (AioValue) { .b = !!value }, NULL);
}

/**
 * aio_task_return_int64:
 * @task: an [class@Aio.Task]
 * @value: the result
 *
 * Resolves @task with @value once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_int64 (AioTask *task,
                       gint64   value)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_INT64, (AioValue) { .i = value }, NULL);
}

/**
 * aio_task_return_double:
 * @task: an [class@Aio.Task]
 * @value: the result
 *
 * Resolves @task with @value once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_double (AioTask *task,
                        gdouble  value)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_DOUBLE, (AioValue) { .d = value }, NULL);
}

/**
 * aio_task_return_string:
 * @task: an [class@Aio.Task]
 * @value: (nullable): the result, copied
 *
 * Resolves @task with a copy of @value once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_string (AioTask    *task,
                        const char *value)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_STRING, (AioValue) { .p = g_strdup (value) }, NULL);
}

/**
 * aio_task_return_object:
 * @task: an [class@Aio.Task]
 * @object: (type GObject) (nullable): the result; the task takes a reference
 *
 * Resolves @task with @object once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_object (AioTask  *task,
                        gpointer  object)
{
  g_return_if_fail (AIO_IS_TASK (task));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_OBJECT,
                        (AioValue) { .p = object != NULL ? g_object_ref (object) : NULL }, NULL);
}

/**
 * aio_task_return_pointer: (skip)
 * @task: an [class@Aio.Task]
 * @pointer: (nullable): the result
 * @destroy: (nullable): frees @pointer with the task
 *
 * Resolves @task with @pointer once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_pointer (AioTask        *task,
                         gpointer        pointer,
                         GDestroyNotify  destroy)
{
  g_return_if_fail (AIO_IS_TASK (task));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_POINTER, (AioValue) { .p = pointer }, destroy);
}

/**
 * aio_task_return_value:
 * @task: an [class@Aio.Task]
 * @value: the result, copied
 *
 * Resolves @task with a copy of @value once its body returns.
 *
 * Since: 1.0
 */
void
aio_task_return_value (AioTask      *task,
                       const GValue *value)
{
  g_return_if_fail (AIO_IS_TASK (task));
  g_return_if_fail (G_IS_VALUE (value));

  aio_task_return_with (task, G_STRFUNC, AIO_VALUE_VALUE, (AioValue) { .p = _aio_value_copy (value) }, NULL);
}

/**
 * aio_task_return_error:
 * @task: an [class@Aio.Task]
 * @error: (transfer full): the error, which the task takes
 *
 * Rejects @task with @error once its body returns. `G_IO_ERROR_CANCELLED`
 * makes the task cancelled, as a `CancelledError` leaving a coroutine
 * does.
 *
 * Since: 1.0
 */
void
aio_task_return_error (AioTask *task,
                       GError  *error)
{
  g_return_if_fail (AIO_IS_TASK (task));
  g_return_if_fail (error != NULL);

  if (!aio_task_begin_return (task, G_STRFUNC))
    {
      g_error_free (error);
      return;
    }
  task->parent_instance.error = error;
  aio_task_end_return (task);
}

/* ---- awaiting ------------------------------------------------------------ */

/* How a fiber body waits: suspended until the future is done, then given
 * its outcome or a cancellation.  aio-await.c builds the public
 * aio_await() and aio_yield() on _aio_task_await(). */

/* Whether the running fiber body, @self, may await @future; sets @error
 * when it may not. */
static gboolean
aio_await_allowed (AioTask    *self,
                   AioFuture  *future,
                   GError    **error)
{
  if (self == NULL || self->fiber == NULL || aio_fiber_get_current () != self->fiber)
    g_set_error_literal (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK,
                         _("aio_await() can only be called from the body of a task"));
  else if (future == (AioFuture *) self)
    g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                         _("A task cannot await itself"));
  /* The yield future lives on the default loop and is any loop's. */
  else if (future != yield_singleton && future->loop != ((AioFuture *) self)->loop)
    g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                         _("The future belongs to another loop than the task"));
  else
    return TRUE;

  return FALSE;
}

/* Suspends the body until @future (taken) is done; returns the future it
 * resumes with, done, which the caller owns: @future itself, or, if the
 * task slept on its own timer instead, one of the same outcome. */
static AioFuture *
aio_task_suspend_on (AioTask   *self,
                     AioFuture *future)
{
  if (future == yield_singleton)
    {
      aio_task_schedule_yield (self);
      aio_fiber_suspend ();
      /* Resumed with the yield future again: we keep the caller's
       * reference. */
      g_assert (self->resumed_with == future);
      _aio_unref (g_steal_pointer (&self->resumed_with));
      return future;
    }

  /* Like awaiting a done future in a coroutine, this does not yield. */
  if (_aio_future_state (future) == AIO_FUTURE_PENDING)
    {
      aio_task_wait_on (self, future);
      aio_fiber_suspend ();

      /* Resumed by aio_task_step() with the future, now done, or with
       * one of the same outcome. */
      g_assert (self->resumed_with != NULL);
      future = g_steal_pointer (&self->resumed_with);
    }

  return future;
}

/* What the body gets from the done @future it resumed with: TRUE if it
 * resolved, else FALSE with @error set. */
static gboolean
aio_task_take_outcome (AioTask    *self,
                       AioFuture  *future,
                       GError    **error)
{
  /* A cancel() that came while we yielded or slept is delivered here.
   * One that came after the future completed, before we ran (or before
   * this await of a done future), waits for the next wait: the outcome
   * is ours, whatever it carries. */
  if (aio_task_delivers_cancel_on (self, future))
    {
      self->must_cancel = FALSE;
      self->cancel_delivered = TRUE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, aio_task_cancel_text (self));
      return FALSE;
    }

  if (!aio_future_propagate (future, error))
    {
      if (aio_future_is_cancelled (future) && self->n_cancels > 0)
        self->cancel_delivered = TRUE;
      return FALSE;
    }

  return TRUE;
}

AioFuture *
_aio_task_await (AioFuture  *future,
                 GError    **error)
{
  AioTask *self = current_task;
  gboolean ok = aio_await_allowed (self, future, error);

  if (ok)
    {
      future = aio_task_suspend_on (self, future);
      ok = aio_task_take_outcome (self, future, error);
    }

  if (!ok)
    g_clear_pointer (&future, _aio_future_unref);
  return future;
}

/**
 * aio_yield_future:
 *
 * Gets the future a stepped body returns to yield to the loop once: the
 * task is stepped again on the loop's next iteration, with this future
 * (resolved, with no value) as @completed — or a cancelled one, if the
 * task was cancelled meanwhile. It is the stepped twin of
 * [func@Aio.yield], and like it costs no allocation, where
 * `aio_sleep (0)` makes a new future.
 *
 * It is one future shared by everyone and always resolved: only return
 * it from a step or await it; adding done callbacks to it is pointless.
 *
 * Returns: (transfer full): the shared yield future; the caller owns a reference
 *   to it: [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_yield_future (void)
{
  static gsize made = 0;

  if (g_once_init_enter (&made))
    {
      /* It needs a loop like every future; the global default context's
       * lives as long as the process. */
      AioLoop *loop = aio_loop_ref_for_context (g_main_context_default ());
      AioFuture *future = _aio_future_new (AIO_TYPE_FUTURE, loop);

      _aio_unref (loop);
      _aio_future_try_claim (future);
      g_atomic_int_set (&future->state, AIO_FUTURE_RESOLVED);
      future->notified = TRUE;
      yield_singleton = future;

      g_once_init_leave (&made, 1);
    }

  return _aio_ref (yield_singleton);
}
