/* aio-loop-sources-private.h: between the loop's files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Only the loop's files include this.  aio-loop.c is the loop object:
 * its registry, its context, its properties, running, stopping and
 * closing it, its tasks.  aio-loop-sources.c is what the loop does on its
 * context: the ready queue and the others' turn, the timer heap and the
 * inbox, and their GSources.  aio-io.c is the fifth source, for file
 * descriptors, made on the first watch.  All three work on the instance
 * struct below.  The calls go one way: the object calls into the sources
 * and into aio-io.c, aio-io.c into the sources, and the sources call
 * neither.  The rest of the library goes through aio-loop-private.h.
 */

#pragma once

#include "aio-io-private.h"
#include "aio-loop-private.h"

G_BEGIN_DECLS

struct _AioLoop
{
  GObject       parent_instance;

  /* Owned.  Set at construction, never replaced. */
  GMainContext *context;
  GSource      *ready_source;
  GSource      *timer_source;
  GSource      *inbox_source;
  GSource      *turn_source;

  /* Ready queue: only touched by the thread that owns @context. */
  AioLink      *ready_head;
  AioLink      *ready_tail;
  /* When a batch was cut at the budget (see run_batches()): the last link
   * of what is left of it, at the head of the queue; else NULL. */
  AioLink      *cut_tail;

  /* Timer heap: only touched by the thread that owns @context.  A binary
   * min-heap on (deadline, seq); each timer knows its index. */
  AioTimer    **heap;
  guint         heap_len;
  guint         heap_size;
  guint64       timer_seq;

  /* Inbox: any thread, under @inbox_mutex.  @inbox_pending is read
   * without the lock by the source's prepare and check. */
  GMutex        inbox_mutex;
  AioLink      *inbox_head;
  AioLink      *inbox_tail;
  gint          inbox_pending;

  /* Owned; NULL until the first file descriptor is watched (see
   * aio-io.c).  Loop thread only. */
  AioLoopIo    *io;

  /* Pending tasks, each with a strong reference; the link lives in the
   * task.  Loop thread only. */
  GQueue        tasks;

  gsize         stack_size;

  /* How long one dispatch of the ready source may run batches, in µs;
   * tests set 0 to get one batch per GMainContext iteration. */
  gint64        ready_budget;

  /* Sharing the context (loop thread only).  @busy_since: when the ready
   * queue began to stay non-empty across dispatches, 0 when it is not.
   * @turn: where the others' turn stands (OthersTurn); @turn_started and
   * @turn_length: when it began and how long it may last, in µs. */
  gint64        busy_since;
  gint64        turn_started;
  gint64        turn_length;
  guint         turn;

  /* The priority of the ready, timer and inbox sources. */
  gint          priority;

  /* Atomic: stop() may come from any thread. */
  gint          stopping;
  /* Atomic: read by other threads before they push to the inbox. */
  gint          closed;

  /* Atomic.  The loop's own thread: the one that made it, then the one
   * that last ran it.  Only this thread takes the context from outside a
   * dispatch (see _aio_loop_is_home_thread()).  Compared, never
   * dereferenced. */
  GThread      *thread;

  /* Made by aio_loop_ref_for_context() for a context it did not create:
   * the loop holds no reference on @context and goes away with it, as
   * @context_watch tells (see context_watch_finalize()). */
  GSource      *context_watch;

  /* Inside a dispatch of one of the loop's sources: while set, none of
   * them is ready, so that a task (or a callback) iterating the context
   * itself runs the other sources but never the loop's again.  Loop
   * thread only. */
  gboolean      dispatching;

  guint         running : 1;
  guint         owned_by_registry : 1;
  guint         registered : 1;
  guint         weak_context : 1;
};

/* The sources' part of aio_loop_init(), aio_loop_constructed() (attach
 * them to the context), aio_loop_set_priority(), aio_loop_close() and
 * aio_loop_finalize(). */
void      _aio_loop_sources_init         (AioLoop  *loop);
void      _aio_loop_sources_attach       (AioLoop  *loop);
void      _aio_loop_sources_set_priority (AioLoop  *loop,
                                          gint      priority);
void      _aio_loop_sources_finalize     (AioLoop  *loop);

/* Closing, in aio_loop_close()'s order: marks the loop closed under the
 * inbox's lock, so that no other thread hands anything over after it,
 * and returns what was handed over; then the sources leave the context;
 * then everything queued is dropped without running (@inbox first). */
AioLink  *_aio_loop_close_inbox          (AioLoop  *loop);
void      _aio_loop_sources_destroy      (AioLoop  *loop);
void      _aio_loop_sources_discard      (AioLoop  *loop,
                                          AioLink  *inbox);

G_END_DECLS
