/* aio-semaphore.c: AioSemaphore, asyncio's Semaphore and BoundedSemaphore
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioSemaphore:
 *
 * A counter of free slots for tasks: asyncio's `Semaphore` and
 * `BoundedSemaphore`.
 *
 * [method@Aio.Semaphore.acquire] takes one slot, waiting for one to be
 * released when none is free; [method@Aio.Semaphore.release] gives one
 * back. Waiters are served first come, first served. A typical use
 * bounds how many tasks do something at once:
 *
 * ```c
 * // at most four downloads at a time
 * AioSemaphore *slots = aio_semaphore_new (4);
 *
 * // in each downloading task:
 * if (!aio_await (aio_semaphore_acquire (slots), &error))
 *   return;
 * download (...);
 * aio_semaphore_release (slots);
 * ```
 *
 * A bounded semaphore ([func@Aio.bounded_semaphore_new]) also checks that
 * it is not released more often than acquired: releasing it beyond its
 * initial value is a programmer error (asyncio raises `ValueError`). Any
 * semaphore holds at most %G_MAXINT free slots: a release beyond that is
 * a programmer error as well, which leaves the semaphore as it was.
 *
 * A slot is handed to a waiter only when the waiter is about to run, as
 * for [class@Aio.Lock]: an acquisition cancelled before that leaves the
 * slot for the next waiter.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-semaphore.h"
#include "aio-waiter-private.h"

struct _AioSemaphore
{
  GObject   parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop  *loop;

  /* Set at construction. */
  gint      initial;
  gboolean  bounded;

  /* Loop thread only.  Free slots, counting those promised to woken
   * waiters (@n_woken), as asyncio's `_value` does. */
  gint      value;
  GQueue    waiters;
  guint     n_woken;
};

enum {
  PROP_0,
  PROP_VALUE,
  PROP_BOUNDED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioSemaphore, aio_semaphore, G_TYPE_OBJECT)

static void aio_semaphore_wake (AioSemaphore *self);

static void
aio_semaphore_dispose (GObject *object)
{
  AioSemaphore *self = (AioSemaphore *) object;

  _aio_waiter_reject_all (&self->waiters, AIO_ERROR_INVALID_STATE,
                          /* TRANSLATORS: a future waiting on a coordination
                           * primitive fails with this when the primitive is
                           * finalized. */
                          N_("The semaphore was destroyed while a task waited for it"));

  G_OBJECT_CLASS (aio_semaphore_parent_class)->dispose (object);
}

static void
aio_semaphore_finalize (GObject *object)
{
  AioSemaphore *self = (AioSemaphore *) object;

  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_semaphore_parent_class)->finalize (object);
}

static void
aio_semaphore_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AioSemaphore *self = AIO_SEMAPHORE (object);

  switch (prop_id)
    {
    case PROP_VALUE:
      g_value_set_int (value, self->value);
      break;

    case PROP_BOUNDED:
      g_value_set_boolean (value, self->bounded);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_semaphore_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  AioSemaphore *self = AIO_SEMAPHORE (object);

  switch (prop_id)
    {
    case PROP_VALUE:
      self->initial = self->value = g_value_get_int (value);
      break;

    case PROP_BOUNDED:
      self->bounded = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_semaphore_class_init (AioSemaphoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = aio_semaphore_dispose;
  object_class->finalize = aio_semaphore_finalize;
  object_class->get_property = aio_semaphore_get_property;
  object_class->set_property = aio_semaphore_set_property;

  /**
   * AioSemaphore:value:
   *
   * The number of free slots: set once at construction (asyncio's
   * default is 1), then counted down by acquisitions and up by releases.
   * It is not notified.
   *
   * Since: 1.0
   */
  properties[PROP_VALUE] =
    g_param_spec_int ("value", NULL, NULL,
                      0, G_MAXINT, 1,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AioSemaphore:bounded:
   *
   * Whether releasing the semaphore beyond its initial value is an error
   * (asyncio's `BoundedSemaphore`).
   *
   * Since: 1.0
   */
  properties[PROP_BOUNDED] =
    g_param_spec_boolean ("bounded", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_semaphore_init (AioSemaphore *self)
{
  g_queue_init (&self->waiters);
  self->loop = g_object_ref (_aio_sync_pick_loop ());
}

/**
 * aio_semaphore_new:
 * @value: the number of free slots, 0 or more
 *
 * Creates a semaphore with @value free slots (asyncio's
 * `Semaphore(value)`) on the running loop, or on the default loop when
 * none runs. A negative @value is a programmer error.
 *
 * Returns: (transfer full): a new semaphore
 *
 * Since: 1.0
 */
AioSemaphore *
aio_semaphore_new (gint value)
{
  g_return_val_if_fail (value >= 0, NULL);

  return g_object_new (AIO_TYPE_SEMAPHORE, "value", value, NULL);
}

/**
 * aio_bounded_semaphore_new:
 * @value: the number of free slots, 0 or more
 *
 * Creates a bounded semaphore (asyncio's `BoundedSemaphore(value)`): like
 * [ctor@Aio.Semaphore.new], but releasing it more often than it was
 * acquired, that is beyond @value, is a programmer error.
 *
 * Returns: (transfer full): a new semaphore
 *
 * Since: 1.0
 */
AioSemaphore *
aio_bounded_semaphore_new (gint value)
{
  g_return_val_if_fail (value >= 0, NULL);

  return g_object_new (AIO_TYPE_SEMAPHORE, "value", value, "bounded", TRUE, NULL);
}

/* Slots not promised to a woken waiter yet. */
static inline gint
aio_semaphore_free_slots (AioSemaphore *self)
{
  return self->value - (gint) self->n_woken;
}

static void
aio_semaphore_waiter_wake (gpointer   owner,
                           AioWaiter *waiter)
{
  AioSemaphore *self = owner;

  g_assert (self->n_woken > 0);
  self->n_woken--;

  if (self->value <= 0)
    {
      _aio_waiter_push_head (&self->waiters, waiter);
      return;
    }

  if (_aio_future_state ((AioFuture *) waiter) != AIO_FUTURE_PENDING)
    {
      /* asyncio: "we must undo the bookkeeping already done and attempt
       * to wake up someone else". */
      aio_semaphore_wake (self);
      return;
    }

  if (!_aio_future_try_claim ((AioFuture *) waiter))
    {
      aio_semaphore_wake (self);
      return;
    }
  self->value--;

  /* Last: the awaiting task runs inside the completion. */
  waiter->parent_instance.value_type = AIO_VALUE_BOOLEAN;
  waiter->parent_instance.value.b = TRUE;
  _aio_waiter_release_owner (waiter);
  _aio_sync_publish ((AioFuture *) waiter, AIO_FUTURE_RESOLVED, TRUE);
}

/* Wakes as many waiters as there are free slots. */
static void
aio_semaphore_wake (AioSemaphore *self)
{
  while (aio_semaphore_free_slots (self) > 0)
    {
      AioWaiter *waiter = _aio_waiter_pop_pending (&self->waiters);

      if (waiter == NULL)
        break;
      self->n_woken++;
      _aio_waiter_schedule (waiter);
      g_object_unref (waiter);
    }
}

/**
 * aio_semaphore_acquire:
 * @semaphore: an [class@Aio.Semaphore]
 *
 * Takes a slot of @semaphore (asyncio's `acquire()`).
 *
 * The returned future resolves with %TRUE once the slot is taken: at once
 * when one is free and nobody waits, otherwise when this acquisition's
 * turn comes. Cancelling the future (or the task awaiting it) before then
 * withdraws the acquisition.
 *
 * Returns: (transfer full): a future for the acquisition
 *
 * Since: 1.0
 */
AioFuture *
aio_semaphore_acquire (AioSemaphore *semaphore)
{
  AioWaiter *waiter;

  g_return_val_if_fail (AIO_IS_SEMAPHORE (semaphore), NULL);

  if (!aio_semaphore_is_locked (semaphore))
    {
      semaphore->value--;
      return _aio_sync_new_true (semaphore->loop);
    }

  waiter = _aio_waiter_new (semaphore->loop, semaphore, aio_semaphore_waiter_wake);
  _aio_waiter_push_tail (&semaphore->waiters, waiter);
  return (AioFuture *) waiter;
}

/**
 * aio_semaphore_check_release:
 * @semaphore: an [class@Aio.Semaphore]
 * @error: return location for a #GError, or %NULL
 *
 * Checks that [method@Aio.Semaphore.release] may give a slot back: that
 * a bounded @semaphore would not go beyond its initial value, and that
 * the value would not go beyond %G_MAXINT.
 *
 * This is the rule [method@Aio.Semaphore.release] enforces with a
 * critical; a language binding calls it first to raise its own error
 * instead (Python's `ValueError`, as asyncio's
 * `BoundedSemaphore.release()` does), so that the rule is checked in one
 * place.
 *
 * Returns: %TRUE if a release is allowed; otherwise %FALSE, with @error
 *   set to %AIO_ERROR_INVALID_STATE
 *
 * Since: 1.0
 */
gboolean
aio_semaphore_check_release (AioSemaphore  *semaphore,
                             GError       **error)
{
  g_return_val_if_fail (AIO_IS_SEMAPHORE (semaphore), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (semaphore->bounded && semaphore->value >= semaphore->initial)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                           _("The bounded semaphore was released too many times"));
      return FALSE;
    }

  if (semaphore->value == G_MAXINT)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                           _("The semaphore has G_MAXINT free slots already; one more "
                             "release would overflow it"));
      return FALSE;
    }

  return TRUE;
}

/**
 * aio_semaphore_release:
 * @semaphore: an [class@Aio.Semaphore]
 *
 * Gives a slot back to @semaphore (asyncio's `release()`), waking the
 * oldest pending acquisition if there is one; it is served on the loop's
 * next iteration.
 *
 * Releasing a bounded semaphore beyond its initial value is a programmer
 * error and changes nothing ([method@Aio.Semaphore.check_release] tells
 * beforehand).
 *
 * asyncio's semaphores have no upper bound, C's `gint` has: a release that
 * would take the value beyond %G_MAXINT is a programmer error too (a
 * critical), and changes nothing, rather than wrapping the value round to
 * a negative one that no acquisition would ever get past.
 *
 * Since: 1.0
 */
void
aio_semaphore_release (AioSemaphore *semaphore)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AIO_IS_SEMAPHORE (semaphore));

  if (!aio_semaphore_check_release (semaphore, &error))
    {
      g_critical ("aio_semaphore_release: semaphore %p: %s", semaphore, error->message);
      return;
    }

  semaphore->value++;
  aio_semaphore_wake (semaphore);
}

/**
 * aio_semaphore_is_locked:
 * @semaphore: an [class@Aio.Semaphore]
 *
 * Whether an acquisition would have to wait (asyncio's `locked()`): no
 * slot is free, or other acquisitions wait already.
 *
 * Returns: %TRUE if [method@Aio.Semaphore.acquire] would wait
 *
 * Since: 1.0
 */
gboolean
aio_semaphore_is_locked (AioSemaphore *semaphore)
{
  g_return_val_if_fail (AIO_IS_SEMAPHORE (semaphore), TRUE);

  return aio_semaphore_free_slots (semaphore) <= 0 ||
         _aio_waiter_has_pending (&semaphore->waiters);
}

/**
 * aio_semaphore_get_value:
 * @semaphore: an [class@Aio.Semaphore]
 *
 * Gets the number of free slots of @semaphore, counting those just
 * released to waiters that have not run yet.
 *
 * Returns: the number of free slots
 *
 * Since: 1.0
 */
gint
aio_semaphore_get_value (AioSemaphore *semaphore)
{
  g_return_val_if_fail (AIO_IS_SEMAPHORE (semaphore), 0);

  return semaphore->value;
}

/**
 * aio_semaphore_is_bounded:
 * @semaphore: an [class@Aio.Semaphore]
 *
 * Whether @semaphore was made with [func@Aio.bounded_semaphore_new].
 *
 * Returns: %TRUE for a bounded semaphore
 *
 * Since: 1.0
 */
gboolean
aio_semaphore_is_bounded (AioSemaphore *semaphore)
{
  g_return_val_if_fail (AIO_IS_SEMAPHORE (semaphore), FALSE);

  return semaphore->bounded;
}
