/* aio-handle.c: AioHandle, a callback scheduled on a loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioHandle:
 *
 * A callback scheduled with [method@Aio.Loop.call_soon],
 * [method@Aio.Loop.call_later], [method@Aio.Loop.call_at] or
 * [method@Aio.Loop.call_soon_threadsafe], which can be cancelled until it
 * runs (asyncio's `Handle` and `TimerHandle`).
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "aio-handle.h"
#include "aio-loop-private.h"

enum {
  HANDLE_SCHEDULED,
  HANDLE_DONE,
  HANDLE_CANCELLED,
};

struct _AioHandle
{
  gint            ref_count;

  /* Atomic: a handle from call_soon_threadsafe() may be cancelled from any
   * thread while the loop is about to run it; one compare-and-exchange
   * decides which of the two happens. */
  gint            state;

  /* Owned while scheduled, NULL after. */
  AioLoop        *loop;

  AioLink         link;
  AioTimer        timer;
  gboolean        is_timer;

  AioCallback     func;
  gpointer        data;
  GDestroyNotify  destroy;
};

G_DEFINE_BOXED_TYPE (AioHandle, aio_handle, aio_handle_ref, aio_handle_unref)

/**
 * aio_handle_ref:
 * @handle: an [struct@Aio.Handle]
 *
 * Takes a reference on @handle.
 *
 * Returns: (transfer full): @handle
 *
 * Since: 1.0
 */
AioHandle *
aio_handle_ref (AioHandle *handle)
{
  g_return_val_if_fail (handle != NULL, NULL);

  g_atomic_int_inc (&handle->ref_count);
  return handle;
}

/**
 * aio_handle_unref:
 * @handle: (transfer full): an [struct@Aio.Handle]
 *
 * Drops a reference on @handle. Dropping the last reference of a
 * scheduled handle does not cancel it: the loop holds its own.
 *
 * Since: 1.0
 */
void
aio_handle_unref (AioHandle *handle)
{
  g_return_if_fail (handle != NULL);

  if (g_atomic_int_dec_and_test (&handle->ref_count))
    {
      g_assert (handle->loop == NULL);
      g_free (handle);
    }
}

static void
aio_handle_finish (AioHandle *self,
                   gboolean   run)
{
  GDestroyNotify destroy = self->destroy;
  gpointer data = self->data;

  self->destroy = NULL;
  self->data = NULL;
  g_clear_object (&self->loop);

  if (run)
    self->func (data);
  if (destroy != NULL)
    destroy (data);
}

static void
aio_handle_fire (AioHandle *self,
                 gboolean   discard)
{
  gint to = discard ? HANDLE_CANCELLED : HANDLE_DONE;

  if (g_atomic_int_compare_and_exchange (&self->state, HANDLE_SCHEDULED, to))
    aio_handle_finish (self, !discard);
  aio_handle_unref (self);
}

static void
aio_handle_link_func (AioLink  *link,
                      gboolean  discard)
{
  aio_handle_fire (G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioHandle, link)), discard);
}

static void
aio_handle_timer_func (AioTimer *timer,
                       gboolean  discard)
{
  aio_handle_fire (G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (AioHandle, timer)), discard);
}

static AioHandle *
aio_handle_new (AioLoop        *loop,
                AioCallback     func,
                gpointer        data,
                GDestroyNotify  destroy)
{
  AioHandle *self = g_new0 (AioHandle, 1);

  /* One reference for the caller, one for the loop's queue. */
  self->ref_count = 2;
  self->state = HANDLE_SCHEDULED;
  self->loop = g_object_ref (loop);
  self->func = func;
  self->data = data;
  self->destroy = destroy;
  self->link.func = aio_handle_link_func;
  self->timer.func = aio_handle_timer_func;
  return self;
}

/* Queues @self on its loop, which the caller holds. */
static void
aio_handle_schedule_locked (AioHandle *self,
                            gboolean   is_timer,
                            gint64     deadline)
{
  self->is_timer = is_timer;
  if (is_timer)
    _aio_loop_add_timer (self->loop, &self->timer, deadline);
  else
    _aio_loop_push_ready (self->loop, &self->link);
}

static AioHandle *
aio_handle_schedule (AioLoop        *loop,
                     gboolean        threadsafe,
                     gboolean        is_timer,
                     gint64          deadline,
                     AioCallback     func,
                     gpointer        data,
                     GDestroyNotify  destroy)
{
  AioHandle *self = aio_handle_new (loop, func, data, destroy);

  if (threadsafe)
    {
      /* A closed loop fires the handle discarded at once. */
      if (!_aio_loop_push_inbox (loop, &self->link))
        {
          aio_handle_unref (self);
          g_critical ("aio_loop_call_soon_threadsafe: the loop %p is closed", loop);
          return NULL;
        }
      return self;
    }

  if (!_aio_loop_is_current (loop))
    {
      if (!_aio_loop_acquire (loop))
        {
          aio_handle_fire (self, TRUE);
          aio_handle_unref (self);
          g_critical ("The loop %p runs in another thread or is closed; "
                      "use aio_loop_call_soon_threadsafe() from other threads", loop);
          return NULL;
        }
      aio_handle_schedule_locked (self, is_timer, deadline);
      _aio_loop_release (loop);
    }
  else
    aio_handle_schedule_locked (self, is_timer, deadline);

  return self;
}

/**
 * aio_handle_cancel:
 * @handle: an [struct@Aio.Handle]
 *
 * Cancels the callback if it has not run yet, freeing its data now.
 * Cancelling a handle that ran or was cancelled does nothing.
 *
 * Handles from [method@Aio.Loop.call_soon_threadsafe] may be cancelled
 * from any thread; others in the loop's thread.
 *
 * Since: 1.0
 */
void
aio_handle_cancel (AioHandle *handle)
{
  AioLoop *loop;

  g_return_if_fail (handle != NULL);

  loop = handle->loop;
  if (!g_atomic_int_compare_and_exchange (&handle->state, HANDLE_SCHEDULED, HANDLE_CANCELLED))
    return;

  /* A timer leaves the heap at once when we may touch it, so that
   * cancelled timers cost nothing; otherwise it stays until its deadline
   * and is dropped then.  Queued callbacks are dropped when reached. */
  if (handle->is_timer && handle->timer.index != 0)
    {
      if (_aio_loop_is_current (loop))
        {
          _aio_loop_remove_timer (loop, &handle->timer);
          aio_handle_finish (handle, FALSE);
          aio_handle_unref (handle);
          return;
        }
      if (_aio_loop_acquire (loop))
        {
          _aio_loop_remove_timer (loop, &handle->timer);
          _aio_loop_release (loop);
          aio_handle_finish (handle, FALSE);
          aio_handle_unref (handle);
          return;
        }
    }

  aio_handle_finish (handle, FALSE);
}

/**
 * aio_handle_is_cancelled:
 * @handle: an [struct@Aio.Handle]
 *
 * Whether @handle was cancelled.
 *
 * Returns: %TRUE if [method@Aio.Handle.cancel] took effect
 *
 * Since: 1.0
 */
gboolean
aio_handle_is_cancelled (AioHandle *handle)
{
  g_return_val_if_fail (handle != NULL, FALSE);

  return g_atomic_int_get (&handle->state) == HANDLE_CANCELLED;
}

/**
 * aio_handle_get_when:
 * @handle: an [struct@Aio.Handle]
 *
 * Gets the time at which a timer handle fires, on the clock of
 * [method@Aio.Loop.time] (asyncio's `TimerHandle.when()`).
 *
 * Returns: the deadline in seconds, or 0 for handles that are not timers
 *
 * Since: 1.0
 */
gdouble
aio_handle_get_when (AioHandle *handle)
{
  g_return_val_if_fail (handle != NULL, 0.0);

  return handle->is_timer ? handle->timer.deadline / (gdouble) G_USEC_PER_SEC : 0.0;
}

/* The public entry points live here rather than in aio-loop.c, which has
 * enough to do. */

static gboolean
check_loop_usable (AioLoop *loop)
{
  if (!aio_loop_is_closed (loop))
    return TRUE;
  g_critical ("The loop %p is closed", loop);
  return FALSE;
}

/**
 * aio_loop_call_soon:
 * @loop: an [class@Aio.Loop]
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   callback
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran or was
 *   cancelled
 *
 * Schedules @callback to run on the loop's next iteration, after the
 * callbacks scheduled before it (asyncio's `call_soon()`). Call this from
 * the loop's thread; other threads use
 * [method@Aio.Loop.call_soon_threadsafe].
 *
 * Returns: (transfer full): a handle that can cancel the callback
 *
 * Since: 1.0
 */
AioHandle *
aio_loop_call_soon (AioLoop        *loop,
                    AioCallback     callback,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (callback != NULL, NULL);
  if (!check_loop_usable (loop))
    return NULL;

  return aio_handle_schedule (loop, FALSE, FALSE, 0, callback, user_data, destroy);
}

/**
 * aio_loop_call_later:
 * @loop: an [class@Aio.Loop]
 * @delay: seconds from now; negative means now
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   callback
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran or was
 *   cancelled
 *
 * Schedules @callback to run once @delay seconds have passed, never
 * earlier (asyncio's `call_later()`). Callbacks due at the same time run
 * in the order they were scheduled.
 *
 * Returns: (transfer full): a handle that can cancel the callback
 *
 * Since: 1.0
 */
AioHandle *
aio_loop_call_later (AioLoop        *loop,
                     gdouble         delay,
                     AioCallback     callback,
                     gpointer        user_data,
                     GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (!isnan (delay), NULL);
  g_return_val_if_fail (callback != NULL, NULL);
  if (!check_loop_usable (loop))
    return NULL;

  return aio_handle_schedule (loop, FALSE, TRUE, _aio_loop_seconds_to_deadline (delay),
                               callback, user_data, destroy);
}

/**
 * aio_loop_call_at:
 * @loop: an [class@Aio.Loop]
 * @when: a time on the clock of [method@Aio.Loop.time]
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   callback
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran or was
 *   cancelled
 *
 * Schedules @callback to run at @when, never earlier (asyncio's
 * `call_at()`).
 *
 * Returns: (transfer full): a handle that can cancel the callback
 *
 * Since: 1.0
 */
AioHandle *
aio_loop_call_at (AioLoop        *loop,
                  gdouble         when,
                  AioCallback     callback,
                  gpointer        user_data,
                  GDestroyNotify  destroy)
{
  /* As in _aio_loop_seconds_to_deadline(): far enough for any program,
   * near enough that adding to it cannot overflow. */
  const gint64 horizon = G_MAXINT64 / 4;
  gdouble usec;
  gint64 deadline;

  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (!isnan (when), NULL);
  g_return_val_if_fail (callback != NULL, NULL);
  if (!check_loop_usable (loop))
    return NULL;

  /* @when is on the loop's clock, which is the monotonic clock in
   * seconds: the deadline is @when itself, rounded up to the microsecond.
   * Going through a delay from "now" would read the clock twice, so that
   * callbacks set for the same time could get deadlines a microsecond
   * apart, and run out of the order they were set in. */
  usec = ceil (when * G_USEC_PER_SEC);
  if (!(usec > 0))
    deadline = 0;
  else if (usec >= (gdouble) horizon)
    deadline = horizon;
  else
    deadline = (gint64) usec;

  return aio_handle_schedule (loop, FALSE, TRUE, deadline, callback, user_data, destroy);
}

/**
 * aio_loop_call_soon_threadsafe:
 * @loop: an [class@Aio.Loop]
 * @callback: (scope notified) (closure user_data) (destroy destroy): the
 *   callback
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran or was
 *   cancelled
 *
 * Schedules @callback to run in the loop's thread, from any thread
 * (asyncio's `call_soon_threadsafe()`): it goes through the loop's inbox,
 * which wakes the loop's context.
 *
 * Returns: (transfer full): a handle that can cancel the callback
 *
 * Since: 1.0
 */
AioHandle *
aio_loop_call_soon_threadsafe (AioLoop        *loop,
                               AioCallback     callback,
                               gpointer        user_data,
                               GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (callback != NULL, NULL);

  return aio_handle_schedule (loop, TRUE, FALSE, 0, callback, user_data, destroy);
}
