/* aio-future-private.h: AioFuture's instance and class structs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-future.h"
#include "aio-loop-private.h"

G_BEGIN_DECLS

typedef enum
{
  AIO_VALUE_NONE,
  AIO_VALUE_BOOLEAN,
  AIO_VALUE_INT64,
  AIO_VALUE_DOUBLE,
  AIO_VALUE_STRING,
  AIO_VALUE_OBJECT,
  AIO_VALUE_POINTER,
  AIO_VALUE_VALUE,
} AioValueType;

/* A future's value, of the kind its AioValueType says. */
typedef union
{
  gboolean b;
  gint64   i;
  gdouble  d;
  gpointer p;
} AioValue;

typedef struct
{
  AioFutureCallback func;
  gpointer          data;
  GDestroyNotify    destroy;
  guint             id;
} AioDoneCallback;

struct _AioFuture
{
  GObject          parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop         *loop;

  /* Chains the future into the loop's ready queue (to run its callbacks)
   * or inbox (when completed from another thread).  It is in at most one
   * of them at a time; a ref is held while it is. */
  AioLink          link;

  /* Atomic.  The first completion claims the future with a
   * compare-and-exchange on @claimed, writes the outcome, then publishes
   * @state; so completion may come from any thread, and readers that see
   * a final @state see the outcome written before it. */
  gint             claimed;
  gint             state;

  /* The outcome's kind (AioValueType), written once by the claimer; kept
   * beside the loop-thread flags so that the two share a word. */
  guint8           value_type;

  /* Loop thread only. */
  guint            notified : 1;     /* the loop thread has seen it complete */
  guint            scheduled : 1;
  guint            dispatching : 1;
  guint            error_retrieved : 1;
  guint            next_callback_id;

  /* The outcome.  Written once by the claimer, read-only after. */
  AioValue         value;
  GDestroyNotify   value_destroy;
  GError          *error;

  /* The first callback lives inline, so that the common case of one
   * awaiter costs no allocation; later ones go to @callbacks in order. */
  AioDoneCallback  callback0;
  GArray          *callbacks;
};

struct _AioFutureClass
{
  GObjectClass parent_class;

  /* Asks the future to stop; returns FALSE when it is done already.  The
   * default cancels it at once; tasks only request cancellation. */
  gboolean (*cancel) (AioFuture  *future,
                      const char *message);

  /* Optional.  Resets the subclass's own fields to what a new instance
   * has, so that the future can go back to its type's pool rather than
   * being finalized (see aio-future.c); returns FALSE to be finalized
   * instead.  Without it, only plain AioFutures are recycled. */
  gboolean (*recycle) (AioFuture  *future);
};

#define AIO_FUTURE_CLASS(klass)     (G_TYPE_CHECK_CLASS_CAST ((klass), AIO_TYPE_FUTURE, AioFutureClass))
#define AIO_FUTURE_GET_CLASS(obj)   (G_TYPE_INSTANCE_GET_CLASS ((obj), AIO_TYPE_FUTURE, AioFutureClass))

/* Drops a reference on @future, recycling it at once when it was the last
 * one (see aio-future.c); for the library's hot paths. */
void      _aio_future_unref           (AioFuture      *future);

/* A new future of @type (AioFuture or a subclass with a recycle() hook),
 * from the calling thread's pool when it has one; then set its loop. */
gpointer  _aio_future_new_of_type     (GType           type);
/* TRUE inside _aio_future_new_of_type()'s g_object_new(): the library is
 * constructing the future and sets its loop right after, so constructed()
 * must not (aio-task.c refuses a task made any other way). */
gboolean  _aio_future_is_constructing_internally (void);

/* Initializes a future created with g_object_new() of a subclass on @loop
 * (NULL: the running loop, else the default one). */
void      _aio_future_set_loop        (AioFuture      *future,
                                       AioLoop        *loop);
/* The two above together: a new future of @type on @loop (NULL: the
 * running loop, else the default one). */
gpointer  _aio_future_new             (GType           type,
                                       AioLoop        *loop);

/* Claims @future for completion.  Returns FALSE, without a critical, when
 * it is done (or being completed) already. */
gboolean  _aio_future_try_claim       (AioFuture      *future);
/* As _aio_future_try_claim(), with a critical naming @func when @future
 * is done already, unless a cancellation claimed it: a late outcome of
 * work that was cancelled is dropped quietly. */
gboolean  _aio_future_claim_or_warn   (AioFuture      *future,
                                       const char     *func);
/* Publishes a claimed future's outcome and schedules its callbacks: in the
 * loop's ready queue from the loop's thread, through the inbox otherwise. */
void      _aio_future_publish         (AioFuture      *future,
                                       AioFutureState  state);
/* As _aio_future_publish(), for completions the loop itself drives (timers,
 * sleeps, task steps): we are already in a dispatch of the loop's sources,
 * so the callbacks run now, in order, instead of an iteration later. */
void      _aio_future_publish_now     (AioFuture      *future,
                                       AioFutureState  state);

gboolean  _aio_future_try_resolve     (AioFuture      *future);
gboolean  _aio_future_try_reject      (AioFuture      *future,
                                       GError         *error);
/* Cancels @future now (the default cancel); FALSE when it was done. */
gboolean  _aio_future_cancel_now      (AioFuture      *future,
                                       const char     *message,
                                       gboolean        dispatch_now);
/* TRUE when @future is resolved; otherwise sets @error (the future's error,
 * or AIO_ERROR_INVALID_STATE while pending) and returns FALSE. */
gboolean  _aio_future_check_resolved  (AioFuture      *future,
                                       GError        **error);
/* Frees the value a future holds and forgets it. */
void      _aio_future_clear_value     (AioFuture      *future);
/* Frees @value, of @type, as a future holding it would (with @destroy,
 * for a pointer). */
void      _aio_value_free             (AioValueType    type,
                                       AioValue        value,
                                       GDestroyNotify  destroy);
/* A new GValue holding a copy of @value, as a future holds one. */
GValue   *_aio_value_copy             (const GValue   *value);
/* Takes the pointer, string or object @future resolved with, for
 * aio_await_pointer() (see aio-future-value.c). */
gpointer  _aio_future_take_pointer    (AioFuture      *future);
/* The value that the getter @func reads from @future: the one it resolved
 * with, of @type; all zeroes (FALSE, 0, NULL) when it resolved with none,
 * and, with a critical, when it holds another type, or, with @error set,
 * when it is not resolved. */
const AioValue *_aio_future_read_value (AioFuture     *future,
                                        AioValueType   type,
                                        const char    *func,
                                        GError       **error);

/* Stores the outcome of the future the caller claimed: @value, of @type,
 * which the future takes (freed with @destroy, for a pointer). */
static inline void
_aio_future_store_value (AioFuture      *future,
                         AioValueType    type,
                         AioValue        value,
                         GDestroyNotify  destroy)
{
  future->value_type = type;
  future->value = value;
  future->value_destroy = destroy;
}
/* Copies @source's outcome into the claimed @future's fields. */
void      _aio_future_copy_outcome    (AioFuture      *future,
                                       AioFuture      *source);
/* See aio-sleep.c. */
gboolean  _aio_sleep_absorb           (AioFuture      *future,
                                       AioTimer       *timer);
/* The type of sleeps; 0 until the first sleep is made. */
extern GType _aio_sleep_type;

static inline gboolean
_aio_is_sleep (AioFuture *future)
{
  return G_OBJECT_TYPE (future) == __atomic_load_n (&_aio_sleep_type, __ATOMIC_RELAXED);
}
GError   *_aio_future_new_cancelled_error (const char *message);
gboolean  _aio_error_is_cancelled     (const GError   *error);

/* AIO_IS_FUTURE() for the library's own argument checks.  GType's check
 * is inline only for an instance of exactly the type asked for; every
 * subclass (tasks, sleeps, waiters) costs a call into GType's type tree,
 * several per await.  This remembers the last few types that passed: a
 * GType, once registered, is never reused for another type. */
#define AIO_FUTURE_TYPE_CACHE 4     /* unrolled in _aio_is_future() */
extern GType _aio_future_type_cache[AIO_FUTURE_TYPE_CACHE];
gboolean  _aio_is_future_slow         (gconstpointer   instance);

static inline gboolean
_aio_is_future (gconstpointer instance)
{
  const GTypeInstance *i = instance;
  GType type;

  if (G_UNLIKELY (i == NULL || i->g_class == NULL))
    return FALSE;
  type = i->g_class->g_type;
  /* Relaxed loads: an entry is a whole word, written once per type. */
  if (type == __atomic_load_n (&_aio_future_type_cache[0], __ATOMIC_RELAXED) ||
      type == __atomic_load_n (&_aio_future_type_cache[1], __ATOMIC_RELAXED) ||
      type == __atomic_load_n (&_aio_future_type_cache[2], __ATOMIC_RELAXED) ||
      type == __atomic_load_n (&_aio_future_type_cache[3], __ATOMIC_RELAXED))
    return TRUE;
  return _aio_is_future_slow (instance);
}

/* Inside the library, AIO_IS_FUTURE() is the cached check (criticals
 * still name AIO_IS_FUTURE, as g_return_if_fail() quotes its argument
 * unexpanded). */
#undef AIO_IS_FUTURE
#define AIO_IS_FUTURE(obj) (_aio_is_future (obj))

static inline AioFutureState
_aio_future_state (AioFuture *future)
{
  return (AioFutureState) g_atomic_int_get (&future->state);
}

G_END_DECLS
