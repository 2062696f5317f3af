/* aio-loop-private.h: the loop's queues, for the rest of the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-loop.h"
#include "aio-object-private.h"
#include "aio-private.h"

G_BEGIN_DECLS

/* An intrusive queue link.  Whoever embeds one owns it; the loop only
 * chains it and calls @func once when its turn comes (in the loop's
 * thread), or with @discard TRUE when the loop is closed first, to drop
 * whatever the link holds without running it.  @func may free the memory
 * the link lives in. */
typedef struct _AioLink AioLink;
typedef void (*AioLinkFunc) (AioLink *link,
                             gboolean discard);
struct _AioLink
{
  AioLink     *next;
  AioLinkFunc  func;
};

/* An intrusive timer.  @index is its place in the loop's heap plus one,
 * or 0 while it is not armed.  @func runs in the timer source's dispatch,
 * once, when the deadline has passed; the timer is disarmed by then. */
typedef struct _AioTimer AioTimer;
typedef void (*AioTimerFunc) (AioTimer *timer,
                              gboolean  discard);
struct _AioTimer
{
  gint64        deadline;   /* monotonic µs */
  guint64       seq;        /* ties between equal deadlines: FIFO */
  guint         index;
  AioTimerFunc  func;
};

/* The loop whose sources are being dispatched, or whose run_* is on the
 * stack, in this thread.  Plain thread-local storage: this is read on every
 * completion to decide whether the loop's queues may be touched directly. */
extern AIO_TLS AioLoop *_aio_loop_current;

gboolean  _aio_loop_acquire            (AioLoop  *loop);
void      _aio_loop_release            (AioLoop  *loop);
/* Whether the calling thread is @loop's own (the one that made it or last
 * ran it).  Code that may run in any thread checks this before
 * _aio_loop_acquire(), and hands over through the inbox otherwise. */
gboolean  _aio_loop_is_home_thread     (AioLoop  *loop);
void      _aio_loop_push_ready         (AioLoop  *loop,
                                        AioLink  *link);
/* Any thread.  Hands @link to @loop's thread.  A closed loop takes no
 * more links: @link is then discarded at once, in the calling thread, as
 * closing the loop discards those it held (its @func runs with @discard
 * TRUE), and this returns %FALSE. */
gboolean  _aio_loop_push_inbox         (AioLoop  *loop,
                                        AioLink  *link);
void      _aio_loop_add_timer          (AioLoop  *loop,
                                        AioTimer *timer,
                                        gint64    deadline);
void      _aio_loop_remove_timer       (AioLoop  *loop,
                                        AioTimer *timer);
void      _aio_loop_replace_timer      (AioLoop  *loop,
                                        AioTimer *old,
                                        AioTimer *timer);
AioLoop  *_aio_loop_get_current_or_default (void);
gboolean  _aio_loop_check_open         (AioLoop  *loop,
                                        GError  **error);
/* A run of @loop in this thread (aio-run.c): begin refuses to nest inside
 * a running loop, takes the context and makes it the thread default; end
 * undoes that and clears a stop.  Iterating in between is the caller's. */
gboolean  _aio_loop_begin_run          (AioLoop  *loop,
                                        gboolean *pushed,
                                        AioLoop **previous,
                                        GError  **error);
void      _aio_loop_end_run            (AioLoop  *loop,
                                        gboolean  pushed,
                                        AioLoop  *previous);
/* Whether aio_loop_stop() was called since the run began. */
gboolean  _aio_loop_is_stopping        (AioLoop  *loop);
void      _aio_loop_track_task         (AioLoop  *loop,
                                        AioTask  *task,
                                        GList    *link);
void      _aio_loop_untrack_task       (AioLoop  *loop,
                                        GList    *link);
GQueue   *_aio_loop_get_tasks          (AioLoop  *loop);
/* For tests: whether the loop has work to run now (a ready callback, a
 * hand-over from another thread, a timer due), as opposed to sources of
 * others (GIO's, GTK's) on its context. */
gboolean  _aio_loop_has_work_now       (AioLoop  *loop);
/* For tests: 0 makes each dispatch of the ready source run one batch, so
 * that one GMainContext iteration is one iteration of the loop. */
void      _aio_loop_set_ready_budget   (AioLoop  *loop,
                                        gint64    budget_us);
gsize     _aio_loop_get_stack_size     (AioLoop  *loop);
/* A deadline on the monotonic clock @seconds from now; negative and NaN
 * delays mean now, huge ones saturate instead of overflowing. */
gint64    _aio_loop_seconds_to_deadline (gdouble  seconds);
guint     _aio_loop_next_task_number   (void);
/* Marks the start of a dispatch of one of @loop's sources, as the loop's
 * own sources do: @loop becomes this thread's current loop, and
 * @previous is set to the one that was, for _aio_loop_end_dispatch().
 * FALSE, and nothing to end, when one is under way already (an iteration
 * nested in one of the loop's callbacks), where the caller must run
 * nothing. */
gboolean  _aio_loop_begin_dispatch     (AioLoop  *loop,
                                        AioLoop **previous);
void      _aio_loop_end_dispatch       (AioLoop  *loop,
                                        AioLoop  *previous);

/* Whether the calling thread may touch @loop's loop-thread state now. */
static inline gboolean
_aio_loop_is_current (AioLoop *loop)
{
  return _aio_loop_current == loop;
}

/* Lets the calling thread touch @loop's loop-thread state: it is inside
 * the loop's dispatch, or it is the loop's home thread and takes the
 * context while nobody iterates it (*@acquired is then TRUE).  Returns
 * FALSE when neither holds: another thread runs the loop, and the caller
 * hands its work over through the inbox instead.  Pair with
 * _aio_loop_leave(). */
static inline gboolean
_aio_loop_enter (AioLoop  *loop,
                 gboolean *acquired)
{
  *acquired = FALSE;
  if (_aio_loop_is_current (loop))
    return TRUE;
  if (_aio_loop_is_home_thread (loop) && _aio_loop_acquire (loop))
    {
      *acquired = TRUE;
      return TRUE;
    }
  return FALSE;
}

static inline void
_aio_loop_leave (AioLoop  *loop,
                 gboolean  acquired)
{
  if (acquired)
    _aio_loop_release (loop);
}

G_END_DECLS
