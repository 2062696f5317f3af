/* aio-sleep.c: futures that resolve after a delay
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-sleep.h"

/* A sleep is a future with its timer (or, for a zero delay, its ready
 * queue link) inside it: sleeping costs one object and one heap entry,
 * never a GSource. */
typedef struct
{
  AioFuture  parent_instance;

  AioTimer   timer;
  AioLink    zero_link;
  gboolean   queued;      /* the timer or the link holds a reference */

  /* Owned; moved into the future's value when it resolves. */
  GValue    *value;
} AioSleepFuture;

typedef struct
{
  AioFutureClass parent_class;
} AioSleepFutureClass;

static GType aio_sleep_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioSleepFuture, aio_sleep_future, AIO_TYPE_FUTURE)

static void
aio_sleep_future_wake (AioSleepFuture *self,
                       gboolean        discard)
{
  AioFuture *future = (AioFuture *) self;

  self->queued = FALSE;

  if (!discard && _aio_future_try_claim (future))
    {
      if (self->value != NULL)
        {
          future->value_type = AIO_VALUE_VALUE;
          future->value.p = g_steal_pointer (&self->value);
        }
      /* The loop is dispatching: wake the sleeper in this same dispatch
       * instead of an iteration later. */
      _aio_future_publish_now (future, AIO_FUTURE_RESOLVED);
    }

  _aio_unref (self);
}

static void
aio_sleep_future_timer (AioTimer *timer,
                        gboolean  discard)
{
  aio_sleep_future_wake (G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (AioSleepFuture, timer)),
                         discard);
}

static void
aio_sleep_future_zero (AioLink  *link,
                       gboolean  discard)
{
  aio_sleep_future_wake (G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioSleepFuture, zero_link)),
                         discard);
}

static gboolean
aio_sleep_future_cancel (AioFuture  *future,
                         const char *message)
{
  AioSleepFuture *self = (AioSleepFuture *) future;
  AioLoop *loop = future->loop;
  gboolean acquired;

  if (!_aio_future_cancel_now (future, message, FALSE))
    return FALSE;

  /* Leave the heap now, so that a cancelled sleep costs nothing more.  A
   * zero-delay link stays queued and is dropped when reached. */
  if (self->timer.index != 0 && _aio_loop_enter (loop, &acquired))
    {
      _aio_loop_remove_timer (loop, &self->timer);
      _aio_loop_leave (loop, acquired);
      self->queued = FALSE;
      _aio_unref (self);
    }

  return TRUE;
}

/* Frees the value the sleep was to resolve with, if it still has it:
 * resolving moves it into the future's value. */
static void
aio_sleep_future_drop_value (AioSleepFuture *self)
{
  g_assert (!self->queued);
  if (self->value != NULL)
    {
      g_value_unset (self->value);
      g_clear_pointer (&self->value, g_free);
    }
}

static void
aio_sleep_future_finalize (GObject *object)
{
  aio_sleep_future_drop_value ((AioSleepFuture *) object);

  G_OBJECT_CLASS (aio_sleep_future_parent_class)->finalize (object);
}

static void
aio_sleep_future_reset (AioSleepFuture *self)
{
  memset (&self->timer, 0, sizeof self->timer);
  memset (&self->zero_link, 0, sizeof self->zero_link);
  self->timer.func = aio_sleep_future_timer;
  self->zero_link.func = aio_sleep_future_zero;
}

static gboolean
aio_sleep_future_recycle (AioFuture *future)
{
  AioSleepFuture *self = (AioSleepFuture *) future;

  aio_sleep_future_drop_value (self);
  aio_sleep_future_reset (self);
  return TRUE;
}

GType _aio_sleep_type;

static void
aio_sleep_future_class_init (AioSleepFutureClass *klass)
{
  __atomic_store_n (&_aio_sleep_type, G_TYPE_FROM_CLASS (klass), __ATOMIC_RELAXED);

  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_sleep_future_finalize;
  future_class->cancel = aio_sleep_future_cancel;
  future_class->recycle = aio_sleep_future_recycle;
}

static void
aio_sleep_future_init (AioSleepFuture *self)
{
  aio_sleep_future_reset (self);
}

/* Called by a task about to wait for @future, in the loop's thread.  When
 * @future is a timed sleep that nothing but the caller's reference knows
 * of (no other reference, callback, value or qdata), the task can sleep
 * on a timer of its own instead: @timer takes the sleep's place in the
 * heap (its deadline and its order among equal deadlines) and the sleep
 * goes back to its pool at once.  Returns FALSE, changing nothing, for
 * any other future. */
gboolean
_aio_sleep_absorb (AioFuture *future,
                   AioTimer  *timer)
{
  AioSleepFuture *self = (AioSleepFuture *) future;
  GObject *object = (GObject *) future;

  if (!_aio_is_sleep (future) ||
      !self->queued || self->timer.index == 0 || self->value != NULL ||
      object->qdata != NULL || g_atomic_int_get ((gint *) &object->ref_count) != 2 ||
      future->callback0.func != NULL || future->callbacks != NULL ||
      g_atomic_int_get (&future->claimed) != 0 ||
      !_aio_loop_is_current (future->loop))
    return FALSE;

  _aio_loop_replace_timer (future->loop, &self->timer, timer);
  self->queued = FALSE;
  _aio_unref (self);                    /* the heap's */
  _aio_future_unref (future);           /* the caller's: recycled */
  return TRUE;
}

static void
aio_sleep_future_arm (AioSleepFuture *self,
                      gdouble         seconds)
{
  AioLoop *loop = ((AioFuture *) self)->loop;

  self->queued = TRUE;
  _aio_ref (self);

  /* asyncio treats negative delays as zero; a zero delay completes on the
   * next iteration through the ready queue, with no heap traffic. */
  if (!(seconds > 0))
    _aio_loop_push_ready (loop, &self->zero_link);
  else
    _aio_loop_add_timer (loop, &self->timer, _aio_loop_seconds_to_deadline (seconds));
}

static AioFuture *
aio_sleep_new (AioLoop      *loop,
               gdouble       seconds,
               const GValue *value)
{
  AioSleepFuture *self;

  if (aio_loop_is_closed (loop))
    {
      g_critical ("aio_sleep: the loop %p is closed", loop);
      return NULL;
    }

  self = _aio_future_new_of_type (aio_sleep_future_get_type ());
  _aio_future_set_loop ((AioFuture *) self, loop);

  if (value != NULL)
    {
      self->value = g_new0 (GValue, 1);
      g_value_init (self->value, G_VALUE_TYPE (value));
      g_value_copy (value, self->value);
    }

  if (_aio_loop_is_current (loop))
    aio_sleep_future_arm (self, seconds);
  else if (_aio_loop_acquire (loop))
    {
      aio_sleep_future_arm (self, seconds);
      _aio_loop_release (loop);
    }
  else
    {
      g_critical ("aio_sleep: the loop %p runs in another thread", loop);
      _aio_unref (self);
      return NULL;
    }

  return (AioFuture *) self;
}

/**
 * aio_sleep:
 * @seconds: how long to sleep; negative means 0
 *
 * Returns a future that resolves, with no value, once @seconds have
 * passed on the running loop (or the default loop when none runs):
 * asyncio's `sleep()`. It never resolves early. `aio_sleep (0)` resolves
 * on the loop's next iteration, which is how a task yields to the others
 * (see [func@Aio.yield]). Cancelling the future stops the timer.
 *
 * A sleep costs one heap entry in the loop's timer heap, never a
 * `GSource` of its own.
 *
 * Returns: (transfer full): a new future
 *
 * Since: 1.0
 */
AioFuture *
aio_sleep (gdouble seconds)
{
  g_return_val_if_fail (!isnan (seconds), NULL);

  return aio_sleep_new (_aio_loop_get_current_or_default (), seconds, NULL);
}

/**
 * aio_sleep_value:
 * @seconds: how long to sleep; negative means 0
 * @value: the value to resolve with, copied
 *
 * Like [func@Aio.sleep], but the future resolves with a copy of @value
 * (asyncio's `sleep(delay, result)`).
 *
 * Returns: (transfer full): a new future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_sleep_value (gdouble       seconds,
                 const GValue *value)
{
  g_return_val_if_fail (!isnan (seconds), NULL);
  g_return_val_if_fail (G_IS_VALUE (value), NULL);

  return aio_sleep_new (_aio_loop_get_current_or_default (), seconds, value);
}

/**
 * aio_loop_sleep:
 * @loop: an [class@Aio.Loop]
 * @seconds: how long to sleep; negative means 0
 *
 * Like [func@Aio.sleep], on a given loop.
 *
 * Returns: (transfer full): a new future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_loop_sleep (AioLoop *loop,
                gdouble  seconds)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (!isnan (seconds), NULL);

  return aio_sleep_new (loop, seconds, NULL);
}
