/* test-loop.c: which loop, running, stopping, closing, threads, and loops
 * driven by someone else
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"
#include "test-loop-common.h"

/* ---- helpers ------------------------------------------------------------- */

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

  start = g_get_monotonic_time ();
  g_assert_true (aio_loop_run_forever (f->loop, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
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

    EXPECT_CRITICAL ("*aio_future_get_loop (future) == loop*",
                     g_assert_false (aio_loop_run_until_complete (f->loop, foreign, NULL)));
    aio_future_cancel (foreign, NULL);
    aio_loop_close (loop2);
  }
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

  return g_test_run ();
}
