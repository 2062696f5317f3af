/* aio-loop.c: AioLoop, asyncio's event loop over a GMainContext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioLoop:
 *
 * The event loop that runs tasks and futures' callbacks on a
 * `GMainContext`.
 *
 * There is at most one loop per `GMainContext`, and it can always be found
 * again from the context ([func@Aio.Loop.ref_for_context]). The loop adds
 * four `GSource`s to its context, whatever the number of tasks, futures
 * and timers:
 *
 * - the **ready queue**: callbacks to run on the loop's next iteration, in
 *   FIFO order. An iteration of the loop is one batch: it runs only what was
 *   queued before it began, so a callback that queues itself again cannot
 *   starve the others. One dispatch of the source runs batch after batch
 *   without polling the context in between — so that a hand-off between
 *   tasks costs less than a `GMainContext` iteration — until nothing is
 *   ready, a timer is due, another thread handed work over, or 1 ms has
 *   passed; then the context polls, and I/O and other sources get their
 *   turn;
 * - the **others' turn**: a source of the lowest priority there is, through
 *   which the ready queue lets every other source have a turn (see below);
 * - the **timer heap**: a binary heap of deadlines in microseconds of the
 *   monotonic clock. Equal deadlines fire in the order they were set. The
 *   context sleeps until the earliest deadline and not a moment less;
 * - the **inbox**: a locked queue through which other threads hand work to
 *   the loop's thread (futures completed by worker threads,
 *   [method@Aio.Loop.call_soon_threadsafe]); pushing to it wakes the
 *   context.
 *
 * A loop whose tasks use sockets ([func@Aio.socket_receive] and its
 * relatives) adds a fifth source, the first time: one `epoll` descriptor
 * in which every socket the loop serves is registered once, so that the
 * context polls one descriptor whatever the number of sockets.
 *
 * ## Sharing the context fairly
 *
 * The ready queue, the timers, the inbox and the sockets' source have the
 * loop's priority ([property@Aio.Loop:priority], `G_PRIORITY_DEFAULT`
 * unless set), like any `GSource`. But a `GMainContext` only dispatches
 * the sources of the highest priority that are ready, and tasks that keep
 * yielding (`aio_yield()`, asyncio's `await asyncio.sleep(0)`) keep the
 * ready queue ready: left at that, GTK's layout and painting
 * (`GDK_PRIORITY_REDRAW`) and every idle would never run. So once the
 * ready queue has been busy for its budget and still has work, it steps
 * aside: the next context iteration goes to whatever else is ready, at
 * any priority, and so on until nothing else is ready or the others have
 * had as long as the tasks had (at least one iteration); then the tasks
 * carry on. When nothing else is ready, stepping aside costs nothing: the
 * others' turn source runs the next batch in the same iteration. Busy
 * tasks thus slow a window down, never freeze it, and a busy source of
 * the loop's priority cannot starve the tasks either.
 *
 * Because these are ordinary sources on the context, work runs whoever
 * iterates it: an application that only calls `g_application_run()` or
 * `g_main_context_iteration()` runs its tasks and timers all the same.
 * [method@Aio.Loop.run_until_complete], [method@Aio.Loop.run_forever],
 * [method@Aio.Loop.stop] and [method@Aio.Loop.close] are conveniences over
 * `g_main_context_iteration()`.
 *
 * A stopped loop can run again; a closed loop is gone for good, and every
 * later use fails with `AIO_ERROR_CLOSED`. Closing cancels nothing by
 * itself: [func@Aio.run] cancels the remaining tasks first. Closing a loop
 * drops the references it holds on tasks that are still pending.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "aio-error.h"
#include "aio-io-private.h"
#include "aio-loop-private.h"
#include "aio-private.h"

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

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_STACK_SIZE,
  PROP_PRIORITY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioLoop, aio_loop, G_TYPE_OBJECT)

/* How long one dispatch of the ready queue may run batch after batch
 * before the context polls again. */
#define AIO_LOOP_READY_BUDGET_US 1000

AIO_TLS AioLoop *_aio_loop_current;

/* ---- the registry: at most one loop per context -------------------------- */

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;

/* Serializes creating loops for existing contexts, so that two threads
 * asking for the same context's loop get the same one. */
static GMutex creation_mutex;

static AioLoop *
registry_lookup (GMainContext *context)
{
  AioLoop *loop = NULL;

  G_LOCK (registry);
  if (registry != NULL)
    {
      loop = g_hash_table_lookup (registry, context);
      if (loop != NULL)
        _aio_ref (loop);
    }
  G_UNLOCK (registry);

  return loop;
}

static void
registry_remove (AioLoop *self)
{
  G_LOCK (registry);
  if (self->registered && registry != NULL &&
      g_hash_table_lookup (registry, self->context) == self)
    g_hash_table_remove (registry, self->context);
  self->registered = FALSE;
  G_UNLOCK (registry);
}

/* ---- following the context ----------------------------------------------- */

/* A loop found from a context (aio_loop_get_default() in a thread that
 * pushed a context of its own, as a _sync wrapper does) lives as long as
 * that context and no longer: it holds no reference on it, and a source
 * with no callbacks, which only the context references, tells it when the
 * context is finalized.  Otherwise each such context, with its wakeup
 * descriptor, would live as long as the process. */
typedef struct
{
  GSource  source;
  /* Borrowed; under the registry lock.  Cleared by whichever comes
   * first: the loop closing, or the context going away. */
  AioLoop *loop;
} ContextWatch;

static void
context_watch_finalize (GSource *source)
{
  ContextWatch *watch = (ContextWatch *) source;
  AioLoop *loop;

  G_LOCK (registry);
  loop = watch->loop;
  watch->loop = NULL;
  if (loop != NULL)
    _aio_ref (loop);
  G_UNLOCK (registry);

  if (loop == NULL)
    return;

  /* The context is being finalized: nobody can iterate it any more, so
   * closing from this thread is safe, and its sources are gone already
   * (destroying them again only clears a flag). */
  registry_remove (loop);
  loop->context_watch = NULL;
  aio_loop_close (loop);
  loop->context = NULL;
  _aio_unref (loop);
}

static GSourceFuncs context_watch_funcs = {
  NULL, NULL, NULL, context_watch_finalize, NULL, NULL,
};

/* Makes @self follow its context instead of keeping it alive. */
static void
follow_context (AioLoop *self)
{
  GSource *source = g_source_new (&context_watch_funcs, sizeof (ContextWatch));

  ((ContextWatch *) source)->loop = self;
  g_source_set_name (source, "[aio-glib] context watch");
  g_source_attach (source, self->context);
  self->context_watch = source;
  g_source_unref (source);          /* the context holds it */

  self->weak_context = TRUE;
  g_main_context_unref (self->context);
}

/* The loop closes: the context may stay, but no longer has to tell us. */
static void
unfollow_context (AioLoop *self)
{
  GSource *source;

  G_LOCK (registry);
  source = self->context_watch;
  self->context_watch = NULL;
  if (source != NULL)
    ((ContextWatch *) source)->loop = NULL;
  G_UNLOCK (registry);

  if (source != NULL)
    g_source_destroy (source);
}

/* ---- the ready queue ----------------------------------------------------- */

typedef struct
{
  GSource  source;
  AioLoop *loop;
} AioLoopSource;

#define LOOP_OF(s) (((AioLoopSource *) (s))->loop)

void
_aio_loop_push_ready (AioLoop *self,
                      AioLink *link)
{
  link->next = NULL;
  if (self->ready_tail != NULL)
    self->ready_tail->next = link;
  else
    self->ready_head = link;
  self->ready_tail = link;
}

/* Where the others' turn stands.  After a busy dispatch the ready queue
 * asks for it (REQUESTED); its next prepare always steps aside (TAKING),
 * and the ones after it too until the others have had @turn_length or
 * the turn source found nothing else ready. */
typedef enum
{
  TURN_NONE,
  TURN_REQUESTED,
  TURN_TAKING,
} OthersTurn;

static gboolean
ready_prepare (GSource *source,
               gint    *timeout)
{
  AioLoop *self = LOOP_OF (source);

  *timeout = -1;
  if (self->ready_head == NULL || self->dispatching)
    return FALSE;
  if (G_LIKELY (self->turn == TURN_NONE))
    return TRUE;

  /* Others' turn: at least one iteration of the context goes to them. */
  *timeout = 0;
  if (self->turn == TURN_REQUESTED)
    {
      self->turn = TURN_TAKING;
      self->turn_started = g_source_get_time (source);
      return FALSE;
    }
  if (g_source_get_time (source) - self->turn_started < self->turn_length)
    return FALSE;

  self->turn = TURN_NONE;
  return TRUE;
}

static gboolean
ready_check (GSource *source)
{
  AioLoop *self = LOOP_OF (source);

  return self->ready_head != NULL && self->turn == TURN_NONE && !self->dispatching;
}

static void
run_links (AioLink  *link,
           gboolean  discard)
{
  while (link != NULL)
    {
      AioLink *next = link->next;

      link->next = NULL;
      link->func (link, discard);
      link = next;
    }
}

/* Between batches the clock is read to see whether a timer is due or the
 * budget is spent.  Reading it costs as much as a small batch (a tenth
 * of a pingpong round trip on a VM), so while batches are quick it is read
 * every few batches only: the stride doubles, up to
 * READY_CLOCK_STRIDE_MAX, as long as the batches between two reads took
 * less than READY_QUICK_US together, and falls back to every batch as soon
 * as they did not.  A timer is then late by at most a few quick batches
 * more than it would be anyway. */
#define READY_CLOCK_STRIDE_MAX 16
#define READY_QUICK_US         50

/* Within a batch, the clock is read every so many callbacks. */
#define READY_BATCH_CHECK      64

typedef struct
{
  gint64 started;     /* first reading, 0 before it */
  gint64 last;        /* last reading */
  guint  stride;      /* batches between readings */
  guint  skip;        /* batches left before the next reading */
} ReadyClock;

/* Reads the clock: whether the dispatch has run for its budget.  The
 * first reading starts the count. */
static gboolean
ready_budget_spent (AioLoop    *self,
                    ReadyClock *clock)
{
  gint64 now = g_get_monotonic_time ();

  if (clock->started == 0)
    clock->started = now;
  clock->last = now;
  return now - clock->started >= self->ready_budget;
}

/* Whether the ready source should hand control back to the context before
 * running another batch: a timer is due, another thread handed work over,
 * the loop is stopping, or the dispatch has run for its budget. */
static gboolean
ready_should_yield (AioLoop    *self,
                    ReadyClock *clock)
{
  gint64 now;

  /* asyncio's stop(): the batch under way finishes, then the loop exits. */
  if (g_atomic_int_get (&self->inbox_pending) || g_atomic_int_get (&self->stopping))
    return TRUE;

  if (clock->skip > 0)
    {
      clock->skip--;
      return FALSE;
    }

  now = g_get_monotonic_time ();
  if (clock->started == 0)
    clock->started = clock->last = now;
  else if (now - clock->last < READY_QUICK_US)
    clock->stride = MIN (clock->stride * 2, READY_CLOCK_STRIDE_MAX);
  else
    clock->stride = 1;
  clock->last = now;
  clock->skip = clock->stride - 1;

  if (self->heap_len > 0 && self->heap[0]->deadline <= now)
    return TRUE;

  return now - clock->started >= self->ready_budget;
}

/* Runs batches until the queue is empty or ready_should_yield() says to
 * let the context poll; then, if the queue has been busy for its budget
 * and still has work, asks for the others' turn. */
static void
run_batches (AioLoop *self)
{
  AioLoop *previous = _aio_loop_current;
  ReadyClock clock = { 0, 0, 1, 0 };
  gint64 now;

  _aio_loop_current = self;
  self->dispatching = TRUE;

  /* Each batch is the whole queue as it stood: what a batch queues runs in
   * the next one, so a callback that keeps requeueing itself cannot starve
   * the others.  Batches follow each other without a poll of the context
   * in between, which is what makes a hand-off between two tasks cost less
   * than a GMainContext iteration; but the dispatch stops as soon as a
   * timer is due or another thread handed work over, and after a budget
   * of time, so that timers, I/O and other sources are never starved. */
  for (;;)
    {
      AioLink *link = self->ready_head;
      AioLink *tail;
      guint n = 0;

      /* The rest of a batch that was cut runs alone, as the batch it is. */
      if (self->cut_tail != NULL)
        {
          tail = self->cut_tail;
          self->cut_tail = NULL;
          self->ready_head = tail->next;
          if (self->ready_head == NULL)
            self->ready_tail = NULL;
          tail->next = NULL;
        }
      else
        {
          tail = self->ready_tail;
          self->ready_head = self->ready_tail = NULL;
        }

      while (link != NULL)
        {
          AioLink *next = link->next;

          link->next = NULL;
          link->func (link, FALSE);
          link = next;

          /* A batch of many slow callbacks (a thousand Python tasks, the
           * first steps of a hundred thousand fibers) can outlast the
           * budget by far: it is cut there, so that other sources get
           * their turn, and what is left of it goes back to the head of
           * the queue, in order, to run next as a batch of its own.  The
           * loop's timers wait for it: they fire between batches, never
           * in the middle of one. */
          if (G_UNLIKELY (++n % READY_BATCH_CHECK == 0) && link != NULL &&
              self->ready_budget > 0 && ready_budget_spent (self, &clock))
            {
              tail->next = self->ready_head;
              if (self->ready_head == NULL)
                self->ready_tail = tail;
              self->ready_head = link;
              self->cut_tail = tail;
              goto out;
            }
        }

      if (self->ready_head == NULL || self->ready_budget == 0)
        break;
      if (ready_should_yield (self, &clock))
        break;
    }

out:
  self->dispatching = FALSE;
  _aio_loop_current = previous;

  if (self->ready_head == NULL)
    {
      self->busy_since = 0;
      return;
    }

  /* Still work to do: the sources of the loop's priority get their turn
   * at the next poll anyway, but those of lower priorities (GTK's
   * painting, idles) only when nothing of higher priority is ready, which
   * busy tasks would never let happen.  So once busy for the budget, step
   * aside for as long as the tasks had.  The clock was read at the end of
   * the budget, or is read here when something else stopped the
   * dispatch. */
  now = clock.last != 0 ? clock.last : g_get_monotonic_time ();
  if (self->busy_since == 0)
    self->busy_since = clock.started != 0 ? clock.started : now;
  if (now - self->busy_since >= self->ready_budget)
    {
      self->turn = TURN_REQUESTED;
      self->turn_length = now - self->busy_since;
      self->busy_since = 0;
    }
}

static gboolean
ready_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  AioLoop *self = _aio_ref (LOOP_OF (source));

  /* In an iteration nested in one of the loop's callbacks: see
   * timer_dispatch(). */
  if (!self->dispatching)
    run_batches (self);
  _aio_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs ready_funcs = {
  ready_prepare,
  ready_check,
  ready_dispatch,
  NULL, NULL, NULL,
};

gboolean
_aio_loop_begin_dispatch (AioLoop *self)
{
  if (self->dispatching)
    return FALSE;
  self->dispatching = TRUE;
  return TRUE;
}

void
_aio_loop_end_dispatch (AioLoop *self)
{
  self->dispatching = FALSE;
}

/* ---- the others' turn ---------------------------------------------------- */

/* A source of the lowest priority, ready while the ready queue steps
 * aside.  The context only dispatches it when no other source at all is
 * ready: everybody has had their turn, so it ends the turn and runs the
 * tasks' next batches in the same iteration. */
static gboolean
turn_prepare (GSource *source,
              gint    *timeout)
{
  AioLoop *self = LOOP_OF (source);

  *timeout = -1;
  return self->turn != TURN_NONE && self->ready_head != NULL && !self->dispatching;
}

static gboolean
turn_check (GSource *source)
{
  AioLoop *self = LOOP_OF (source);

  return self->turn != TURN_NONE && self->ready_head != NULL && !self->dispatching;
}

static gboolean
turn_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  AioLoop *self = _aio_ref (LOOP_OF (source));

  /* In an iteration nested in one of the loop's callbacks: see
   * timer_dispatch(). */
  if (!self->dispatching)
    {
      self->turn = TURN_NONE;
      run_batches (self);
    }
  _aio_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs turn_funcs = {
  turn_prepare,
  turn_check,
  turn_dispatch,
  NULL, NULL, NULL,
};

/* ---- the timer heap ------------------------------------------------------ */

static inline gboolean
timer_before (const AioTimer *a,
              const AioTimer *b)
{
  return a->deadline < b->deadline ||
         (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void
heap_place (AioLoop  *self,
            guint     i,
            AioTimer *timer)
{
  self->heap[i] = timer;
  timer->index = i + 1;
}

static void
heap_sift_up (AioLoop *self,
              guint    i)
{
  AioTimer *timer = self->heap[i];

  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (!timer_before (timer, self->heap[parent]))
        break;
      heap_place (self, i, self->heap[parent]);
      i = parent;
    }
  heap_place (self, i, timer);
}

static void
heap_sift_down (AioLoop *self,
                guint    i)
{
  AioTimer *timer = self->heap[i];

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= self->heap_len)
        break;
      if (child + 1 < self->heap_len && timer_before (self->heap[child + 1], self->heap[child]))
        child++;
      if (!timer_before (self->heap[child], timer))
        break;
      heap_place (self, i, self->heap[child]);
      i = child;
    }
  heap_place (self, i, timer);
}

void
_aio_loop_add_timer (AioLoop  *self,
                     AioTimer *timer,
                     gint64    deadline)
{
  g_assert (timer->index == 0);

  if (self->heap_len == self->heap_size)
    {
      self->heap_size = MAX (64, self->heap_size * 2);
      self->heap = g_renew (AioTimer *, self->heap, self->heap_size);
    }

  timer->deadline = deadline;
  timer->seq = self->timer_seq++;
  self->heap[self->heap_len++] = timer;
  heap_sift_up (self, self->heap_len - 1);
}

void
_aio_loop_remove_timer (AioLoop  *self,
                        AioTimer *timer)
{
  guint i;
  AioTimer *last;

  if (timer->index == 0)
    return;

  i = timer->index - 1;
  g_assert (i < self->heap_len && self->heap[i] == timer);
  timer->index = 0;

  last = self->heap[--self->heap_len];
  if (i == self->heap_len)
    return;

  heap_place (self, i, last);
  if (i > 0 && timer_before (last, self->heap[(i - 1) / 2]))
    heap_sift_up (self, i);
  else
    heap_sift_down (self, i);
}

/* Puts @timer in @old's place in the heap: the same deadline and the same
 * order among equal deadlines, with no sifting. */
void
_aio_loop_replace_timer (AioLoop  *self,
                         AioTimer *old,
                         AioTimer *timer)
{
  guint i;

  g_assert (old->index != 0);
  g_assert (timer->index == 0);

  i = old->index - 1;
  g_assert (i < self->heap_len && self->heap[i] == old);

  timer->deadline = old->deadline;
  timer->seq = old->seq;
  timer->index = old->index;
  self->heap[i] = timer;
  old->index = 0;
}

static AioTimer *
heap_pop (AioLoop *self)
{
  AioTimer *top = self->heap[0];

  _aio_loop_remove_timer (self, top);
  return top;
}

static gboolean
timer_prepare (GSource *source,
               gint    *timeout)
{
  AioLoop *self = LOOP_OF (source);
  gint64 now, wait;

  if (self->heap_len == 0 || self->dispatching || self->cut_tail != NULL)
    {
      *timeout = -1;
      return FALSE;
    }

  now = g_source_get_time (source);
  if (self->heap[0]->deadline <= now)
    {
      *timeout = 0;
      return TRUE;
    }

  /* Round up: poll() counts whole milliseconds, and waking before a
   * deadline would only mean polling again. */
  wait = (self->heap[0]->deadline - now + 999) / 1000;
  *timeout = (gint) MIN (wait, G_MAXINT);
  return FALSE;
}

static gboolean
timer_check (GSource *source)
{
  AioLoop *self = LOOP_OF (source);

  return self->heap_len > 0 && !self->dispatching && self->cut_tail == NULL &&
         self->heap[0]->deadline <= g_source_get_time (source);
}

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  AioLoop *self = _aio_ref (LOOP_OF (source));
  AioLoop *previous = _aio_loop_current;
  guint64 seq_limit = self->timer_seq;
  gint64 now = g_get_monotonic_time ();

  /* Dispatched in the iteration that cut a batch (both were ready when
   * it began): the timers wait for the rest of the batch.  Or dispatched
   * by an iteration nested in one of the loop's callbacks, having been
   * found ready by the iteration around it (GLib does not prepare a
   * source again while it is flagged ready): nothing of the loop's runs
   * in there. */
  if (self->cut_tail != NULL || self->dispatching)
    {
      _aio_unref (self);
      return G_SOURCE_CONTINUE;
    }

  _aio_loop_current = self;
  self->dispatching = TRUE;

  /* Fire everything due, earliest first.  Timers set by these callbacks
   * wait for the next dispatch even when already due, so a callback that
   * re-arms a zero delay cannot keep this loop spinning. */
  while (self->heap_len > 0 &&
         self->heap[0]->deadline <= now &&
         self->heap[0]->seq < seq_limit)
    {
      AioTimer *timer = heap_pop (self);

      timer->func (timer, FALSE);
    }

  self->dispatching = FALSE;
  _aio_loop_current = previous;
  _aio_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
  timer_prepare,
  timer_check,
  timer_dispatch,
  NULL, NULL, NULL,
};

/* ---- the inbox ----------------------------------------------------------- */

gboolean
_aio_loop_push_inbox (AioLoop *self,
                      AioLink *link)
{
  gboolean was_empty;

  g_mutex_lock (&self->inbox_mutex);
  if (g_atomic_int_get (&self->closed))
    {
      g_mutex_unlock (&self->inbox_mutex);
      return FALSE;
    }
  link->next = NULL;
  was_empty = self->inbox_head == NULL;
  if (self->inbox_tail != NULL)
    self->inbox_tail->next = link;
  else
    self->inbox_head = link;
  self->inbox_tail = link;
  g_atomic_int_set (&self->inbox_pending, 1);

  /* Wake the context while still holding the lock, so that close() cannot
   * slip in between and leave us waking a context the loop let go of. */
  if (was_empty)
    g_main_context_wakeup (self->context);
  g_mutex_unlock (&self->inbox_mutex);

  return TRUE;
}

static AioLink *
inbox_take (AioLoop *self)
{
  AioLink *batch;

  g_mutex_lock (&self->inbox_mutex);
  batch = self->inbox_head;
  self->inbox_head = self->inbox_tail = NULL;
  g_atomic_int_set (&self->inbox_pending, 0);
  g_mutex_unlock (&self->inbox_mutex);

  return batch;
}

static gboolean
inbox_prepare (GSource *source,
               gint    *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&LOOP_OF (source)->inbox_pending) && !LOOP_OF (source)->dispatching;
}

static gboolean
inbox_check (GSource *source)
{
  return g_atomic_int_get (&LOOP_OF (source)->inbox_pending) && !LOOP_OF (source)->dispatching;
}

static gboolean
inbox_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  AioLoop *self = _aio_ref (LOOP_OF (source));
  AioLoop *previous = _aio_loop_current;

  /* In an iteration nested in one of the loop's callbacks: see
   * timer_dispatch(). */
  if (self->dispatching)
    {
      _aio_unref (self);
      return G_SOURCE_CONTINUE;
    }

  _aio_loop_current = self;
  self->dispatching = TRUE;
  run_links (inbox_take (self), FALSE);
  self->dispatching = FALSE;
  _aio_loop_current = previous;

  _aio_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs inbox_funcs = {
  inbox_prepare,
  inbox_check,
  inbox_dispatch,
  NULL, NULL, NULL,
};

/* ---- ownership ----------------------------------------------------------- */

/* Takes ownership of the loop's context for the calling thread, when no
 * other thread is iterating it, so that loop-thread state may be touched
 * from outside a dispatch (before the loop first runs, say). */
gboolean
_aio_loop_acquire (AioLoop *self)
{
  if (g_atomic_int_get (&self->closed))
    return FALSE;
  return g_main_context_acquire (self->context);
}

void
_aio_loop_release (AioLoop *self)
{
  g_main_context_release (self->context);
}

/* Whether the calling thread is the loop's own.  Threads that only
 * complete futures must hand over through the inbox instead of taking the
 * context: even briefly held by a worker, it makes the loop's thread fail
 * to run the loop (AIO_ERROR_RUNNING), to queue work outside an iteration,
 * or to iterate at all without blocking. */
gboolean
_aio_loop_is_home_thread (AioLoop *self)
{
  return g_atomic_pointer_get (&self->thread) == (gpointer) g_thread_self ();
}

/* ---- construction -------------------------------------------------------- */

static GSource *
loop_source_new (AioLoop      *self,
                 GSourceFuncs *funcs,
                 gint          priority,
                 const char   *name)
{
  GSource *source = g_source_new (funcs, sizeof (AioLoopSource));

  LOOP_OF (source) = self;
  g_source_set_name (source, name);
  g_source_set_priority (source, priority);
  g_source_set_can_recurse (source, FALSE);
  g_source_attach (source, self->context);
  return source;
}

static void
aio_loop_constructed (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  G_OBJECT_CLASS (aio_loop_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_new ();
  self->thread = g_thread_self ();

  self->ready_source = loop_source_new (self, &ready_funcs, self->priority, "[aio-glib] ready queue");
  self->timer_source = loop_source_new (self, &timer_funcs, self->priority, "[aio-glib] timers");
  self->inbox_source = loop_source_new (self, &inbox_funcs, self->priority, "[aio-glib] inbox");
  /* The lowest priority there is: it runs only when nothing else is
   * ready. */
  self->turn_source = loop_source_new (self, &turn_funcs, G_MAXINT, "[aio-glib] others' turn");

  G_LOCK (registry);
  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);
  if (g_hash_table_lookup (registry, self->context) == NULL)
    {
      g_hash_table_insert (registry, self->context, self);
      self->registered = TRUE;
    }
  G_UNLOCK (registry);

  if (!self->registered)
    g_critical ("AioLoop: the GMainContext %p has a loop already; use aio_loop_ref_for_context()",
                self->context);
}

static void
aio_loop_dispose (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  if (!g_atomic_int_get (&self->closed))
    aio_loop_close (self);

  G_OBJECT_CLASS (aio_loop_parent_class)->dispose (object);
}

static void
aio_loop_finalize (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  g_assert (self->ready_head == NULL);
  g_assert (self->heap_len == 0);
  g_assert (self->io == NULL);
  g_free (self->heap);
  g_mutex_clear (&self->inbox_mutex);
  if (!self->weak_context)
    g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (aio_loop_parent_class)->finalize (object);
}

static void
aio_loop_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  AioLoop *self = AIO_LOOP (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;

    case PROP_STACK_SIZE:
      g_value_set_uint64 (value, self->stack_size);
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_loop_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  AioLoop *self = AIO_LOOP (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;

    case PROP_STACK_SIZE:
      aio_loop_set_stack_size (self, g_value_get_uint64 (value));
      break;

    case PROP_PRIORITY:
      aio_loop_set_priority (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_loop_class_init (AioLoopClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = aio_loop_constructed;
  object_class->dispose = aio_loop_dispose;
  object_class->finalize = aio_loop_finalize;
  object_class->get_property = aio_loop_get_property;
  object_class->set_property = aio_loop_set_property;

  /**
   * AioLoop:context:
   *
   * The `GMainContext` the loop runs on. A loop constructed without one
   * makes a new context.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AioLoop:stack-size:
   *
   * The stack size of the fibers of tasks created on this loop, in bytes;
   * 0 for the default (256 KiB). Stacks are reserved, not committed: a
   * fiber costs the pages it touches.
   *
   * Since: 1.0
   */
  properties[PROP_STACK_SIZE] =
    g_param_spec_uint64 ("stack-size", NULL, NULL,
                         0, G_MAXSIZE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AioLoop:priority:
   *
   * The priority of the loop's sources in its `GMainContext`: when tasks
   * and timers run relative to other sources, as `g_source_set_priority()`
   * sets for any `GSource`. The default is `G_PRIORITY_DEFAULT`, the
   * priority of GDK's events, GIO's callbacks and `g_timeout_add()`: above
   * GTK's layout and painting (`GDK_PRIORITY_REDRAW`) and idles.
   *
   * Whatever the priority, busy tasks let every other source have its
   * turn (see [class@Aio.Loop]): a higher priority makes tasks run first
   * when both are ready, a lower one (say `G_PRIORITY_LOW`) makes them run
   * only when nothing else is ready, behind GTK's work.
   *
   * Since: 1.0
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT - 1, G_PRIORITY_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

void
_aio_loop_set_ready_budget (AioLoop *self,
                            gint64   budget_us)
{
  self->ready_budget = budget_us;
}

static void
aio_loop_init (AioLoop *self)
{
  self->ready_budget = AIO_LOOP_READY_BUDGET_US;
  self->priority = G_PRIORITY_DEFAULT;
  g_mutex_init (&self->inbox_mutex);
  g_queue_init (&self->tasks);
}

/**
 * aio_loop_new:
 *
 * Creates a loop on a new `GMainContext` (asyncio's `new_event_loop()`).
 *
 * To run GIO operations' callbacks on it, the context must be the
 * thread-default one while the loop runs; [method@Aio.Loop.run_forever]
 * and [method@Aio.Loop.run_until_complete] push it for you.
 *
 * Returns: (transfer full): a new loop; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_new (void)
{
  return g_object_new (AIO_TYPE_LOOP, NULL);
}

/**
 * aio_loop_ref_for_context:
 * @context: (nullable): a `GMainContext`, or %NULL for the global default
 *   context
 *
 * Gets the loop of @context, creating it the first time. There is at
 * most one loop per context, so this always returns the same loop for
 * the same context until that loop is closed.
 *
 * A loop made here holds no reference on @context, unless it is the
 * global default context: it lives as long as the context, and is closed
 * when the context is finalized (so a `_sync` wrapper that pushes a
 * context of its own and drops it afterwards leaves no loop behind).
 *
 * Returns: (transfer full): the loop of @context
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_ref_for_context (GMainContext *context)
{
  AioLoop *loop;

  if (context == NULL)
    context = g_main_context_default ();

  if ((loop = registry_lookup (context)) != NULL)
    return loop;

  g_mutex_lock (&creation_mutex);
  loop = registry_lookup (context);
  if (loop == NULL)
    {
      loop = g_object_new (AIO_TYPE_LOOP, "context", context, NULL);
      /* The global default context lives as long as the process. */
      if (context != g_main_context_default ())
        follow_context (loop);
    }
  g_mutex_unlock (&creation_mutex);

  return loop;
}

/**
 * aio_loop_get_default:
 *
 * Gets the loop of the thread-default `GMainContext` (the global default
 * context in the main thread), creating it on first use.
 *
 * That loop is kept alive until it is closed, or until its context is
 * finalized (see [func@Aio.Loop.ref_for_context]), so the pointer stays
 * valid until then.
 *
 * Returns: (transfer none): the default loop of this thread; it belongs to
 *   the thread's context: do not unref it
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_get_default (void)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  AioLoop *loop = aio_loop_ref_for_context (context);
  gboolean keep;

  /* The registry keeps the default loops alive, so that the pointer we
   * return stays valid without the caller holding a reference. */
  G_LOCK (registry);
  keep = !loop->owned_by_registry;
  loop->owned_by_registry = TRUE;
  G_UNLOCK (registry);

  if (!keep)
    _aio_unref (loop);

  g_main_context_unref (context);
  return loop;
}

/**
 * aio_loop_get_running:
 *
 * Gets the loop running in this thread: the one whose
 * [method@Aio.Loop.run_until_complete] or [method@Aio.Loop.run_forever]
 * is on the stack, or whose sources are being dispatched (asyncio's
 * `get_running_loop()`, which raises where this returns %NULL).
 *
 * Returns: (transfer none) (nullable): the running loop, or %NULL; a borrowed
 *   pointer: do not unref it
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_get_running (void)
{
  return _aio_loop_current;
}

AioLoop *
_aio_loop_get_current_or_default (void)
{
  if (_aio_loop_current != NULL)
    return _aio_loop_current;
  return aio_loop_get_default ();
}

/**
 * aio_loop_get_context:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the `GMainContext` @loop runs on.
 *
 * Returns: (transfer none) (nullable): the context, or %NULL once the context
 *   of a loop found with [func@Aio.Loop.ref_for_context] was finalized; it
 *   belongs to @loop: do not unref it
 *
 * Since: 1.0
 */
GMainContext *
aio_loop_get_context (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  return loop->context;
}

/**
 * aio_loop_time:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the loop's time: seconds of the monotonic clock, with microsecond
 * resolution (asyncio's `loop.time()`). [method@Aio.Loop.call_at] takes
 * deadlines on this clock.
 *
 * Returns: the current time in seconds
 *
 * Since: 1.0
 */
gdouble
aio_loop_time (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), 0.0);

  return g_get_monotonic_time () / (gdouble) G_USEC_PER_SEC;
}

/**
 * aio_loop_get_stack_size:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the stack size for the fibers of tasks created on @loop.
 *
 * Returns: the size in bytes, or 0 for the default
 *
 * Since: 1.0
 */
gsize
aio_loop_get_stack_size (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), 0);

  return loop->stack_size;
}

/**
 * aio_loop_set_stack_size:
 * @loop: an [class@Aio.Loop]
 * @stack_size: a size in bytes, or 0 for the default
 *
 * Sets the stack size for the fibers of tasks created on @loop from now
 * on. It is rounded up to whole pages, with a minimum of 16 KiB.
 *
 * Since: 1.0
 */
void
aio_loop_set_stack_size (AioLoop *loop,
                         gsize    stack_size)
{
  g_return_if_fail (AIO_IS_LOOP (loop));

  if (stack_size != 0 && stack_size < 16 * 1024)
    stack_size = 16 * 1024;

  if (loop->stack_size != stack_size)
    {
      loop->stack_size = stack_size;
      g_object_notify_by_pspec (G_OBJECT (loop), properties[PROP_STACK_SIZE]);
    }
}

/**
 * aio_loop_get_priority:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the priority of @loop's sources ([property@Aio.Loop:priority]).
 *
 * Returns: the priority, `G_PRIORITY_DEFAULT` unless set
 *
 * Since: 1.0
 */
gint
aio_loop_get_priority (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), G_PRIORITY_DEFAULT);

  return loop->priority;
}

/**
 * aio_loop_set_priority:
 * @loop: an [class@Aio.Loop]
 * @priority: a `GSource` priority, such as `G_PRIORITY_DEFAULT` or
 *   `G_PRIORITY_LOW`
 *
 * Sets the priority of @loop's sources in its context: its tasks, its
 * timers and the callbacks other threads hand over run at @priority from
 * the next iteration of the context on. See [property@Aio.Loop:priority].
 *
 * Since: 1.0
 */
void
aio_loop_set_priority (AioLoop *loop,
                       gint     priority)
{
  g_return_if_fail (AIO_IS_LOOP (loop));
  /* G_MAXINT is the others' turn's own. */
  g_return_if_fail (priority < G_MAXINT);

  if (loop->priority == priority)
    return;

  loop->priority = priority;
  /* A closed loop has no sources left, only the number to report. */
  if (loop->ready_source != NULL)
    {
      g_source_set_priority (loop->ready_source, priority);
      g_source_set_priority (loop->timer_source, priority);
      g_source_set_priority (loop->inbox_source, priority);
      if (loop->io != NULL)
        _aio_loop_io_set_priority (loop->io, priority);
    }
  g_object_notify_by_pspec (G_OBJECT (loop), properties[PROP_PRIORITY]);
}

gsize
_aio_loop_get_stack_size (AioLoop *loop)
{
  return loop->stack_size;
}

/* ---- running ------------------------------------------------------------- */

gboolean
_aio_loop_check_open (AioLoop  *self,
                      GError  **error)
{
  if (!g_atomic_int_get (&self->closed))
    return TRUE;

  g_set_error_literal (error, AIO_ERROR, AIO_ERROR_CLOSED, _("The event loop is closed"));
  return FALSE;
}

/* Sets up a run of the loop in this thread: refuses to nest inside a
 * running loop, takes the context, and makes it the thread default so
 * that GIO calls made by tasks report back to it. */
gboolean
_aio_loop_begin_run (AioLoop   *self,
                     gboolean  *pushed,
                     AioLoop  **previous,
                     GError   **error)
{
  GMainContext *thread_default;

  if (!_aio_loop_check_open (self, error))
    return FALSE;

  if (self->running || _aio_loop_current == self)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("This event loop is already running"));
      return FALSE;
    }

  if (_aio_loop_current != NULL)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("Cannot run the event loop while another loop is running"));
      return FALSE;
    }

  if (!g_main_context_acquire (self->context))
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("The event loop is running in another thread"));
      return FALSE;
    }

  thread_default = g_main_context_ref_thread_default ();
  *pushed = thread_default != self->context;
  if (*pushed)
    g_main_context_push_thread_default (self->context);
  g_main_context_unref (thread_default);

  g_atomic_pointer_set (&self->thread, g_thread_self ());
  _aio_ref (self);
  self->running = TRUE;
  *previous = _aio_loop_current;
  _aio_loop_current = self;

  return TRUE;
}

void
_aio_loop_end_run (AioLoop  *self,
                   gboolean  pushed,
                   AioLoop  *previous)
{
  _aio_loop_current = previous;
  self->running = FALSE;
  g_atomic_int_set (&self->stopping, FALSE);

  if (pushed)
    g_main_context_pop_thread_default (self->context);
  g_main_context_release (self->context);
  _aio_unref (self);
}

gboolean
_aio_loop_is_stopping (AioLoop *self)
{
  return g_atomic_int_get (&self->stopping);
}

/**
 * aio_loop_stop:
 * @loop: an [class@Aio.Loop]
 *
 * Stops @loop after the iteration under way (asyncio's `stop()`). A
 * stopped loop can run again. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_loop_stop (AioLoop *loop)
{
  g_return_if_fail (AIO_IS_LOOP (loop));

  g_atomic_int_set (&loop->stopping, TRUE);
  if (loop->context != NULL)
    g_main_context_wakeup (loop->context);
}

/**
 * aio_loop_is_running:
 * @loop: an [class@Aio.Loop]
 *
 * Whether @loop's [method@Aio.Loop.run_until_complete] or
 * [method@Aio.Loop.run_forever] is under way.
 *
 * Returns: %TRUE while @loop runs
 *
 * Since: 1.0
 */
gboolean
aio_loop_is_running (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), FALSE);

  return loop->running;
}

/**
 * aio_loop_is_closed:
 * @loop: an [class@Aio.Loop]
 *
 * Whether @loop was closed.
 *
 * Returns: %TRUE once [method@Aio.Loop.close] was called
 *
 * Since: 1.0
 */
gboolean
aio_loop_is_closed (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), TRUE);

  return g_atomic_int_get (&loop->closed);
}

/**
 * aio_loop_close:
 * @loop: an [class@Aio.Loop]
 *
 * Closes @loop for good (asyncio's `close()`): its sources leave the
 * context, queued callbacks and timers are dropped without running, and
 * the loop lets go of the tasks still pending. Every later use fails with
 * `AIO_ERROR_CLOSED`. Closing a closed loop does nothing; closing a
 * running loop is a programmer error.
 *
 * Since: 1.0
 */
void
aio_loop_close (AioLoop *loop)
{
  AioLink *inbox;
  GList *task_link;

  g_return_if_fail (AIO_IS_LOOP (loop));
  g_return_if_fail (!loop->running);
  g_return_if_fail (_aio_loop_current != loop);

  if (g_atomic_int_get (&loop->closed))
    return;

  _aio_ref (loop);

  g_mutex_lock (&loop->inbox_mutex);
  g_atomic_int_set (&loop->closed, TRUE);
  inbox = loop->inbox_head;
  loop->inbox_head = loop->inbox_tail = NULL;
  g_mutex_unlock (&loop->inbox_mutex);

  registry_remove (loop);
  unfollow_context (loop);

  g_source_destroy (loop->ready_source);
  g_source_destroy (loop->timer_source);
  g_source_destroy (loop->inbox_source);
  g_source_destroy (loop->turn_source);
  g_clear_pointer (&loop->ready_source, g_source_unref);
  g_clear_pointer (&loop->timer_source, g_source_unref);
  g_clear_pointer (&loop->inbox_source, g_source_unref);
  g_clear_pointer (&loop->turn_source, g_source_unref);

  /* Sockets' pending operations are dropped like the queued work below. */
  if (loop->io != NULL)
    {
      AioLoopIo *io = g_steal_pointer (&loop->io);

      _aio_loop_io_close (loop, io);
    }

  /* Drop what was queued.  Discarding may finalize futures and tasks, and
   * those may queue nothing more: the loop is closed. */
  loop->cut_tail = NULL;
  run_links (inbox, TRUE);
  while (loop->ready_head != NULL)
    {
      AioLink *batch = loop->ready_head;

      loop->ready_head = loop->ready_tail = NULL;
      run_links (batch, TRUE);
    }
  while (loop->heap_len > 0)
    {
      AioTimer *timer = heap_pop (loop);

      timer->func (timer, TRUE);
    }

  while ((task_link = g_queue_pop_head_link (&loop->tasks)) != NULL)
    {
      gpointer task = task_link->data;

      task_link->data = NULL;
      _aio_unref (task);
    }

  if (loop->owned_by_registry)
    {
      loop->owned_by_registry = FALSE;
      _aio_unref (loop);
    }

  _aio_unref (loop);
}

AioLoopIo **
_aio_loop_get_io (AioLoop *self)
{
  return &self->io;
}

/* ---- tasks --------------------------------------------------------------- */

void
_aio_loop_track_task (AioLoop *self,
                      AioTask *task,
                      GList   *link)
{
  link->data = _aio_ref (task);
  g_queue_push_tail_link (&self->tasks, link);
}

void
_aio_loop_untrack_task (AioLoop *self,
                        GList   *link)
{
  gpointer task = link->data;

  if (task == NULL)
    return;
  g_queue_unlink (&self->tasks, link);
  link->data = NULL;
  _aio_unref (task);
}

GQueue *
_aio_loop_get_tasks (AioLoop *self)
{
  return &self->tasks;
}

guint
_aio_loop_next_task_number (void)
{
  static gint counter;

  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

/* ---- call_soon and friends ----------------------------------------------- */

gint64
_aio_loop_seconds_to_deadline (gdouble seconds)
{
  gint64 now = g_get_monotonic_time ();
  /* Far enough for any program, near enough that adding to it cannot
   * overflow. */
  const gint64 horizon = G_MAXINT64 / 4;

  if (!(seconds > 0))
    return now;
  if (seconds >= (gdouble) (horizon - now) / G_USEC_PER_SEC)
    return horizon;
  return now + (gint64) ceil (seconds * G_USEC_PER_SEC);
}
