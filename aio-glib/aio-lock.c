/* aio-lock.c: AioLock, asyncio's Lock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioLock:
 *
 * A mutual exclusion lock for tasks: asyncio's `Lock`.
 *
 * [method@Aio.Lock.acquire] returns a future that resolves (with %TRUE)
 * once the calling task holds the lock; [method@Aio.Lock.release] lets it
 * go and hands it to the task that has waited longest. Waiters are served
 * first come, first served.
 *
 * ```c
 * if (!aio_await (aio_lock_acquire (lock), &error))
 *   return;   // cancelled while waiting: the lock is not ours
 * update_shared_state ();
 * aio_lock_release (lock);
 * ```
 *
 * The lock is owned by the task that called [method@Aio.Lock.acquire]
 * ([func@Aio.Task.get_current]), or by nobody in particular when it was
 * called outside of any task. Only the owner may release it: releasing a
 * lock that is not locked, or that another task holds, is a programmer
 * error (asyncio raises `RuntimeError` for the former and does not check
 * the latter).
 *
 * ## Cancellation
 *
 * An acquisition that is cancelled before it was served leaves the queue
 * at once. The lock is handed over only when its new owner is about to
 * run, and a task whose acquisition was served sees it resolved even if
 * it is cancelled before it resumes (fiber and stepped tasks alike, and
 * through `aio_wait_for()` and `aio_shield()`): the cancellation comes
 * at its next wait. So a task either gets the lock and is told so, or is
 * cancelled and does not get it; the lock is never left held by a task
 * that was told it failed.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-lock.h"
#include "aio-waiter-private.h"

struct _AioLock
{
  GObject   parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop  *loop;

  /* Loop thread only, as everything below.  Pending acquisitions, first
   * come first: each waiter's @data is the task it acquires for (a
   * reference, or NULL). */
  GQueue    waiters;
  /* Acquisitions woken and about to be served; while one is, the lock is
   * promised and a new acquire() queues behind the others. */
  guint     n_woken;

  gboolean  locked;
  /* Owned, or NULL: the holder when it is a task. */
  AioTask  *owner;
};

G_DEFINE_FINAL_TYPE (AioLock, aio_lock, G_TYPE_OBJECT)

static void aio_lock_wake_first (AioLock *self);

static void
aio_lock_dispose (GObject *object)
{
  AioLock *self = (AioLock *) object;

  _aio_waiter_reject_all (&self->waiters, AIO_ERROR_INVALID_STATE,
                          /* TRANSLATORS: a future waiting on a coordination
                           * primitive fails with this when the primitive is
                           * finalized. */
                          N_("The lock was destroyed while a task waited for it"));

  G_OBJECT_CLASS (aio_lock_parent_class)->dispose (object);
}

static void
aio_lock_finalize (GObject *object)
{
  AioLock *self = (AioLock *) object;

  g_clear_object (&self->owner);
  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_lock_parent_class)->finalize (object);
}

static void
aio_lock_class_init (AioLockClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = aio_lock_dispose;
  object_class->finalize = aio_lock_finalize;
}

static void
aio_lock_init (AioLock *self)
{
  g_queue_init (&self->waiters);
  self->loop = g_object_ref (_aio_sync_pick_loop ());
}

/**
 * aio_lock_new:
 *
 * Creates an unlocked lock on the running loop, or on the default loop
 * when none runs.
 *
 * Returns: (transfer full): a new lock; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioLock *
aio_lock_new (void)
{
  return g_object_new (AIO_TYPE_LOCK, NULL);
}

static void
aio_lock_take (AioLock *self,
               AioTask *owner)
{
  g_assert (!self->locked);

  self->locked = TRUE;
  g_set_object (&self->owner, owner);
}

/* A woken acquisition's turn has come: serve it, or pass its turn on. */
static void
aio_lock_waiter_wake (gpointer   owner,
                      AioWaiter *waiter)
{
  AioLock *self = owner;

  g_assert (self->n_woken > 0);
  self->n_woken--;

  if (self->locked)
    {
      /* Cannot happen through the public API, which queues new
       * acquisitions behind woken ones; wait again, first in line. */
      _aio_waiter_push_head (&self->waiters, waiter);
      return;
    }

  if (_aio_future_state ((AioFuture *) waiter) != AIO_FUTURE_PENDING)
    {
      /* Cancelled after it was woken: the next in line gets the turn. */
      aio_lock_wake_first (self);
      return;
    }

  /* The lock is the waiter's only if we complete its future. */
  if (!_aio_future_try_claim ((AioFuture *) waiter))
    {
      aio_lock_wake_first (self);
      return;
    }
  aio_lock_take (self, waiter->data);

  /* Completing it runs the awaiting task now, which may release the lock
   * or drop it: this is the last thing we do. */
  waiter->parent_instance.value_type = AIO_VALUE_BOOLEAN;
  waiter->parent_instance.value.b = TRUE;
  _aio_waiter_release_owner (waiter);
  _aio_sync_publish ((AioFuture *) waiter, AIO_FUTURE_RESOLVED, TRUE);
}

static void
aio_lock_wake_first (AioLock *self)
{
  AioWaiter *waiter;

  if (self->locked || self->n_woken > 0)
    return;

  waiter = _aio_waiter_pop_pending (&self->waiters);
  if (waiter == NULL)
    return;

  self->n_woken++;
  _aio_waiter_schedule (waiter);
  g_object_unref (waiter);
}

AioFuture *
_aio_lock_acquire_for (AioLock *self,
                       AioTask *owner)
{
  AioWaiter *waiter;

  /* asyncio: free, and nobody waiting (or only cancelled waiters). */
  if (!self->locked && self->n_woken == 0 && !_aio_waiter_has_pending (&self->waiters))
    {
      aio_lock_take (self, owner);
      return _aio_sync_new_true (self->loop);
    }

  waiter = _aio_waiter_new (self->loop, self, aio_lock_waiter_wake);
  waiter->data = owner != NULL ? g_object_ref (owner) : NULL;
  waiter->data_free = g_object_unref;
  _aio_waiter_push_tail (&self->waiters, waiter);
  return (AioFuture *) waiter;
}

void
_aio_lock_release_for (AioLock *self)
{
  g_assert (self->locked);

  self->locked = FALSE;
  g_clear_object (&self->owner);
  aio_lock_wake_first (self);
}

gboolean
_aio_lock_is_held_by (AioLock *self,
                      AioTask *owner)
{
  return self->locked && self->owner == owner;
}

AioLoop *
_aio_lock_get_loop (AioLock *self)
{
  return self->loop;
}

/**
 * aio_lock_acquire:
 * @lock: an [class@Aio.Lock]
 *
 * Acquires @lock for the current task (asyncio's `acquire()`).
 *
 * The returned future resolves with %TRUE once the task holds the lock:
 * at once if it is free and nobody waits for it, otherwise when it is
 * this acquisition's turn. Cancelling the future (or the task awaiting
 * it) before then withdraws the acquisition.
 *
 * A lock is not reentrant: a task that acquires a lock it holds waits
 * for ever.
 *
 * Returns: (transfer full): a future for the acquisition
 *
 * Since: 1.0
 */
AioFuture *
aio_lock_acquire (AioLock *lock)
{
  g_return_val_if_fail (AIO_IS_LOCK (lock), NULL);

  return _aio_lock_acquire_for (lock, aio_task_get_current ());
}

/**
 * aio_lock_check_held:
 * @lock: an [class@Aio.Lock]
 * @error: return location for a #GError, or %NULL
 *
 * Checks that the caller holds @lock: that it is locked, and that the
 * current task ([func@Aio.Task.get_current]) is the one that acquired it
 * (or, for a lock acquired outside of any task, that the call is made
 * outside of any task too).
 *
 * This is the rule [method@Aio.Lock.release] and the waits and
 * notifications of [class@Aio.Condition] enforce with a critical; a
 * language binding calls it first to raise its own error instead (Python's
 * `RuntimeError`, as asyncio's `Lock.release()` of an unlocked lock does),
 * so that the rule is checked in one place.
 *
 * Returns: %TRUE if the caller holds @lock; otherwise %FALSE, with @error
 *   set to %AIO_ERROR_INVALID_STATE
 *
 * Since: 1.0
 */
gboolean
aio_lock_check_held (AioLock  *lock,
                     GError  **error)
{
  AioTask *current;

  g_return_val_if_fail (AIO_IS_LOCK (lock), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = aio_task_get_current ();
  if (_aio_lock_is_held_by (lock, current))
    return TRUE;

  if (!lock->locked)
    g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                         _("The lock is not acquired"));
  else
    g_set_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                 _("The lock is held by %s, not by %s"),
                 lock->owner != NULL ? aio_task_get_name (lock->owner) : _("code outside of tasks"),
                 current != NULL ? aio_task_get_name (current) : _("code outside of tasks"));
  return FALSE;
}

/**
 * aio_lock_release:
 * @lock: an [class@Aio.Lock]
 *
 * Releases @lock (asyncio's `release()`), handing it to the oldest
 * pending acquisition, which is served on the loop's next iteration.
 *
 * The caller must hold the lock: the current task must be the one that
 * acquired it (or, for a lock acquired outside of any task, the call is
 * made outside of any task too). Releasing an unlocked lock, or one held
 * by another task, is a programmer error and changes nothing
 * ([method@Aio.Lock.check_held] tells beforehand).
 *
 * Since: 1.0
 */
void
aio_lock_release (AioLock *lock)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AIO_IS_LOCK (lock));

  if (!aio_lock_check_held (lock, &error))
    {
      g_critical ("aio_lock_release: lock %p: %s", lock, error->message);
      return;
    }

  _aio_lock_release_for (lock);
}

/**
 * aio_lock_is_locked:
 * @lock: an [class@Aio.Lock]
 *
 * Whether @lock is held (asyncio's `locked()`).
 *
 * Returns: %TRUE if @lock is held
 *
 * Since: 1.0
 */
gboolean
aio_lock_is_locked (AioLock *lock)
{
  g_return_val_if_fail (AIO_IS_LOCK (lock), FALSE);

  return lock->locked;
}

/**
 * aio_lock_get_owner:
 * @lock: an [class@Aio.Lock]
 *
 * Gets the task that holds @lock.
 *
 * Returns: (transfer none) (nullable): the task holding @lock, or %NULL when
 *   it is unlocked or was acquired outside of any task; a borrowed pointer:
 *   do not unref it
 *
 * Since: 1.0
 */
AioTask *
aio_lock_get_owner (AioLock *lock)
{
  g_return_val_if_fail (AIO_IS_LOCK (lock), NULL);

  return lock->owner;
}
