/* aio-waiter-private.h: the futures the coordination primitives hand out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Private: shared by AioQueue, AioEvent, AioLock, AioSemaphore,
 * AioCondition and AioBarrier.  Never installed.
 */

#pragma once

#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-lock.h"
#include "aio-task.h"

G_BEGIN_DECLS

/* A waiter is a plain future, as far as its users can tell, that also
 * knows the list it waits in.  Two things make it more than a future:
 *
 * - cancelling it while it is listed takes it out of its owner's list at
 *   once, so that a wait_for() polling an idle queue does not pile up dead
 *   waiters, as asyncio removes a cancelled getter in its `except` clause
 *   (a cancellation from another thread gets there through the inbox;
 *   until then the owner skips the waiter as done);
 *
 * - it can be *woken*: put on the loop's ready queue, to be served when the
 *   loop gets to it (the @wake hook).  This is asyncio's wake-up model: the
 *   resource (an item, the lock, a unit of a semaphore) stays with its
 *   owner until the waiter is served, and serving completes the waiter with
 *   _aio_future_publish_now(), so that a task awaiting it directly resumes
 *   in that same call.  Nothing can cancel the task between the hand-off
 *   and the moment it sees the result, so a task never loses an item or
 *   a lock it did not know it had; a waiter cancelled while it was being
 *   woken is skipped and its wake-up passed on.
 */
typedef struct _AioWaiter AioWaiter;
/* Called when a wake-up comes, in the loop's thread. */
typedef void (*AioWaiterFunc) (gpointer   owner,
                               AioWaiter *waiter);

struct _AioWaiter
{
  AioFuture       parent_instance;

  /* Loop thread only.  While listed, @node is in *@list, and the list
   * holds a reference on the waiter through it.  @owner is borrowed while
   * listed (owners unlist their waiters before they go) and owned while
   * @woken. */
  GList           node;
  GQueue         *list;
  gpointer        owner;
  AioWaiterFunc   wake;

  /* On the loop's ready queue while @woken; holds a reference on the
   * waiter, and one on @owner in @owner_ref until the wake hook lets go
   * of it (_aio_waiter_release_owner()) or returns. */
  AioLink         wake_link;
  gpointer        owner_ref;
  guint           woken : 1;
  /* Nobody but the owner holds this waiter: its errors need no reader. */
  guint           orphan : 1;
  /* A cancellation from another thread, on its way to the loop thread. */
  AioLink         cancel_link;

  /* For the owner.  @data is freed with @data_free at finalization unless
   * the owner took it. */
  gpointer        data;
  GDestroyNotify  data_free;
  gint64          number;
  guint           flags;
};

/* A pending waiter on @loop for @owner; @wake may be NULL for waiters
 * that are only ever completed directly. */
AioWaiter *_aio_waiter_new             (AioLoop        *loop,
                                        gpointer        owner,
                                        AioWaiterFunc   wake);

/* Lists @waiter at the tail (or head) of @list, with a reference. */
void       _aio_waiter_push_tail       (GQueue         *list,
                                        AioWaiter      *waiter);
void       _aio_waiter_push_head       (GQueue         *list,
                                        AioWaiter      *waiter);
/* Takes @waiter out of its list; returns the list's reference. */
AioWaiter *_aio_waiter_unlist          (AioWaiter      *waiter);
/* Takes the first pending waiter out of @list, dropping the done ones
 * before it; returns the list's reference, or NULL. */
AioWaiter *_aio_waiter_pop_pending     (GQueue         *list);
/* Whether @list has a pending waiter (dropping done ones at its head). */
gboolean   _aio_waiter_has_pending     (GQueue         *list);
/* Queues a wake-up of @waiter, which must not be listed, on the loop's
 * ready queue. */
void       _aio_waiter_schedule        (AioWaiter      *waiter);
/* For wake hooks, right before they complete the waiter (claimed
 * already) with @now: drops the wake-up's reference on the owner, which
 * must not be touched any more.  The waiter's task runs inside the
 * completion and may drop the last reference to the owner. */
void       _aio_waiter_release_owner   (AioWaiter      *waiter);
/* Unlists every waiter of @list and rejects the pending ones with an
 * AIO_ERROR of @code and @message, a message id (N_()), translated only
 * when there are waiters to reject. */
void       _aio_waiter_reject_all      (GQueue         *list,
                                        AioError        code,
                                        const char     *message);
/* Unlists every waiter of @list and resolves the pending ones: with TRUE
 * if @with_true, else with no value. */
void       _aio_waiter_resolve_all     (GQueue         *list,
                                        gboolean        with_true);

/* Completing a future the owner took charge of.  These claim it first
 * and return FALSE, changing nothing, when it is done already.  @now:
 * dispatch its callbacks in this call (only from a wake-up or another
 * callback the loop is dispatching), else on the loop's next drain. */
gboolean   _aio_sync_resolve           (AioFuture      *future,
                                        gboolean        now);
gboolean   _aio_sync_resolve_boolean   (AioFuture      *future,
                                        gboolean        value,
                                        gboolean        now);
gboolean   _aio_sync_resolve_int64     (AioFuture      *future,
                                        gint64          value,
                                        gboolean        now);
gboolean   _aio_sync_reject            (AioFuture      *future,
                                        GError         *error,
                                        gboolean        now);
/* Publishes a future the caller claimed and filled in, as above. */
void       _aio_sync_publish           (AioFuture      *future,
                                        AioFutureState  state,
                                        gboolean        now);
/* A new future on @loop, resolved with TRUE. */
AioFuture *_aio_sync_new_true          (AioLoop        *loop);
/* A new future on @loop, rejected with @error (taken). */
AioFuture *_aio_sync_new_error         (AioLoop        *loop,
                                        GError         *error);

/* Runs @func (@object) in @loop's thread: now when the caller may touch
 * the loop, else through its inbox.  Holds a reference on @object. */
void       _aio_sync_run_in_loop       (AioLoop        *loop,
                                        gpointer        object,
                                        void          (*func) (gpointer object));

/* The loop a new primitive works on: the running one, else the default. */
AioLoop   *_aio_sync_pick_loop         (void);

/* AioLock on behalf of a given task (or NULL), for AioCondition. */
AioFuture *_aio_lock_acquire_for       (AioLock        *lock,
                                        AioTask        *owner);
void       _aio_lock_release_for       (AioLock        *lock);
gboolean   _aio_lock_is_held_by        (AioLock        *lock,
                                        AioTask        *owner);
AioLoop   *_aio_lock_get_loop          (AioLock        *lock);

G_END_DECLS
