/* aio-waiter.c: the futures the coordination primitives hand out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>


#include "aio-error.h"
#include "aio-waiter-private.h"

struct _AioWaiterClass
{
  AioFutureClass parent_class;
};
typedef struct _AioWaiterClass AioWaiterClass;

static GType _aio_waiter_get_type (void);
G_DEFINE_FINAL_TYPE (AioWaiter, _aio_waiter, AIO_TYPE_FUTURE)

/* Loop thread: the waiter was cancelled; if it is still listed, it leaves
 * its owner's list now.  (A woken one is not listed: its wake-up sees it
 * done and passes its turn on.) */
static void
aio_waiter_cancelled_in_loop (AioWaiter *self)
{
  if (self->list != NULL)
    _aio_future_unref ((AioFuture *) _aio_waiter_unlist (self));
}

static void
aio_waiter_cancel_link (AioLink  *link,
                        gboolean  discard)
{
  AioWaiter *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioWaiter, cancel_link));

  if (!discard)
    aio_waiter_cancelled_in_loop (self);
  _aio_future_unref ((AioFuture *) self);
}

static gboolean
aio_waiter_cancel (AioFuture  *future,
                   const char *message)
{
  AioWaiter *self = (AioWaiter *) future;
  AioLoop *loop = future->loop;
  gboolean acquired;

  if (!_aio_future_cancel_now (future, message, FALSE))
    return FALSE;

  /* The lists are the loop thread's: from elsewhere, the owner hears of
   * it through the inbox, and meanwhile skips the waiter as done. */
  if (_aio_loop_enter (loop, &acquired))
    {
      aio_waiter_cancelled_in_loop (self);
      _aio_loop_leave (loop, acquired);
    }
  else
    {
      _aio_ref (self);
      self->cancel_link.func = aio_waiter_cancel_link;
      _aio_loop_push_inbox (loop, &self->cancel_link);
    }

  return TRUE;
}

/* What finalize and recycle both do: a waiter goes unlisted, and its
 * owner's data with it. */
static void
aio_waiter_release (AioWaiter *self)
{
  g_assert (self->list == NULL);
  g_assert (!self->woken);

  if (self->data_free != NULL && self->data != NULL)
    self->data_free (self->data);
}

static void
aio_waiter_finalize (GObject *object)
{
  aio_waiter_release ((AioWaiter *) object);

  G_OBJECT_CLASS (_aio_waiter_parent_class)->finalize (object);
}

static gboolean
aio_waiter_recycle (AioFuture *future)
{
  AioWaiter *self = (AioWaiter *) future;

  aio_waiter_release (self);
  memset ((char *) self + sizeof (AioFuture), 0, sizeof (AioWaiter) - sizeof (AioFuture));
  self->node.data = self;
  return TRUE;
}

static void
_aio_waiter_class_init (AioWaiterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_waiter_finalize;
  future_class->cancel = aio_waiter_cancel;
  future_class->recycle = aio_waiter_recycle;
}

static void
_aio_waiter_init (AioWaiter *self)
{
  self->node.data = self;
}

AioWaiter *
_aio_waiter_new (AioLoop       *loop,
                 gpointer       owner,
                 AioWaiterFunc  wake)
{
  AioWaiter *self = _aio_future_new (_aio_waiter_get_type (), loop);

  self->owner = owner;
  self->wake = wake;
  return self;
}

/* Lists @waiter in @list with @push (at its head or tail), with a
 * reference. */
static void
aio_waiter_list (GQueue     *list,
                 AioWaiter  *waiter,
                 void      (*push) (GQueue *queue,
                                    GList  *link))
{
  g_assert (waiter->list == NULL);

  waiter->list = list;
  push (list, &waiter->node);
  _aio_ref (waiter);
}

void
_aio_waiter_push_tail (GQueue    *list,
                       AioWaiter *waiter)
{
  aio_waiter_list (list, waiter, g_queue_push_tail_link);
}

void
_aio_waiter_push_head (GQueue    *list,
                       AioWaiter *waiter)
{
  aio_waiter_list (list, waiter, g_queue_push_head_link);
}

AioWaiter *
_aio_waiter_unlist (AioWaiter *waiter)
{
  g_assert (waiter->list != NULL);

  g_queue_unlink (waiter->list, &waiter->node);
  waiter->list = NULL;
  return waiter;
}

AioWaiter *
_aio_waiter_pop_pending (GQueue *list)
{
  GList *link;

  while ((link = g_queue_peek_head_link (list)) != NULL)
    {
      AioWaiter *waiter = _aio_waiter_unlist (link->data);

      if (_aio_future_state ((AioFuture *) waiter) == AIO_FUTURE_PENDING)
        return waiter;
      _aio_future_unref ((AioFuture *) waiter);
    }

  return NULL;
}

gboolean
_aio_waiter_has_pending (GQueue *list)
{
  GList *link;

  while ((link = g_queue_peek_head_link (list)) != NULL)
    {
      AioWaiter *waiter = link->data;

      if (_aio_future_state ((AioFuture *) waiter) == AIO_FUTURE_PENDING)
        return TRUE;
      _aio_future_unref ((AioFuture *) _aio_waiter_unlist (waiter));
    }

  return FALSE;
}

static void
aio_waiter_wake_link (AioLink  *link,
                      gboolean  discard)
{
  AioWaiter *self = G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (AioWaiter, wake_link));

  self->woken = FALSE;
  if (!discard)
    self->wake (self->owner, self);
  g_clear_object (&self->owner_ref);
  _aio_future_unref ((AioFuture *) self);
}

void
_aio_waiter_release_owner (AioWaiter *waiter)
{
  _aio_clear_ref (&waiter->owner_ref);
}

void
_aio_waiter_schedule (AioWaiter *waiter)
{
  AioLoop *loop = ((AioFuture *) waiter)->loop;
  gboolean acquired;

  g_assert (waiter->list == NULL);
  g_assert (!waiter->woken);
  g_assert (waiter->wake != NULL);

  /* A closed loop runs nothing more; its waiters stay pending, as
   * everything else on it does. */
  if (aio_loop_is_closed (loop))
    return;

  waiter->woken = TRUE;
  waiter->wake_link.func = aio_waiter_wake_link;
  _aio_ref (waiter);
  waiter->owner_ref = _aio_ref (waiter->owner);

  if (_aio_loop_enter (loop, &acquired))
    {
      _aio_loop_push_ready (loop, &waiter->wake_link);
      _aio_loop_leave (loop, acquired);
    }
  else
    {
      g_critical ("%s %p is used from a thread that does not run its loop %p",
                  G_OBJECT_TYPE_NAME (waiter->owner), waiter->owner, loop);
      waiter->woken = FALSE;
      _aio_clear_ref (&waiter->owner_ref);
      _aio_future_unref ((AioFuture *) waiter);
    }
}

void
_aio_waiter_reject_all (GQueue     *list,
                        AioError    code,
                        const char *message)
{
  g_autoptr(GError) error = NULL;
  AioWaiter *waiter;

  if (list->length == 0)
    return;

  error = g_error_new_literal (AIO_ERROR, code, g_dgettext (GETTEXT_PACKAGE, message));
  while ((waiter = _aio_waiter_pop_pending (list)) != NULL)
    {
      _aio_sync_reject ((AioFuture *) waiter, g_error_copy (error), FALSE);
      _aio_future_unref ((AioFuture *) waiter);
    }
}

void
_aio_waiter_resolve_all (GQueue   *list,
                         gboolean  with_true)
{
  AioWaiter *waiter;

  while ((waiter = _aio_waiter_pop_pending (list)) != NULL)
    {
      if (with_true)
        _aio_sync_resolve_boolean ((AioFuture *) waiter, TRUE, FALSE);
      else
        _aio_sync_resolve ((AioFuture *) waiter, FALSE);
      _aio_future_unref ((AioFuture *) waiter);
    }
}

/* ---- completing ---------------------------------------------------------- */

void
_aio_sync_publish (AioFuture      *future,
                  AioFutureState  state,
                  gboolean        now)
{
  if (now && _aio_loop_is_current (future->loop))
    _aio_future_publish_now (future, state);
  else
    _aio_future_publish (future, state);
}

static gboolean
aio_sync_resolve_with (AioFuture    *future,
                       AioValueType  type,
                       AioValue      value,
                       gboolean      now)
{
  if (!_aio_future_try_claim (future))
    return FALSE;
  _aio_future_store_value (future, type, value, NULL);
  _aio_sync_publish (future, AIO_FUTURE_RESOLVED, now);
  return TRUE;
}

gboolean
_aio_sync_resolve (AioFuture *future,
                   gboolean   now)
{
  return aio_sync_resolve_with (future, AIO_VALUE_NONE, (AioValue) { .p = NULL }, now);
}

gboolean
_aio_sync_resolve_boolean (AioFuture *future,
                           gboolean   value,
                           gboolean   now)
{
  return aio_sync_resolve_with (future, AIO_VALUE_BOOLEAN, (AioValue) { .b = !!value }, now);
}

gboolean
_aio_sync_resolve_int64 (AioFuture *future,
                         gint64     value,
                         gboolean   now)
{
  return aio_sync_resolve_with (future, AIO_VALUE_INT64, (AioValue) { .i = value }, now);
}

gboolean
_aio_sync_reject (AioFuture *future,
                  GError    *error,
                  gboolean   now)
{
  if (!_aio_future_try_claim (future))
    {
      g_error_free (error);
      return FALSE;
    }

  future->error = error;
  if (G_TYPE_CHECK_INSTANCE_TYPE (future, _aio_waiter_get_type ()) &&
      ((AioWaiter *) future)->orphan)
    future->error_retrieved = TRUE;
  _aio_sync_publish (future,
                    _aio_error_is_cancelled (error) ? AIO_FUTURE_CANCELLED : AIO_FUTURE_REJECTED,
                    now);
  return TRUE;
}

AioFuture *
_aio_sync_new_true (AioLoop *loop)
{
  AioFuture *future = aio_future_new_for_loop (loop);

  _aio_sync_resolve_boolean (future, TRUE, FALSE);
  return future;
}

AioFuture *
_aio_sync_new_error (AioLoop *loop,
                     GError  *error)
{
  AioFuture *future = aio_future_new_for_loop (loop);

  _aio_sync_reject (future, error, FALSE);
  return future;
}

/* ---- running in the loop's thread ---------------------------------------- */

typedef struct
{
  AioLink    link;
  gpointer   object;
  void     (*func) (gpointer object);
} LoopCall;

static void
loop_call_run (AioLink  *link,
               gboolean  discard)
{
  LoopCall *call = (LoopCall *) link;

  if (!discard)
    call->func (call->object);
  g_object_unref (call->object);
  g_free (call);
}

void
_aio_sync_run_in_loop (AioLoop  *loop,
                       gpointer  object,
                       void    (*func) (gpointer object))
{
  LoopCall *call;
  gboolean acquired;

  if (_aio_loop_enter (loop, &acquired))
    {
      func (object);
      _aio_loop_leave (loop, acquired);
      return;
    }

  call = g_new0 (LoopCall, 1);
  call->link.func = loop_call_run;
  call->object = g_object_ref (object);
  call->func = func;
  _aio_loop_push_inbox (loop, &call->link);
}

AioLoop *
_aio_sync_pick_loop (void)
{
  return _aio_loop_get_current_or_default ();
}
