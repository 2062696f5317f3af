/* test-executor.c: run_in_executor, the default executor, AioThreadPoolExecutor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <aio-glib.h>

#include "aio-test.h"

/* ---- helpers ------------------------------------------------------------- */

/* How long a handshake with a worker may take before the test fails. */
#define HANDSHAKE_SECONDS 10

/* The loop's context is not the thread default (TEST_UNPUSHED): pushing
 * it would acquire it for the whole test and hide what happens when
 * workers complete futures while the loop's thread does not hold it. */

/* Executors do not hold the loop and jobs let go of it once they are
 * handed back, so once the default executor's jobs are over and handed
 * back, the harness's teardown finds nothing holding the loop.  (A test
 * that let go of the loop itself leaves NULL.) */
static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->loop != NULL)
    {
      aio_loop_shutdown_default_executor (f->loop);
      if (!aio_loop_is_closed (f->loop))
        drain (f);
    }
  aio_test_fixture_teardown (f, data);
}

#define TEST_EXECUTOR(path, func) \
  g_test_add (path, Fixture, NULL, aio_test_fixture_setup_unpushed, func, fixture_teardown)

static void
resolve_when_done (AioFuture *future,
                   gpointer   user_data)
{
  aio_future_resolve (user_data);
}

static gboolean
stop_loop (gpointer user_data)
{
  aio_loop_stop (user_data);
  return G_SOURCE_REMOVE;
}

/* Runs the loop until @future's done callbacks ran (those added before
 * this call), not merely until its state changed: a worker may complete
 * it before the loop's thread has seen it.  Fails after the handshake
 * bound instead of hanging. */
static void
run_until_seen (AioLoop   *loop,
                AioFuture *future)
{
  g_autoptr(AioFuture) seen = aio_future_new_for_loop (loop);
  g_autoptr(GError) error = NULL;
  GSource *timeout = g_timeout_source_new_seconds (HANDSHAKE_SECONDS);

  g_source_set_callback (timeout, stop_loop, loop, NULL);
  g_source_attach (timeout, aio_loop_get_context (loop));

  aio_future_add_done_callback (future, resolve_when_done, g_object_ref (seen), g_object_unref);
  aio_loop_run_until_complete (loop, seen, &error);
  g_source_destroy (timeout);
  g_source_unref (timeout);

  g_assert_no_error (error);
}

static gboolean
tick_continue (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates @loop's context until @cond holds, failing after the handshake
 * bound; a ticking source wakes the context, as @cond may change in
 * another thread without waking it. */
#define ITERATE_UNTIL(loop, cond)                                                   \
  G_STMT_START {                                                                    \
    gint64 deadline_ = g_get_monotonic_time () + HANDSHAKE_SECONDS * G_TIME_SPAN_SECOND; \
    GSource *tick_ = g_timeout_source_new (10);                                     \
                                                                                    \
    g_source_set_callback (tick_, tick_continue, NULL, NULL);                       \
    g_source_attach (tick_, aio_loop_get_context (loop));                           \
    while (!(cond) && g_get_monotonic_time () < deadline_)                          \
      g_main_context_iteration (aio_loop_get_context (loop), TRUE);                 \
    g_source_destroy (tick_);                                                       \
    g_source_unref (tick_);                                                         \
    g_assert_true (cond);                                                           \
  } G_STMT_END

/* A one-shot latch for handshakes between the test and a worker. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean set;
} Latch;

static void
latch_init (Latch *latch)
{
  g_mutex_init (&latch->mutex);
  g_cond_init (&latch->cond);
  latch->set = FALSE;
}

static void
latch_clear (Latch *latch)
{
  g_mutex_clear (&latch->mutex);
  g_cond_clear (&latch->cond);
}

static void
latch_set (Latch *latch)
{
  g_mutex_lock (&latch->mutex);
  latch->set = TRUE;
  g_cond_broadcast (&latch->cond);
  g_mutex_unlock (&latch->mutex);
}

/* Returns whether the latch was set within the handshake bound. */
static gboolean
latch_wait (Latch *latch)
{
  gint64 deadline = g_get_monotonic_time () + HANDSHAKE_SECONDS * G_TIME_SPAN_SECOND;
  gboolean set;

  g_mutex_lock (&latch->mutex);
  while (!latch->set && g_cond_wait_until (&latch->cond, &latch->mutex, deadline))
    ;
  set = latch->set;
  g_mutex_unlock (&latch->mutex);

  return set;
}

/* ---- results reach the loop's thread ------------------------------------- */

typedef struct
{
  GThread *job_thread;
  GThread *callback_thread;
} Threads;

static void
job_record_thread (AioFuture    *future,
                   GCancellable *cancellable,
                   gpointer      user_data)
{
  Threads *threads = user_data;

  threads->job_thread = g_thread_self ();
  aio_future_resolve_int64 (future, 42);
}

static void
record_callback_thread (AioFuture *future,
                        gpointer   user_data)
{
  Threads *threads = user_data;

  threads->callback_thread = g_thread_self ();
}

static void
test_result_in_loop_thread (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(AioFuture) future = NULL;
  Threads threads = { NULL, NULL };

  g_test_summary ("run_in_executor runs the function in another thread, and the "
                  "future's done callbacks in the loop's thread");

  future = aio_loop_run_in_executor (f->loop, NULL, job_record_thread, &threads, NULL);
  g_assert_true (AIO_IS_FUTURE (future));
  g_assert_true (aio_future_get_loop (future) == f->loop);
  aio_future_add_done_callback (future, record_callback_thread, &threads, NULL);

  run_until_seen (f->loop, future);

  g_assert_nonnull (threads.job_thread);
  g_assert_true (threads.job_thread != f->loop_thread);
  g_assert_true (threads.callback_thread == f->loop_thread);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 42);
  /* A plain future, not a task. */
  g_assert_true (G_OBJECT_TYPE (future) == AIO_TYPE_FUTURE);
}

/* ---- the job starts before the loop runs --------------------------------- */

typedef struct
{
  Latch started;
  Latch go_on;
} Handshake;

static void
job_handshake (AioFuture    *future,
               GCancellable *cancellable,
               gpointer      user_data)
{
  Handshake *hs = user_data;

  latch_set (&hs->started);
  if (latch_wait (&hs->go_on))
    aio_future_resolve_string (future, "ran early");
  else
    aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "never told to go on");
}

static gboolean
set_latch_idle (gpointer user_data)
{
  latch_set (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_starts_before_loop_runs (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  GSource *idle;
  Handshake hs;

  g_test_summary ("As in asyncio, the function starts on a worker at once, before "
                  "the loop runs; only its result waits for the loop");

  latch_init (&hs.started);
  latch_init (&hs.go_on);

  future = aio_loop_run_in_executor (f->loop, NULL, job_handshake, &hs, NULL);

  /* The loop has never run, yet the job is under way. */
  g_assert_true (latch_wait (&hs.started));
  g_assert_false (aio_loop_is_running (f->loop));
  g_assert_false (aio_future_is_done (future));

  /* Let the job finish only once the loop runs. */
  idle = g_idle_source_new ();
  g_source_set_callback (idle, set_latch_idle, &hs.go_on, NULL);
  g_source_attach (idle, aio_loop_get_context (f->loop));
  g_source_unref (idle);

  run_until_seen (f->loop, future);
  g_assert_cmpstr (aio_future_get_string (future, &error), ==, "ran early");
  g_assert_no_error (error);

  latch_clear (&hs.started);
  latch_clear (&hs.go_on);
}

/* ---- values, errors, no value -------------------------------------------- */

static void
job_int64 (AioFuture    *future,
           GCancellable *cancellable,
           gpointer      user_data)
{
  aio_future_resolve_int64 (future, G_MAXINT64 - 1);
}

static void
job_string (AioFuture    *future,
            GCancellable *cancellable,
            gpointer      user_data)
{
  aio_future_resolve_take_string (future, g_strdup_printf ("hello %s", (const char *) user_data));
}

static void
job_error (AioFuture    *future,
           GCancellable *cancellable,
           gpointer      user_data)
{
  aio_future_reject (future, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no %s here",
                                          (const char *) user_data));
}

static void
job_nothing (AioFuture    *future,
             GCancellable *cancellable,
             gpointer      user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

static void
test_results (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(AioFuture) f_int = NULL;
  g_autoptr(AioFuture) f_str = NULL;
  g_autoptr(AioFuture) f_err = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("The future carries what the function completed it with: a value "
                  "or an error, as run_in_executor's future carries the return value "
                  "or the exception");

  f_int = aio_loop_run_in_executor (f->loop, NULL, job_int64, NULL, NULL);
  f_str = aio_loop_run_in_executor (f->loop, NULL, job_string, g_strdup ("world"), g_free);
  f_err = aio_loop_run_in_executor (f->loop, NULL, job_error, "file", NULL);

  run_until_seen (f->loop, f_int);
  run_until_seen (f->loop, f_str);
  run_until_seen (f->loop, f_err);

  g_assert_cmpint (aio_future_get_int64 (f_int, &error), ==, G_MAXINT64 - 1);
  g_assert_no_error (error);
  g_assert_cmpstr (aio_future_get_string (f_str, &error), ==, "hello world");
  g_assert_no_error (error);
  g_assert_true (aio_future_is_rejected (f_err));
  g_assert_false (aio_future_propagate (f_err, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no file here");
}

static void
test_no_value (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  gint calls = 0;

  g_test_summary ("A function that returns without completing its future resolves "
                  "it with no value, as a function returning None does");

  future = aio_loop_run_in_executor (f->loop, NULL, job_nothing, &calls, NULL);
  run_until_seen (f->loop, future);

  g_assert_cmpint (g_atomic_int_get (&calls), ==, 1);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_true (aio_future_get_value (future, &value, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&value));
}

/* ---- cancellation -------------------------------------------------------- */

typedef struct
{
  Latch    started;
  gint     saw_cancel;
  GThread *destroy_thread;
} CancelJob;

/* Waits on the GCancellable's fd, as a job blocked in I/O would. */
static void
job_wait_for_cancel (AioFuture    *future,
                     GCancellable *cancellable,
                     gpointer      user_data)
{
  CancelJob *job = user_data;
  GPollFD pollfd = { 0, G_IO_IN, 0 };

  g_assert_true (g_cancellable_make_pollfd (cancellable, &pollfd));
  latch_set (&job->started);

  if (g_poll (&pollfd, 1, HANDSHAKE_SECONDS * 1000) == 1 &&
      g_cancellable_is_cancelled (cancellable))
    g_atomic_int_set (&job->saw_cancel, TRUE);
  g_cancellable_release_fd (cancellable);

  /* Too late: the future was cancelled, and this outcome is dropped
   * without complaint. */
  aio_future_resolve_int64 (future, 1);
}

static void
cancel_job_destroy (gpointer user_data)
{
  CancelJob *job = user_data;

  job->destroy_thread = g_thread_self ();
}

static void
test_cancel_running (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(AioFuture) done = NULL;
  g_autoptr(GError) error = NULL;
  CancelJob job = { 0, };

  g_test_summary ("Cancelling the future cancels the GCancellable the running "
                  "function watches; its late result is dropped, and its data is "
                  "freed in the loop's thread");

  latch_init (&job.started);
  future = aio_loop_run_in_executor (f->loop, NULL, job_wait_for_cancel, &job, cancel_job_destroy);
  g_assert_true (latch_wait (&job.started));

  g_assert_true (aio_future_cancel (future, "enough"));
  g_assert_true (aio_future_is_cancelled (future));

  /* The job's data is freed once it is over, so run until then. */
  ITERATE_UNTIL (f->loop, job.destroy_thread != NULL);

  g_assert_true (g_atomic_int_get (&job.saw_cancel));
  g_assert_true (job.destroy_thread == f->loop_thread);
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_false (aio_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "enough");

  latch_clear (&job.started);
}

typedef struct
{
  Latch started;
  Latch release;
} Blocker;

static void
job_block (AioFuture    *future,
           GCancellable *cancellable,
           gpointer      user_data)
{
  Blocker *blocker = user_data;

  latch_set (&blocker->started);
  g_assert_true (latch_wait (&blocker->release));
  aio_future_resolve_boolean (future, TRUE);
}

static void
job_count (AioFuture    *future,
           GCancellable *cancellable,
           gpointer      user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

static void
count_destroy (gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

static void
test_cancel_before_start (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (1);
  g_autoptr(AioFuture) first = NULL;
  g_autoptr(AioFuture) second = NULL;
  gint ran = 0, destroyed = 0;
  Blocker blocker;

  g_test_summary ("A job whose future is cancelled before a worker picks it up "
                  "never runs, as a cancelled concurrent.futures.Future never does");

  latch_init (&blocker.started);
  latch_init (&blocker.release);

  /* One worker, kept busy: the second job waits in the queue. */
  first = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), job_block, &blocker, NULL);
  g_assert_true (latch_wait (&blocker.started));
  second = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), job_count, &ran, NULL);
  g_object_set_data_full (G_OBJECT (second), "destroyed", &destroyed, count_destroy);

  g_assert_true (aio_future_cancel (second, NULL));
  latch_set (&blocker.release);

  run_until_seen (f->loop, first);
  g_assert_true (aio_future_get_boolean (first, NULL));

  /* Wait until the pool is done with both jobs. */
  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  run_until_seen (f->loop, second);

  g_assert_cmpint (g_atomic_int_get (&ran), ==, 0);
  g_assert_true (aio_future_is_cancelled (second));

  g_clear_object (&second);
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_finalize_object (g_steal_pointer (&pool));

  latch_clear (&blocker.started);
  latch_clear (&blocker.release);
}

/* ---- AioThreadPoolExecutor ----------------------------------------------- */

typedef struct
{
  gint running;
  gint peak;
  gint finished;
} Concurrency;

static void
job_measure_concurrency (AioFuture    *future,
                         GCancellable *cancellable,
                         gpointer      user_data)
{
  Concurrency *c = user_data;
  gint now = g_atomic_int_add (&c->running, 1) + 1;
  gint peak;

  while ((peak = g_atomic_int_get (&c->peak)) < now &&
         !g_atomic_int_compare_and_exchange (&c->peak, peak, now))
    ;

  /* Long enough that unbounded workers would all overlap. */
  g_usleep (20 * 1000);

  g_atomic_int_add (&c->running, -1);
  g_atomic_int_inc (&c->finished);
}

static void
test_max_workers (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (4);
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  Concurrency c = { 0, 0, 0 };
  guint max_workers = 0;

  g_test_summary ("A ThreadPoolExecutor never runs more than max_workers jobs at once");

  g_object_get (pool, "max-workers", &max_workers, NULL);
  g_assert_cmpuint (max_workers, ==, 4);
  g_assert_cmpuint (aio_thread_pool_executor_get_max_workers (pool), ==, 4);

  for (guint i = 0; i < 16; i++)
    g_ptr_array_add (futures, aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool),
                                                        job_measure_concurrency, &c, NULL));
  for (guint i = 0; i < futures->len; i++)
    run_until_seen (f->loop, futures->pdata[i]);

  g_assert_cmpint (g_atomic_int_get (&c.finished), ==, 16);
  g_assert_cmpint (g_atomic_int_get (&c.peak), <=, 4);
  /* And the pool did run jobs side by side. */
  g_assert_cmpint (g_atomic_int_get (&c.peak), >=, 2);

  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  g_assert_finalize_object (g_steal_pointer (&pool));
}

static void
test_max_workers_default (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (0);

  g_test_summary ("max_workers 0 picks the number of processors");

  g_assert_cmpuint (aio_thread_pool_executor_get_max_workers (pool), ==,
                    MAX (1, g_get_num_processors ()));
  g_assert_finalize_object (g_steal_pointer (&pool));
}

typedef struct
{
  GMutex mutex;
  GCond  cond;
  guint  arrived;
  guint  expected;
  guint  met;
} Rendezvous;

/* Blocks its worker until every job of the rendezvous is running. */
static void
job_rendezvous (AioFuture    *future,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Rendezvous *r = user_data;
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&r->mutex);
  if (++r->arrived == r->expected)
    g_cond_broadcast (&r->cond);
  while (r->arrived < r->expected)
    if (!g_cond_wait_until (&r->cond, &r->mutex, deadline))
      break;
  if (r->arrived == r->expected)
    r->met++;
  g_mutex_unlock (&r->mutex);
}

/* Submits r->expected rendezvous jobs at once and waits for them all. */
static void
run_rendezvous (Fixture               *f,
                AioThreadPoolExecutor *pool,
                Rendezvous            *r)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  r->arrived = r->met = 0;
  for (guint i = 0; i < r->expected; i++)
    g_ptr_array_add (futures, aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool),
                                                        job_rendezvous, r, NULL));
  for (guint i = 0; i < futures->len; i++)
    run_until_seen (f->loop, futures->pdata[i]);
  g_assert_cmpuint (r->met, ==, r->expected);
}

static void
test_blocking_jobs (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (6);
  Rendezvous r = { .expected = 6 };

  g_test_summary ("concurrent.futures: jobs that block each get a worker of "
                  "their own, up to max_workers, even when submitted in a "
                  "burst (six jobs that only return once all six run)");

  g_mutex_init (&r.mutex);
  g_cond_init (&r.cond);

  run_rendezvous (f, pool, &r);
  /* Later bursts, after the workers went to sleep, run as well. */
  g_usleep (50 * 1000);
  run_rendezvous (f, pool, &r);

  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  g_assert_finalize_object (g_steal_pointer (&pool));
  g_mutex_clear (&r.mutex);
  g_cond_clear (&r.cond);
}

/* ---- shutdown ------------------------------------------------------------ */

typedef struct
{
  Latch started;
  gint  finished;
} SlowJob;

static void
job_slow (AioFuture    *future,
          GCancellable *cancellable,
          gpointer      user_data)
{
  SlowJob *job = user_data;

  latch_set (&job->started);
  g_usleep (100 * 1000);
  g_atomic_int_set (&job->finished, TRUE);
  aio_future_resolve_int64 (future, 7);
}

static void
test_shutdown_wait (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (1);
  g_autoptr(AioFuture) running = NULL;
  g_autoptr(AioFuture) queued = NULL;
  g_autoptr(AioFuture) late = NULL;
  g_autoptr(GError) error = NULL;
  gint ran = 0, destroyed = 0;
  SlowJob job = { 0, };

  g_test_summary ("concurrent.futures' shutdown(wait=True): blocks until the running "
                  "job and the queued one returned (queued jobs still run, as with "
                  "cancel_futures=False, the default), and later submits fail as closed");

  latch_init (&job.started);
  running = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), job_slow, &job, NULL);
  g_assert_true (latch_wait (&job.started));
  queued = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), job_count, &ran, NULL);

  g_assert_false (aio_executor_is_shutdown (AIO_EXECUTOR (pool)));
  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  g_assert_true (aio_executor_is_shutdown (AIO_EXECUTOR (pool)));
  g_assert_true (g_atomic_int_get (&job.finished));
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 1);

  /* A closed executor refuses at once; the data is freed all the same. */
  late = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), job_count, &ran, NULL);
  g_assert_true (aio_future_is_rejected (late));
  g_assert_false (aio_future_propagate (late, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_clear_error (&error);
  g_clear_object (&late);
  late = aio_executor_submit (AIO_EXECUTOR (pool), job_count, &destroyed, count_destroy);
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_false (aio_future_propagate (late, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);

  run_until_seen (f->loop, running);
  run_until_seen (f->loop, queued);
  g_assert_cmpint (aio_future_get_int64 (running, NULL), ==, 7);
  g_assert_true (aio_future_is_resolved (queued));
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 1);

  /* Shutting down again only waits. */
  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  g_assert_finalize_object (g_steal_pointer (&pool));
  latch_clear (&job.started);
}

static void
test_default_shutdown_waits (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(AioFuture) running = NULL;
  g_autoptr(AioFuture) late = NULL;
  g_autoptr(GError) error = NULL;
  AioExecutor *executor;
  gint ran = 0;
  SlowJob job = { 0, };

  g_test_summary ("loop.shutdown_default_executor() waits for the running job; "
                  "run_in_executor(None) fails afterwards");

  executor = aio_loop_get_default_executor (f->loop);
  g_assert_true (AIO_IS_EXECUTOR (executor));
  g_assert_true (aio_loop_get_default_executor (f->loop) == executor);

  latch_init (&job.started);
  running = aio_loop_run_in_executor (f->loop, NULL, job_slow, &job, NULL);
  g_assert_true (latch_wait (&job.started));

  aio_loop_shutdown_default_executor (f->loop);
  g_assert_true (g_atomic_int_get (&job.finished));
  g_assert_true (aio_executor_is_shutdown (executor));

  late = aio_loop_run_in_executor (f->loop, NULL, job_count, &ran, NULL);
  g_assert_false (aio_future_propagate (late, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);

  /* The result of the job that was running still arrives. */
  run_until_seen (f->loop, running);
  g_assert_cmpint (aio_future_get_int64 (running, NULL), ==, 7);
  g_assert_cmpint (g_atomic_int_get (&ran), ==, 0);
  latch_clear (&job.started);
}

static void
test_set_default_executor (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (2);
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(AioFuture) on_pool = NULL;
  gint ran = 0;

  g_test_summary ("loop.set_default_executor() makes run_in_executor(None) use it");

  aio_loop_set_default_executor (f->loop, AIO_EXECUTOR (pool));
  g_assert_true (aio_loop_get_default_executor (f->loop) == AIO_EXECUTOR (pool));

  future = aio_loop_run_in_executor (f->loop, NULL, job_count, &ran, NULL);
  run_until_seen (f->loop, future);
  g_assert_cmpint (ran, ==, 1);

  /* Shutting the default executor down reaches the pool. */
  aio_loop_shutdown_default_executor (f->loop);
  g_assert_true (aio_executor_is_shutdown (AIO_EXECUTOR (pool)));
  on_pool = aio_loop_run_in_executor (f->loop, NULL, job_count, &ran, NULL);
  g_assert_true (aio_future_is_rejected (on_pool));
  (void) aio_future_get_error (on_pool);

  /* Back to a default executor of the loop's own, which lets the pool go. */
  aio_loop_set_default_executor (f->loop, NULL);
  g_assert_true (aio_loop_get_default_executor (f->loop) != AIO_EXECUTOR (pool));
  g_assert_finalize_object (g_steal_pointer (&pool));
}

/* ---- the benchmark's workload -------------------------------------------- */

#define SUM_LIMIT    1000
#define SUM_EXPECTED (SUM_LIMIT * (SUM_LIMIT - 1) / 2)
#define N_SUMS       20000

static void
job_sum (AioFuture    *future,
         GCancellable *cancellable,
         gpointer      user_data)
{
  gint64 total = 0;

  for (guint i = 0; i < SUM_LIMIT; i++)
    {
      total += i;
      /* Keeps gcc from replacing the loop with its closed form. */
      __asm__ volatile ("" : "+r" (total));
    }
  aio_future_resolve_int64 (future, total);
}

typedef struct
{
  guint      done;
  guint      good;
  AioFuture *all;
} Tally;

static void
tally_sum (AioFuture *future,
           gpointer   user_data)
{
  Tally *tally = user_data;

  if (aio_future_get_int64 (future, NULL) == SUM_EXPECTED)
    tally->good++;
  if (++tally->done == N_SUMS)
    aio_future_resolve (tally->all);
}

static void
test_many (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_full (N_SUMS, g_object_unref);
  g_autoptr(AioFuture) all = aio_future_new_for_loop (f->loop);
  g_autoptr(GError) error = NULL;
  Tally tally = { 0, 0, all };

  g_test_summary ("20 000 jobs on the default executor, each summing 0..999, all "
                  "come back with 499500 (the benchmark's executor workload)");

  for (guint i = 0; i < N_SUMS; i++)
    {
      AioFuture *future = aio_loop_run_in_executor (f->loop, NULL, job_sum, NULL, NULL);

      aio_future_add_done_callback (future, tally_sum, &tally, NULL);
      g_ptr_array_add (futures, future);
    }

  g_assert_true (aio_loop_run_until_complete (f->loop, all, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tally.done, ==, N_SUMS);
  g_assert_cmpuint (tally.good, ==, N_SUMS);
}

typedef struct
{
  gint ran;
  gint destroyed;
} Counts;

static void
job_count_ran (AioFuture    *future,
               GCancellable *cancellable,
               gpointer      user_data)
{
  g_atomic_int_inc (&((Counts *) user_data)->ran);
}

static void
counts_destroy (gpointer user_data)
{
  g_atomic_int_inc (&((Counts *) user_data)->destroyed);
}

/* ---- where jobs come from ----------------------------------------------- */

typedef struct
{
  AioFuture *from_run_in_executor;
  AioFuture *from_submit;
  AioExecutor *pool;
} FromLoop;

static void
submit_from_callback (gpointer user_data)
{
  FromLoop *from = user_data;

  from->from_run_in_executor = aio_run_in_executor (NULL, job_int64, NULL, NULL);
  from->from_submit = aio_executor_submit (from->pool, job_int64, NULL, NULL);
}

static void
test_running_loop (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (1);
  g_autoptr(AioFuture) ready = aio_future_new_for_loop (f->loop);
  FromLoop from = { NULL, NULL, AIO_EXECUTOR (pool) };

  g_test_summary ("Without a loop argument, jobs submitted from a running loop "
                  "report to that loop, not to the default one");

  aio_handle_unref (aio_loop_call_soon (f->loop, submit_from_callback, &from, NULL));
  aio_handle_unref (aio_loop_call_soon (f->loop, (AioCallback) aio_future_resolve, ready, NULL));
  g_assert_true (aio_loop_run_until_complete (f->loop, ready, NULL));

  g_assert_true (aio_future_get_loop (from.from_run_in_executor) == f->loop);
  g_assert_true (aio_future_get_loop (from.from_submit) == f->loop);
  run_until_seen (f->loop, from.from_run_in_executor);
  run_until_seen (f->loop, from.from_submit);
  g_assert_cmpint (aio_future_get_int64 (from.from_run_in_executor, NULL), ==, G_MAXINT64 - 1);
  g_assert_cmpint (aio_future_get_int64 (from.from_submit, NULL), ==, G_MAXINT64 - 1);

  g_clear_object (&from.from_run_in_executor);
  g_clear_object (&from.from_submit);
  aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
  g_assert_finalize_object (g_steal_pointer (&pool));
}

/* An executor of our own: a new thread per job; or, while @refuse is set,
 * dropping jobs without running them. */
#define TEST_TYPE_THREAD_EXECUTOR (test_thread_executor_get_type ())
G_DECLARE_FINAL_TYPE (TestThreadExecutor, test_thread_executor, TEST, THREAD_EXECUTOR, GObject)

struct _TestThreadExecutor
{
  GObject  parent_instance;
  gboolean refuse;
};

typedef struct
{
  AioFuture       *future;
  GCancellable    *cancellable;
  AioExecutorFunc  func;
  gpointer         data;
  GDestroyNotify   destroy;
} ThreadJob;

static gpointer
thread_job_run (gpointer user_data)
{
  ThreadJob *job = user_data;

  job->func (job->future, job->cancellable, job->data);
  job->destroy (job->data);
  g_free (job);
  return NULL;
}

static void
test_thread_executor_submit (AioExecutor     *executor,
                             AioFuture       *future,
                             GCancellable    *cancellable,
                             AioExecutorFunc  func,
                             gpointer         user_data,
                             GDestroyNotify   destroy)
{
  ThreadJob job = { future, cancellable, func, user_data, destroy };

  if (((TestThreadExecutor *) executor)->refuse)
    {
      destroy (user_data);
      return;
    }
  g_thread_unref (g_thread_new ("test-job", thread_job_run, g_memdup2 (&job, sizeof job)));
}

static void
test_thread_executor_shutdown (AioExecutor *executor,
                               gboolean     wait)
{
}

static void
test_thread_executor_iface_init (AioExecutorInterface *iface)
{
  iface->submit = test_thread_executor_submit;
  iface->shutdown = test_thread_executor_shutdown;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestThreadExecutor, test_thread_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AIO_TYPE_EXECUTOR,
                                                      test_thread_executor_iface_init))

static void
test_thread_executor_class_init (TestThreadExecutorClass *klass)
{
}

static void
test_thread_executor_init (TestThreadExecutor *self)
{
}

static void
test_custom_executor (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(TestThreadExecutor) executor = g_object_new (TEST_TYPE_THREAD_EXECUTOR, NULL);
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  Counts counts = { 0, 0 };

  g_test_summary ("A framework's own executor only runs jobs: the loop's side "
                  "(no value, data freed in the loop's thread, dropped jobs "
                  "cancelled) comes for free");

  future = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (executor), job_count_ran,
                                     &counts, counts_destroy);
  run_until_seen (f->loop, future);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_cmpint (counts.ran, ==, 1);

  /* The job's data is freed once the loop takes the job back. */
  ITERATE_UNTIL (f->loop, g_atomic_int_get (&counts.destroyed) == 1);
  g_assert_cmpint (counts.destroyed, ==, 1);

  /* A job the executor drops without running is cancelled. */
  executor->refuse = TRUE;
  g_clear_object (&future);
  future = aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (executor), job_count_ran,
                                     &counts, counts_destroy);
  g_assert_true (aio_future_is_cancelled (future));
  ITERATE_UNTIL (f->loop, g_atomic_int_get (&counts.destroyed) == 2);
  g_assert_cmpint (counts.ran, ==, 1);

  aio_executor_shutdown (AIO_EXECUTOR (executor), TRUE);
  g_assert_finalize_object (g_steal_pointer (&executor));
}

/* ---- closing the loop under a running job -------------------------------- */

static void
set_latch_notify (gpointer  user_data,
                  GObject  *where_the_object_was)
{
  latch_set (user_data);
}

static void
latch_destroy (gpointer user_data)
{
  latch_set (user_data);
}

static void
test_close_while_running (Fixture       *f,
                          gconstpointer  data)
{
  AioThreadPoolExecutor *pool = aio_thread_pool_executor_new (1);
  AioFuture *future;
  Latch destroyed, loop_gone;
  Blocker blocker;

  g_test_summary ("Closing the loop does not wait for executors: a job that ends "
                  "afterwards is dropped, and the worker frees it, the loop and "
                  "the loop's executor");

  latch_init (&blocker.started);
  latch_init (&blocker.release);
  latch_init (&destroyed);
  latch_init (&loop_gone);

  /* The loop's default executor is the pool: only the loop holds it. */
  aio_loop_set_default_executor (f->loop, AIO_EXECUTOR (pool));
  g_object_unref (pool);

  future = aio_loop_run_in_executor (f->loop, NULL, job_block, &blocker, NULL);
  g_object_set_data_full (G_OBJECT (future), "test-destroyed", &destroyed, latch_destroy);
  g_assert_true (latch_wait (&blocker.started));

  aio_loop_close (f->loop);
  g_object_weak_ref (G_OBJECT (f->loop), set_latch_notify, &loop_gone);
  g_object_unref (g_steal_pointer (&f->loop));
  g_object_unref (future);

  /* Everything now hangs on the job: it ends in the pool's worker, and the
   * last references go with it, the pool's included. */
  latch_set (&blocker.release);
  g_assert_true (latch_wait (&destroyed));
  g_assert_true (latch_wait (&loop_gone));

  latch_clear (&blocker.started);
  latch_clear (&blocker.release);
  latch_clear (&destroyed);
  latch_clear (&loop_gone);
}

/* ---- bad input and closed loops ------------------------------------------ */

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (1);

  g_test_summary ("Programmer errors are criticals that return NULL and change nothing");

  EXPECT_CRITICAL ("*func != NULL*", g_assert_null (aio_run_in_executor (NULL, NULL, NULL, NULL)));

  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (aio_loop_run_in_executor (f->loop, AIO_EXECUTOR (pool), NULL, NULL, NULL)));

  EXPECT_CRITICAL ("*AIO_IS_LOOP*",
                   g_assert_null (aio_loop_run_in_executor (NULL, NULL, job_count, NULL, NULL)));

  EXPECT_CRITICAL ("*AIO_IS_EXECUTOR*",
                   g_assert_null (aio_run_in_executor ((AioExecutor *) f->loop, job_count, NULL, NULL)));

  EXPECT_CRITICAL ("*AIO_IS_EXECUTOR*",
                   g_assert_null (aio_executor_submit (NULL, job_count, NULL, NULL)));

  EXPECT_CRITICAL ("*AIO_IS_EXECUTOR*", aio_executor_shutdown (NULL, TRUE));

  EXPECT_CRITICAL ("*max_workers <= G_MAXINT*",
                   g_assert_null (aio_thread_pool_executor_new (G_MAXUINT)));

  /* Nothing changed. */
  g_assert_false (aio_executor_is_shutdown (AIO_EXECUTOR (pool)));
  g_assert_finalize_object (g_steal_pointer (&pool));
}

static void
test_closed_loop (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(AioFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  Counts counts = { 0, 0 };

  g_test_summary ("run_in_executor on a closed loop fails with AIO_ERROR_CLOSED, "
                  "runs nothing and frees the data");

  aio_loop_close (f->loop);
  future = aio_loop_run_in_executor (f->loop, NULL, job_count_ran, &counts, counts_destroy);
  g_assert_false (aio_future_propagate (future, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_assert_cmpint (counts.ran, ==, 0);
  g_assert_cmpint (counts.destroyed, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_EXECUTOR ("/aio/executor/result-in-loop-thread", test_result_in_loop_thread);
  TEST_EXECUTOR ("/aio/executor/starts-before-loop-runs", test_starts_before_loop_runs);
  TEST_EXECUTOR ("/aio/executor/results", test_results);
  TEST_EXECUTOR ("/aio/executor/no-value", test_no_value);
  TEST_EXECUTOR ("/aio/executor/cancel/running", test_cancel_running);
  TEST_EXECUTOR ("/aio/executor/cancel/before-start", test_cancel_before_start);
  TEST_EXECUTOR ("/aio/executor/thread-pool/max-workers", test_max_workers);
  TEST_EXECUTOR ("/aio/executor/thread-pool/max-workers-default", test_max_workers_default);
  TEST_EXECUTOR ("/aio/executor/thread-pool/blocking-jobs", test_blocking_jobs);
  TEST_EXECUTOR ("/aio/executor/shutdown/wait", test_shutdown_wait);
  TEST_EXECUTOR ("/aio/executor/shutdown/default", test_default_shutdown_waits);
  TEST_EXECUTOR ("/aio/executor/default-executor/set", test_set_default_executor);
  TEST_EXECUTOR ("/aio/executor/many", test_many);
  TEST_EXECUTOR ("/aio/executor/running-loop", test_running_loop);
  TEST_EXECUTOR ("/aio/executor/custom-executor", test_custom_executor);
  TEST_EXECUTOR ("/aio/executor/close-while-running", test_close_while_running);
  TEST_EXECUTOR ("/aio/executor/bad-input", test_bad_input);
  TEST_EXECUTOR ("/aio/executor/closed-loop", test_closed_loop);

  return g_test_run ();
}
