/* aio-loop-sources.c: what an AioLoop does on its GMainContext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The loop's four sources, as the overview of AioLoop (aio-loop.c)
 * describes them: the ready queue, which runs batch after batch and steps
 * aside for the others' turn when it has been busy too long; the others'
 * turn; the timer heap; and the inbox, through which other threads hand
 * work over.  The loop object makes them, sets their priority and closes
 * them through aio-loop-sources-private.h; the rest of the library queues
 * work through aio-loop-private.h. */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-loop-sources-private.h"
#include "aio-private.h"

/* How long one dispatch of the ready queue may run batch after batch
 * before the context polls again. */
#define AIO_LOOP_READY_BUDGET_US 1000

AIO_TLS AioLoop *_aio_loop_current;

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

/* The loop's own code runs, from one of its sources' dispatch (the I/O
 * source's too, through _aio_loop_begin_dispatch()): the loop is this
 * thread's current one, and its sources do nothing in an iteration
 * nested in one of its callbacks.  Returns the loop that was current
 * before, for loop_code_end(). */
static inline AioLoop *
loop_code_begin (AioLoop *self)
{
  AioLoop *previous = _aio_loop_current;

  _aio_loop_current = self;
  self->dispatching = TRUE;
  return previous;
}

static inline void
loop_code_end (AioLoop *self,
              AioLoop *previous)
{
  self->dispatching = FALSE;
  _aio_loop_current = previous;
}

/* Runs batches until the queue is empty or ready_should_yield() says to
 * let the context poll; then, if the queue has been busy for its budget
 * and still has work, asks for the others' turn. */
static void
run_batches (AioLoop *self)
{
  AioLoop *previous = loop_code_begin (self);
  ReadyClock clock = { 0, 0, 1, 0 };
  gint64 now;

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
  loop_code_end (self, previous);

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
_aio_loop_begin_dispatch (AioLoop  *self,
                          AioLoop **previous)
{
  if (self->dispatching)
    return FALSE;
  *previous = loop_code_begin (self);
  return TRUE;
}

void
_aio_loop_end_dispatch (AioLoop *self,
                        AioLoop *previous)
{
  loop_code_end (self, previous);
}

/* ---- the others' turn ---------------------------------------------------- */

/* A source of the lowest priority, ready while the ready queue steps
 * aside.  The context only dispatches it when no other source at all is
 * ready: everybody has had their turn, so it ends the turn and runs the
 * tasks' next batches in the same iteration. */
static gboolean
turn_check (GSource *source)
{
  AioLoop *self = LOOP_OF (source);

  return self->turn != TURN_NONE && self->ready_head != NULL && !self->dispatching;
}

static gboolean
turn_prepare (GSource *source,
              gint    *timeout)
{
  *timeout = -1;
  return turn_check (source);
}

static gboolean
turn_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  AioLoop *self = LOOP_OF (source);

  /* The turn ends, and the ready source's dispatch runs the batches; not
   * in an iteration nested in one of the loop's callbacks, where it does
   * nothing either. */
  if (!self->dispatching)
    self->turn = TURN_NONE;
  return ready_dispatch (source, callback, user_data);
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
  AioLoop *previous;
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

  previous = loop_code_begin (self);

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

  loop_code_end (self, previous);
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
      /* Outside the lock: dropping what the link holds runs destroy
       * notifies and finalizers, which may hand over to a loop again. */
      link->func (link, TRUE);
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
inbox_check (GSource *source)
{
  return g_atomic_int_get (&LOOP_OF (source)->inbox_pending) && !LOOP_OF (source)->dispatching;
}

static gboolean
inbox_prepare (GSource *source,
               gint    *timeout)
{
  *timeout = -1;
  return inbox_check (source);
}

static gboolean
inbox_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  AioLoop *self = _aio_ref (LOOP_OF (source));

  /* In an iteration nested in one of the loop's callbacks: see
   * timer_dispatch(). */
  if (!self->dispatching)
    {
      AioLoop *previous = loop_code_begin (self);

      run_links (inbox_take (self), FALSE);
      loop_code_end (self, previous);
    }
  _aio_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs inbox_funcs = {
  inbox_prepare,
  inbox_check,
  inbox_dispatch,
  NULL, NULL, NULL,
};

/* ---- the loop's part ---------------------------------------------------- */

void
_aio_loop_sources_init (AioLoop *self)
{
  self->ready_budget = AIO_LOOP_READY_BUDGET_US;
  g_mutex_init (&self->inbox_mutex);
}

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

void
_aio_loop_sources_attach (AioLoop *self)
{
  self->ready_source = loop_source_new (self, &ready_funcs, self->priority, "[aio-glib] ready queue");
  self->timer_source = loop_source_new (self, &timer_funcs, self->priority, "[aio-glib] timers");
  self->inbox_source = loop_source_new (self, &inbox_funcs, self->priority, "[aio-glib] inbox");
  /* The lowest priority there is: it runs only when nothing else is
   * ready. */
  self->turn_source = loop_source_new (self, &turn_funcs, G_MAXINT, "[aio-glib] others' turn");
}

void
_aio_loop_sources_set_priority (AioLoop *self,
                                gint     priority)
{
  /* A closed loop has no sources left. */
  if (self->ready_source == NULL)
    return;

  g_source_set_priority (self->ready_source, priority);
  g_source_set_priority (self->timer_source, priority);
  g_source_set_priority (self->inbox_source, priority);
}

gboolean
_aio_loop_has_work_now (AioLoop *self)
{
  return self->ready_head != NULL ||
         g_atomic_int_get (&self->inbox_pending) ||
         (self->heap_len > 0 && self->heap[0]->deadline <= g_get_monotonic_time ());
}

void
_aio_loop_set_ready_budget (AioLoop *self,
                            gint64   budget_us)
{
  self->ready_budget = budget_us;
}

gboolean
_aio_loop_check_open (AioLoop  *self,
                      GError  **error)
{
  if (!g_atomic_int_get (&self->closed))
    return TRUE;

  g_set_error_literal (error, AIO_ERROR, AIO_ERROR_CLOSED, _("The event loop is closed"));
  return FALSE;
}

AioLink *
_aio_loop_close_inbox (AioLoop *self)
{
  AioLink *inbox;

  g_mutex_lock (&self->inbox_mutex);
  g_atomic_int_set (&self->closed, TRUE);
  inbox = self->inbox_head;
  self->inbox_head = self->inbox_tail = NULL;
  g_mutex_unlock (&self->inbox_mutex);

  return inbox;
}

void
_aio_loop_sources_destroy (AioLoop *self)
{
  g_source_destroy (self->ready_source);
  g_source_destroy (self->timer_source);
  g_source_destroy (self->inbox_source);
  g_source_destroy (self->turn_source);
  g_clear_pointer (&self->ready_source, g_source_unref);
  g_clear_pointer (&self->timer_source, g_source_unref);
  g_clear_pointer (&self->inbox_source, g_source_unref);
  g_clear_pointer (&self->turn_source, g_source_unref);
}

void
_aio_loop_sources_discard (AioLoop *self,
                           AioLink *inbox)
{
  self->cut_tail = NULL;
  run_links (inbox, TRUE);
  while (self->ready_head != NULL)
    {
      AioLink *batch = self->ready_head;

      self->ready_head = self->ready_tail = NULL;
      run_links (batch, TRUE);
    }
  while (self->heap_len > 0)
    {
      AioTimer *timer = heap_pop (self);

      timer->func (timer, TRUE);
    }
}

void
_aio_loop_sources_finalize (AioLoop *self)
{
  g_assert (self->ready_head == NULL);
  g_assert (self->heap_len == 0);
  g_free (self->heap);
  g_mutex_clear (&self->inbox_mutex);
}
