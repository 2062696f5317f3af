/* test-loop.c: AioLoop's queues, timers, running, stopping and closing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <aio-glib.h>
#include <glib-unix.h>

#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-test.h"

/* ---- helpers ------------------------------------------------------------- */

/* The loop's context is not pushed as the thread default (TEST_UNPUSHED):
 * run_until_complete() and run_forever() push it while they run. */

static gint64
usec_now (void)
{
  return g_get_monotonic_time ();
}

static void
never_called (gpointer user_data)
{
  g_error ("a callback that must not run ran (%p)", user_data);
}

static void
cancel_future (gpointer user_data)
{
  aio_future_cancel (user_data, NULL);
}

static void
count_future_done (AioFuture *future,
                   gpointer   user_data)
{
  (*(guint *) user_data)++;
}

static void
stop_loop (gpointer user_data)
{
  aio_loop_stop (user_data);
}

static void
resolve_future (gpointer user_data)
{
  aio_future_resolve (user_data);
}

static void
schedule (AioLoop     *loop,
          AioCallback  callback,
          gpointer     user_data)
{
  aio_handle_unref (aio_loop_call_soon (loop, callback, user_data, NULL));
}

static void
schedule_later (AioLoop     *loop,
                gdouble      delay,
                AioCallback  callback,
                gpointer     user_data)
{
  aio_handle_unref (aio_loop_call_later (loop, delay, callback, user_data, NULL));
}

/* A source that only counts the context's iterations: its prepare runs
 * once per iteration. */
typedef struct
{
  GSource  source;
  guint   *count;
} ProbeSource;

static gboolean
probe_prepare (GSource *source,
               gint    *timeout)
{
  (*((ProbeSource *) source)->count)++;
  *timeout = -1;
  return FALSE;
}

static gboolean
probe_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs probe_funcs = { probe_prepare, NULL, probe_dispatch, NULL, NULL, NULL };

static GSource *
probe_attach (GMainContext *context,
              guint        *count)
{
  GSource *source = g_source_new (&probe_funcs, sizeof (ProbeSource));

  ((ProbeSource *) source)->count = count;
  g_source_attach (source, context);
  return source;
}

static void
probe_remove (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

/* ---- which loop ---------------------------------------------------------- */

static gpointer
default_in_thread (gpointer user_data)
{
  GMainContext *context = g_main_context_new ();
  AioLoop *loop;

  g_main_context_push_thread_default (context);
  loop = aio_loop_get_default ();
  g_assert_true (aio_loop_get_context (loop) == context);
  g_assert_true (aio_loop_get_default () == loop);
  g_assert_true (loop != user_data);
  aio_loop_close (loop);   /* lets go of the registry's reference */
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

static void
test_default_thread_default (Fixture       *f,
                             gconstpointer  data)
{
  GMainContext *context = fixture_context (f);
  AioLoop *loop;

  g_test_summary ("get_default() (asyncio's get_event_loop()) is the loop of "
                  "the thread-default context: the same loop every time, "
                  "another one in a thread with another context");

  g_main_context_push_thread_default (context);
  g_assert_true (aio_loop_get_default () == f->loop);
  g_assert_true (aio_loop_get_default () == f->loop);
  loop = aio_loop_ref_for_context (context);
  g_assert_true (loop == f->loop);
  g_object_unref (loop);

  aio_test_run_in_thread (default_in_thread, f->loop);

  g_main_context_pop_thread_default (context);
}

static void
test_default_ref_for_context (Fixture       *f,
                              gconstpointer  data)
{
  GMainContext *context = g_main_context_new ();
  AioLoop *first, *again, *after_close;

  g_test_summary ("ref_for_context() finds a context's one loop again, makes "
                  "it on first use, and makes a new one once it is closed");

  g_assert_true (aio_loop_get_context (f->loop) != context);
  again = aio_loop_ref_for_context (fixture_context (f));
  g_assert_true (again == f->loop);
  g_object_unref (again);

  first = aio_loop_ref_for_context (context);
  g_assert_true (aio_loop_get_context (first) == context);
  again = aio_loop_ref_for_context (context);
  g_assert_true (again == first);
  g_object_unref (again);

  aio_loop_close (first);
  after_close = aio_loop_ref_for_context (context);
  g_assert_true (after_close != first);
  g_assert_false (aio_loop_is_closed (after_close));
  g_assert_true (aio_loop_get_context (after_close) == context);

  aio_loop_close (after_close);
  g_assert_finalize_object (after_close);
  g_assert_finalize_object (first);
  g_main_context_unref (context);
}

static void
follows_context_body (AioTask  *task,
                      gpointer  user_data)
{
  /* Not a sleep: waking from one makes the process-wide yield future,
   * which holds the global default loop (see default/global). */
  g_assert_true (aio_await (aio_future_new_resolved (), NULL));
}

/* What a _sync wrapper does: push a context of its own, run a task on
 * its default loop until done, pop the context and drop it. */
static gpointer
sync_call_in_thread (gpointer user_data)
{
  GMainContext *context = g_main_context_new ();
  AioLoop *loop, *held;
  AioTask *task;

  g_main_context_push_thread_default (context);
  loop = aio_loop_get_default ();
  g_object_add_weak_pointer (G_OBJECT (loop), (gpointer *) &loop);
  task = aio_create_task (follows_context_body, NULL, NULL);
  while (!aio_future_is_done ((AioFuture *) task))
    g_main_context_iteration (context, TRUE);
  g_assert_finalize_object (task);
  g_main_context_pop_thread_default (context);

  /* A loop somebody holds is closed with its context, and freed once
   * let go of. */
  held = aio_loop_ref_for_context (context);
  g_assert_true (held == loop);
  g_main_context_unref (context);
  g_assert_nonnull (loop);
  g_assert_true (aio_loop_is_closed (held));
  g_assert_null (aio_loop_get_context (held));
  g_object_unref (held);

  g_assert_null (loop);
  return NULL;
}

static void
test_default_follows_context (Fixture       *f,
                              gconstpointer  data)
{
  g_test_summary ("The default loop of a temporary thread-default context (what a "
                  "_sync wrapper pushes) goes away with the context instead of "
                  "keeping it, and its descriptor, alive");

  guint before;

  aio_test_run_in_thread (sync_call_in_thread, NULL);
  before = aio_test_count_open_fds ();
  for (guint i = 0; i < 20; i++)
    aio_test_run_in_thread (sync_call_in_thread, NULL);
  g_assert_cmpuint (aio_test_count_open_fds (), ==, before);
}

typedef struct
{
  Fixture  *f;
  AioLoop  *running;
  gboolean  is_running;
  GMainContext *thread_default;
  gboolean  done;
} Running;

static void
record_running (gpointer user_data)
{
  Running *r = user_data;

  r->running = aio_loop_get_running ();
  r->is_running = aio_loop_is_running (r->f->loop);
  r->thread_default = g_main_context_get_thread_default ();
  r->done = TRUE;
}

static void
record_running_future (AioFuture *future,
                       gpointer   user_data)
{
  record_running (user_data);
}

static void
test_running (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Running r = { f, };
  AioFuture *future;

  g_test_summary ("get_running() (get_running_loop()) is NULL outside the loop "
                  "and the loop in its callbacks, timers and done callbacks, "
                  "whether run_* or a bare g_main_context_iteration() drives it");

  g_assert_null (aio_loop_get_running ());
  g_assert_false (aio_loop_is_running (f->loop));

  /* run_until_complete: call_soon. */
  future = aio_future_new_for_loop (f->loop);
  schedule (f->loop, record_running, &r);
  schedule (f->loop, resolve_future, future);
  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_assert_true (r.done);
  g_assert_true (r.running == f->loop);
  g_assert_true (r.is_running);
  /* The loop's context is the thread default while it runs. */
  g_assert_true (r.thread_default == fixture_context (f));
  g_assert_null (aio_loop_get_running ());
  g_assert_false (aio_loop_is_running (f->loop));
  g_assert_null (g_main_context_get_thread_default ());
  g_assert_finalize_object (future);

  /* run_forever: a timer. */
  memset (&r, 0, sizeof r);
  r.f = f;
  schedule_later (f->loop, 0.001, record_running, &r);
  schedule_later (f->loop, 0.002, stop_loop, f->loop);
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_true (r.running == f->loop);
  g_assert_true (r.is_running);
  g_assert_null (aio_loop_get_running ());

  /* Bare iteration: a done callback and a call_soon.  The loop is "running"
   * for get_running() while it dispatches, but no run_* is under way. */
  memset (&r, 0, sizeof r);
  r.f = f;
  future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (future, record_running_future, &r, NULL);
  aio_future_resolve (future);
  iterate_until (f, &r.done);
  g_assert_true (r.running == f->loop);
  g_assert_false (r.is_running);
  g_assert_null (aio_loop_get_running ());
  g_assert_finalize_object (future);
}

/* ---- call_soon ----------------------------------------------------------- */

typedef struct
{
  AioLoop *loop;
  GString *log;
  guint    requeues;
  char     letter;
} Logger;

static void
log_letter (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, l->letter);
}

static void
test_call_soon_fifo (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Logger loggers[26];

  g_test_summary ("call_soon() callbacks run in the order they were scheduled "
                  "(FIFO), all on the next iteration");

  for (guint i = 0; i < G_N_ELEMENTS (loggers); i++)
    {
      loggers[i].log = log;
      loggers[i].letter = 'a' + i;
      schedule (f->loop, log_letter, &loggers[i]);
    }
  g_assert_cmpstr (log->str, ==, "");
  g_main_context_iteration (fixture_context (f), FALSE);
  g_assert_cmpstr (log->str, ==, "abcdefghijklmnopqrstuvwxyz");
  g_assert_false (g_main_context_pending (fixture_context (f)));
}

static void
requeue_self (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 'a');
  if (l->requeues++ < 3)
    schedule (l->loop, requeue_self, l);
}

static void
log_c (gpointer user_data)
{
  g_string_append_c (((Logger *) user_data)->log, 'c');
}

static void
log_b_then_c (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 'b');
  schedule (l->loop, log_c, l);
}

typedef struct
{
  AioLoop   *loop;
  AioFuture *until;
  guint      spins;
} Spinner;

static void
spin (gpointer user_data)
{
  Spinner *s = user_data;

  s->spins++;
  if (!aio_future_is_done (s->until))
    schedule (s->loop, spin, s);
}

static gboolean
idle_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_call_soon_no_starvation (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Logger l = { f->loop, log, 0, 0 };
  Spinner s = { f->loop, NULL, 0 };
  gboolean idle_ran = FALSE;
  GSource *idle;

  g_test_summary ("A drain of the ready queue runs only what was queued before "
                  "it began, so a callback that requeues itself cannot starve "
                  "the others, timers or other sources");

  /* With no budget, one GMainContext iteration is one batch: the log
   * shows what each batch ran. */
  _aio_loop_set_ready_budget (f->loop, 0);
  schedule (f->loop, requeue_self, &l);
  schedule (f->loop, log_b_then_c, &l);
  for (guint i = 0; i < 6; i++)
    {
      g_main_context_iteration (fixture_context (f), FALSE);
      g_string_append_c (log, '|');
    }
  g_assert_cmpstr (log->str, ==, "ab|ac|a|a|||");

  /* With the default budget the same batches, in the same order, run one
   * after the other in a single dispatch. */
  _aio_loop_set_ready_budget (f->loop, 1000);
  g_string_truncate (log, 0);
  memset (&l, 0, sizeof l);
  l.loop = f->loop;
  l.log = log;
  schedule (f->loop, requeue_self, &l);
  schedule (f->loop, log_b_then_c, &l);
  g_main_context_iteration (fixture_context (f), FALSE);
  g_string_append_c (log, '|');
  g_assert_cmpstr (log->str, ==, "abacaa|");

  /* A callback that requeues itself until a timer fires: the timer fires,
   * and so does an idle source of lower priority than the loop's. */
  s.until = aio_loop_sleep (f->loop, 0.01);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, idle_flag, &idle_ran, NULL);
  g_source_attach (idle, fixture_context (f));
  schedule (f->loop, spin, &s);
  g_assert_true (aio_loop_run_until_complete (f->loop, s.until, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (s.spins, >, 0);
  /* The idle source only runs when nothing of higher priority is ready;
   * the spinner always is, so it may or may not have had its turn. */
  drain (f);
  g_assert_true (idle_ran);
  g_source_unref (idle);
  g_assert_finalize_object (s.until);
}

/* ---- timers -------------------------------------------------------------- */

typedef struct
{
  AioLoop   *loop;
  GString   *log;
  char       letter;
  gint64     not_before;   /* µs, monotonic */
  AioHandle *handle;
  gboolean   early;
  guint     *remaining;
  AioFuture *all_done;
} Timed;

static void
timed_fire (gpointer user_data)
{
  Timed *t = user_data;

  if (usec_now () < t->not_before)
    t->early = TRUE;
  if (t->handle != NULL && aio_loop_time (t->loop) < aio_handle_get_when (t->handle))
    t->early = TRUE;
  g_string_append_c (t->log, t->letter);
  if (--*t->remaining == 0)
    aio_future_resolve (t->all_done);
}

static void
timed_later (Timed     *t,
             AioLoop   *loop,
             GString   *log,
             char       letter,
             gdouble    delay,
             guint     *remaining,
             AioFuture *all_done)
{
  t->loop = loop;
  t->log = log;
  t->letter = letter;
  t->remaining = remaining;
  t->all_done = all_done;
  t->not_before = usec_now () + (gint64) (MAX (delay, 0) * G_USEC_PER_SEC);
  t->handle = aio_loop_call_later (loop, delay, timed_fire, t, NULL);
  (*remaining)++;
}

static void
test_call_later_order (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *all_done = aio_future_new_for_loop (f->loop);
  guint remaining = 0;
  Timed t[5] = { { 0, }, };
  gdouble before, after;

  g_test_summary ("call_later() callbacks run in deadline order and never "
                  "before their delay has passed; zero and negative delays run "
                  "at once, in the order set");

  timed_later (&t[0], f->loop, log, 'c', 0.03, &remaining, all_done);
  before = aio_loop_time (f->loop);
  timed_later (&t[1], f->loop, log, 'a', 0.01, &remaining, all_done);
  after = aio_loop_time (f->loop);
  timed_later (&t[2], f->loop, log, '0', 0.0, &remaining, all_done);
  timed_later (&t[3], f->loop, log, 'b', 0.02, &remaining, all_done);
  timed_later (&t[4], f->loop, log, 'n', -1.0, &remaining, all_done);

  /* A timer handle knows when it fires, on the loop's clock: its delay
   * after the moment it was set (bracketed by two readings, since the
   * loop's clock is in microseconds, hence the 1 µs of slack). */
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), >=, before + 0.01 - 1e-6);
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), <=, after + 0.01 + 1e-6);
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), <, aio_handle_get_when (t[3].handle));

  g_assert_true (aio_loop_run_until_complete (f->loop, all_done, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "0nabc");
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      g_assert_false (t[i].early);
      g_assert_false (aio_handle_is_cancelled (t[i].handle));
      aio_handle_unref (t[i].handle);
    }
  g_assert_finalize_object (all_done);
}

static void
test_call_at_order (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *all_done = aio_future_new_for_loop (f->loop);
  guint remaining = 0;
  Timed t[40] = { { 0, }, };
  gdouble when;

  g_test_summary ("call_at() callbacks never run before their time on the "
                  "loop's clock (loop.time()), and those set for the same time "
                  "run in the order they were set");

  when = aio_loop_time (f->loop) + 0.02;
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      Timed *timed = &t[i];

      /* Half for the same time, in between some for other times. */
      timed->loop = f->loop;
      timed->log = log;
      timed->remaining = &remaining;
      timed->all_done = all_done;
      if (i % 2 == 0)
        {
          timed->letter = 'A' + i / 2;
          timed->not_before = (gint64) ceil (when * G_USEC_PER_SEC);
          timed->handle = aio_loop_call_at (f->loop, when, timed_fire, timed, NULL);
          /* asyncio's TimerHandle.when() is the time given to call_at(). */
          g_assert_cmpfloat_with_epsilon (aio_handle_get_when (timed->handle), when, 1e-6);
        }
      else
        {
          gdouble other = when + (i % 4 == 1 ? 0.01 : -0.01);

          timed->letter = i % 4 == 1 ? '+' : '-';
          timed->not_before = (gint64) ceil (other * G_USEC_PER_SEC);
          timed->handle = aio_loop_call_at (f->loop, other, timed_fire, timed, NULL);
        }
      remaining++;
    }

  g_assert_true (aio_loop_run_until_complete (f->loop, all_done, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "----------ABCDEFGHIJKLMNOPQRST++++++++++");
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      g_assert_false (t[i].early);
      aio_handle_unref (t[i].handle);
    }
  g_assert_finalize_object (all_done);
}

typedef struct
{
  AioLoop   *loop;
  guint      index;
  gint64     not_before;
  AioHandle *handle;
  guint     *fired;
  guint     *order;
  AioFuture *all_done;
  guint      total;
} RandomTimer;

static void
random_timer_fire (gpointer user_data)
{
  RandomTimer *t = user_data;

  if (usec_now () < t->not_before)
    g_error ("timer %u fired %" G_GINT64_FORMAT " µs early",
             t->index, t->not_before - usec_now ());
  t->order[(*t->fired)++] = t->index;
  if (*t->fired == t->total)
    aio_future_resolve (t->all_done);
}

static void
test_timers_random (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint n = 10000;
  RandomTimer *timers = g_new0 (RandomTimer, n);
  guint *order = g_new0 (guint, n);
  AioFuture *all_done = aio_future_new_for_loop (f->loop);
  guint fired = 0;

  g_test_summary ("10 000 timers with random delays (0..0.2 s) fire in "
                  "deadline order, ties in the order set, and none early");

  for (guint i = 0; i < n; i++)
    {
      gdouble delay = g_test_rand_double_range (0.0, 0.2);
      RandomTimer *t = &timers[i];

      t->loop = f->loop;
      t->index = i;
      t->fired = &fired;
      t->order = order;
      t->all_done = all_done;
      t->total = n;
      t->not_before = usec_now () + (gint64) (delay * G_USEC_PER_SEC);
      t->handle = aio_loop_call_later (f->loop, delay, random_timer_fire, t, NULL);
    }

  g_assert_true (aio_loop_run_until_complete (f->loop, all_done, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fired, ==, n);

  for (guint k = 1; k < n; k++)
    {
      RandomTimer *prev = &timers[order[k - 1]];
      RandomTimer *cur = &timers[order[k]];
      gdouble prev_when = aio_handle_get_when (prev->handle);
      gdouble cur_when = aio_handle_get_when (cur->handle);

      if (prev_when > cur_when || (prev_when == cur_when && prev->index > cur->index))
        g_error ("timer %u (at %.6f) fired before timer %u (at %.6f)",
                 prev->index, prev_when, cur->index, cur_when);
    }

  for (guint i = 0; i < n; i++)
    aio_handle_unref (timers[i].handle);
  g_free (timers);
  g_free (order);
  g_assert_finalize_object (all_done);
}

static void
test_timers_many_pending (Fixture       *f,
                          gconstpointer  data)
{
  GMainContext *context = fixture_context (f);
  const guint n = 100000;
  AioFuture **sleeps = g_new (AioFuture *, n);
  GSource *before, *after;
  guint before_id, after_id, live = 0;

  g_test_summary ("100 000 pending sleeps cost 100 000 heap entries, not "
                  "GSources: the context keeps the loop's four sources");

  before = g_idle_source_new ();
  before_id = g_source_attach (before, context);

  for (guint i = 0; i < n; i++)
    sleeps[i] = aio_loop_sleep (f->loop, 3600.0 + i * 1e-3);

  /* Source ids are handed out per context, in increasing order: had the
   * sleeps attached sources, the next id would be far above. */
  after = g_idle_source_new ();
  after_id = g_source_attach (after, context);
  g_assert_cmpuint (after_id, ==, before_id + 1);

  for (guint id = 1; id <= after_id; id++)
    if (g_main_context_find_source_by_id (context, id) != NULL)
      live++;
  g_assert_cmpuint (live, ==, 4 + 2);

  probe_remove (before);
  probe_remove (after);

  /* Nothing fires early, and iterating costs nothing per sleep. */
  g_main_context_iteration (context, FALSE);
  g_assert_false (aio_future_is_done (sleeps[0]));

  /* Cancelling takes each out of the heap, so nothing holds them. */
  for (guint i = 0; i < n; i++)
    g_assert_true (aio_future_cancel (sleeps[i], NULL));
  for (guint i = 0; i < n; i++)
    {
      g_assert_true (aio_future_is_cancelled (sleeps[i]));
      g_assert_finalize_object (sleeps[i]);
    }
  g_free (sleeps);
}

/* ---- handles ------------------------------------------------------------- */

static void
test_handle_cancel (Fixture       *f,
                    gconstpointer  data)
{
  GObject *soon_data = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *timer_data = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *soon_weak = soon_data, *timer_weak = timer_data;
  AioHandle *soon, *timer, *ran;
  guint runs = 0, ran_runs = 0;
  gboolean flag = FALSE;

  g_test_summary ("Handle.cancel() on call_soon and call_later handles "
                  "prevents the run and frees the callback's data at once; "
                  "cancelling a handle that ran does nothing");

  g_object_add_weak_pointer (soon_data, (gpointer *) &soon_weak);
  g_object_add_weak_pointer (timer_data, (gpointer *) &timer_weak);

  soon = aio_loop_call_soon (f->loop, aio_test_count, &runs, NULL);
  aio_handle_unref (soon);
  soon = aio_loop_call_soon (f->loop, never_called, soon_data, g_object_unref);
  timer = aio_loop_call_later (f->loop, 0.001, never_called, timer_data, g_object_unref);
  ran = aio_loop_call_soon (f->loop, aio_test_count, &ran_runs, NULL);
  g_assert_cmpfloat (aio_handle_get_when (soon), ==, 0.0);
  g_assert_cmpfloat (aio_handle_get_when (timer), >, 0.0);

  g_assert_false (aio_handle_is_cancelled (soon));
  aio_handle_cancel (soon);
  g_assert_true (aio_handle_is_cancelled (soon));
  g_assert_null (soon_weak);
  aio_handle_cancel (timer);
  g_assert_true (aio_handle_is_cancelled (timer));
  g_assert_null (timer_weak);

  /* Cancelling twice is harmless. */
  aio_handle_cancel (soon);
  aio_handle_cancel (timer);

  schedule_later (f->loop, 0.005, aio_test_set_flag, &flag);
  iterate_until (f, &flag);
  g_assert_cmpuint (runs, ==, 1);
  g_assert_cmpuint (ran_runs, ==, 1);

  /* Too late to cancel one that ran. */
  aio_handle_cancel (ran);
  g_assert_false (aio_handle_is_cancelled (ran));

  aio_handle_unref (soon);
  aio_handle_unref (timer);
  aio_handle_unref (ran);
}

typedef struct
{
  AioLoop   *loop;
  GThread   *loop_thread;
  GThread   *ran_in;
  AioFuture *future;
  guint      destroyed;
  GThread   *destroyed_in;
} Threadsafe;

static void
threadsafe_run (gpointer user_data)
{
  Threadsafe *t = user_data;

  t->ran_in = g_thread_self ();
  g_assert_true (aio_loop_get_running () == t->loop);
  aio_future_resolve (t->future);
}

static void
threadsafe_destroy (gpointer user_data)
{
  Threadsafe *t = user_data;

  t->destroyed++;
  t->destroyed_in = g_thread_self ();
}

static gpointer
call_soon_threadsafe_later (gpointer user_data)
{
  Threadsafe *t = user_data;

  /* Long enough for the loop to block in poll() with nothing to do. */
  g_usleep (G_USEC_PER_SEC / 20);
  aio_handle_unref (aio_loop_call_soon_threadsafe (t->loop, threadsafe_run, t, threadsafe_destroy));
  return NULL;
}

static gpointer
call_soon_threadsafe_and_cancel (gpointer user_data)
{
  Threadsafe *t = user_data;
  AioHandle *handle;

  handle = aio_loop_call_soon_threadsafe (t->loop, never_called, t, threadsafe_destroy);
  aio_handle_cancel (handle);
  aio_handle_unref (handle);
  return NULL;
}

static void
test_call_soon_threadsafe (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Threadsafe t = { f->loop, g_thread_self (), };
  GThread *thread;

  g_test_summary ("call_soon_threadsafe() from another thread wakes a loop "
                  "blocked with nothing to do and runs in the loop's thread; "
                  "its handle can be cancelled from that thread");

  t.future = aio_future_new_for_loop (f->loop);
  thread = g_thread_new ("caller", call_soon_threadsafe_later, &t);
  g_assert_true (aio_loop_run_until_complete (f->loop, t.future, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_true (t.ran_in == t.loop_thread);
  g_assert_cmpuint (t.destroyed, ==, 1);
  g_assert_true (t.destroyed_in == t.loop_thread);
  g_assert_finalize_object (t.future);

  /* Cancelled by the thread that scheduled it, before the loop ran. */
  t.destroyed = 0;
  t.destroyed_in = NULL;
  thread = g_thread_new ("canceller", call_soon_threadsafe_and_cancel, &t);
  g_thread_join (thread);
  g_assert_cmpuint (t.destroyed, ==, 1);
  g_assert_true (t.destroyed_in == thread);
  drain (f);
  g_assert_cmpuint (t.destroyed, ==, 1);

  /* From the loop's own thread it works as well. */
  t.ran_in = NULL;
  t.destroyed = 0;
  t.future = aio_future_new_for_loop (f->loop);
  aio_handle_unref (aio_loop_call_soon_threadsafe (f->loop, threadsafe_run, &t, threadsafe_destroy));
  g_assert_true (aio_loop_run_until_complete (f->loop, t.future, &error));
  g_assert_true (t.ran_in == t.loop_thread);
  g_assert_cmpuint (t.destroyed, ==, 1);
  g_assert_finalize_object (t.future);
}

/* ---- sleep --------------------------------------------------------------- */

typedef struct
{
  guint     runs;
  gboolean  in_call;
  gboolean  ran_in_call;
} SleepWatch;

static void
sleep_done (AioFuture *future,
            gpointer   user_data)
{
  SleepWatch *w = user_data;

  w->runs++;
  if (w->in_call)
    w->ran_in_call = TRUE;
}

static void
check_sleep_zero (Fixture *f,
                  gdouble  seconds)
{
  SleepWatch w = { 0, };
  AioFuture *future;

  w.in_call = TRUE;
  future = aio_loop_sleep (f->loop, seconds);
  aio_future_add_done_callback (future, sleep_done, &w, NULL);
  w.in_call = FALSE;
  g_assert_false (aio_future_is_done (future));

  /* One iteration completes the sleep and, the loop driving it, runs its
   * done callbacks in that same iteration. */
  g_main_context_iteration (fixture_context (f), FALSE);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_cmpuint (w.runs, ==, 1);
  g_assert_false (w.ran_in_call);
  g_assert_false (g_main_context_pending (fixture_context (f)));
  g_assert_finalize_object (future);
}

static void
test_sleep_zero (Fixture       *f,
                 gconstpointer  data)
{
  g_test_summary ("sleep(0) yields exactly one iteration: after one "
                  "g_main_context_iteration() the future is resolved and its "
                  "done callback has run");

  check_sleep_zero (f, 0.0);
}

static void
test_sleep_negative (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("A negative sleep acts as sleep(0), as asyncio's does");

  check_sleep_zero (f, -1.0);
  check_sleep_zero (f, -INFINITY);
}

static void
test_sleep_nan (Fixture       *f,
                gconstpointer  data)
{
  AioFuture *future;

  g_test_summary ("A NaN delay is a programmer error: a critical and no future "
                  "(asyncio raises ValueError from the timer heap)");

  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*isnan*");
  future = aio_loop_sleep (f->loop, NAN);
  g_test_assert_expected_messages ();
  g_assert_null (future);

  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*isnan*");
  future = aio_sleep (NAN);
  g_test_assert_expected_messages ();
  g_assert_null (future);

  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*isnan*");
  g_assert_null (aio_loop_call_later (f->loop, NAN, aio_test_count, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*isnan*");
  g_assert_null (aio_loop_call_at (f->loop, NAN, aio_test_count, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
test_sleep_huge (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GMainContext *context = fixture_context (f);
  const gdouble delays[] = { 1e300, G_MAXDOUBLE, INFINITY, 1e12 };
  AioFuture *huge[G_N_ELEMENTS (delays)];
  AioHandle *handles[G_N_ELEMENTS (delays)];
  AioFuture *short_sleep;
  guint iterations = 0;
  GSource *probe;

  g_test_summary ("A huge delay (1e300 s, infinity) does not overflow: the "
                  "sleep stays pending, the timer is far in the future, and "
                  "the loop still blocks until its other timers are due");

  for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
    {
      huge[i] = aio_loop_sleep (f->loop, delays[i]);
      handles[i] = aio_loop_call_later (f->loop, delays[i], never_called, "fired", NULL);
      g_assert_cmpfloat (aio_handle_get_when (handles[i]), >, aio_loop_time (f->loop) + 1e9);
    }

  g_main_context_iteration (context, FALSE);
  g_main_context_iteration (context, FALSE);

  /* A 50 ms sleep next to them: were a huge deadline to wrap around to
   * the past, or to a zero poll timeout, the context would spin. */
  short_sleep = aio_loop_sleep (f->loop, 0.05);
  probe = probe_attach (context, &iterations);
  g_assert_true (aio_loop_run_until_complete (f->loop, short_sleep, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (iterations, <, 10);
  probe_remove (probe);

  for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
    {
      g_assert_false (aio_future_is_done (huge[i]));
      g_assert_true (aio_future_cancel (huge[i], NULL));
      g_assert_finalize_object (huge[i]);
      aio_handle_cancel (handles[i]);
      aio_handle_unref (handles[i]);
    }
  g_assert_finalize_object (short_sleep);
}

static void
test_sleep_cancel (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SleepWatch w = { 0, };
  AioFuture *future, *later;

  g_test_summary ("Cancelling a sleep cancels the future at once, runs its done "
                  "callbacks on the next iteration, and lets go of its timer");

  future = aio_loop_sleep (f->loop, 0.01);
  aio_future_add_done_callback (future, sleep_done, &w, NULL);
  g_assert_true (aio_future_cancel (future, "wake up"));
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_cmpstr (aio_future_get_error (future)->message, ==, "wake up");
  g_assert_cmpuint (w.runs, ==, 0);
  g_main_context_iteration (fixture_context (f), FALSE);
  g_assert_cmpuint (w.runs, ==, 1);
  g_assert_false (aio_future_cancel (future, NULL));

  /* The deadline passing later changes nothing. */
  later = aio_loop_sleep (f->loop, 0.02);
  g_assert_true (aio_loop_run_until_complete (f->loop, later, &error));
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_cmpuint (w.runs, ==, 1);
  g_assert_finalize_object (later);
  g_assert_finalize_object (future);

  /* Cancelled before its first iteration, a zero sleep stays cancelled. */
  future = aio_loop_sleep (f->loop, 0);
  g_assert_true (aio_future_cancel (future, NULL));
  drain (f);
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_finalize_object (future);

  /* Cancelled from inside the loop. */
  future = aio_loop_sleep (f->loop, 10);
  schedule (f->loop, cancel_future, future);
  g_assert_false (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_finalize_object (future);
}

static void
test_sleep_value (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT, out = G_VALUE_INIT;
  AioFuture *future;
  gint64 start = usec_now ();

  g_test_summary ("sleep(delay, result) resolves with a copy of the result, "
                  "not before the delay, on the running loop");

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "morning");
  g_main_context_push_thread_default (fixture_context (f));
  future = aio_sleep_value (0.01, &value);
  g_main_context_pop_thread_default (fixture_context (f));
  g_value_unset (&value);
  g_assert_true (aio_future_get_loop (future) == f->loop);

  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_assert_cmpint (usec_now () - start, >=, 10000);
  g_assert_true (aio_future_get_value (future, &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "morning");
  g_value_unset (&out);
  g_assert_finalize_object (future);
}

/* ---- running and stopping ------------------------------------------------ */

static void
test_stop_run_again (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint runs = 0;
  AioFuture *future;

  g_test_summary ("stop() from a callback ends run_forever(); a stopped loop "
                  "runs again, with run_until_complete() or run_forever()");

  schedule (f->loop, aio_test_count, &runs);
  schedule (f->loop, stop_loop, f->loop);
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (runs, ==, 1);
  g_assert_false (aio_loop_is_running (f->loop));
  g_assert_false (aio_loop_is_closed (f->loop));

  future = aio_loop_sleep (f->loop, 0.005);
  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (future);

  schedule_later (f->loop, 0.005, aio_test_count, &runs);
  schedule_later (f->loop, 0.01, stop_loop, f->loop);
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_cmpuint (runs, ==, 2);
}

static gpointer
stop_from_thread (gpointer user_data)
{
  g_usleep (G_USEC_PER_SEC / 50);
  aio_loop_stop (user_data);
  return NULL;
}

static void
test_stop_from_thread (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GThread *thread;

  g_test_summary ("stop() from another thread wakes a run_forever() blocked "
                  "with nothing to do");

  thread = g_thread_new ("stopper", stop_from_thread, f->loop);
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
}

static void
test_stop_before_run (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  Logger l = { f->loop, log, 0, 0 };
  AioHandle *far;
  gint64 start;

  g_test_summary ("stop() before run_forever() makes it run one iteration "
                  "without blocking and return, as asyncio's does");

  schedule (f->loop, log_b_then_c, &l);
  far = aio_loop_call_later (f->loop, 30.0, never_called, "fired", NULL);
  aio_loop_stop (f->loop);

  start = usec_now ();
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_no_error (error);
  g_assert_cmpint (usec_now () - start, <, G_USEC_PER_SEC);
  /* One iteration: b ran, the c it queued waits for the next. */
  g_assert_cmpstr (log->str, ==, "b");

  /* The stop was used up: the loop runs normally again. */
  schedule (f->loop, stop_loop, f->loop);
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_cmpstr (log->str, ==, "bc");

  aio_handle_cancel (far);
  aio_handle_unref (far);
}

static void
test_stop_run_until_complete (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future = aio_future_new_for_loop (f->loop);

  g_test_summary ("run_until_complete() stopped before its future is done fails "
                  "with AIO_ERROR_STOPPED ('Event loop stopped before Future "
                  "completed') and leaves the future pending");

  schedule (f->loop, stop_loop, f->loop);
  g_assert_false (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_STOPPED);
  g_clear_error (&error);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (aio_loop_is_running (f->loop));

  /* And it can be waited for again. */
  schedule (f->loop, resolve_future, future);
  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (future);

  /* A rejected future's error comes out of run_until_complete(). */
  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  g_assert_false (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_finalize_object (future);
}

typedef struct
{
  AioLoop   *loop;
  AioLoop   *other;
  AioFuture *future;
  AioFuture *other_future;
  GError    *same_until;
  GError    *same_forever;
  GError    *other_until;
  gboolean   done;
} Nested;

static void
run_nested (gpointer user_data)
{
  Nested *n = user_data;

  g_assert_false (aio_loop_run_until_complete (n->loop, n->future, &n->same_until));
  g_assert_false (aio_loop_run_forever (n->loop, &n->same_forever));
  g_assert_false (aio_loop_run_until_complete (n->other, n->other_future, &n->other_until));
  n->done = TRUE;
}

static void
check_nested (Nested *n)
{
  g_assert_true (n->done);
  g_assert_error (n->same_until, AIO_ERROR, AIO_ERROR_RUNNING);
  g_assert_error (n->same_forever, AIO_ERROR, AIO_ERROR_RUNNING);
  g_assert_error (n->other_until, AIO_ERROR, AIO_ERROR_RUNNING);
  g_clear_error (&n->same_until);
  g_clear_error (&n->same_forever);
  g_clear_error (&n->other_until);
  n->done = FALSE;
}

static void
test_run_nested (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Nested n = { f->loop, aio_loop_new (), NULL, };
  AioFuture *sleep;

  g_test_summary ("Running a loop from inside a running loop fails with "
                  "AIO_ERROR_RUNNING ('Cannot run the event loop while another "
                  "loop is running'), never a nested main loop");

  n.future = aio_future_new_for_loop (f->loop);
  n.other_future = aio_future_new_for_loop (n.other);
  sleep = aio_loop_sleep (f->loop, 0.001);
  schedule (f->loop, run_nested, &n);
  g_assert_true (aio_loop_run_until_complete (f->loop, sleep, &error));
  g_assert_no_error (error);
  check_nested (&n);

  /* Inside a dispatch driven by a bare iteration, too. */
  schedule (f->loop, run_nested, &n);
  iterate_until (f, &n.done);
  check_nested (&n);

  g_assert_false (aio_future_is_done (n.future));
  g_assert_finalize_object (sleep);
  g_assert_finalize_object (n.future);
  g_assert_finalize_object (n.other_future);
  aio_loop_close (n.other);
  g_assert_finalize_object (n.other);
}

/* ---- closing ------------------------------------------------------------- */

#define EXPECT_CLOSED() \
  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*closed*")

static void
test_close (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint runs = 0;

  g_test_summary ("A closed loop is gone for good: run_* fail with "
                  "AIO_ERROR_CLOSED, scheduling is a critical returning NULL, "
                  "and closing again does nothing");

  g_assert_false (aio_loop_is_closed (f->loop));
  aio_loop_close (f->loop);
  g_assert_true (aio_loop_is_closed (f->loop));

  g_assert_false (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (aio_loop_run_forever (f->loop, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_clear_error (&error);

  EXPECT_CLOSED ();
  g_assert_null (aio_loop_call_soon (f->loop, aio_test_count, &runs, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CLOSED ();
  g_assert_null (aio_loop_call_later (f->loop, 0.0, aio_test_count, &runs, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CLOSED ();
  g_assert_null (aio_loop_call_at (f->loop, aio_loop_time (f->loop), aio_test_count, &runs, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CLOSED ();
  g_assert_null (aio_loop_call_soon_threadsafe (f->loop, aio_test_count, &runs, NULL));
  g_test_assert_expected_messages ();
  EXPECT_CLOSED ();
  g_assert_null (aio_loop_sleep (f->loop, 0.0));
  g_test_assert_expected_messages ();
  EXPECT_CLOSED ();
  g_assert_null (aio_loop_sleep (f->loop, 1.0));
  g_test_assert_expected_messages ();

  aio_loop_close (f->loop);
  aio_loop_stop (f->loop);   /* harmless */
  g_assert_true (aio_loop_is_closed (f->loop));
  g_assert_cmpuint (runs, ==, 0);

  /* A future of the closed loop can still be completed and read. */
  aio_future_resolve_int64 (future, 4);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 4);
  g_assert_finalize_object (future);
}

static void
test_close_drops_queued (Fixture       *f,
                         gconstpointer  data)
{
  guint soon_destroyed = 0, timer_destroyed = 0, threadsafe_destroyed = 0;
  AioFuture *resolved, *sleeping;
  guint callback_runs = 0;

  g_test_summary ("Closing drops queued callbacks and timers without running "
                  "them, freeing their data, and cancels nothing by itself");

  aio_handle_unref (aio_loop_call_soon (f->loop, never_called, &soon_destroyed, aio_test_count));
  aio_handle_unref (aio_loop_call_later (f->loop, 0.0, never_called, &timer_destroyed, aio_test_count));
  aio_handle_unref (aio_loop_call_soon_threadsafe (f->loop, never_called,
                                                   &threadsafe_destroyed, aio_test_count));
  resolved = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (resolved, count_future_done, &callback_runs, NULL);
  aio_future_resolve (resolved);
  sleeping = aio_loop_sleep (f->loop, 0.0);

  aio_loop_close (f->loop);
  g_assert_cmpuint (soon_destroyed, ==, 1);
  g_assert_cmpuint (timer_destroyed, ==, 1);
  g_assert_cmpuint (threadsafe_destroyed, ==, 1);
  g_assert_cmpuint (callback_runs, ==, 0);
  g_assert_true (aio_future_is_resolved (resolved));
  g_assert_false (aio_future_is_done (sleeping));

  g_assert_finalize_object (resolved);
  g_assert_finalize_object (sleeping);
}

/* ---- threads ------------------------------------------------------------- */

#define N_ROUNDS 20

typedef struct _Peer Peer;
struct _Peer
{
  char        name;
  AioLoop    *loop;
  GThread    *thread;
  Peer       *other;
  AioFuture  *rounds[N_ROUNDS];
  AioFuture  *finished;
  guint       timers_fired;
  guint       wrong;
  GString    *log;
  GMutex     *mutex;
  GCond      *cond;
  guint      *ready;
};

typedef struct
{
  Peer  *peer;
  guint  round;
} PeerStep;

static void
peer_check (Peer *peer)
{
  if (aio_loop_get_running () != peer->loop || g_thread_self () != peer->thread)
    peer->wrong++;
}

/* After a short sleep on our loop, complete the other peer's future of
 * this round (A) or of the next one (B). */
static void
peer_slept (AioFuture *sleep,
            gpointer   user_data)
{
  PeerStep *step = user_data;
  Peer *peer = step->peer;
  guint next = peer->name == 'A' ? step->round : step->round + 1;

  peer_check (peer);
  peer->timers_fired++;
  if (next < N_ROUNDS)
    aio_future_resolve (peer->other->rounds[next]);
  if (step->round == N_ROUNDS - 1)
    aio_future_resolve (peer->finished);
}

static void
peer_round (AioFuture *future,
            gpointer   user_data)
{
  PeerStep *step = user_data;
  AioFuture *sleep;

  peer_check (step->peer);
  g_mutex_lock (step->peer->mutex);
  g_string_append_printf (step->peer->log, "%c%u", step->peer->name, step->round);
  g_mutex_unlock (step->peer->mutex);

  sleep = aio_loop_sleep (step->peer->loop, 0.001);
  aio_future_add_done_callback (sleep, peer_slept, g_memdup2 (step, sizeof *step), g_free);
  g_object_unref (sleep);
}

static gpointer
peer_main (gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr(GError) error = NULL;

  peer->thread = g_thread_self ();
  peer->loop = aio_loop_new ();
  for (guint i = 0; i < N_ROUNDS; i++)
    {
      PeerStep step = { peer, i };

      peer->rounds[i] = aio_future_new_for_loop (peer->loop);
      aio_future_add_done_callback (peer->rounds[i], peer_round,
                                    g_memdup2 (&step, sizeof step), g_free);
    }
  peer->finished = aio_future_new_for_loop (peer->loop);

  /* Both loops exist before either completes the other's futures. */
  g_mutex_lock (peer->mutex);
  (*peer->ready)++;
  g_cond_broadcast (peer->cond);
  while (*peer->ready < 2)
    g_cond_wait (peer->cond, peer->mutex);
  g_mutex_unlock (peer->mutex);

  if (peer->name == 'A')
    aio_future_resolve (peer->rounds[0]);

  g_assert_true (aio_loop_run_until_complete (peer->loop, peer->finished, &error));
  g_assert_no_error (error);
  g_assert_null (aio_loop_get_running ());

  return NULL;
}

static void
test_threads_two_loops (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  GMutex mutex;
  GCond cond;
  guint ready = 0;
  Peer a = { 'A', }, b = { 'B', };
  GThread *threads[2];
  GString *expected = g_string_new (NULL);

  g_test_summary ("Two loops run in two threads at once, each with its own "
                  "timers and callbacks, handing futures to each other");

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  a.other = &b;
  b.other = &a;
  a.log = b.log = log;
  a.mutex = b.mutex = &mutex;
  a.cond = b.cond = &cond;
  a.ready = b.ready = &ready;

  threads[0] = g_thread_new ("loop-a", peer_main, &a);
  threads[1] = g_thread_new ("loop-b", peer_main, &b);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);

  for (guint i = 0; i < N_ROUNDS; i++)
    g_string_append_printf (expected, "A%uB%u", i, i);
  g_assert_cmpstr (log->str, ==, expected->str);
  g_string_free (expected, TRUE);

  g_assert_cmpuint (a.wrong, ==, 0);
  g_assert_cmpuint (b.wrong, ==, 0);
  g_assert_cmpuint (a.timers_fired, ==, N_ROUNDS);
  g_assert_cmpuint (b.timers_fired, ==, N_ROUNDS);
  g_assert_true (a.loop != b.loop);

  for (Peer *p = &a; p != NULL; p = p == &a ? &b : NULL)
    {
      for (guint i = 0; i < N_ROUNDS; i++)
        g_assert_finalize_object (p->rounds[i]);
      g_assert_finalize_object (p->finished);
      aio_loop_close (p->loop);
      g_assert_finalize_object (p->loop);
    }

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

/* ---- driven by someone else ---------------------------------------------- */

typedef struct
{
  AioLoop  *loop;
  gboolean  soon;
  gboolean  later;
  gboolean  slept;
  gboolean  wrong;
} Driven;

static void
driven_soon (gpointer user_data)
{
  Driven *d = user_data;

  d->soon = TRUE;
  d->wrong |= aio_loop_get_running () != d->loop;
}

static void
driven_later (gpointer user_data)
{
  Driven *d = user_data;

  d->later = TRUE;
  d->wrong |= aio_loop_get_running () != d->loop;
}

static void
driven_slept (AioFuture *future,
              gpointer   user_data)
{
  Driven *d = user_data;

  d->slept = TRUE;
  d->wrong |= aio_loop_get_running () != d->loop;
}

static void
drive (GMainContext *context,
       Driven       *d)
{
  while (!(d->soon && d->later && d->slept))
    g_main_context_iteration (context, TRUE);
  g_assert_false (d->wrong);
}

static void
test_iteration_own_context (Fixture       *f,
                            gconstpointer  data)
{
  Driven d = { f->loop, };
  AioFuture *sleep;

  g_test_summary ("Callbacks, timers and sleeps run whoever iterates the "
                  "loop's context: a bare g_main_context_iteration(), no run_*");

  schedule (f->loop, driven_soon, &d);
  schedule_later (f->loop, 0.01, driven_later, &d);
  sleep = aio_loop_sleep (f->loop, 0.005);
  aio_future_add_done_callback (sleep, driven_slept, &d, NULL);

  drive (fixture_context (f), &d);
  g_assert_true (aio_future_is_resolved (sleep));
  g_assert_finalize_object (sleep);
}

static void
test_iteration_global_default (Fixture       *f,
                               gconstpointer  data)
{
  AioLoop *loop, *again, *renewed;
  AioLoop *weak, *renewed_weak;
  AioFuture *sleep;
  Driven d = { NULL, };

  g_test_summary ("The default loop of the main thread runs on the global "
                  "default context, driven by g_main_context_iteration(NULL); "
                  "closed, it is freed, and get_default() makes a new one");

  g_assert_null (g_main_context_get_thread_default ());
  loop = aio_loop_get_default ();
  g_assert_true (aio_loop_get_context (loop) == g_main_context_default ());
  g_assert_true (aio_loop_get_default () == loop);
  again = aio_loop_ref_for_context (NULL);
  g_assert_true (again == loop);
  g_object_unref (again);

  d.loop = loop;
  aio_handle_unref (aio_loop_call_soon (loop, driven_soon, &d, NULL));
  aio_handle_unref (aio_loop_call_later (loop, 0.01, driven_later, &d, NULL));
  /* No loop given and none running: aio_sleep() picks the default. */
  sleep = aio_sleep (0.005);
  g_assert_true (aio_future_get_loop (sleep) == loop);
  aio_future_add_done_callback (sleep, driven_slept, &d, NULL);
  drive (NULL, &d);
  g_assert_finalize_object (sleep);

  weak = loop;
  g_object_add_weak_pointer (G_OBJECT (loop), (gpointer *) &weak);
  aio_loop_close (loop);
  g_assert_null (weak);

  renewed = aio_loop_get_default ();
  g_assert_nonnull (renewed);
  g_assert_false (aio_loop_is_closed (renewed));
  g_assert_true (aio_loop_get_context (renewed) == g_main_context_default ());
  renewed_weak = renewed;
  g_object_add_weak_pointer (G_OBJECT (renewed), (gpointer *) &renewed_weak);
  aio_loop_close (renewed);
  g_assert_null (renewed_weak);
}

static void
test_time (Fixture       *f,
           gconstpointer  data)
{
  gdouble t0, t1;
  gint64 before, after;

  g_test_summary ("loop.time() is the monotonic clock in seconds, with "
                  "microsecond resolution, and never goes back");

  before = g_get_monotonic_time ();
  t0 = aio_loop_time (f->loop);
  after = g_get_monotonic_time ();
  g_assert_cmpfloat (t0 * G_USEC_PER_SEC, >=, (gdouble) before - 1);
  g_assert_cmpfloat (t0 * G_USEC_PER_SEC, <=, (gdouble) after + 1);

  g_usleep (2000);
  t1 = aio_loop_time (f->loop);
  g_assert_cmpfloat (t1 - t0, >=, 0.002);
}

static gpointer
resolve_in_thread (gpointer data)
{
  aio_future_resolve_int64 (data, 7);
  return NULL;
}

static void
count_callback (AioFuture *future,
                gpointer   user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_run_until_complete_callbacks (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(AioFuture) future = aio_future_new_for_loop (f->loop);
  g_autoptr(AioFuture) other = aio_future_new_for_loop (f->loop);
  g_autoptr(GError) error = NULL;
  GThread *thread;
  guint count = 0;

  g_test_summary ("asyncio: run_until_complete() returns once the future's done "
                  "callbacks added before it have run, even when another thread "
                  "completed the future before the loop ran; and it refuses a "
                  "future of another loop");

  aio_future_add_done_callback (future, count_callback, &count, NULL);
  aio_future_add_done_callback (future, count_callback, &count, NULL);
  thread = g_thread_new ("resolver", resolve_in_thread, future);
  g_thread_join (thread);
  g_assert_true (aio_future_is_done (future));
  g_assert_cmpuint (count, ==, 0);

  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);

  /* A future done before the run still gets its callbacks run first. */
  aio_future_resolve (other);
  aio_future_add_done_callback (other, count_callback, &count, NULL);
  g_assert_true (aio_loop_run_until_complete (f->loop, other, NULL));
  g_assert_cmpuint (count, ==, 3);

  {
    g_autoptr(AioLoop) loop2 = aio_loop_new ();
    g_autoptr(AioFuture) foreign = aio_future_new_for_loop (loop2);

    g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*aio_future_get_loop (future) == loop*");
    g_assert_false (aio_loop_run_until_complete (f->loop, foreign, NULL));
    g_test_assert_expected_messages ();
    aio_future_cancel (foreign, NULL);
    aio_loop_close (loop2);
  }
}

/* ---- fairness of back-to-back batches ------------------------------------ */

typedef struct
{
  AioLoop  *loop;
  gboolean  stop;
  guint64   spins;
  gint64    io_at;
  gint64    timer_at;
  gint64    idle_at;
  guint64   spins_at_io;
  guint64   spins_at_timer;
} Fair;

static void
spin_task (AioTask  *task,
           gpointer  user_data)
{
  Fair *fair = user_data;

  while (!fair->stop)
    {
      fair->spins++;
      g_assert_true (aio_yield (NULL));
    }
}

static void
fair_timer (gpointer user_data)
{
  Fair *fair = user_data;

  fair->timer_at = g_get_monotonic_time ();
  fair->spins_at_timer = fair->spins;
}

static gboolean
fair_io (gint         fd,
         GIOCondition condition,
         gpointer     user_data)
{
  Fair *fair = user_data;
  char byte;

  g_assert_cmpint (read (fd, &byte, 1), ==, 1);
  fair->io_at = g_get_monotonic_time ();
  fair->spins_at_io = fair->spins;
  /* Set from here rather than at the start, so that it cannot fall due
   * in the same iteration as the fd, whatever the machine's load. */
  aio_handle_unref (aio_loop_call_later (fair->loop, 0.005, fair_timer, fair, NULL));
  return G_SOURCE_REMOVE;
}

static void
fair_check (gpointer user_data)
{
  Fair *fair = user_data;

  if (fair->io_at != 0 && fair->timer_at != 0)
    fair->stop = TRUE;
  else
    aio_handle_unref (aio_loop_call_later (fair->loop, 0.001, fair_check, fair, NULL));
}

static void
test_fairness (Fixture       *f,
               gconstpointer  data)
{
  Fair fair = { f->loop, };
  int fds[2];
  AioTask *spinner;
  GSource *watch;

  g_test_summary ("Batches run back to back within a budget: a task that "
                  "yields forever still lets an fd watch of the same "
                  "priority and a timer run promptly");

  g_assert_no_errno (pipe (fds));
  spinner = aio_loop_create_task (f->loop, spin_task, &fair, NULL);

  watch = g_unix_fd_source_new (fds[0], G_IO_IN);
  g_source_set_callback (watch, G_SOURCE_FUNC (fair_io), &fair, NULL);
  g_source_attach (watch, fixture_context (f));

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  aio_handle_unref (aio_loop_call_later (f->loop, 0.001, fair_check, &fair, NULL));

  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));

  /* The fd and the timer ran while the spinner was spinning (it stops
   * only once both have run, so a starved watch or timer would keep it
   * spinning until the test's timeout), and the spinner went on between
   * the two.  No bound on how long they waited: that depends on the
   * machine's speed (under Valgrind a budget's batch is slow), not on
   * fairness. */
  g_assert_cmpint (fair.timer_at - fair.io_at, >=, 5000);
  g_assert_cmpuint (fair.spins_at_timer, >, fair.spins_at_io);

  g_source_destroy (watch);
  g_source_unref (watch);
  close (fds[0]);
  close (fds[1]);
  g_assert_finalize_object (spinner);
}


/* ---- fairness towards lower priorities ----------------------------------- */

typedef struct
{
  gboolean stop;
  guint    spins;
  guint    limit;
  guint    turns;
  guint    stop_after;
} Share;

static void
share_task (AioTask  *task,
            gpointer  user_data)
{
  Share *share = user_data;

  while (!share->stop && share->spins < share->limit)
    {
      share->spins++;
      g_assert_true (aio_yield (NULL));
    }
}

static gboolean
share_source (gpointer user_data)
{
  Share *share = user_data;

  if (++share->turns == share->stop_after)
    share->stop = TRUE;
  return G_SOURCE_CONTINUE;
}

static GSource *
share_attach (Fixture  *f,
              Share    *share,
              gint      priority)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, share_source, share, NULL);
  g_source_attach (source, fixture_context (f));
  return source;
}

static void
share_detach (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
test_fairness_lower_priorities_per_turn (Fixture       *f,
                                         gconstpointer  data)
{
  const gint priorities[] = {
    G_PRIORITY_DEFAULT + 1,       /* GDK's event flush */
    G_PRIORITY_HIGH_IDLE + 20,    /* GDK_PRIORITY_REDRAW: layout and paint */
    G_PRIORITY_DEFAULT_IDLE,
    G_PRIORITY_LOW,
  };

  g_test_summary ("A task that yields forever (asyncio's 'await sleep(0)' "
                  "loop) lets sources of every lower priority run: with no "
                  "budget, each batch of the tasks is followed by one turn of "
                  "the others, counted per task iteration, not per second");

  /* One batch per dispatch: the others get a turn after each. */
  _aio_loop_set_ready_budget (f->loop, 0);

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      Share share = { FALSE, 0, 1000, 0, 0 };
      GSource *other = share_attach (f, &share, priorities[i]);
      AioTask *spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);

      g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
      g_test_message ("priority %d: %u turns for %u task iterations",
                      priorities[i], share.turns, share.spins);
      g_assert_cmpuint (share.spins, ==, 1000);
      /* One turn after each batch, give or take the first and last. */
      g_assert_cmpuint (share.turns, >=, 999);
      g_assert_cmpuint (share.turns, <=, 1001);

      share_detach (other);
      g_assert_finalize_object (spinner);
    }
}

static void
test_fairness_lower_priorities_budget (Fixture       *f,
                                       gconstpointer  data)
{
  const gint priorities[] = { G_PRIORITY_HIGH_IDLE + 20, G_PRIORITY_DEFAULT_IDLE };

  g_test_summary ("With the default budget, tasks that yield forever still "
                  "let an idle and a GDK_PRIORITY_REDRAW source run, again "
                  "and again, while they keep most of the loop");

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      /* Ten turns of the other source stop the spinners, long before the
       * limit that only stops them if it never runs: each turn comes
       * after a budget of 1 ms, far fewer iterations than that even on a
       * fast machine. */
      Share share = { FALSE, 0, 20 * 1000 * 1000, 0, 10 };
      GSource *other = share_attach (f, &share, priorities[i]);
      AioTask *spinners[8];
      g_autoptr(AioFuture) all = NULL;

      for (guint k = 0; k < G_N_ELEMENTS (spinners); k++)
        spinners[k] = aio_loop_create_task (f->loop, share_task, &share, NULL);
      all = aio_gather (FALSE,
                        AIO_FUTURE (g_object_ref (spinners[0])), AIO_FUTURE (g_object_ref (spinners[1])),
                        AIO_FUTURE (g_object_ref (spinners[2])), AIO_FUTURE (g_object_ref (spinners[3])),
                        AIO_FUTURE (g_object_ref (spinners[4])), AIO_FUTURE (g_object_ref (spinners[5])),
                        AIO_FUTURE (g_object_ref (spinners[6])), AIO_FUTURE (g_object_ref (spinners[7])),
                        NULL);
      g_assert_true (aio_loop_run_until_complete (f->loop, all, NULL));
      g_test_message ("priority %d: %u turns for %u task iterations",
                      priorities[i], share.turns, share.spins);
      g_assert_true (share.stop);
      g_assert_cmpuint (share.turns, >=, 10);
      g_assert_cmpuint (share.spins, <, share.limit);

      share_detach (other);
      g_clear_pointer (&all, g_object_unref);
      for (guint k = 0; k < G_N_ELEMENTS (spinners); k++)
        g_assert_finalize_object (spinners[k]);
    }
}

static void
test_fairness_busy_default_source (Fixture       *f,
                                   gconstpointer  data)
{
  Share share = { FALSE, 0, 1000, 0, 0 };
  GSource *busy;
  AioTask *spinner;

  g_test_summary ("A source of the loop's priority that is always ready "
                  "does not starve tasks: they share the iterations");

  _aio_loop_set_ready_budget (f->loop, 0);
  busy = share_attach (f, &share, G_PRIORITY_DEFAULT);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);

  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
  g_assert_cmpuint (share.spins, ==, 1000);
  /* The same priority: both run in every iteration, and the busy source
   * alone in the iterations the tasks give away. */
  g_assert_cmpuint (share.turns, >=, 1000);
  g_assert_cmpuint (share.turns, <=, 2 * (1000 + 2));

  share_detach (busy);
  g_assert_finalize_object (spinner);
}

static void
test_fairness_no_others (Fixture       *f,
                         gconstpointer  data)
{
  Share share = { FALSE, 0, 100, 0, 0 };
  GMainContext *context = fixture_context (f);
  AioTask *spinner;
  guint iterations = 0;

  g_test_summary ("When nothing else is ready, giving the others a turn costs "
                  "no iteration: each iteration of the context still runs one "
                  "batch of the tasks");

  _aio_loop_set_ready_budget (f->loop, 0);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);
  while (!aio_future_is_done (AIO_FUTURE (spinner)))
    {
      g_main_context_iteration (context, FALSE);
      iterations++;
    }
  /* 101 steps of the task: 100 yields and the return. */
  g_assert_cmpuint (share.spins, ==, 100);
  g_assert_cmpuint (iterations, ==, 101);

  drain (f);
  g_assert_finalize_object (spinner);
}

typedef struct
{
  AioLoop *loop;
  GString *log;
  guint    ran;
  guint    index[200];
} Slow;

static void
slow_queued (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "queued ");
}

static void
slow_callback (gpointer user_data)
{
  guint *index = user_data;
  Slow *slow = G_STRUCT_MEMBER_P (index, -G_STRUCT_OFFSET (Slow, index[*index]));
  gint64 until = g_get_monotonic_time () + 20;

  /* Each callback takes 20 µs of the budget, whatever the machine: the
   * batch outlasts it. */
  while (g_get_monotonic_time () < until)
    ;
  g_assert_cmpuint (*index, ==, slow->ran);
  slow->ran++;
  if (*index == 0)
    {
      g_string_append (slow->log, "first ");
      schedule (slow->loop, slow_queued, slow);
    }
  else if (*index == G_N_ELEMENTS (slow->index) - 1)
    g_string_append (slow->log, "last ");
}

static gboolean
slow_idle (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "idle ");
  return G_SOURCE_REMOVE;
}

static void
slow_timer (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "timer ");
}

static void
test_fairness_cut_batch (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Slow slow = { f->loop, log, 0, };
  AioHandle *timer;
  GSource *idle;

  g_test_summary ("A batch of slow callbacks that outlasts the budget is cut: "
                  "an idle runs in the middle of it, while the rest of the "
                  "batch keeps its order and runs before what it queued and "
                  "before the loop's timers");

  for (guint i = 0; i < G_N_ELEMENTS (slow.index); i++)
    {
      slow.index[i] = i;
      schedule (f->loop, slow_callback, &slow.index[i]);
    }
  timer = aio_loop_call_later (f->loop, 0, slow_timer, &slow, NULL);
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_callback (idle, slow_idle, &slow, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);

  while (strstr (log->str, "timer") == NULL || strstr (log->str, "queued") == NULL)
    g_main_context_iteration (fixture_context (f), TRUE);
  drain (f);

  g_assert_cmpuint (slow.ran, ==, G_N_ELEMENTS (slow.index));
  /* What the first callback queued and the timer come after the batch,
   * in either order: both were ready once it was over. */
  g_assert_true (g_str_has_prefix (log->str, "first idle last "));
  g_assert_cmpuint (log->len, ==, strlen ("first idle last queued timer "));
  aio_handle_unref (timer);
}

/* ---- the loop's priority --------------------------------------------------- */

static gboolean
log_idle (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 'i');
  return G_SOURCE_REMOVE;
}

static void
log_soon (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 's');
}

static void
log_timer (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 't');
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Runs one call_soon() callback, one due timer and one idle of @idle_priority,
 * one context iteration at a time, and returns the order, '|' between
 * iterations. */
static char *
priority_order (Fixture *f,
                gint     idle_priority)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Logger l = { f->loop, log, 0, 0 };
  GSource *idle = g_idle_source_new ();
  AioHandle *handle;

  g_source_set_priority (idle, idle_priority);
  g_source_set_callback (idle, log_idle, &l, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);
  schedule (f->loop, log_soon, &l);
  handle = aio_loop_call_later (f->loop, 0, log_timer, &l, NULL);

  /* Three letters, whatever number of '|'. */
  while (strchr (log->str, 'i') == NULL || strchr (log->str, 's') == NULL ||
         strchr (log->str, 't') == NULL)
    {
      if (g_main_context_iteration (fixture_context (f), FALSE))
        g_string_append_c (log, '|');
    }
  aio_handle_unref (handle);
  drain (f);
  return g_string_free (g_steal_pointer (&log), FALSE);
}

static void
test_priority (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *order = NULL;
  guint notified = 0;
  gint priority;

  g_test_summary ("A loop's sources have a priority, G_PRIORITY_DEFAULT unless "
                  "set, that orders its callbacks and timers against other "
                  "sources as any GSource's priority does");

  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_DEFAULT);
  g_signal_connect (f->loop, "notify::priority", G_CALLBACK (count_notify), &notified);

  /* Above an idle of the default idle priority, by default. */
  order = priority_order (f, G_PRIORITY_DEFAULT_IDLE);
  g_assert_cmpstr (order, ==, "st|i|");
  g_clear_pointer (&order, g_free);

  /* Below it once the loop's priority is lower. */
  aio_loop_set_priority (f->loop, G_PRIORITY_LOW);
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_LOW);
  g_assert_cmpuint (notified, ==, 1);
  order = priority_order (f, G_PRIORITY_DEFAULT_IDLE);
  g_assert_cmpstr (order, ==, "i|st|");
  g_clear_pointer (&order, g_free);

  /* Above G_PRIORITY_DEFAULT sources when higher, through the property. */
  g_object_set (f->loop, "priority", G_PRIORITY_HIGH, NULL);
  g_object_get (f->loop, "priority", &priority, NULL);
  g_assert_cmpint (priority, ==, G_PRIORITY_HIGH);
  g_assert_cmpuint (notified, ==, 2);
  order = priority_order (f, G_PRIORITY_DEFAULT);
  g_assert_cmpstr (order, ==, "st|i|");
  g_clear_pointer (&order, g_free);

  /* Setting the same priority again notifies nobody. */
  aio_loop_set_priority (f->loop, G_PRIORITY_HIGH);
  g_assert_cmpuint (notified, ==, 2);

  /* G_MAXINT is the loop's own, for the others' turn. */
  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*priority < G_MAXINT*");
  aio_loop_set_priority (f->loop, G_MAXINT);
  g_test_assert_expected_messages ();
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_HIGH);

  /* A closed loop keeps and reports its priority. */
  aio_loop_close (f->loop);
  aio_loop_set_priority (f->loop, G_PRIORITY_DEFAULT);
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_DEFAULT);
  g_assert_cmpuint (notified, ==, 3);
}

static void
test_priority_low_still_fair (Fixture       *f,
                              gconstpointer  data)
{
  Share share = { FALSE, 0, 1000, 0, 0 };
  GSource *other;
  AioTask *spinner;

  g_test_summary ("Below the others' priority, busy tasks still let lower "
                  "priorities have their turn");

  _aio_loop_set_ready_budget (f->loop, 0);
  aio_loop_set_priority (f->loop, G_PRIORITY_HIGH_IDLE + 30);
  other = share_attach (f, &share, G_PRIORITY_LOW);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
  g_assert_cmpuint (share.spins, ==, 1000);
  g_assert_cmpuint (share.turns, >=, 999);

  share_detach (other);
  g_assert_finalize_object (spinner);
}

/* ---- a nested iteration inside a task -------------------------------------- */

typedef struct
{
  GString      *log;
  GMainContext *context;
} NestedIteration;

static gboolean
nested_log_idle (gpointer user_data)
{
  NestedIteration *n = user_data;

  g_string_append (n->log, "idle ");
  return G_SOURCE_REMOVE;
}

static void
nested_other (AioTask  *task,
              gpointer  user_data)
{
  NestedIteration *n = user_data;

  g_string_append (n->log, "other ");
}

static void
nested_sleeper (AioTask  *task,
                gpointer  user_data)
{
  NestedIteration *n = user_data;

  g_assert_true (aio_await (aio_sleep (0.001), NULL));
  g_string_append (n->log, "sleeper ");
}

static void
nested_iterating (AioTask  *task,
                  gpointer  user_data)
{
  NestedIteration *n = user_data;
  gint64 until = g_get_monotonic_time () + 20 * 1000;

  g_string_append (n->log, "begin ");
  /* GLib allows it: the other sources run; the loop's tasks do not. */
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (n->context, FALSE);
  g_string_append (n->log, "end ");
}

static void
test_nested_iteration (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  NestedIteration n = { log, fixture_context (f) };
  AioTask *sleeper, *iterating, *other;
  GSource *idle;

  g_test_summary ("A task that iterates the loop's context itself (GLib "
                  "allows it; asyncio forbids re-entering a running loop) "
                  "lets other sources run, GTK's and GIO's, but no other "
                  "task runs, nor one whose timer fell due, before it "
                  "returns: tasks only ever take turns");

  /* The sleeper starts its sleep. */
  sleeper = aio_loop_create_task (f->loop, nested_sleeper, &n, NULL);
  g_main_context_iteration (fixture_context (f), FALSE);

  idle = g_idle_source_new ();
  g_source_set_callback (idle, nested_log_idle, &n, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);

  iterating = aio_loop_create_task (f->loop, nested_iterating, &n, NULL);
  other = aio_loop_create_task (f->loop, nested_other, &n, NULL);
  /* The sleeper's timer is due at the next iteration, together with the
   * ready queue: GLib then flags the timer source ready before the nested
   * iterations begin, and does not ask it again in those. */
  g_usleep (2000);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (sleeper), NULL));
  drain (f);

  g_assert_cmpstr (log->str, ==, "begin idle end other sleeper ");
  g_assert_finalize_object (sleeper);
  g_assert_finalize_object (iterating);
  g_assert_finalize_object (other);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_UNPUSHED ("/aio/loop/default/thread-default", test_default_thread_default);
  TEST_UNPUSHED ("/aio/loop/default/ref-for-context", test_default_ref_for_context);
  TEST_UNPUSHED ("/aio/loop/default/global", test_iteration_global_default);
  TEST_UNPUSHED ("/aio/loop/default/follows-context", test_default_follows_context);
  TEST_UNPUSHED ("/aio/loop/running", test_running);
  TEST_UNPUSHED ("/aio/loop/time", test_time);
  TEST_UNPUSHED ("/aio/loop/call-soon/fifo", test_call_soon_fifo);
  TEST_UNPUSHED ("/aio/loop/call-soon/no-starvation", test_call_soon_no_starvation);
  TEST_UNPUSHED ("/aio/loop/call-soon/threadsafe", test_call_soon_threadsafe);
  TEST_UNPUSHED ("/aio/loop/call-later/order", test_call_later_order);
  TEST_UNPUSHED ("/aio/loop/call-at/order", test_call_at_order);
  TEST_UNPUSHED ("/aio/loop/handle/cancel", test_handle_cancel);
  TEST_UNPUSHED ("/aio/loop/timers/random", test_timers_random);
  TEST_UNPUSHED ("/aio/loop/timers/many-pending", test_timers_many_pending);
  TEST_UNPUSHED ("/aio/loop/sleep/zero", test_sleep_zero);
  TEST_UNPUSHED ("/aio/loop/sleep/negative", test_sleep_negative);
  TEST_UNPUSHED ("/aio/loop/sleep/nan", test_sleep_nan);
  TEST_UNPUSHED ("/aio/loop/sleep/huge", test_sleep_huge);
  TEST_UNPUSHED ("/aio/loop/sleep/cancel", test_sleep_cancel);
  TEST_UNPUSHED ("/aio/loop/sleep/value", test_sleep_value);
  TEST_UNPUSHED ("/aio/loop/stop/run-again", test_stop_run_again);
  TEST_UNPUSHED ("/aio/loop/stop/from-thread", test_stop_from_thread);
  TEST_UNPUSHED ("/aio/loop/stop/before-run", test_stop_before_run);
  TEST_UNPUSHED ("/aio/loop/stop/run-until-complete", test_stop_run_until_complete);
  TEST_UNPUSHED ("/aio/loop/run/nested", test_run_nested);
  TEST_UNPUSHED ("/aio/loop/run/until-complete-callbacks", test_run_until_complete_callbacks);
  TEST_UNPUSHED ("/aio/loop/close/later-use", test_close);
  TEST_UNPUSHED ("/aio/loop/close/drops-queued", test_close_drops_queued);
  TEST_UNPUSHED ("/aio/loop/threads/two-loops", test_threads_two_loops);
  TEST_UNPUSHED ("/aio/loop/iteration/own-context", test_iteration_own_context);
  TEST_UNPUSHED ("/aio/loop/fairness/io-and-timers", test_fairness);
  TEST_UNPUSHED ("/aio/loop/fairness/lower-priorities/per-turn", test_fairness_lower_priorities_per_turn);
  TEST_UNPUSHED ("/aio/loop/fairness/lower-priorities/budget", test_fairness_lower_priorities_budget);
  TEST_UNPUSHED ("/aio/loop/fairness/busy-default-source", test_fairness_busy_default_source);
  TEST_UNPUSHED ("/aio/loop/fairness/no-others", test_fairness_no_others);
  TEST_UNPUSHED ("/aio/loop/fairness/cut-batch", test_fairness_cut_batch);
  TEST_UNPUSHED ("/aio/loop/priority", test_priority);
  TEST_UNPUSHED ("/aio/loop/priority/low-still-fair", test_priority_low_still_fair);
  TEST_UNPUSHED ("/aio/loop/iteration/nested-in-task", test_nested_iteration);

  return g_test_run ();
}
