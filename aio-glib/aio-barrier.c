/* aio-barrier.c: AioBarrier, asyncio's Barrier
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioBarrier:
 *
 * A meeting point for a fixed number of tasks: asyncio's `Barrier`.
 *
 * Each of the barrier's parties calls [method@Aio.Barrier.wait]; the
 * futures resolve together once all of them have arrived, each with the
 * arrival index of its caller (an `int64` from 0 to parties - 1, in order
 * of arrival). The barrier is then ready for the next round.
 *
 * ```c
 * gint64 index = aio_await_int64 (aio_barrier_wait (barrier), &error);
 * if (error != NULL)
 *   return;   // cancelled, or the barrier was reset or aborted
 * if (index == 0)
 *   g_print ("everybody is here\n");
 * ```
 *
 * [method@Aio.Barrier.reset] sends the waiting tasks away with
 * `AIO_ERROR_BROKEN_BARRIER` and starts afresh;
 * [method@Aio.Barrier.abort] breaks the barrier: waiting tasks, and every
 * later wait until a reset, fail with `AIO_ERROR_BROKEN_BARRIER`.
 *
 * A cancelled wait leaves the barrier, which then waits for one more
 * party, as in asyncio. Unlike asyncio, the round's indices are given
 * when the last party arrives, to the parties still waiting, so they are
 * always distinct. The futures of a round resolve at once, so there is no
 * draining phase: a task that waits again right away joins the next
 * round.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-barrier.h"
#include "aio-error.h"
#include "aio-waiter-private.h"

struct _AioBarrier
{
  GObject   parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop  *loop;
  guint     parties;

  /* Loop thread only.  The parties waiting, in order of arrival; each
   * holds a reference. */
  GQueue    waiters;
  gboolean  broken;
};

enum {
  PROP_0,
  PROP_PARTIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioBarrier, aio_barrier, G_TYPE_OBJECT)

static void
aio_barrier_dispose (GObject *object)
{
  AioBarrier *self = (AioBarrier *) object;

  _aio_waiter_reject_all (&self->waiters, AIO_ERROR_BROKEN_BARRIER,
                          /* TRANSLATORS: a future waiting on a coordination
                           * primitive fails with this when the primitive is
                           * finalized. */
                          N_("The barrier was destroyed while a task waited at it"));

  G_OBJECT_CLASS (aio_barrier_parent_class)->dispose (object);
}

static void
aio_barrier_finalize (GObject *object)
{
  AioBarrier *self = (AioBarrier *) object;

  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_barrier_parent_class)->finalize (object);
}

static void
aio_barrier_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  AioBarrier *self = AIO_BARRIER (object);

  switch (prop_id)
    {
    case PROP_PARTIES:
      g_value_set_uint (value, self->parties);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_barrier_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  AioBarrier *self = AIO_BARRIER (object);

  switch (prop_id)
    {
    case PROP_PARTIES:
      self->parties = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_barrier_class_init (AioBarrierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = aio_barrier_dispose;
  object_class->finalize = aio_barrier_finalize;
  object_class->get_property = aio_barrier_get_property;
  object_class->set_property = aio_barrier_set_property;

  /**
   * AioBarrier:parties:
   *
   * The number of tasks that must wait at the barrier for it to let them
   * go; 1 or more.
   *
   * Since: 1.0
   */
  properties[PROP_PARTIES] =
    g_param_spec_uint ("parties", NULL, NULL,
                       1, G_MAXUINT, 1,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_barrier_init (AioBarrier *self)
{
  g_queue_init (&self->waiters);
  self->loop = g_object_ref (_aio_sync_pick_loop ());
}

/**
 * aio_barrier_new:
 * @parties: the number of tasks to wait for, 1 or more
 *
 * Creates a barrier for @parties tasks (asyncio's `Barrier(parties)`) on
 * the running loop, or on the default loop when none runs. A @parties of
 * 0 is a programmer error.
 *
 * Returns: (transfer full): a new barrier; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioBarrier *
aio_barrier_new (guint parties)
{
  g_return_val_if_fail (parties >= 1, NULL);

  return g_object_new (AIO_TYPE_BARRIER, "parties", parties, NULL);
}

/* Lets the round go if every party is here and still waiting. */
static void
aio_barrier_maybe_release (AioBarrier *self)
{
  g_autoptr(GPtrArray) round = NULL;
  AioWaiter *waiter;

  if (self->waiters.length < self->parties)
    return;

  round = g_ptr_array_new_full (self->parties, g_object_unref);
  while ((waiter = _aio_waiter_pop_pending (&self->waiters)) != NULL)
    g_ptr_array_add (round, waiter);

  /* Some had been cancelled from another thread and had not left yet:
   * the others go on waiting. */
  if (round->len < self->parties)
    {
      for (guint i = 0; i < round->len; i++)
        _aio_waiter_push_tail (&self->waiters, g_ptr_array_index (round, i));
      return;
    }

  for (guint i = 0; i < round->len; i++)
    _aio_sync_resolve_int64 (g_ptr_array_index (round, i), i, FALSE);
}

/**
 * aio_barrier_wait:
 * @barrier: an [class@Aio.Barrier]
 *
 * Waits until all the parties of @barrier are waiting (asyncio's
 * `wait()`).
 *
 * The returned future resolves, with the caller's arrival index as an
 * `int64`, when the last party arrives. It fails with
 * `AIO_ERROR_BROKEN_BARRIER` when the barrier is broken, or when it is
 * reset or aborted while waiting. Cancelling it withdraws the caller from
 * the round.
 *
 * Returns: (transfer full): a future for the arrival index
 *
 * Since: 1.0
 */
AioFuture *
aio_barrier_wait (AioBarrier *barrier)
{
  AioWaiter *waiter;

  g_return_val_if_fail (AIO_IS_BARRIER (barrier), NULL);

  if (barrier->broken)
    return _aio_sync_new_error (barrier->loop,
                                g_error_new_literal (AIO_ERROR, AIO_ERROR_BROKEN_BARRIER,
                                                     _("The barrier is broken")));

  waiter = _aio_waiter_new (barrier->loop, barrier, NULL);
  _aio_waiter_push_tail (&barrier->waiters, waiter);
  aio_barrier_maybe_release (barrier);
  return (AioFuture *) waiter;
}

/**
 * aio_barrier_reset:
 * @barrier: an [class@Aio.Barrier]
 *
 * Returns @barrier to its initial state (asyncio's `reset()`): the tasks
 * waiting at it fail with `AIO_ERROR_BROKEN_BARRIER`, and a broken
 * barrier is usable again.
 *
 * Since: 1.0
 */
void
aio_barrier_reset (AioBarrier *barrier)
{
  g_return_if_fail (AIO_IS_BARRIER (barrier));

  barrier->broken = FALSE;
  _aio_waiter_reject_all (&barrier->waiters, AIO_ERROR_BROKEN_BARRIER, N_("The barrier was reset"));
}

/**
 * aio_barrier_abort:
 * @barrier: an [class@Aio.Barrier]
 *
 * Breaks @barrier (asyncio's `abort()`): the tasks waiting at it, and
 * every later [method@Aio.Barrier.wait] until [method@Aio.Barrier.reset],
 * fail with `AIO_ERROR_BROKEN_BARRIER`.
 *
 * Since: 1.0
 */
void
aio_barrier_abort (AioBarrier *barrier)
{
  g_return_if_fail (AIO_IS_BARRIER (barrier));

  barrier->broken = TRUE;
  _aio_waiter_reject_all (&barrier->waiters, AIO_ERROR_BROKEN_BARRIER, N_("The barrier was aborted"));
}

/**
 * aio_barrier_get_parties:
 * @barrier: an [class@Aio.Barrier]
 *
 * Gets the number of tasks @barrier waits for (asyncio's `parties`).
 *
 * Returns: the number of parties
 *
 * Since: 1.0
 */
guint
aio_barrier_get_parties (AioBarrier *barrier)
{
  g_return_val_if_fail (AIO_IS_BARRIER (barrier), 0);

  return barrier->parties;
}

/**
 * aio_barrier_get_n_waiting:
 * @barrier: an [class@Aio.Barrier]
 *
 * Gets the number of tasks waiting at @barrier (asyncio's `n_waiting`).
 *
 * Returns: the number of waiting tasks
 *
 * Since: 1.0
 */
guint
aio_barrier_get_n_waiting (AioBarrier *barrier)
{
  g_return_val_if_fail (AIO_IS_BARRIER (barrier), 0);

  _aio_waiter_has_pending (&barrier->waiters);
  return barrier->waiters.length;
}

/**
 * aio_barrier_is_broken:
 * @barrier: an [class@Aio.Barrier]
 *
 * Whether @barrier is broken (asyncio's `broken`).
 *
 * Returns: %TRUE after [method@Aio.Barrier.abort], until
 *   [method@Aio.Barrier.reset]
 *
 * Since: 1.0
 */
gboolean
aio_barrier_is_broken (AioBarrier *barrier)
{
  g_return_val_if_fail (AIO_IS_BARRIER (barrier), FALSE);

  return barrier->broken;
}
