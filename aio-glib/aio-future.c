/* aio-future.c: AioFuture, the result of work that finishes later
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioFuture:
 *
 * The eventual result of a piece of work: a value, an error, or
 * cancellation.
 *
 * A future starts pending and is completed exactly once, either with a
 * value ([method@Aio.Future.resolve_int64] and its relatives), with an
 * error ([method@Aio.Future.reject]), or by cancellation
 * ([method@Aio.Future.cancel]). Its outcome can then be read any number of
 * times.
 *
 * Every future belongs to an [class@Aio.Loop]. Done callbacks
 * ([method@Aio.Future.add_done_callback]) run in that loop's thread, in the
 * order they were added, and never inside the call that completed the
 * future: they are queued and run when the loop next dispatches. A future
 * may be completed from any thread; the callbacks are handed over through
 * the loop's inbox. Everything else about a future is for the loop's
 * thread.
 *
 * A future whose error nobody read is reported with a warning when it is
 * finalized, like asyncio's "exception was never retrieved".
 *
 * ```c
 * static void
 * on_done (AioFuture *future,
 *          gpointer   user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *   gint64 value = aio_future_get_int64 (future, &error);
 *
 *   if (error == NULL)
 *     g_print ("got %" G_GINT64_FORMAT "\n", value);
 * }
 *
 * g_autoptr(AioFuture) future = aio_future_new ();
 * aio_future_add_done_callback (future, on_done, NULL, NULL);
 * aio_future_resolve_int64 (future, 42);   // on_done runs later, on the loop
 * ```
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "aio-error.h"
#include "aio-error-private.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-private.h"
#include "aio-recycle-private.h"

G_DEFINE_TYPE (AioFuture, aio_future, G_TYPE_OBJECT)

static void aio_future_run_callbacks (AioFuture *self);

enum {
  UNCLAIMED,
  CLAIMED,
  CLAIMED_BY_CANCEL,
};

GError *
_aio_future_new_cancelled_error (const char *message)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                              message != NULL ? message : _AIO_CACHED_(N_("The operation was cancelled")));
}

gboolean
_aio_error_is_cancelled (const GError *error)
{
  return error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
aio_future_clear_callback (AioFuture       *self,
                           AioDoneCallback *cb)
{
  GDestroyNotify destroy = cb->destroy;
  gpointer data = cb->data;

  cb->func = NULL;
  cb->destroy = NULL;
  cb->data = NULL;
  cb->id = 0;

  if (destroy != NULL)
    destroy (data);
}

static gboolean
aio_future_real_cancel (AioFuture  *self,
                        const char *message)
{
  return _aio_future_cancel_now (self, message, FALSE);
}

/* What finalize does for an AioFuture, also used to recycle one. */
static void
aio_future_release (AioFuture *self)
{
  if (_aio_future_state (self) == AIO_FUTURE_REJECTED && !self->error_retrieved)
    g_warning ("%s %p was rejected and its error was never retrieved: %s",
               G_OBJECT_TYPE_NAME (self), self, self->error->message);

  if (self->callback0.func != NULL)
    aio_future_clear_callback (self, &self->callback0);
  if (self->callbacks != NULL)
    {
      for (guint i = 0; i < self->callbacks->len; i++)
        aio_future_clear_callback (self, &g_array_index (self->callbacks, AioDoneCallback, i));
      g_clear_pointer (&self->callbacks, g_array_unref);
    }

  if (self->value_type != AIO_VALUE_NONE)
    _aio_future_clear_value (self);
  if (self->error != NULL)
    g_clear_error (&self->error);
  _aio_clear_ref (&self->loop);
}

static void
aio_future_finalize (GObject *object)
{
  aio_future_release ((AioFuture *) object);

  G_OBJECT_CLASS (aio_future_parent_class)->finalize (object);
}

GType _aio_future_type_cache[AIO_FUTURE_TYPE_CACHE];

gboolean
_aio_is_future_slow (gconstpointer instance)
{
  static gint next;
  GType type;

  if (!g_type_check_instance_is_a ((GTypeInstance *) instance, AIO_TYPE_FUTURE))
    return FALSE;

  /* Racing threads may overwrite each other's entries: any entry holds a
   * type that passed, and a miss only costs the slow check again. */
  type = G_TYPE_FROM_INSTANCE (instance);
  __atomic_store_n (&_aio_future_type_cache[(guint) g_atomic_int_add (&next, 1) % AIO_FUTURE_TYPE_CACHE],
                    type, __ATOMIC_RELAXED);
  return TRUE;
}

/* ---- the outcome's value ------------------------------------------------- */

void
_aio_value_free (AioValueType   type,
                 AioValue       value,
                 GDestroyNotify destroy)
{
  switch (type)
    {
    case AIO_VALUE_STRING:
      g_free (value.p);
      break;

    case AIO_VALUE_OBJECT:
      g_clear_object ((GObject **) &value.p);
      break;

    case AIO_VALUE_POINTER:
      if (destroy != NULL && value.p != NULL)
        destroy (value.p);
      break;

    case AIO_VALUE_VALUE:
      g_value_unset (value.p);
      g_free (value.p);
      break;

    case AIO_VALUE_NONE:
    case AIO_VALUE_BOOLEAN:
    case AIO_VALUE_INT64:
    case AIO_VALUE_DOUBLE:
    default:
      break;
    }
}

void
_aio_future_clear_value (AioFuture *self)
{
  _aio_value_free (self->value_type, self->value, self->value_destroy);
  self->value.p = NULL;
  self->value_destroy = NULL;
  self->value_type = AIO_VALUE_NONE;
}

/* ---- recycling ----------------------------------------------------------- */

/* Futures are made and dropped at a high rate (every sleep, every queue
 * wait, every executor job), and constructing then finalizing a GObject
 * costs several times what the rest of a future's life does.  So a future
 * whose last reference the library itself drops (_aio_future_unref()) in
 * a loop's thread is not finalized but kept, reset, in a small per-thread
 * pool of its type, and handed out again by the constructors.  Only
 * futures nothing else knows about are kept (aio-recycle-private.h: no
 * other reference, no qdata at all, so no weak pointers, toggle
 * references of language bindings or object data), of a type that can
 * reset itself (plain AioFuture, or a subclass with a recycle() hook),
 * and never while the thread is going away. */
#define AIO_FUTURE_POOL_MAX   256
#define AIO_FUTURE_POOL_TYPES 4

typedef struct
{
  GType      type;
  AioFuture *head;
  guint      length;
} FuturePool;

typedef struct
{
  FuturePool pools[AIO_FUTURE_POOL_TYPES];
  gboolean   draining;
} FuturePools;

static void future_pools_drain (gpointer data);

static AIO_TLS FuturePools *future_pools;
static GPrivate future_pools_key = G_PRIVATE_INIT (future_pools_drain);

static void
future_pools_drain (gpointer data)
{
  FuturePools *pools = data;

  pools->draining = TRUE;
  for (guint i = 0; i < AIO_FUTURE_POOL_TYPES; i++)
    while (pools->pools[i].head != NULL)
      {
        AioFuture *future = pools->pools[i].head;

        pools->pools[i].head = (AioFuture *) future->link.next;
        future->link.next = NULL;
        _aio_unref (future);
      }
  future_pools = NULL;
  g_free (pools);
}

static FuturePool *
future_pool_for (GType    type,
                 gboolean create)
{
  FuturePools *pools = future_pools;

  if (pools == NULL)
    {
      if (!create)
        return NULL;
      pools = g_new0 (FuturePools, 1);
      g_private_set (&future_pools_key, pools);
      future_pools = pools;
    }

  for (guint i = 0; i < AIO_FUTURE_POOL_TYPES; i++)
    {
      if (pools->pools[i].type == type)
        return &pools->pools[i];
      if (pools->pools[i].type == 0)
        {
          if (!create)
            return NULL;
          pools->pools[i].type = type;
          return &pools->pools[i];
        }
    }

  return NULL;
}

/* Puts @self, whose last reference the caller holds, back in its type's
 * pool; the caller's reference becomes the pool's. */
static gboolean
aio_future_recycle (AioFuture *self)
{
  AioFutureClass *klass = AIO_FUTURE_GET_CLASS (self);
  FuturePool *pool;

  if (_aio_loop_current == NULL ||
      (klass->recycle == NULL && G_OBJECT_TYPE (self) != AIO_TYPE_FUTURE))
    return FALSE;

  if (future_pools != NULL && future_pools->draining)
    return FALSE;
  pool = future_pool_for (G_OBJECT_TYPE (self), TRUE);
  if (pool == NULL || pool->length >= AIO_FUTURE_POOL_MAX)
    return FALSE;

  /* The subclass first, while the future still looks as it did. */
  if (klass->recycle != NULL && !klass->recycle (self))
    return FALSE;

  aio_future_release (self);
  memset ((char *) self + sizeof (GObject), 0, sizeof (AioFuture) - sizeof (GObject));

  self->link.next = (AioLink *) pool->head;
  pool->head = self;
  pool->length++;
  return TRUE;
}

/* Drops a reference on @self.  When it is the last one and nothing else
 * knows the future (aio-recycle-private.h), it goes straight back to its
 * pool instead of through g_object_unref(), dispose and finalize.  The
 * library's hot paths (awaits, steps) drop futures with this; a future
 * whose last reference is dropped elsewhere (user code, bindings) is
 * finalized as any GObject: reviving it in dispose() would mean telling
 * GObject's own qdata (its notification queue, frozen around dispose)
 * from everybody else's by its private name. */
void
_aio_future_unref (AioFuture *self)
{
  if (_aio_recycle_object_is_private (self) && aio_future_recycle (self))
    return;

  _aio_unref (self);
}

/* Set while the library constructs a future itself, and sets its loop
 * right after; see aio_future_constructed(). */
static AIO_TLS gboolean constructing_internally;

gboolean
_aio_future_is_constructing_internally (void)
{
  return constructing_internally;
}

/* A new future of @type, from this thread's pool when it has one; set up
 * as g_object_new() would.  The caller sets its loop. */
gpointer
_aio_future_new_of_type (GType type)
{
  FuturePool *pool = future_pool_for (type, FALSE);
  AioFuture *self;

  if (pool == NULL || pool->head == NULL)
    {
      constructing_internally = TRUE;
      self = g_object_new (type, NULL);
      constructing_internally = FALSE;
      return self;
    }

  self = pool->head;
  pool->head = (AioFuture *) self->link.next;
  pool->length--;
  self->link.next = NULL;
  return self;
}


/* A future made with g_object_new() from outside the library (a language
 * binding's default constructor, say) gets the running loop, else the
 * default one, as aio_future_new() does: a future without a loop could
 * neither run callbacks nor be awaited. */
static void
aio_future_constructed (GObject *object)
{
  AioFuture *self = (AioFuture *) object;

  G_OBJECT_CLASS (aio_future_parent_class)->constructed (object);

  if (constructing_internally || self->loop != NULL)
    return;

  /* AioTask refuses in its own constructed(). */
  if (G_OBJECT_TYPE (self) == AIO_TYPE_FUTURE)
    _aio_future_set_loop (self, NULL);
}

static void
aio_future_class_init (AioFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = aio_future_constructed;
  object_class->finalize = aio_future_finalize;
  klass->cancel = aio_future_real_cancel;
}

static void
aio_future_init (AioFuture *self)
{
}

void
_aio_future_set_loop (AioFuture *self,
                      AioLoop   *loop)
{
  g_assert (self->loop == NULL);

  if (loop == NULL)
    loop = _aio_loop_get_current_or_default ();
  self->loop = _aio_ref (loop);
}

gpointer
_aio_future_new (GType    type,
                 AioLoop *loop)
{
  AioFuture *self = _aio_future_new_of_type (type);

  _aio_future_set_loop (self, loop);
  return self;
}

/**
 * aio_future_new:
 *
 * Creates a pending future on the running loop, or when no loop is
 * running in this thread, on the default loop
 * ([func@Aio.Loop.get_default]).
 *
 * Complete it with [method@Aio.Future.resolve] and its relatives,
 * [method@Aio.Future.reject] or [method@Aio.Future.cancel].
 *
 * Returns: (transfer full): a new pending future; free it with
 *   `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new (void)
{
  return _aio_future_new (AIO_TYPE_FUTURE, NULL);
}

/**
 * aio_future_new_for_loop:
 * @loop: an [class@Aio.Loop]
 *
 * Creates a pending future that belongs to @loop: its done callbacks run
 * in the thread that runs @loop.
 *
 * Returns: (transfer full): a new pending future
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_loop (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  return _aio_future_new (AIO_TYPE_FUTURE, loop);
}

/**
 * aio_future_get_loop:
 * @future: an [class@Aio.Future]
 *
 * Gets the loop @future belongs to; its done callbacks run there.
 *
 * Returns: (transfer none): the future's loop
 *
 * Since: 1.0
 */
AioLoop *
aio_future_get_loop (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);

  return future->loop;
}

/**
 * aio_future_get_state:
 * @future: an [class@Aio.Future]
 *
 * Gets the state of @future. This may be called from any thread.
 *
 * Returns: the state
 *
 * Since: 1.0
 */
AioFutureState
aio_future_get_state (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), AIO_FUTURE_PENDING);

  return _aio_future_state (future);
}

/**
 * aio_future_is_done:
 * @future: an [class@Aio.Future]
 *
 * Whether @future is resolved, rejected or cancelled (asyncio's `done()`).
 *
 * Returns: %TRUE when @future is no longer pending
 *
 * Since: 1.0
 */
gboolean
aio_future_is_done (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);

  return _aio_future_state (future) != AIO_FUTURE_PENDING;
}

/**
 * aio_future_is_resolved:
 * @future: an [class@Aio.Future]
 *
 * Whether @future completed with a value.
 *
 * Returns: %TRUE when @future is resolved
 *
 * Since: 1.0
 */
gboolean
aio_future_is_resolved (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);

  return _aio_future_state (future) == AIO_FUTURE_RESOLVED;
}

/**
 * aio_future_is_rejected:
 * @future: an [class@Aio.Future]
 *
 * Whether @future completed with an error other than cancellation.
 *
 * Returns: %TRUE when @future is rejected
 *
 * Since: 1.0
 */
gboolean
aio_future_is_rejected (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);

  return _aio_future_state (future) == AIO_FUTURE_REJECTED;
}

/**
 * aio_future_is_cancelled:
 * @future: an [class@Aio.Future]
 *
 * Whether @future was cancelled (asyncio's `cancelled()`).
 *
 * Returns: %TRUE when @future is cancelled
 *
 * Since: 1.0
 */
gboolean
aio_future_is_cancelled (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);

  return _aio_future_state (future) == AIO_FUTURE_CANCELLED;
}

/* ---- completion ---------------------------------------------------------- */

gboolean
_aio_future_try_claim (AioFuture *self)
{
  return g_atomic_int_compare_and_exchange (&self->claimed, 0, CLAIMED);
}

static inline gboolean
aio_future_has_callbacks (AioFuture *self)
{
  return self->callback0.func != NULL ||
         (self->callbacks != NULL && self->callbacks->len > 0);
}

static void
aio_future_run_callbacks_link (AioLink  *link,
                               gboolean  discard)
{
  AioFuture *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioFuture, link));

  self->scheduled = FALSE;
  if (!discard)
    aio_future_run_callbacks (self);
  /* Often the last reference: a future whose callbacks let go of it goes
   * back to its pool from here, the hot path of every hand-off. */
  _aio_future_unref (self);
}

/* Loop thread: the completion is now visible to the loop; queue the
 * callbacks for the next drain. */
static void
aio_future_schedule_callbacks (AioFuture *self)
{
  self->notified = TRUE;
  if (self->scheduled || self->dispatching || !aio_future_has_callbacks (self))
    return;

  self->scheduled = TRUE;
  self->link.func = aio_future_run_callbacks_link;
  _aio_loop_push_ready (self->loop, &self->link);
  _aio_ref (self);
}

static void
aio_future_inbox_link (AioLink  *link,
                       gboolean  discard)
{
  AioFuture *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioFuture, link));

  if (!discard)
    aio_future_schedule_callbacks (self);
  _aio_unref (self);
}

void
_aio_future_publish (AioFuture      *self,
                     AioFutureState  state)
{
  gboolean acquired;

  g_assert (state != AIO_FUTURE_PENDING);

  /* Release: whoever sees the final state sees the outcome too. */
  g_atomic_int_set (&self->state, state);

  if (_aio_loop_enter (self->loop, &acquired))
    {
      aio_future_schedule_callbacks (self);
      _aio_loop_leave (self->loop, acquired);
    }
  else
    {
      /* Another thread runs the loop, or we are not the loop's thread:
       * hand over through its inbox, holding a reference until the loop
       * thread has taken it.  A worker never takes the loop's context,
       * which would race with the loop's thread taking it. */
      _aio_ref (self);
      self->link.func = aio_future_inbox_link;
      _aio_loop_push_inbox (self->loop, &self->link);
    }
}

void
_aio_future_publish_now (AioFuture      *self,
                         AioFutureState  state)
{
  g_assert (state != AIO_FUTURE_PENDING);
  g_assert (_aio_loop_is_current (self->loop));

  g_atomic_int_set (&self->state, state);
  self->notified = TRUE;

  if (!self->scheduled && aio_future_has_callbacks (self))
    {
      _aio_ref (self);
      aio_future_run_callbacks (self);
      _aio_future_unref (self);
    }
}

gboolean
_aio_future_claim_or_warn (AioFuture  *self,
                           const char *func)
{
  if (G_LIKELY (_aio_future_try_claim (self)))
    return TRUE;

  /* Whoever cancelled the future won the race against the work that was
   * completing it (a worker thread, say): dropping that late outcome is
   * how cancellation works, not a programmer error. */
  if (g_atomic_int_get (&self->claimed) == CLAIMED_BY_CANCEL)
    return FALSE;

  g_critical ("%s: the %s %p is already done; a future completes only once",
              func, G_OBJECT_TYPE_NAME (self), self);
  return FALSE;
}

gboolean
_aio_future_try_resolve (AioFuture *future)
{
  if (!_aio_future_try_claim (future))
    return FALSE;
  _aio_future_publish (future, AIO_FUTURE_RESOLVED);
  return TRUE;
}

gboolean
_aio_future_try_reject (AioFuture *future,
                        GError    *error)
{
  if (!_aio_future_try_claim (future))
    {
      g_error_free (error);
      return FALSE;
    }
  future->error = error;
  _aio_future_publish (future,
                       _aio_error_is_cancelled (error) ? AIO_FUTURE_CANCELLED
                                                       : AIO_FUTURE_REJECTED);
  return TRUE;
}

/**
 * aio_future_reject:
 * @future: a pending [class@Aio.Future]
 * @error: (transfer full): the error, which the future takes
 *
 * Rejects @future with @error (asyncio's `set_exception()`).
 *
 * An error of `G_IO_ERROR_CANCELLED` makes @future cancelled rather than
 * rejected, as raising `CancelledError` does in asyncio. This may be
 * called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_reject (AioFuture *future,
                   GError    *error)
{
  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (error != NULL);

  if (!_aio_future_claim_or_warn (future, G_STRFUNC))
    {
      g_error_free (error);
      return;
    }
  future->error = error;
  _aio_future_publish (future,
                       _aio_error_is_cancelled (error) ? AIO_FUTURE_CANCELLED
                                                       : AIO_FUTURE_REJECTED);
}

/**
 * aio_future_reject_literal:
 * @future: a pending [class@Aio.Future]
 * @domain: the error domain
 * @code: the error code
 * @message: the error message
 *
 * Rejects @future with a new error made of @domain, @code and @message.
 * This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_reject_literal (AioFuture  *future,
                           GQuark      domain,
                           gint        code,
                           const char *message)
{
  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (domain != 0);
  g_return_if_fail (message != NULL);

  aio_future_reject (future, g_error_new_literal (domain, code, message));
}

gboolean
_aio_future_cancel_now (AioFuture  *self,
                        const char *message,
                        gboolean    dispatch_now)
{
  if (!g_atomic_int_compare_and_exchange (&self->claimed, 0, CLAIMED_BY_CANCEL))
    return FALSE;

  self->error = _aio_future_new_cancelled_error (message);
  if (dispatch_now && _aio_loop_is_current (self->loop))
    _aio_future_publish_now (self, AIO_FUTURE_CANCELLED);
  else
    _aio_future_publish (self, AIO_FUTURE_CANCELLED);
  return TRUE;
}

/**
 * aio_future_cancel:
 * @future: an [class@Aio.Future]
 * @message: (nullable): the message of the cancellation error
 *
 * Cancels @future (asyncio's `cancel(msg)`).
 *
 * A plain future becomes cancelled at once: reading it fails with
 * `G_IO_ERROR_CANCELLED` carrying @message. A task is only asked to stop;
 * see [method@Aio.Task.cancel]. Cancelling a future that is done changes
 * nothing and returns %FALSE.
 *
 * Plain futures may be cancelled from any thread.
 *
 * Returns: %TRUE if @future was pending and cancellation was requested
 *
 * Since: 1.0
 */
gboolean
aio_future_cancel (AioFuture  *future,
                   const char *message)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);

  return AIO_FUTURE_GET_CLASS (future)->cancel (future, message);
}

/* Returns TRUE when @self is resolved; otherwise sets @error (the future's
 * error, or AIO_ERROR_INVALID_STATE while pending) and returns FALSE. */
gboolean
_aio_future_check_resolved (AioFuture  *self,
                            GError    **error)
{
  switch (_aio_future_state (self))
    {
    case AIO_FUTURE_RESOLVED:
      return TRUE;

    case AIO_FUTURE_REJECTED:
    case AIO_FUTURE_CANCELLED:
      self->error_retrieved = TRUE;
      if (error != NULL)
        *error = g_error_copy (self->error);
      return FALSE;

    case AIO_FUTURE_PENDING:
    default:
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                           _("The future is not done yet"));
      return FALSE;
    }
}

/**
 * aio_future_propagate:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Checks how @future ended, whatever its value.
 *
 * Returns: %TRUE if @future is resolved; %FALSE with @error set if it was
 *   rejected or cancelled, or is still pending (`AIO_ERROR_INVALID_STATE`)
 *
 * Since: 1.0
 */
gboolean
aio_future_propagate (AioFuture  *future,
                      GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _aio_future_check_resolved (future, error);
}

/* ---- done callbacks ------------------------------------------------------ */

static void
aio_future_run_callbacks (AioFuture *self)
{
  AioDoneCallback cb;

  g_assert (!self->dispatching);
  self->dispatching = TRUE;

  if (self->callback0.func != NULL)
    {
      cb = self->callback0;
      self->callback0.func = NULL;
      self->callback0.destroy = NULL;
      cb.func (self, cb.data);
      if (cb.destroy != NULL)
        cb.destroy (cb.data);
    }

  /* Callbacks added while these run are appended and reached by this same
   * walk; removed ones are left with a NULL func. */
  for (guint i = 0; self->callbacks != NULL && i < self->callbacks->len; i++)
    {
      AioDoneCallback *slot = &g_array_index (self->callbacks, AioDoneCallback, i);

      cb = *slot;
      slot->func = NULL;
      slot->destroy = NULL;
      if (cb.func == NULL)
        continue;
      cb.func (self, cb.data);
      if (cb.destroy != NULL)
        cb.destroy (cb.data);
    }

  if (self->callbacks != NULL)
    g_array_set_size (self->callbacks, 0);
  self->dispatching = FALSE;
}

/* Whether the loop thread has seen @self complete, so that scheduling its
 * callbacks from here cannot race with the inbox hand-over. */
static inline gboolean
aio_future_completion_seen (AioFuture *self)
{
  return self->notified;
}

/**
 * aio_future_add_done_callback:
 * @future: an [class@Aio.Future]
 * @callback: (scope notified) (closure user_data) (destroy destroy): called
 *   once @future is done
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after @callback ran or was removed
 *
 * Adds a callback to run when @future is done.
 *
 * Callbacks run in the thread of the future's loop, in the order they were
 * added, and never from inside this call or the call that completed the
 * future. When @future is done already, @callback is queued and runs on
 * the loop's next iteration, as asyncio's `add_done_callback` does.
 *
 * Returns: an id for [method@Aio.Future.remove_done_callback]
 *
 * Since: 1.0
 */
guint
aio_future_add_done_callback (AioFuture         *future,
                              AioFutureCallback  callback,
                              gpointer           user_data,
                              GDestroyNotify     destroy)
{
  AioDoneCallback cb;

  g_return_val_if_fail (AIO_IS_FUTURE (future), 0);
  g_return_val_if_fail (callback != NULL, 0);

  cb.func = callback;
  cb.data = user_data;
  cb.destroy = destroy;
  cb.id = ++future->next_callback_id;
  if (cb.id == 0)
    cb.id = ++future->next_callback_id;

  if (future->callback0.func == NULL && !future->dispatching &&
      (future->callbacks == NULL || future->callbacks->len == 0))
    {
      future->callback0 = cb;
    }
  else
    {
      if (future->callbacks == NULL)
        future->callbacks = g_array_sized_new (FALSE, FALSE, sizeof (AioDoneCallback), 2);
      g_array_append_val (future->callbacks, cb);
    }

  if (aio_future_completion_seen (future))
    {
      if (_aio_loop_is_current (future->loop))
        aio_future_schedule_callbacks (future);
      else if (_aio_loop_acquire (future->loop))
        {
          aio_future_schedule_callbacks (future);
          _aio_loop_release (future->loop);
        }
      else
        g_critical ("%s: the future %p belongs to a loop that runs in another thread",
                    G_STRFUNC, future);
    }

  return cb.id;
}

/**
 * aio_future_remove_done_callback:
 * @future: an [class@Aio.Future]
 * @id: an id from [method@Aio.Future.add_done_callback]
 *
 * Removes a done callback that has not run yet, freeing its data.
 *
 * Returns: %TRUE if the callback was found and removed
 *
 * Since: 1.0
 */
gboolean
aio_future_remove_done_callback (AioFuture *future,
                                 guint      id)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (id != 0, FALSE);

  if (future->callback0.func != NULL && future->callback0.id == id)
    {
      aio_future_clear_callback (future, &future->callback0);
      return TRUE;
    }

  for (guint i = 0; future->callbacks != NULL && i < future->callbacks->len; i++)
    {
      AioDoneCallback *slot = &g_array_index (future->callbacks, AioDoneCallback, i);

      if (slot->func != NULL && slot->id == id)
        {
          aio_future_clear_callback (future, slot);
          return TRUE;
        }
    }

  return FALSE;
}

/* ---- GIO's async convention ---------------------------------------------- */

typedef struct
{
  GTask   *task;
  GSource *cancel_source;
  guint    callback_id;
} WaitData;

static void
wait_data_free (gpointer data)
{
  WaitData *wait = data;

  if (wait->cancel_source != NULL)
    {
      g_source_destroy (wait->cancel_source);
      g_source_unref (wait->cancel_source);
    }
  g_clear_object (&wait->task);
  g_free (wait);
}

static void
aio_future_wait_done (AioFuture *future,
                      gpointer   user_data)
{
  WaitData *wait = user_data;
  GTask *task = g_steal_pointer (&wait->task);

  if (task != NULL)
    {
      g_task_return_boolean (task, TRUE);
      _aio_unref (task);
    }
}

static gboolean
aio_future_wait_cancelled (GCancellable *cancellable,
                           gpointer      user_data)
{
  WaitData *wait = user_data;
  GTask *task = g_steal_pointer (&wait->task);
  AioFuture *future = g_task_get_source_object (task);

  /* Waiting stops; the future itself goes on, as a GIO wait would. */
  g_task_return_error_if_cancelled (task);
  aio_future_remove_done_callback (future, wait->callback_id);
  _aio_unref (task);
  return G_SOURCE_REMOVE;
}

/**
 * aio_future_wait_async:
 * @future: an [class@Aio.Future]
 * @cancellable: (nullable): a `GCancellable` that stops the wait (not the
 *   future)
 * @callback: (scope async): called when @future is done
 * @user_data: data for @callback
 *
 * Waits for @future in GIO's asynchronous convention, so that code built
 * on `GAsyncResult` (and language bindings that turn `_async` / `_finish`
 * pairs into promises) can wait for any future. Call
 * [method@Aio.Future.wait_finish] from @callback.
 *
 * @cancellable stops the wait, not the work. To export a task as the body
 * of an `_async` function, whose caller's `GCancellable` cancels the task
 * and whose result comes out of `g_task_propagate_*()`, use
 * [method@Aio.Future.export].
 *
 * Since: 1.0
 */
void
aio_future_wait_async (AioFuture           *future,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  WaitData *wait;
  GTask *task;

  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (future, cancellable, callback, user_data);
  g_task_set_source_tag (task, aio_future_wait_async);
  g_task_set_name (task, "[aio-glib] aio_future_wait_async");

  if (g_task_return_error_if_cancelled (task))
    {
      _aio_unref (task);
      return;
    }

  wait = g_new0 (WaitData, 1);
  wait->task = task;
  wait->callback_id = aio_future_add_done_callback (future, aio_future_wait_done,
                                                    wait, wait_data_free);
  if (cancellable != NULL)
    {
      wait->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (wait->cancel_source, G_SOURCE_FUNC (aio_future_wait_cancelled),
                             wait, NULL);
      g_source_attach (wait->cancel_source, g_task_get_context (task));
    }
}

/**
 * aio_future_wait_finish:
 * @future: an [class@Aio.Future]
 * @result: the `GAsyncResult` given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Aio.Future.wait_async]: reports how @future ended.
 * Read its value with the getters afterwards.
 *
 * Returns: %TRUE if @future resolved; %FALSE with @error set if it was
 *   rejected or cancelled, or if the wait itself was cancelled
 *
 * Since: 1.0
 */
gboolean
aio_future_wait_finish (AioFuture     *future,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, future), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, aio_future_wait_async), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  return aio_future_propagate (future, error);
}
