/* aio-condition.c: AioCondition, asyncio's Condition
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioCondition:
 *
 * A condition variable for tasks: asyncio's `Condition`.
 *
 * A condition pairs an [class@Aio.Lock] with a list of waiting tasks. A
 * task holding the lock calls [method@Aio.Condition.wait], which releases
 * the lock, waits to be notified, then acquires the lock again before its
 * future resolves; a task holding the lock wakes waiters with
 * [method@Aio.Condition.notify] or [method@Aio.Condition.notify_all].
 * [method@Aio.Condition.wait_for] waits until a predicate holds.
 *
 * ```c
 * // consumer
 * if (!aio_await (aio_condition_acquire (cond), &error))
 *   return;
 * ok = aio_await (aio_condition_wait_for (cond, have_items, state, NULL), &error);
 * // the lock is held again here, even when ok is FALSE
 * if (ok)
 *   take_item (state);
 * aio_condition_release (cond);
 *
 * // producer
 * if (!aio_await (aio_condition_acquire (cond), &error))
 *   return;
 * add_item (state);
 * aio_condition_notify (cond, 1);
 * aio_condition_release (cond);
 * ```
 *
 * As in asyncio, the lock is held again when a wait ends, however it
 * ends: a wait that is cancelled first reacquires the lock and only then
 * completes as cancelled. A waiter cancelled after it was notified passes
 * the notification on to another waiter (Python 3.13's behaviour), so a
 * notification is never lost; that may wake a waiter spuriously, which
 * the condition variable protocol allows: wait in a loop, or use
 * [method@Aio.Condition.wait_for].
 *
 * The lock's owner is the task that waits; [method@Aio.Condition.wait]
 * and [method@Aio.Condition.notify] require the current task to hold the
 * lock, and calling them otherwise is a programmer error (asyncio raises
 * `RuntimeError`).
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-condition.h"
#include "aio-error.h"
#include "aio-waiter-private.h"

struct _AioCondition
{
  GObject   parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLock  *lock;

  /* Loop thread only.  Waits not yet notified, oldest first; each holds a
   * reference. */
  GQueue    waiters;
};

enum {
  PROP_0,
  PROP_LOCK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioCondition, aio_condition, G_TYPE_OBJECT)

/* ---- the wait future ----------------------------------------------------- */

enum {
  WAIT_NOTIFY,   /* listed, the lock released */
  WAIT_LOCK,     /* notified or cancelled: acquiring the lock again */
  WAIT_DONE,
};

typedef struct
{
  AioFuture              parent_instance;

  /* Owned while pending: a wait cannot complete without the lock. */
  AioCondition          *condition;
  /* Owned, or NULL: the task the lock is released and acquired for. */
  AioTask               *task;

  /* Loop thread only. */
  GList                  node;
  gboolean               listed;
  guint                  state;
  gboolean               notified;
  gboolean               cancel_requested;
  char                  *cancel_message;

  /* wait_for(): called with the lock held; @data freed with @destroy
   * once the wait is over. */
  AioConditionPredicate  predicate;
  gpointer               data;
  GDestroyNotify         destroy;
} AioConditionWait;

typedef struct
{
  AioFutureClass parent_class;
} AioConditionWaitClass;

static GType aio_condition_wait_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioConditionWait, aio_condition_wait_future, AIO_TYPE_FUTURE)

static void aio_condition_notify_internal (AioCondition *self,
                                           guint         n);

static void
aio_condition_wait_free_predicate (AioConditionWait *wait)
{
  GDestroyNotify destroy = g_steal_pointer (&wait->destroy);
  gpointer data = g_steal_pointer (&wait->data);

  wait->predicate = NULL;
  if (destroy != NULL)
    destroy (data);
}

static void
aio_condition_wait_future_finalize (GObject *object)
{
  AioConditionWait *wait = (AioConditionWait *) object;

  g_assert (!wait->listed);

  aio_condition_wait_free_predicate (wait);
  g_clear_object (&wait->task);
  g_clear_object (&wait->condition);
  g_free (wait->cancel_message);

  G_OBJECT_CLASS (aio_condition_wait_future_parent_class)->finalize (object);
}

static void
aio_condition_wait_unlist (AioConditionWait *wait)
{
  g_assert (wait->listed);

  g_queue_unlink (&wait->condition->waiters, &wait->node);
  wait->listed = FALSE;
  g_object_unref (wait);
}

/* The lock is the task's: release it and wait to be notified. */
static void
aio_condition_wait_start (AioConditionWait *wait)
{
  AioCondition *self = wait->condition;

  _aio_lock_release_for (self->lock);
  wait->state = WAIT_NOTIFY;
  wait->notified = FALSE;
  wait->listed = TRUE;
  g_queue_push_tail_link (&self->waiters, &wait->node);
  g_object_ref (wait);
}

/* The wait is over, with the lock held by the task (or not at all, when
 * reacquiring it failed): complete it, and let go of what it held. */
static void
aio_condition_wait_finish (AioConditionWait *wait,
                           GError           *error)
{
  AioFuture *future = (AioFuture *) wait;
  AioCondition *condition = g_steal_pointer (&wait->condition);

  wait->state = WAIT_DONE;
  aio_condition_wait_free_predicate (wait);

  if (!_aio_future_try_claim (future))
    {
      /* Someone completed the future behind our back: nobody will learn
       * the lock is theirs, so give it up rather than leak it. */
      if (error == NULL && _aio_lock_is_held_by (condition->lock, wait->task))
        _aio_lock_release_for (condition->lock);
      g_clear_error (&error);
      g_object_unref (condition);
      return;
    }

  if (error != NULL)
    future->error = error;
  else
    {
      future->value_type = AIO_VALUE_BOOLEAN;
      future->value.b = TRUE;
    }
  g_object_unref (condition);

  /* We run in a callback the loop dispatches (the lock's acquisition
   * completing), so the awaiting task resumes in this same call, holding
   * the lock, with nothing in between that could cancel it. */
  _aio_sync_publish (future,
                     error == NULL ? AIO_FUTURE_RESOLVED
                     : _aio_error_is_cancelled (error) ? AIO_FUTURE_CANCELLED
                     : AIO_FUTURE_REJECTED,
                     TRUE);
}

static void
aio_condition_wait_reacquired (AioFuture *acquisition,
                               gpointer   user_data)
{
  AioConditionWait *wait = user_data;
  GError *error = NULL;

  if (!aio_future_propagate (acquisition, &error))
    {
      aio_condition_wait_finish (wait, error);
      return;
    }

  if (wait->cancel_requested)
    {
      /* asyncio 3.13: an error out of a notified wait notifies another
       * waiter instead, so that the notification is not lost. */
      if (wait->notified)
        aio_condition_notify_internal (wait->condition, 1);
      aio_condition_wait_finish (wait, _aio_future_new_cancelled_error (wait->cancel_message));
      return;
    }

  if (wait->predicate != NULL && !wait->predicate (wait->data))
    {
      aio_condition_wait_start (wait);
      return;
    }

  aio_condition_wait_finish (wait, NULL);
}

static void
aio_condition_wait_reacquire (AioConditionWait *wait)
{
  AioFuture *acquisition;

  wait->state = WAIT_LOCK;
  acquisition = _aio_lock_acquire_for (wait->condition->lock, wait->task);
  aio_future_add_done_callback (acquisition, aio_condition_wait_reacquired,
                                g_object_ref (wait), g_object_unref);
  g_object_unref (acquisition);
}

static void
aio_condition_wait_cancel_in_loop (gpointer object)
{
  AioConditionWait *wait = object;

  if (wait->state == WAIT_DONE || wait->cancel_requested)
    return;

  wait->cancel_requested = TRUE;
  if (wait->state == WAIT_NOTIFY)
    {
      aio_condition_wait_unlist (wait);
      aio_condition_wait_reacquire (wait);
    }
}

/* Cancelling a wait only requests it: the wait reacquires the lock first,
 * then completes as cancelled, as asyncio's `finally` clause does. */
static gboolean
aio_condition_wait_cancel (AioFuture  *future,
                           const char *message)
{
  AioConditionWait *wait = (AioConditionWait *) future;
  AioLoop *loop = future->loop;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    return FALSE;

  if (_aio_loop_is_current (loop))
    {
      if (wait->state == WAIT_DONE || wait->cancel_requested)
        return FALSE;
      g_free (wait->cancel_message);
      wait->cancel_message = g_strdup (message);
      aio_condition_wait_cancel_in_loop (wait);
      return TRUE;
    }

  /* From another thread, the request travels to the loop's thread (with
   * the default message). */
  _aio_sync_run_in_loop (loop, wait, aio_condition_wait_cancel_in_loop);
  return TRUE;
}

static void
aio_condition_wait_future_class_init (AioConditionWaitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_condition_wait_future_finalize;
  future_class->cancel = aio_condition_wait_cancel;
}

static void
aio_condition_wait_future_init (AioConditionWait *wait)
{
  wait->node.data = wait;
}

static AioConditionWait *
aio_condition_wait_new (AioCondition *self,
                        AioTask      *task)
{
  AioConditionWait *wait = _aio_future_new (aio_condition_wait_future_get_type (),
                                             _aio_lock_get_loop (self->lock));

  wait->condition = g_object_ref (self);
  wait->task = task != NULL ? g_object_ref (task) : NULL;
  return wait;
}

/* ---- the condition ------------------------------------------------------- */

static void
aio_condition_constructed (GObject *object)
{
  AioCondition *self = (AioCondition *) object;

  G_OBJECT_CLASS (aio_condition_parent_class)->constructed (object);

  if (self->lock == NULL)
    self->lock = aio_lock_new ();
}

static void
aio_condition_finalize (GObject *object)
{
  AioCondition *self = (AioCondition *) object;

  /* Every wait holds the condition until it is over. */
  g_assert (self->waiters.length == 0);
  g_clear_object (&self->lock);

  G_OBJECT_CLASS (aio_condition_parent_class)->finalize (object);
}

static void
aio_condition_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AioCondition *self = AIO_CONDITION (object);

  switch (prop_id)
    {
    case PROP_LOCK:
      g_value_set_object (value, self->lock);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_condition_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  AioCondition *self = AIO_CONDITION (object);

  switch (prop_id)
    {
    case PROP_LOCK:
      self->lock = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_condition_class_init (AioConditionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = aio_condition_constructed;
  object_class->finalize = aio_condition_finalize;
  object_class->get_property = aio_condition_get_property;
  object_class->set_property = aio_condition_set_property;

  /**
   * AioCondition:lock:
   *
   * The lock of the condition; a new one when none is given at
   * construction.
   *
   * Since: 1.0
   */
  properties[PROP_LOCK] =
    g_param_spec_object ("lock", NULL, NULL,
                         AIO_TYPE_LOCK,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_condition_init (AioCondition *self)
{
  g_queue_init (&self->waiters);
}

/**
 * aio_condition_new:
 * @lock: (nullable): the lock to use, or %NULL for a new one
 *
 * Creates a condition over @lock (asyncio's `Condition(lock)`). Without a
 * lock, the condition makes its own, on the running loop or the default
 * one. The condition works on the loop of its lock.
 *
 * Returns: (transfer full): a new condition
 *
 * Since: 1.0
 */
AioCondition *
aio_condition_new (AioLock *lock)
{
  g_return_val_if_fail (lock == NULL || AIO_IS_LOCK (lock), NULL);

  return g_object_new (AIO_TYPE_CONDITION, "lock", lock, NULL);
}

/**
 * aio_condition_get_lock:
 * @condition: an [class@Aio.Condition]
 *
 * Gets the lock of @condition.
 *
 * Returns: (transfer none): the lock; it belongs to @condition: do not unref
 *   it
 *
 * Since: 1.0
 */
AioLock *
aio_condition_get_lock (AioCondition *condition)
{
  g_return_val_if_fail (AIO_IS_CONDITION (condition), NULL);

  return condition->lock;
}

/**
 * aio_condition_acquire:
 * @condition: an [class@Aio.Condition]
 *
 * Acquires the lock of @condition for the current task, as
 * [method@Aio.Lock.acquire] does.
 *
 * Returns: (transfer full): a future for the acquisition; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_condition_acquire (AioCondition *condition)
{
  g_return_val_if_fail (AIO_IS_CONDITION (condition), NULL);

  return aio_lock_acquire (condition->lock);
}

/**
 * aio_condition_release:
 * @condition: an [class@Aio.Condition]
 *
 * Releases the lock of @condition, as [method@Aio.Lock.release] does.
 *
 * Since: 1.0
 */
void
aio_condition_release (AioCondition *condition)
{
  g_return_if_fail (AIO_IS_CONDITION (condition));

  aio_lock_release (condition->lock);
}

/**
 * aio_condition_is_locked:
 * @condition: an [class@Aio.Condition]
 *
 * Whether the lock of @condition is held (asyncio's `locked()`).
 *
 * Returns: %TRUE if the lock is held
 *
 * Since: 1.0
 */
gboolean
aio_condition_is_locked (AioCondition *condition)
{
  g_return_val_if_fail (AIO_IS_CONDITION (condition), FALSE);

  return aio_lock_is_locked (condition->lock);
}

static gboolean
aio_condition_check_held (AioCondition *self,
                          const char   *func)
{
  AioTask *current = aio_task_get_current ();

  if (_aio_lock_is_held_by (self->lock, current))
    return TRUE;

  g_critical ("%s: the lock of the condition %p is not held by %s",
              func, self, current != NULL ? aio_task_get_name (current) : "the caller");
  return FALSE;
}

/**
 * aio_condition_wait:
 * @condition: an [class@Aio.Condition]
 *
 * Releases the lock of @condition, waits to be notified, and acquires the
 * lock again (asyncio's `wait()`). The current task must hold the lock.
 *
 * The returned future resolves with %TRUE once the task holds the lock
 * again after a notification. Cancelling it (or the awaiting task) ends
 * the wait, but only once the lock is held again: then the future is
 * cancelled, and the task holds the lock all the same.
 *
 * Returns: (transfer full): a future for the wait; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_condition_wait (AioCondition *condition)
{
  AioConditionWait *wait;

  g_return_val_if_fail (AIO_IS_CONDITION (condition), NULL);

  if (!aio_condition_check_held (condition, G_STRFUNC))
    return NULL;

  wait = aio_condition_wait_new (condition, aio_task_get_current ());
  aio_condition_wait_start (wait);
  return (AioFuture *) wait;
}

/**
 * aio_condition_wait_for:
 * @condition: an [class@Aio.Condition]
 * @predicate: (scope notified) (closure user_data) (destroy destroy): the
 *   condition to wait for
 * @user_data: data for @predicate
 * @destroy: (nullable): frees @user_data once the wait is over
 *
 * Waits until @predicate returns %TRUE (asyncio's `wait_for()`). The
 * current task must hold the lock of @condition.
 *
 * @predicate is called at once, then after each notification, always with
 * the lock held; while it returns %FALSE the wait goes on as
 * [method@Aio.Condition.wait] does. The returned future resolves with
 * %TRUE, the lock held, once @predicate holds; cancelling it ends the wait
 * as for [method@Aio.Condition.wait], with the lock held again.
 *
 * Returns: (transfer full): a future for the wait
 *
 * Since: 1.0
 */
AioFuture *
aio_condition_wait_for (AioCondition          *condition,
                        AioConditionPredicate  predicate,
                        gpointer               user_data,
                        GDestroyNotify         destroy)
{
  AioConditionWait *wait;

  g_return_val_if_fail (AIO_IS_CONDITION (condition), NULL);
  g_return_val_if_fail (predicate != NULL, NULL);

  if (!aio_condition_check_held (condition, G_STRFUNC))
    {
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  if (predicate (user_data))
    {
      if (destroy != NULL)
        destroy (user_data);
      return _aio_sync_new_true (_aio_lock_get_loop (condition->lock));
    }

  wait = aio_condition_wait_new (condition, aio_task_get_current ());
  wait->predicate = predicate;
  wait->data = user_data;
  wait->destroy = destroy;
  aio_condition_wait_start (wait);
  return (AioFuture *) wait;
}

static void
aio_condition_notify_internal (AioCondition *self,
                               guint         n)
{
  GList *link = self->waiters.head;
  guint woken = 0;

  while (link != NULL && woken < n)
    {
      AioConditionWait *wait = link->data;

      link = link->next;
      if (wait->state != WAIT_NOTIFY || wait->cancel_requested)
        continue;

      /* Keep it alive past leaving the list: reacquiring takes its own
       * reference. */
      g_object_ref (wait);
      aio_condition_wait_unlist (wait);
      wait->notified = TRUE;
      aio_condition_wait_reacquire (wait);
      g_object_unref (wait);
      woken++;
    }
}

/**
 * aio_condition_notify:
 * @condition: an [class@Aio.Condition]
 * @n: how many waiters to wake at most
 *
 * Wakes up to @n tasks waiting on @condition, oldest first (asyncio's
 * `notify(n)`). The current task must hold the lock; the woken tasks
 * resume once they have acquired it in turn.
 *
 * Since: 1.0
 */
void
aio_condition_notify (AioCondition *condition,
                      guint         n)
{
  g_return_if_fail (AIO_IS_CONDITION (condition));

  if (!aio_condition_check_held (condition, G_STRFUNC))
    return;

  aio_condition_notify_internal (condition, n);
}

/**
 * aio_condition_notify_all:
 * @condition: an [class@Aio.Condition]
 *
 * Wakes every task waiting on @condition (asyncio's `notify_all()`). The
 * current task must hold the lock.
 *
 * Since: 1.0
 */
void
aio_condition_notify_all (AioCondition *condition)
{
  g_return_if_fail (AIO_IS_CONDITION (condition));

  if (!aio_condition_check_held (condition, G_STRFUNC))
    return;

  aio_condition_notify_internal (condition, G_MAXUINT);
}
