/* test-loop-schedule.c: call_soon, timers, handles and sleeps of AioLoop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <aio-glib.h>

#include "aio-loop-private.h"
#include "aio-test.h"
#include "test-loop-common.h"

/* ---- helpers ------------------------------------------------------------- */

static void
cancel_future (gpointer user_data)
{
  aio_future_cancel (user_data, NULL);
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

/* ---- call_soon ----------------------------------------------------------- */

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

  if (g_get_monotonic_time () < t->not_before)
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
  t->not_before = g_get_monotonic_time () + (gint64) (MAX (delay, 0) * G_USEC_PER_SEC);
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
  /* The timers are set out of order, each within one step of the others'
   * deadlines. */
  gdouble step = 0.01;
  gdouble before, after;
  char expected[6] = "0n";
  guint timed[3] = { 1, 3, 0 };   /* 'a', 'b', 'c': the positive delays */

  g_test_summary ("call_later() callbacks run in deadline order and never "
                  "before their delay has passed; zero and negative delays run "
                  "at once, in the order set");

  timed_later (&t[0], f->loop, log, 'c', 3 * step, &remaining, all_done);
  before = aio_loop_time (f->loop);
  timed_later (&t[1], f->loop, log, 'a', step, &remaining, all_done);
  after = aio_loop_time (f->loop);
  timed_later (&t[2], f->loop, log, '0', 0.0, &remaining, all_done);
  timed_later (&t[3], f->loop, log, 'b', 2 * step, &remaining, all_done);
  timed_later (&t[4], f->loop, log, 'n', -1.0, &remaining, all_done);

  /* A timer handle knows when it fires, on the loop's clock: its delay
   * after the moment it was set (bracketed by two readings, since the
   * loop's clock is in microseconds, hence the 1 µs of slack). */
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), >=, before + step - 1e-6);
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), <=, after + step + 1e-6);
  g_assert_cmpfloat (aio_handle_get_when (t[1].handle), <, aio_handle_get_when (t[3].handle));

  /* Deadline order is the order of the handles' deadlines: "abc" unless
   * the machine took longer than a step between setting 'c' and 'a' (as
   * under Valgrind, which translates code on its first use), when 'c' may
   * fall due first.  Equal deadlines keep the order they were set in. */
  for (guint i = 1; i < G_N_ELEMENTS (timed); i++)
    for (guint j = i; j > 0 && aio_handle_get_when (t[timed[j]].handle) <
                               aio_handle_get_when (t[timed[j - 1]].handle); j--)
      {
        guint swap = timed[j];

        timed[j] = timed[j - 1];
        timed[j - 1] = swap;
      }
  for (guint i = 0; i < G_N_ELEMENTS (timed); i++)
    expected[2 + i] = t[timed[i]].letter;

  g_assert_true (aio_loop_run_until_complete (f->loop, all_done, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, expected);
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
          /* asyncio's TimerHandle.when() is the time given to call_at(),
           * here rounded up to the loop clock's microsecond (so up to 1 µs
           * later; 1 ns of slack for the doubles' own rounding). */
          g_assert_cmpfloat (aio_handle_get_when (timed->handle), >=, when - 1e-9);
          g_assert_cmpfloat (aio_handle_get_when (timed->handle), <, when + 1e-6 + 1e-9);
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

  if (g_get_monotonic_time () < t->not_before)
    g_error ("timer %u fired %" G_GINT64_FORMAT " µs early",
             t->index, t->not_before - g_get_monotonic_time ());
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
      t->not_before = g_get_monotonic_time () + (gint64) (delay * G_USEC_PER_SEC);
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
  g_test_summary ("A NaN delay is a programmer error: a critical and no future "
                  "(asyncio raises ValueError from the timer heap)");

  EXPECT_CRITICAL ("*isnan*", g_assert_null (aio_loop_sleep (f->loop, NAN)));

  EXPECT_CRITICAL ("*isnan*", g_assert_null (aio_sleep (NAN)));

  EXPECT_CRITICAL ("*isnan*",
                   g_assert_null (aio_loop_call_later (f->loop, NAN, aio_test_count, NULL, NULL)));

  EXPECT_CRITICAL ("*isnan*",
                   g_assert_null (aio_loop_call_at (f->loop, NAN, aio_test_count, NULL, NULL)));
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
  gint64 start = g_get_monotonic_time ();

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
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 10000);
  g_assert_true (aio_future_get_value (future, &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "morning");
  g_value_unset (&out);
  g_assert_finalize_object (future);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

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

  return g_test_run ();
}
