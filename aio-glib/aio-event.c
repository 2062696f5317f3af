/* aio-event.c: AioEvent, asyncio's Event
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioEvent:
 *
 * A flag that tasks can wait for: asyncio's `Event`.
 *
 * An event starts unset. [method@Aio.Event.wait] returns a future that
 * resolves (with %TRUE) once the event is set, at once if it is set
 * already; [method@Aio.Event.set] wakes every waiter, and
 * [method@Aio.Event.clear] makes later waits wait again.
 *
 * ```c
 * static void
 * worker (AioTask  *task,
 *         gpointer  user_data)
 * {
 *   AioEvent *ready = user_data;
 *   g_autoptr(GError) error = NULL;
 *
 *   if (!aio_await (aio_event_wait (ready), &error))
 *     return;   // cancelled
 *   g_print ("go!\n");
 * }
 * ```
 *
 * Like every coordination primitive of aio-glib, an event belongs to the
 * loop that was running when it was created (or to the default loop), and
 * is used from that loop's thread. Its waits are plain [class@Aio.Future]s:
 * they can be awaited, cancelled, gathered or given a timeout. A cancelled
 * wait leaves the event's list at once.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-event.h"
#include "aio-waiter-private.h"

struct _AioEvent
{
  GObject   parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop  *loop;

  /* Loop thread only.  Pending waits, oldest first; each holds a ref. */
  GQueue    waiters;
  gboolean  is_set;
};

G_DEFINE_FINAL_TYPE (AioEvent, aio_event, G_TYPE_OBJECT)

static void
aio_event_dispose (GObject *object)
{
  AioEvent *self = (AioEvent *) object;

  /* Waits hold the event weakly: once it goes, nobody can set it. */
  _aio_waiter_reject_all (&self->waiters, AIO_ERROR_INVALID_STATE,
                          /* TRANSLATORS: a future waiting on a coordination
                           * primitive fails with this when the primitive is
                           * finalized. */
                          N_("The event was destroyed while a task waited for it"));

  G_OBJECT_CLASS (aio_event_parent_class)->dispose (object);
}

static void
aio_event_finalize (GObject *object)
{
  AioEvent *self = (AioEvent *) object;

  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_event_parent_class)->finalize (object);
}

static void
aio_event_class_init (AioEventClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = aio_event_dispose;
  object_class->finalize = aio_event_finalize;
}

static void
aio_event_init (AioEvent *self)
{
  g_queue_init (&self->waiters);
  self->loop = g_object_ref (_aio_sync_pick_loop ());
}

/**
 * aio_event_new:
 *
 * Creates an event, unset, on the running loop, or on the default loop
 * when none runs.
 *
 * Returns: (transfer full): a new event; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioEvent *
aio_event_new (void)
{
  return g_object_new (AIO_TYPE_EVENT, NULL);
}

/**
 * aio_event_set:
 * @event: an [class@Aio.Event]
 *
 * Sets @event and resolves every pending [method@Aio.Event.wait] with
 * %TRUE (asyncio's `set()`). Their callbacks run on the loop's next
 * iteration. Setting a set event does nothing.
 *
 * Since: 1.0
 */
void
aio_event_set (AioEvent *event)
{
  g_return_if_fail (AIO_IS_EVENT (event));

  if (event->is_set)
    return;

  event->is_set = TRUE;
  _aio_waiter_resolve_all (&event->waiters, TRUE);
}

/**
 * aio_event_clear:
 * @event: an [class@Aio.Event]
 *
 * Unsets @event, so that later waits wait for the next
 * [method@Aio.Event.set] (asyncio's `clear()`). Waits that were resolved
 * already stay resolved.
 *
 * Since: 1.0
 */
void
aio_event_clear (AioEvent *event)
{
  g_return_if_fail (AIO_IS_EVENT (event));

  event->is_set = FALSE;
}

/**
 * aio_event_is_set:
 * @event: an [class@Aio.Event]
 *
 * Whether @event is set (asyncio's `is_set()`).
 *
 * Returns: %TRUE if @event is set
 *
 * Since: 1.0
 */
gboolean
aio_event_is_set (AioEvent *event)
{
  g_return_val_if_fail (AIO_IS_EVENT (event), FALSE);

  return event->is_set;
}

/**
 * aio_event_wait:
 * @event: an [class@Aio.Event]
 *
 * Waits until @event is set (asyncio's `wait()`).
 *
 * The returned future resolves with %TRUE when @event is set, at once if
 * it is set already. Cancelling it (or the task that awaits it) only
 * withdraws this wait.
 *
 * Returns: (transfer full): a future for the event; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_event_wait (AioEvent *event)
{
  AioWaiter *waiter;

  g_return_val_if_fail (AIO_IS_EVENT (event), NULL);

  if (event->is_set)
    return _aio_sync_new_true (event->loop);

  waiter = _aio_waiter_new (event->loop, event, NULL);
  _aio_waiter_push_tail (&event->waiters, waiter);
  return (AioFuture *) waiter;
}
