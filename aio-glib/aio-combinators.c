/* aio-combinators.c: gather, wait, wait_for, shield and as_completed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Each combinator returns a future of a private subclass of AioFuture
 * (as_completed returns plain futures fed by a shared state), which keeps
 * its own state inline:
 *
 * - the futures it watches, each with the id of the done callback it left
 *   there (a Watch).  The callbacks hold no reference: the combinator holds
 *   one on itself ("watching") for as long as any callback or timer is
 *   attached, drops it when it completes, and removes every callback it
 *   left, so that nothing fires late or keeps it alive;
 * - at most one timer, an AioTimer in the loop's heap (never a GSource),
 *   holding a reference while armed.
 *
 * Everything here runs in the loop's thread: callbacks do, and the entry
 * points either run inside the loop's dispatch or take its context while
 * nobody iterates it (as aio_sleep() does).
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "aio-combinators.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"

/* ---- shared helpers ------------------------------------------------------ */

static inline gboolean
timeout_is_valid (gdouble timeout)
{
  return !isnan (timeout) && timeout >= 0;
}

static inline gboolean
timeout_is_none (gdouble timeout)
{
  return timeout >= G_MAXDOUBLE;
}

/* Enters @loop as _aio_loop_enter() does; when it runs in another thread
 * or is closed, returns FALSE after a critical that names @func. */
static gboolean
comb_enter (const char *func,
            AioLoop    *loop,
            gboolean   *acquired)
{
  if (_aio_loop_enter (loop, acquired))
    return TRUE;

  g_critical ("%s: the loop %p runs in another thread or is closed; "
              "combinators are for the loop's thread",
              func, loop);
  return FALSE;
}

/* Drops the reference a combinator holds on itself while it watches (see
 * "watching" above), if it still does. */
static void
stop_watching (gpointer  self,
               gboolean *watching)
{
  if (*watching)
    {
      *watching = FALSE;
      g_object_unref (self);
    }
}

/* A new array of @n_futures futures: it takes the caller's reference on
 * each with @take, else a new one. */
static GPtrArray *
futures_array_new (gpointer *futures,
                   guint     n_futures,
                   gboolean  take)
{
  GPtrArray *array = g_ptr_array_new_full (n_futures, g_object_unref);

  for (guint i = 0; i < n_futures; i++)
    g_ptr_array_add (array, take ? futures[i] : g_object_ref (futures[i]));
  return array;
}

typedef void (*CombTimerFunc) (gpointer owner);

/* A timer in the loop's heap, holding a reference on its owner while
 * armed.  @timer comes first so that the heap's pointer is ours. */
typedef struct
{
  AioTimer       timer;
  gpointer       owner;
  GDestroyNotify unref;
  CombTimerFunc  fire;
} CombTimer;

static void
comb_timer_func (AioTimer *timer,
                 gboolean  discard)
{
  CombTimer *self = (CombTimer *) timer;
  gpointer owner = self->owner;

  /* The heap disarmed the timer before calling us; the reference it held
   * is ours to drop, after @fire is done with the owner.  A closing loop
   * discards the timer without firing it. */
  if (!discard)
    self->fire (owner);
  self->unref (owner);
}

/* Loop thread.  @owner is a new reference, which the timer keeps. */
static void
comb_timer_arm (AioLoop       *loop,
                CombTimer     *self,
                gdouble        seconds,
                gpointer       owner,
                GDestroyNotify unref,
                CombTimerFunc  fire)
{
  g_assert (self->timer.index == 0);

  self->timer.func = comb_timer_func;
  self->owner = owner;
  self->unref = unref;
  self->fire = fire;
  _aio_loop_add_timer (loop, &self->timer, _aio_loop_seconds_to_deadline (seconds));
}

/* Loop thread.  The caller holds a reference on the owner. */
static void
comb_timer_disarm (AioLoop   *loop,
                   CombTimer *self)
{
  if (self->timer.index == 0)
    return;
  _aio_loop_remove_timer (loop, &self->timer);
  self->unref (self->owner);
}

/* One watched future and the done callback left on it. */
typedef struct
{
  AioFuture *future;   /* borrowed from the owner's array */
  gpointer   owner;    /* no reference: see "watching" above */
  guint      id;       /* the done callback; 0 once it ran or was removed */
} Watch;

static Watch *
watches_new (GPtrArray *futures,
             gpointer   owner)
{
  Watch *watches = g_new0 (Watch, MAX (futures->len, 1));

  for (guint i = 0; i < futures->len; i++)
    {
      watches[i].future = g_ptr_array_index (futures, i);
      watches[i].owner = owner;
    }
  return watches;
}

static void
mark_error_retrieved (AioFuture *future,
                      gpointer   user_data)
{
  (void) aio_future_get_error (future);
}

/* Removes the done callback @id (0: none) from @future, if it has not run
 * yet.  With @keep_retrieving, the future's error still counts as
 * retrieved when it comes, as asyncio's gather and shield read every
 * exception they were given, even after they are done themselves. */
static void
detach_done_callback (AioFuture *future,
                      guint      id,
                      gboolean   keep_retrieving)
{
  if (id == 0 || !aio_future_remove_done_callback (future, id))
    return;

  if (keep_retrieving)
    {
      if (_aio_future_state (future) != AIO_FUTURE_PENDING)
        (void) aio_future_get_error (future);
      else
        aio_future_add_done_callback (future, mark_error_retrieved, NULL, NULL);
    }
}

/* The same for @watch. */
static void
watch_detach (Watch    *watch,
              gboolean  keep_retrieving)
{
  detach_done_callback (watch->future, watch->id, keep_retrieving);
  watch->id = 0;
}

static void
watches_attach (Watch             *watches,
                guint              n_watches,
                AioFutureCallback  callback)
{
  for (guint i = 0; i < n_watches; i++)
    watches[i].id = aio_future_add_done_callback (watches[i].future, callback,
                                                  &watches[i], NULL);
}

/* Publishes a combinator's outcome.  From the loop's thread, which is
 * where the inner futures' callbacks run, the outer future's callbacks run
 * in the same dispatch rather than an iteration later: a task awaiting a
 * wait_for() of a queue get, or a gather of lock acquisitions, resumes in
 * the same step as the inner future completes, so that no cancellation
 * can slip in between and lose the item or the lock that was handed over
 * (the primitives' hand-off rule, kept through the combinator). */
static void
publish_mirror (AioFuture      *self,
                AioFutureState  state)
{
  if (_aio_loop_is_current (self->loop))
    _aio_future_publish_now (self, state);
  else
    _aio_future_publish (self, state);
}

/* Completes the claimed-or-pending @self with a copy of @source's outcome,
 * published as @state.  Does nothing (but mark @source's error read) when
 * @self was completed by someone else, which is a programmer error that
 * the other completion reported already. */
static void
complete_with_copy (AioFuture      *self,
                    AioFuture      *source,
                    AioFutureState  state)
{
  if (!_aio_future_try_claim (self))
    {
      (void) aio_future_get_error (source);
      return;
    }
  _aio_future_copy_outcome (self, source);
  publish_mirror (self, state);
}

static void
complete_with_futures (AioFuture *self,
                       GPtrArray *futures)
{
  if (!_aio_future_try_claim (self))
    {
      g_ptr_array_unref (futures);
      return;
    }
  self->value_type = AIO_VALUE_POINTER;
  self->value.p = futures;
  self->value_destroy = (GDestroyNotify) g_ptr_array_unref;
  publish_mirror (self, AIO_FUTURE_RESOLVED);
}

static GError *
new_timed_out_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                              _("The operation timed out"));
}

/* Checks an array of futures given to @func: none NULL, all on one open
 * loop, which is returned; NULL after a critical otherwise. */
static AioLoop *
check_futures (const char *func,
               gpointer   *futures,
               guint       n_futures)
{
  AioLoop *loop = NULL;

  for (guint i = 0; i < n_futures; i++)
    {
      AioFuture *future = futures[i];

      if (!AIO_IS_FUTURE (future))
        {
          g_return_if_fail_warning (G_LOG_DOMAIN, func, "AIO_IS_FUTURE (futures[i])");
          return NULL;
        }
      if (loop == NULL)
        loop = future->loop;
      else if (future->loop != loop)
        {
          g_critical ("%s: the futures belong to different loops (%p and %p)",
                      func, loop, future->loop);
          return NULL;
        }
    }

  if (loop == NULL)
    loop = _aio_loop_get_current_or_default ();

  if (aio_loop_is_closed (loop))
    {
      g_critical ("%s: the loop %p is closed", func, loop);
      return NULL;
    }

  return loop;
}

/* ---- gather -------------------------------------------------------------- */

typedef struct
{
  AioFuture  parent_instance;

  /* Owned, with a reference on each child; also the value once resolved.
   * Set at construction, never replaced. */
  GPtrArray *children;
  /* The done callback left on each child, without a reference (see
   * "watching" above), or 0 once removed.  A gather may watch a hundred
   * thousand children, so 4 bytes each rather than a Watch: the callbacks
   * get the gather itself, and an id whose callback ran is harmless to
   * remove.  Loop thread only. */
  guint     *ids;
  guint      n_done;
  /* The message of the cancellation asked with aio_future_cancel(). */
  char      *cancel_message;
  guint      return_exceptions : 1;
  guint      cancel_requested : 1;
  gboolean   watching;
} AioGatherFuture;

typedef struct
{
  AioFutureClass parent_class;
} AioGatherFutureClass;

static GType aio_gather_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioGatherFuture, aio_gather_future, AIO_TYPE_FUTURE)

/* Loop thread.  The caller holds a reference on @self, or stops touching
 * it after this returns. */
static void
aio_gather_future_finish (AioGatherFuture *self)
{
  /* When every child's callback ran, there is nothing to remove. */
  for (guint i = 0; self->n_done < self->children->len && i < self->children->len; i++)
    {
      detach_done_callback (g_ptr_array_index (self->children, i), self->ids[i], TRUE);
      self->ids[i] = 0;
    }

  stop_watching (self, &self->watching);
}

static void
aio_gather_future_child_done (AioFuture *child,
                              gpointer   user_data)
{
  AioGatherFuture *self = user_data;
  AioFuture *future = (AioFuture *) self;
  AioFutureState state = _aio_future_state (child);

  self->n_done++;

  /* The child's error is the gather's to report (or to hand back in the
   * array), so it counts as retrieved, as asyncio's gather calls
   * exception() on every child. */
  (void) aio_future_get_error (child);

  if (!self->return_exceptions && state != AIO_FUTURE_RESOLVED)
    {
      /* A child cancelled on its own is an error of the gather, not a
       * cancellation of it (asyncio: "the gather() call is not cancelled
       * in this case"): the gather is rejected with the child's
       * G_IO_ERROR_CANCELLED. Only a cancellation asked of the gather
       * itself makes it cancelled. */
      if (self->cancel_requested && state == AIO_FUTURE_CANCELLED)
        _aio_future_cancel_now (future, self->cancel_message, FALSE);
      else
        complete_with_copy (future, child, AIO_FUTURE_REJECTED);
      aio_gather_future_finish (self);
      return;
    }

  if (self->n_done < self->children->len)
    return;

  /* Cancelling the gather is propagated even when every child ignored
   * it or return_exceptions is set (asyncio's bpo-32684). */
  if (self->cancel_requested)
    _aio_future_cancel_now (future, self->cancel_message, FALSE);
  else
    complete_with_futures (future, g_ptr_array_ref (self->children));
  aio_gather_future_finish (self);
}

static gboolean
aio_gather_future_cancel (AioFuture  *future,
                          const char *message)
{
  AioGatherFuture *self = (AioGatherFuture *) future;
  gboolean cancelled = FALSE;
  gboolean acquired;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING || !self->watching)
    return FALSE;

  if (!comb_enter ("aio_future_cancel", future->loop, &acquired))
    return FALSE;

  /* As asyncio's gather: cancel the pending children, and let their
   * completion complete the gather, so that it is done only once they
   * are. A child whose cancel returns FALSE is done already and its
   * outcome is on its way. */
  g_object_ref (self);
  for (guint i = 0; i < self->children->len; i++)
    {
      /* A child that is done says so (FALSE). */
      if (self->ids[i] != 0 &&
          aio_future_cancel (g_ptr_array_index (self->children, i), message))
        cancelled = TRUE;
    }

  if (cancelled && !self->cancel_requested)
    {
      self->cancel_requested = TRUE;
      self->cancel_message = g_strdup (message);
    }
  g_object_unref (self);

  _aio_loop_leave (future->loop, acquired);
  return cancelled;
}

static void
aio_gather_future_finalize (GObject *object)
{
  AioGatherFuture *self = (AioGatherFuture *) object;

  g_assert (!self->watching);
  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_free (self->ids);
  g_free (self->cancel_message);

  G_OBJECT_CLASS (aio_gather_future_parent_class)->finalize (object);
}

static void
aio_gather_future_class_init (AioGatherFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_gather_future_finalize;
  future_class->cancel = aio_gather_future_cancel;
}

static void
aio_gather_future_init (AioGatherFuture *self)
{
}

/* @children is owned and holds a reference on each child; they were
 * checked with check_futures(), which gave @loop. */
static AioFuture *
aio_gather_new (const char *func,
                AioLoop    *loop,
                GPtrArray  *children,
                gboolean    return_exceptions)
{
  AioGatherFuture *self;
  gboolean acquired;

  if (!comb_enter (func, loop, &acquired))
    {
      g_ptr_array_unref (children);
      return NULL;
    }

  self = _aio_future_new (aio_gather_future_get_type (), loop);
  self->children = children;
  self->return_exceptions = !!return_exceptions;
  self->ids = g_new0 (guint, MAX (children->len, 1));

  if (children->len == 0)
    {
      /* asyncio resolves an empty gather at once; its callbacks still
       * run on a later iteration, as every future's do. */
      complete_with_futures ((AioFuture *) self, g_ptr_array_ref (children));
    }
  else
    {
      self->watching = TRUE;
      g_object_ref (self);
      for (guint i = 0; i < children->len; i++)
        self->ids[i] = aio_future_add_done_callback (g_ptr_array_index (children, i),
                                                     aio_gather_future_child_done,
                                                     self, NULL);
    }

  _aio_loop_leave (loop, acquired);
  return (AioFuture *) self;
}

/**
 * aio_gather: (skip)
 * @return_exceptions: whether errors of the children are left in them
 *   rather than failing the gather
 * @first: (transfer full) (nullable): the first future, or %NULL for none
 * @...: (transfer full): more futures, then %NULL
 *
 * Runs futures concurrently and waits for them all (asyncio's
 * `gather()`); the variadic form of [func@Aio.gatherv], whose
 * documentation tells the details. The gather consumes the futures. To
 * gather no futures, use [func@Aio.gatherv] (the compiler wants at least
 * one argument before the %NULL that ends the list).
 *
 * ```c
 * g_autoptr(AioFuture) all = aio_gather (FALSE,
 *                                        fetch (session, "a"),
 *                                        fetch (session, "b"),
 *                                        NULL);
 * ```
 *
 * Returns: (transfer full): a future for the array of the children, in
 *   the order given; read it with [method@Aio.Future.get_futures]
 *
 * Since: 1.0
 */
AioFuture *
aio_gather (gboolean   return_exceptions,
            AioFuture *first,
            ...)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new ();
  AioLoop *loop;
  va_list args;

  va_start (args, first);
  for (AioFuture *future = first; future != NULL; future = va_arg (args, AioFuture *))
    g_ptr_array_add (children, future);
  va_end (args);

  if ((loop = check_futures (G_STRFUNC, children->pdata, children->len)) == NULL)
    return NULL;

  /* The array takes over the references we were given. */
  g_ptr_array_set_free_func (children, g_object_unref);
  return aio_gather_new (G_STRFUNC, loop, g_steal_pointer (&children), return_exceptions);
}

/**
 * aio_gatherv: (skip)
 * @futures: (array length=n_futures) (transfer full) (nullable): the
 *   futures to wait for; the array itself stays the caller's
 * @n_futures: the number of futures
 * @return_exceptions: whether errors of the children are left in them
 *   rather than failing the gather
 *
 * Runs futures concurrently and waits for them all (asyncio's
 * `gather()`). The gather consumes the futures (but not the C array that
 * holds them, which may live on the stack): pass `g_object_ref()` of a
 * future you keep, such as a task you await again later.
 *
 * The returned future resolves, once every child is done, with an array
 * of the children in the order given (not the order they completed in);
 * read it with [method@Aio.Future.get_futures] and each child's value with
 * the getters of [class@Aio.Future]. With no futures, it resolves at
 * once with an empty array; its callbacks still run on a later
 * iteration, as every future's do.
 *
 * Without @return_exceptions, the first child to be rejected rejects the
 * gather with a copy of its error, at once; the other children are not
 * cancelled and go on. A child that is cancelled counts as an error: the
 * gather is then *rejected* with `G_IO_ERROR_CANCELLED`, not cancelled
 * ([method@Aio.Future.is_rejected] is true), as asyncio's "the gather()
 * call is not cancelled in this case". (In aio-glib a future completed
 * with that error is normally cancelled; this is the one difference.)
 *
 * With @return_exceptions, the gather resolves once every child is done
 * and the errors stay in the children.
 *
 * Either way the children's errors count as retrieved: no "never
 * retrieved" warning is logged for them.
 *
 * Cancelling the gather ([method@Aio.Future.cancel]) cancels every
 * pending child; once they are done (at once for plain futures; tasks
 * may take a while) the gather is cancelled, whatever
 * @return_exceptions. It returns %FALSE when no child could be cancelled:
 * every child is done, and the gather then takes their outcomes. Children
 * that were done before the cancellation keep what they carry (a queue's
 * item, a lock's ownership) in themselves, and a cancelled gather hands
 * none of it on: to give back such an item or release such a lock, keep
 * references to the children ([func@Aio.gather_array] leaves them
 * yours), as in asyncio.
 *
 * The futures must belong to one loop, the gather's, and this must be
 * called from that loop's thread.
 *
 * Returns: (transfer full): a future for the array of the children
 *
 * Since: 1.0
 */
AioFuture *
aio_gatherv (AioFuture **futures,
             guint       n_futures,
             gboolean    return_exceptions)
{
  GPtrArray *children;
  AioLoop *loop;

  g_return_val_if_fail (futures != NULL || n_futures == 0, NULL);

  if ((loop = check_futures (G_STRFUNC, (gpointer *) futures, n_futures)) == NULL)
    return NULL;

  children = futures_array_new ((gpointer *) futures, n_futures, TRUE);
  return aio_gather_new (G_STRFUNC, loop, children, return_exceptions);
}

/**
 * aio_gather_array: (rename-to aio_gather)
 * @futures: (element-type AioFuture): the futures to wait for
 * @return_exceptions: whether errors of the children are left in them
 *   rather than failing the gather
 *
 * Like [func@Aio.gatherv], for futures in a `GPtrArray`, which is
 * borrowed: unlike the other forms of gather, this one takes a reference
 * on each future and leaves the array and its references to the caller,
 * as [func@Aio.wait] and [func@Aio.as_completed] do.
 *
 * Returns: (transfer full): a future for the array of the children
 *
 * Since: 1.0
 */
AioFuture *
aio_gather_array (GPtrArray *futures,
                  gboolean   return_exceptions)
{
  GPtrArray *children;
  AioLoop *loop;

  g_return_val_if_fail (futures != NULL, NULL);

  if ((loop = check_futures (G_STRFUNC, futures->pdata, futures->len)) == NULL)
    return NULL;

  children = futures_array_new (futures->pdata, futures->len, FALSE);
  return aio_gather_new (G_STRFUNC, loop, children, return_exceptions);
}

/**
 * aio_future_get_futures:
 * @future: a future from [func@Aio.gatherv] or [func@Aio.wait] (or one
 *   that mirrors such a future, as [func@Aio.shield] does)
 * @error: return location for the future's error
 *
 * Gets the futures @future resolved with: the children of a gather, in
 * the order given, or the done futures of a wait. The array belongs to
 * @future and lives as long as it does: do not free or unref it, nor the
 * futures in it (take a reference with `g_object_ref()` on one you want
 * to keep after @future is gone).
 *
 * Returns: (transfer none) (element-type AioFuture) (nullable): the
 *   futures, owned by @future, or %NULL with @error set when @future is
 *   not resolved
 *
 * Since: 1.0
 */
GPtrArray *
aio_future_get_futures (AioFuture  *future,
                        GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!aio_future_propagate (future, error))
    return NULL;

  if (future->value_type != AIO_VALUE_POINTER || future->value.p == NULL)
    {
      g_critical ("%s: the future %p did not resolve with an array of futures",
                  G_STRFUNC, future);
      return NULL;
    }

  return future->value.p;
}

/* ---- wait ---------------------------------------------------------------- */

typedef struct
{
  AioFuture    parent_instance;

  /* Owned, with a reference on each future.  Set at construction. */
  GPtrArray   *futures;
  /* One per future.  Loop thread only. */
  Watch       *watches;
  guint        n_pending;
  AioWaitMode  return_when;
  CombTimer    timer;
  gboolean     watching;
} AioWaitFuture;

typedef struct
{
  AioFutureClass parent_class;
} AioWaitFutureClass;

static GType aio_wait_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioWaitFuture, aio_wait_future, AIO_TYPE_FUTURE)

/* Loop thread.  The caller holds a reference on @self. */
static void
aio_wait_future_finish (AioWaitFuture *self)
{
  AioLoop *loop = ((AioFuture *) self)->loop;

  for (guint i = 0; i < self->futures->len; i++)
    watch_detach (&self->watches[i], FALSE);
  comb_timer_disarm (loop, &self->timer);

  stop_watching (self, &self->watching);
}

/* Resolves with the futures done by now, whether their callbacks ran or
 * not, in the order given, as asyncio's wait() sorts them when it
 * returns. */
static void
aio_wait_future_resolve (AioWaitFuture *self)
{
  GPtrArray *done = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->futures->len; i++)
    {
      AioFuture *future = g_ptr_array_index (self->futures, i);

      if (_aio_future_state (future) != AIO_FUTURE_PENDING)
        g_ptr_array_add (done, g_object_ref (future));
    }

  complete_with_futures ((AioFuture *) self, done);
}

static void
aio_wait_future_done (AioFuture *future,
                      gpointer   user_data)
{
  Watch *watch = user_data;
  AioWaitFuture *self = watch->owner;

  watch->id = 0;
  self->n_pending--;

  if (self->n_pending == 0 ||
      self->return_when == AIO_WAIT_FIRST_COMPLETED ||
      (self->return_when == AIO_WAIT_FIRST_EXCEPTION &&
       _aio_future_state (future) == AIO_FUTURE_REJECTED))
    {
      g_object_ref (self);
      aio_wait_future_resolve (self);
      aio_wait_future_finish (self);
      g_object_unref (self);
    }
}

static void
aio_wait_future_timeout (gpointer owner)
{
  AioWaitFuture *self = owner;

  /* asyncio's wait() does not raise on timeout, nor cancel anything: the
   * pending futures are simply not among the done ones. */
  aio_wait_future_resolve (self);
  aio_wait_future_finish (self);
}

static gboolean
aio_wait_future_cancel (AioFuture  *future,
                        const char *message)
{
  AioWaitFuture *self = (AioWaitFuture *) future;
  gboolean acquired;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    return FALSE;

  if (!comb_enter ("aio_future_cancel", future->loop, &acquired))
    return FALSE;

  /* Cancelling a wait stops the waiting, not the futures waited for,
   * which are the caller's. */
  if (!_aio_future_cancel_now (future, message, FALSE))
    {
      _aio_loop_leave (future->loop, acquired);
      return FALSE;
    }

  g_object_ref (self);
  aio_wait_future_finish (self);
  g_object_unref (self);

  _aio_loop_leave (future->loop, acquired);
  return TRUE;
}

static void
aio_wait_future_finalize (GObject *object)
{
  AioWaitFuture *self = (AioWaitFuture *) object;

  g_assert (!self->watching);
  g_assert (self->timer.timer.index == 0);
  g_clear_pointer (&self->futures, g_ptr_array_unref);
  g_free (self->watches);

  G_OBJECT_CLASS (aio_wait_future_parent_class)->finalize (object);
}

static void
aio_wait_future_class_init (AioWaitFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_wait_future_finalize;
  future_class->cancel = aio_wait_future_cancel;
}

static void
aio_wait_future_init (AioWaitFuture *self)
{
}

/**
 * aio_wait:
 * @futures: (element-type AioFuture): the futures to wait for; not empty
 * @timeout: the most seconds to wait, or %AIO_TIMEOUT_NONE
 * @return_when: when to return
 *
 * Waits for some or all of @futures (asyncio's `wait()`).
 *
 * As in asyncio, @futures is borrowed, not consumed: the caller keeps
 * the futures, and reads their outcome once the wait is done. The wait
 * takes its own reference on each while it waits.
 *
 * The returned future resolves, when @return_when says or once @timeout
 * seconds have passed, whichever comes first, with the array of the
 * futures of @futures that are done by then, in the order given; read it
 * with [method@Aio.Future.get_futures]. The pending ones are the rest.
 * It is never rejected: when the timeout expires it resolves with the
 * futures done so far, possibly none, and it cancels nothing.
 * Cancelling it stops the wait, not the futures.
 *
 * An empty @futures is a programmer error (asyncio raises `ValueError`);
 * so are a negative or NaN @timeout. The futures must belong to one loop,
 * and this must be called from that loop's thread.
 *
 * Returns: (transfer full): a future for the array of the done futures
 *
 * Since: 1.0
 */
AioFuture *
aio_wait (GPtrArray   *futures,
          gdouble      timeout,
          AioWaitMode  return_when)
{
  AioWaitFuture *self;
  AioLoop *loop;
  gboolean acquired;

  g_return_val_if_fail (futures != NULL, NULL);
  g_return_val_if_fail (futures->len > 0, NULL);
  g_return_val_if_fail (timeout_is_valid (timeout), NULL);
  g_return_val_if_fail (return_when == AIO_WAIT_ALL_COMPLETED ||
                        return_when == AIO_WAIT_FIRST_COMPLETED ||
                        return_when == AIO_WAIT_FIRST_EXCEPTION, NULL);

  if ((loop = check_futures (G_STRFUNC, futures->pdata, futures->len)) == NULL)
    return NULL;

  if (!comb_enter (G_STRFUNC, loop, &acquired))
    return NULL;

  self = _aio_future_new (aio_wait_future_get_type (), loop);
  self->return_when = return_when;
  self->futures = futures_array_new (futures->pdata, futures->len, FALSE);
  self->watches = watches_new (self->futures, self);
  self->n_pending = self->futures->len;

  self->watching = TRUE;
  g_object_ref (self);
  watches_attach (self->watches, self->futures->len, aio_wait_future_done);
  if (!timeout_is_none (timeout))
    comb_timer_arm (loop, &self->timer, timeout, g_object_ref (self), g_object_unref,
                    aio_wait_future_timeout);

  _aio_loop_leave (loop, acquired);
  return (AioFuture *) self;
}

/* ---- mirrors: what wait_for and shield share ----------------------------- */

/* A future that takes the outcome of one inner future: the first member
 * of wait_for's and shield's futures. */
typedef struct
{
  AioFuture  parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioFuture *inner;
  /* Loop thread only. */
  guint      callback_id;
  gboolean   watching;
} Mirror;

/* Loop thread.  Starts a mirror of @type on @loop, which the caller
 * entered: it takes @inner and watches it with @inner_done, or, when
 * @inner is done already, takes its outcome at once. */
static gpointer
mirror_new (GType              type,
            AioLoop           *loop,
            AioFuture         *inner,
            AioFutureCallback  inner_done)
{
  Mirror *self = _aio_future_new (type, loop);

  self->inner = inner;
  if (_aio_future_state (inner) != AIO_FUTURE_PENDING)
    {
      complete_with_copy ((AioFuture *) self, inner, _aio_future_state (inner));
      return self;
    }

  self->watching = TRUE;
  g_object_ref (self);
  self->callback_id = aio_future_add_done_callback (inner, inner_done, self, NULL);
  return self;
}

/* Loop thread.  Stops watching the inner future (see
 * detach_done_callback() for @keep_retrieving).  The caller holds a
 * reference on @self. */
static void
mirror_stop_watching (Mirror   *self,
                      gboolean  keep_retrieving)
{
  detach_done_callback (self->inner, self->callback_id, keep_retrieving);
  self->callback_id = 0;
  stop_watching (self, &self->watching);
}

/* What the mirrors' finalize does before chaining up. */
static void
mirror_clear (Mirror *self)
{
  g_assert (!self->watching);
  g_clear_object (&self->inner);
}

/* ---- wait_for ------------------------------------------------------------ */

typedef struct
{
  Mirror     mirror;

  /* Loop thread only. */
  CombTimer  timer;
  guint      timed_out : 1;         /* the timer cancelled the inner future */
  guint      cancel_requested : 1;  /* aio_future_cancel() cancelled it */
} AioWaitForFuture;

typedef struct
{
  AioFutureClass parent_class;
} AioWaitForFutureClass;

static GType aio_wait_for_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioWaitForFuture, aio_wait_for_future, AIO_TYPE_FUTURE)

/* Loop thread.  The caller holds a reference on @self. */
static void
aio_wait_for_future_finish (AioWaitForFuture *self)
{
  comb_timer_disarm (((AioFuture *) self)->loop, &self->timer);
  mirror_stop_watching (&self->mirror, FALSE);
}

static void
aio_wait_for_future_inner_done (AioFuture *inner,
                                gpointer   user_data)
{
  AioWaitForFuture *self = user_data;
  AioFutureState state = _aio_future_state (inner);

  self->mirror.callback_id = 0;
  g_object_ref (self);

  /* The timeout only turns into G_IO_ERROR_TIMED_OUT when the inner
   * future did end cancelled: a value (or another error) it ended with in
   * spite of the cancellation wins, as in asyncio 3.12. A cancellation
   * asked of the wait_for itself wins over the timeout. */
  if (self->timed_out && !self->cancel_requested && state == AIO_FUTURE_CANCELLED)
    {
      (void) aio_future_get_error (inner);
      _aio_future_try_reject ((AioFuture *) self, new_timed_out_error ());
    }
  else
    complete_with_copy ((AioFuture *) self, inner, state);

  aio_wait_for_future_finish (self);
  g_object_unref (self);
}

static void
aio_wait_for_future_timeout (gpointer owner)
{
  AioWaitForFuture *self = owner;

  /* Cancel, then wait for the inner future to be done, which a task may
   * take a while to be.  A FALSE here means it is done already and its
   * outcome is on its way to us. */
  if (aio_future_cancel (self->mirror.inner, NULL))
    self->timed_out = TRUE;
}

static gboolean
aio_wait_for_future_cancel (AioFuture  *future,
                            const char *message)
{
  AioWaitForFuture *self = (AioWaitForFuture *) future;
  gboolean acquired;
  gboolean ret = TRUE;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING || !self->mirror.watching)
    return FALSE;

  if (!comb_enter ("aio_future_cancel", future->loop, &acquired))
    return FALSE;

  /* Done once the inner future is.  A FALSE means it is done already (its
   * callback not run yet), or stopping already (a condition wait taking
   * its lock back): either way its outcome is on its way to us and is
   * what we end with, for it may carry something (a queue's item, a
   * lock) that ending now would drop or leave behind.  A task awaiting us
   * gets the cancellation at its next wait instead. */
  if (aio_future_cancel (self->mirror.inner, message))
    self->cancel_requested = TRUE;
  else
    ret = FALSE;

  _aio_loop_leave (future->loop, acquired);
  return ret;
}

static void
aio_wait_for_future_finalize (GObject *object)
{
  AioWaitForFuture *self = (AioWaitForFuture *) object;

  g_assert (self->timer.timer.index == 0);
  mirror_clear (&self->mirror);

  G_OBJECT_CLASS (aio_wait_for_future_parent_class)->finalize (object);
}

static void
aio_wait_for_future_class_init (AioWaitForFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_wait_for_future_finalize;
  future_class->cancel = aio_wait_for_future_cancel;
}

static void
aio_wait_for_future_init (AioWaitForFuture *self)
{
}

/**
 * aio_wait_for:
 * @future: (transfer full): the future to wait for
 * @timeout: the most seconds to wait, or %AIO_TIMEOUT_NONE
 *
 * Waits for @future with a timeout (asyncio's `wait_for()`). This
 * consumes @future: pass `g_object_ref()` of one you keep.
 *
 * The returned future takes the outcome of @future. When @timeout
 * seconds pass first, @future is cancelled, and the returned future
 * waits until @future is actually done (a task may take a while to stop)
 * before it is rejected with `G_IO_ERROR_TIMED_OUT`. Should @future end
 * with a value anyway, or with an error other than cancellation, that
 * outcome wins, as in asyncio 3.12.
 *
 * With a @timeout of 0, a @future that is done gives its outcome;
 * otherwise it is cancelled at once and the wait times out as above.
 *
 * Cancelling the returned future cancels @future; it is cancelled in
 * turn once @future is done (or takes @future's outcome, should that be
 * a value anyway). Once @future is done, the returned future takes its
 * outcome whatever happens, so that nothing @future carries (a queue's
 * item, a lock) is lost: cancelling it then returns %FALSE, and a task
 * awaiting it gets the outcome and the cancellation at its next wait.
 *
 * A negative or NaN @timeout is a programmer error. This must be called
 * from the thread of the loop of @future.
 *
 * Returns: (transfer full): a future for the outcome of @future
 *
 * Since: 1.0
 */
AioFuture *
aio_wait_for (AioFuture *future,
              gdouble    timeout)
{
  AioWaitForFuture *self;
  AioLoop *loop;
  gboolean acquired;

  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (timeout_is_valid (timeout), NULL);

  if ((loop = check_futures (G_STRFUNC, (gpointer *) &future, 1)) == NULL)
    return NULL;

  if (!comb_enter (G_STRFUNC, loop, &acquired))
    return NULL;

  self = mirror_new (aio_wait_for_future_get_type (), loop, future,
                     aio_wait_for_future_inner_done);
  /* No timer for a future that was done already. */
  if (self->mirror.watching && timeout == 0)
    aio_wait_for_future_timeout (self);
  else if (self->mirror.watching && !timeout_is_none (timeout))
    comb_timer_arm (loop, &self->timer, timeout, g_object_ref (self), g_object_unref,
                    aio_wait_for_future_timeout);

  _aio_loop_leave (loop, acquired);
  return (AioFuture *) self;
}

/* ---- shield -------------------------------------------------------------- */

typedef struct
{
  Mirror     mirror;
} AioShieldFuture;

typedef struct
{
  AioFutureClass parent_class;
} AioShieldFutureClass;

static GType aio_shield_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioShieldFuture, aio_shield_future, AIO_TYPE_FUTURE)

static void
aio_shield_future_inner_done (AioFuture *inner,
                              gpointer   user_data)
{
  AioShieldFuture *self = user_data;

  self->mirror.callback_id = 0;
  g_object_ref (self);
  complete_with_copy ((AioFuture *) self, inner, _aio_future_state (inner));
  mirror_stop_watching (&self->mirror, FALSE);
  g_object_unref (self);
}

static gboolean
aio_shield_future_cancel (AioFuture  *future,
                          const char *message)
{
  AioShieldFuture *self = (AioShieldFuture *) future;
  gboolean acquired;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    return FALSE;

  if (!comb_enter ("aio_future_cancel", future->loop, &acquired))
    return FALSE;

  /* The inner future is done, its callback not run yet: its outcome is
   * on its way to us, and may carry something (a queue's item, a lock)
   * that nobody else would ever read.  We end with it, as a done future
   * refuses a cancellation. */
  if (_aio_future_state (self->mirror.inner) != AIO_FUTURE_PENDING ||
      !_aio_future_cancel_now (future, message, FALSE))
    {
      _aio_loop_leave (future->loop, acquired);
      return FALSE;
    }

  /* The inner future goes on; its error, should it fail, counts as
   * retrieved, as asyncio's shield reads it. */
  g_object_ref (self);
  mirror_stop_watching (&self->mirror, TRUE);
  g_object_unref (self);

  _aio_loop_leave (future->loop, acquired);
  return TRUE;
}

static void
aio_shield_future_finalize (GObject *object)
{
  AioShieldFuture *self = (AioShieldFuture *) object;

  mirror_clear (&self->mirror);

  G_OBJECT_CLASS (aio_shield_future_parent_class)->finalize (object);
}

static void
aio_shield_future_class_init (AioShieldFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_shield_future_finalize;
  future_class->cancel = aio_shield_future_cancel;
}

static void
aio_shield_future_init (AioShieldFuture *self)
{
}

/**
 * aio_shield:
 * @future: (transfer full): the future to protect
 *
 * Protects @future from cancellation (asyncio's `shield()`). This
 * consumes @future: pass `g_object_ref()` of one you keep.
 *
 * The returned future takes the outcome of @future. Cancelling it
 * cancels only it: @future goes on, and its error, should it fail, counts
 * as retrieved. If @future itself is cancelled, the returned future is
 * cancelled too. Once @future is done, the returned future takes its
 * outcome whatever happens (cancelling it returns %FALSE), so that
 * nothing @future carries is lost; a @future that is still pending when
 * the returned future is cancelled goes on alone, and what it ends with
 * is only seen by those who kept a reference to it, as in asyncio.
 *
 * As in asyncio, a @future that is done already is returned as it is.
 *
 * This must be called from the thread of the loop of @future.
 *
 * Returns: (transfer full): a future for the outcome of @future
 *
 * Since: 1.0
 */
AioFuture *
aio_shield (AioFuture *future)
{
  AioShieldFuture *self;
  AioLoop *loop;
  gboolean acquired;

  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    return future;

  if ((loop = check_futures (G_STRFUNC, (gpointer *) &future, 1)) == NULL)
    return NULL;

  if (!comb_enter (G_STRFUNC, loop, &acquired))
    return NULL;

  self = mirror_new (aio_shield_future_get_type (), loop, future, aio_shield_future_inner_done);

  _aio_loop_leave (loop, acquired);
  return (AioFuture *) self;
}

/* ---- as_completed -------------------------------------------------------- */

typedef struct
{
  AioLoop   *loop;       /* owned */
  GPtrArray *inputs;     /* owned, with a reference on each */
  Watch     *watches;    /* one per input */
  GPtrArray *outputs;    /* owned, with a reference on each */
  guint      next;       /* the first output that may still be pending */
  guint      n_pending;  /* inputs whose callback has not run */
  CombTimer  timer;
  gboolean   watching;   /* holds a reference on the state */
} AsCompleted;

static void
as_completed_clear (gpointer data)
{
  AsCompleted *self = data;

  g_assert (!self->watching);
  g_assert (self->timer.timer.index == 0);
  g_ptr_array_unref (self->inputs);
  g_ptr_array_unref (self->outputs);
  g_free (self->watches);
  g_object_unref (self->loop);
}

static AsCompleted *
as_completed_ref (AsCompleted *self)
{
  return g_rc_box_acquire (self);
}

static void
as_completed_unref (gpointer self)
{
  g_rc_box_release_full (self, as_completed_clear);
}

/* Hands @input's outcome to the next output still pending; outputs the
 * caller cancelled are skipped, as asyncio's as_completed gives the next
 * result to the next awaitable. */
static void
as_completed_deliver (AsCompleted *self,
                      AioFuture   *input)
{
  AioFutureState state = _aio_future_state (input);

  while (self->next < self->outputs->len)
    {
      AioFuture *output = g_ptr_array_index (self->outputs, self->next++);

      if (_aio_future_try_claim (output))
        {
          _aio_future_copy_outcome (output, input);
          publish_mirror (output, state);
          return;
        }
    }

  (void) aio_future_get_error (input);
}

/* Loop thread.  The caller holds a reference on @self. */
static void
as_completed_finish (AsCompleted *self)
{
  for (guint i = 0; i < self->inputs->len; i++)
    watch_detach (&self->watches[i], FALSE);
  comb_timer_disarm (self->loop, &self->timer);

  if (self->watching)
    {
      self->watching = FALSE;
      as_completed_unref (self);
    }
}

static void
as_completed_input_done (AioFuture *input,
                         gpointer   user_data)
{
  Watch *watch = user_data;
  AsCompleted *self = watch->owner;

  watch->id = 0;
  self->n_pending--;
  as_completed_deliver (self, input);

  if (self->n_pending == 0)
    {
      as_completed_ref (self);
      as_completed_finish (self);
      as_completed_unref (self);
    }
}

static void
as_completed_timeout (gpointer owner)
{
  AsCompleted *self = owner;

  /* Inputs that completed in this same dispatch, before the timer, have
   * not had their callbacks run yet: they did finish in time, so they
   * get their place (in the order given) before the rest time out. */
  for (guint i = 0; i < self->inputs->len; i++)
    {
      Watch *watch = &self->watches[i];

      if (watch->id != 0 && _aio_future_state (watch->future) != AIO_FUTURE_PENDING)
        {
          watch_detach (watch, FALSE);
          as_completed_deliver (self, watch->future);
        }
    }

  for (; self->next < self->outputs->len; self->next++)
    _aio_future_try_reject (g_ptr_array_index (self->outputs, self->next),
                            new_timed_out_error ());

  as_completed_finish (self);
}

/**
 * aio_as_completed:
 * @futures: (element-type AioFuture): the futures to wait for
 * @timeout: the most seconds to wait, or %AIO_TIMEOUT_NONE
 *
 * Gives the outcomes of @futures in the order they complete (asyncio's
 * `as_completed()`).
 *
 * Returns as many new futures as @futures has: the first takes the
 * outcome of the first future of @futures to complete, the second that
 * of the second, and so on. Await them in order. Once @timeout seconds
 * have passed, those still pending are rejected with
 * `G_IO_ERROR_TIMED_OUT`; @futures themselves are not cancelled.
 * Cancelling one of the returned futures hands its outcome to the next.
 *
 * As in asyncio, @futures is borrowed, not consumed. An empty @futures
 * gives an empty array. A negative or NaN @timeout is a programmer
 * error. The futures must belong to one loop, and this must be called
 * from that loop's thread.
 *
 * Returns: (transfer container) (element-type AioFuture): the new
 *   futures, in the order they will complete; the array holds a
 *   reference on each, which `g_ptr_array_unref()` drops
 *
 * Since: 1.0
 */
GPtrArray *
aio_as_completed (GPtrArray *futures,
                  gdouble    timeout)
{
  AsCompleted *self;
  GPtrArray *outputs;
  AioLoop *loop;
  gboolean acquired;

  g_return_val_if_fail (futures != NULL, NULL);
  g_return_val_if_fail (timeout_is_valid (timeout), NULL);

  if ((loop = check_futures (G_STRFUNC, futures->pdata, futures->len)) == NULL)
    return NULL;

  outputs = g_ptr_array_new_full (futures->len, g_object_unref);
  if (futures->len == 0)
    return outputs;

  if (!comb_enter (G_STRFUNC, loop, &acquired))
    {
      g_ptr_array_unref (outputs);
      return NULL;
    }

  for (guint i = 0; i < futures->len; i++)
    g_ptr_array_add (outputs, aio_future_new_for_loop (loop));

  self = g_rc_box_new0 (AsCompleted);
  self->loop = g_object_ref (loop);
  self->inputs = futures_array_new (futures->pdata, futures->len, FALSE);
  /* An array of our own: the caller's may be emptied by its owner
   * (g_ptr_array_free() empties an array that has other references). */
  self->outputs = futures_array_new (outputs->pdata, outputs->len, FALSE);
  self->watches = watches_new (self->inputs, self);
  self->n_pending = self->inputs->len;

  /* The state lives while it watches; the caller only holds outputs. */
  self->watching = TRUE;
  watches_attach (self->watches, self->inputs->len, as_completed_input_done);
  if (!timeout_is_none (timeout))
    comb_timer_arm (loop, &self->timer, timeout, as_completed_ref (self), as_completed_unref,
                    as_completed_timeout);

  _aio_loop_leave (loop, acquired);
  return outputs;
}
