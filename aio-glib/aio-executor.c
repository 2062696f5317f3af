/* aio-executor.c: executors run blocking work on worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioExecutor:
 *
 * Runs blocking functions on worker threads and reports their outcome as
 * an [class@Aio.Future] on the loop (asyncio's `Executor` and
 * `loop.run_in_executor()`).
 *
 * [func@Aio.run_in_executor] is the everyday call. It starts the function
 * on a worker thread at once, even before the loop runs; the outcome
 * reaches the future's done callbacks in the loop's thread when the loop
 * runs. Passing %NULL picks the loop's default executor, a thread pool
 * of the loop's own with asyncio's number of workers (the number of
 * processors plus 4, at most 32); [class@Aio.ThreadPoolExecutor] makes
 * pools of other sizes.
 *
 * The function completes the future it is given in [class@Gio.Task]'s
 * style, with the thread-safe [method@Aio.Future.resolve_int64] and
 * relatives or [method@Aio.Future.reject], and should watch the
 * `GCancellable` it is given: cancelling the returned future cancels it.
 * A job cancelled before it started never runs.
 *
 * ```c
 * static void
 * checksum_file (AioFuture    *future,
 *                GCancellable *cancellable,
 *                gpointer      user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *   g_autoptr(GBytes) bytes = g_file_load_bytes (user_data, cancellable, NULL, &error);
 *
 *   if (bytes == NULL)
 *     aio_future_reject (future, g_steal_pointer (&error));
 *   else
 *     aio_future_resolve_take_string (future,
 *                                     g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes));
 * }
 *
 * // in a task:
 * g_autofree char *sum = NULL;
 * AioFuture *future = aio_run_in_executor (NULL, checksum_file,
 *                                          g_file_new_for_path ("big.iso"),
 *                                          g_object_unref);
 * if (aio_await (future, &error))   // the loop goes on while the worker reads
 *   ...
 * ```
 *
 * Executors are an interface so that frameworks can add their own
 * (see [struct@Aio.ExecutorInterface]); [method@Aio.Executor.submit] does
 * the loop's side of the work for all of them.
 *
 * Closing a loop ([method@Aio.Loop.close]) does not wait for executors:
 * [func@Aio.run] calls [method@Aio.Loop.shutdown_default_executor] before
 * it closes its loop, and programs that drive a loop themselves should do
 * the same.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-executor.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-private.h"
#include "aio-recycle-private.h"

static GQuark quark_shut_down;
static GQuark quark_default_executor;

/* The executor whose job runs in this thread, so that a job asking its
 * own executor to wait for its jobs is caught instead of deadlocking. */
static AIO_TLS AioExecutor *running_executor;

G_LOCK_DEFINE_STATIC (default_executor);

static void
executor_quarks_init (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      quark_shut_down = g_quark_from_static_string ("aio-executor-shut-down");
      quark_default_executor = g_quark_from_static_string ("aio-default-executor");
      g_once_init_leave (&initialized, 1);
    }
}

/* ---- the job: what every executor runs ---------------------------------- */

/* The function completes the caller's future itself, from the worker: the
 * future's completion is thread-safe and reaches the loop's thread through
 * the loop's inbox.  The job itself goes back the same way once the
 * executor let go of it, so that @destroy runs in the loop's thread. */
typedef struct
{
  /* Chains the job into the loop's inbox once the executor let go of it.
   * First, so that the link is the job. */
  AioLink          link;

  /* Owned.  Set at submission, never replaced. */
  AioLoop         *loop;
  AioFuture       *future;
  GCancellable    *cancellable;
  /* Not owned: only compared with running_executor. */
  AioExecutor     *executor;

  AioExecutorFunc  func;
  gpointer         data;
  GDestroyNotify   destroy;

  /* Written by the worker before it releases the job. */
  gboolean         ran;
} ExecJob;

/* Every job needs a GCancellable, and making and finalizing one costs
 * more than the rest of a short job's trip to a worker and back.  One that
 * nobody else kept a reference to, that was never cancelled and that has
 * no handler left connected is as good as new (see
 * aio-recycle-private.h), so it goes back to a small shared stack for the
 * next job. */
#define CANCELLABLE_CACHE_MAX 64

G_LOCK_DEFINE_STATIC (cancellable_cache);
static GCancellable *cancellable_cache[CANCELLABLE_CACHE_MAX];
static guint cancellable_cache_len;

static GCancellable *
cancellable_take (void)
{
  GCancellable *cancellable = NULL;

  G_LOCK (cancellable_cache);
  if (cancellable_cache_len > 0)
    cancellable = cancellable_cache[--cancellable_cache_len];
  G_UNLOCK (cancellable_cache);

  return cancellable != NULL ? cancellable : g_cancellable_new ();
}

static void
cancellable_give_back (GCancellable *cancellable)
{
  if (_aio_recycle_cancellable_ok (cancellable))
    {
      G_LOCK (cancellable_cache);
      if (cancellable_cache_len < CANCELLABLE_CACHE_MAX)
        {
          cancellable_cache[cancellable_cache_len++] = cancellable;
          cancellable = NULL;
        }
      G_UNLOCK (cancellable_cache);
    }

  g_clear_object (&cancellable);
}

static void
job_free (ExecJob *job)
{
  if (job->destroy != NULL)
    job->destroy (job->data);

  cancellable_give_back (job->cancellable);
  g_object_unref (job->future);
  g_object_unref (job->loop);
  g_free (job);
}

static void
job_finish_link (AioLink  *link,
                 gboolean  discard)
{
  job_free ((ExecJob *) link);
}

/* The function executors run: the caller's function, unless the job was
 * cancelled before it started. */
static void
job_run (AioFuture    *future,
         GCancellable *cancellable,
         gpointer      user_data)
{
  ExecJob *job = user_data;
  AioExecutor *previous;

  /* Reading the future's state (atomic) as well as the GCancellable
   * closes the window between aio_future_cancel() and the done callback
   * that cancels the GCancellable on the loop's next iteration. */
  if (g_cancellable_is_cancelled (job->cancellable) ||
      _aio_future_state (job->future) != AIO_FUTURE_PENDING)
    return;

  job->ran = TRUE;

  previous = running_executor;
  running_executor = job->executor;
  job->func (job->future, job->cancellable, job->data);
  running_executor = previous;

  /* Returning without completing the future resolves it with no value.
   * When the function completed it, or it was cancelled meanwhile, this
   * does nothing. */
  _aio_future_try_resolve (job->future);
}

/* The destroy notify executors call once they are done with a job, run or
 * not, in any thread. */
static void
job_release (gpointer user_data)
{
  ExecJob *job = user_data;

  /* Dropped without running: the future is cancelled, unless the executor
   * rejected it first to tell why. */
  if (!job->ran)
    aio_future_cancel (job->future, NULL);

  /* Only the caller's data needs the loop's thread; without any, let go
   * of the job here.  A closed loop, which cannot take the job back, lets
   * go of it at once. */
  if (job->destroy == NULL)
    job_free (job);
  else
    _aio_loop_push_inbox (job->loop, &job->link);
}

static void
job_watch_cancel (AioFuture *future,
                  gpointer   user_data)
{
  GCancellable *cancellable = user_data;

  if (aio_future_is_cancelled (future))
    g_cancellable_cancel (cancellable);
}

static gboolean
executor_check_open (AioExecutor  *executor,
                     GError      **error)
{
  if (g_object_get_qdata (G_OBJECT (executor), quark_shut_down) == NULL)
    return TRUE;

  g_set_error_literal (error, AIO_ERROR, AIO_ERROR_CLOSED, _("The executor was shut down"));
  return FALSE;
}

static AioFuture *
executor_submit_on_loop (AioExecutor     *executor,
                         AioLoop         *loop,
                         AioExecutorFunc  func,
                         gpointer         user_data,
                         GDestroyNotify   destroy)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;
  ExecJob *job;

  executor_quarks_init ();

  future = aio_future_new_for_loop (loop);

  if (!_aio_loop_check_open (loop, &error) ||
      !executor_check_open (executor, &error))
    {
      aio_future_reject (future, g_steal_pointer (&error));
      if (destroy != NULL)
        destroy (user_data);
      return future;
    }

  job = g_new0 (ExecJob, 1);
  job->link.func = job_finish_link;
  job->loop = g_object_ref (loop);
  job->future = g_object_ref (future);
  job->cancellable = cancellable_take ();
  job->executor = executor;
  job->func = func;
  job->data = user_data;
  job->destroy = destroy;

  /* Added before the job can run, so that nothing else touches the fresh
   * future meanwhile. */
  aio_future_add_done_callback (future, job_watch_cancel,
                                g_object_ref (job->cancellable), g_object_unref);

  /* The job may be over and freed by the time this returns. */
  AIO_EXECUTOR_GET_IFACE (executor)->submit (executor, job->future, job->cancellable,
                                             job_run, job, job_release);

  return future;
}

/* ---- AioExecutor --------------------------------------------------------- */

G_DEFINE_INTERFACE (AioExecutor, aio_executor, G_TYPE_OBJECT)

static void
aio_executor_default_init (AioExecutorInterface *iface)
{
  executor_quarks_init ();
}

/**
 * aio_executor_submit:
 * @executor: an [iface@Aio.Executor]
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function to run on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the job is over
 *
 * Runs @func on one of @executor's workers (asyncio's
 * `Executor.submit()` wrapped for the loop). The returned future belongs
 * to the running loop, or when none runs in this thread, to the default
 * one; see [method@Aio.Loop.run_in_executor] for the details.
 *
 * After [method@Aio.Executor.shutdown], the future fails with
 * `AIO_ERROR_CLOSED`.
 *
 * Returns: (transfer full): a future for @func's outcome
 *
 * Since: 1.0
 */
AioFuture *
aio_executor_submit (AioExecutor     *executor,
                     AioExecutorFunc  func,
                     gpointer         user_data,
                     GDestroyNotify   destroy)
{
  g_return_val_if_fail (AIO_IS_EXECUTOR (executor), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return executor_submit_on_loop (executor, _aio_loop_get_current_or_default (),
                                  func, user_data, destroy);
}

/**
 * aio_executor_shutdown:
 * @executor: an [iface@Aio.Executor]
 * @wait: whether to block until the running jobs have returned
 *
 * Shuts @executor down (`Executor.shutdown()` of Python's
 * concurrent.futures, which asyncio uses): later jobs fail with
 * `AIO_ERROR_CLOSED`; jobs already submitted still run. With @wait, this
 * blocks until all of them have returned; their outcomes reach their
 * futures when the loop next runs. (Cancel a job's future to keep it from
 * starting.)
 *
 * Shutting down twice is allowed; the second call only waits. A job may
 * shut down its own executor, but not wait for it: that is a programmer
 * error, and the executor is shut down without waiting.
 *
 * Since: 1.0
 */
void
aio_executor_shutdown (AioExecutor *executor,
                       gboolean     wait)
{
  g_return_if_fail (AIO_IS_EXECUTOR (executor));

  if (wait && running_executor == executor)
    {
      g_critical ("%s: a job of the executor %p cannot wait for the executor's jobs, "
                  "its own included", G_STRFUNC, executor);
      wait = FALSE;
    }

  g_object_set_qdata (G_OBJECT (executor), quark_shut_down, GINT_TO_POINTER (TRUE));
  AIO_EXECUTOR_GET_IFACE (executor)->shutdown (executor, wait);
}

/**
 * aio_executor_is_shutdown:
 * @executor: an [iface@Aio.Executor]
 *
 * Whether [method@Aio.Executor.shutdown] was called on @executor.
 *
 * Returns: %TRUE once @executor was shut down
 *
 * Since: 1.0
 */
gboolean
aio_executor_is_shutdown (AioExecutor *executor)
{
  g_return_val_if_fail (AIO_IS_EXECUTOR (executor), TRUE);

  return g_object_get_qdata (G_OBJECT (executor), quark_shut_down) != NULL;
}

/* ---- the work queue the built-in executors share ------------------------- */

/* The workers of an AioThreadPoolExecutor
 *
 * An executor's jobs are usually short and come in bursts (a task gathers
 * a thousand of them), or block a thread for long.  GLib's GThreadPool
 * wakes a sleeping worker for each job pushed, a futex wake and a context
 * switch that cost more than a short job itself; so the executor keeps
 * its own workers:
 *
 *  - a worker that runs out of jobs first spins for a few microseconds
 *    (at most one worker spins at a time) watching the queue, so that a
 *    burst submitted from the loop's thread is taken up without a wakeup;
 *  - a job queued while no worker spins wakes one sleeping worker, unless
 *    enough are waking already, and starts a new thread (up to
 *    max-workers) when none sleeps: jobs that block still get a thread
 *    each, up to the limit;
 *  - a worker that found nothing to do for AIO_WORKER_IDLE_SECONDS ends.
 *
 * Refcounted, because workers and items outlive the executor. */

#define AIO_WORKER_SPIN_US       20
#define AIO_WORKER_IDLE_SECONDS  10

typedef struct
{
  gatomicrefcount  ref_count;
  GMutex           mutex;
  GCond            work_cond;   /* workers wait here for jobs */
  GCond            idle_cond;   /* shutdown (wait) waits here */

  /* Set at construction. */
  guint            max_workers;

  /* Under @mutex. */
  GQueue           queued;      /* items not started yet, by their link */
  guint            running;     /* items whose function is running */
  guint            n_workers;   /* threads alive */
  guint            n_sleeping;  /* workers waiting on @work_cond */
  guint            n_waking;    /* of those, signalled but not yet up */
  guint            n_spinning;  /* workers watching @n_queued */
  gboolean         shut_down;

  /* Atomic mirror of the queue's length, for the spinning worker. */
  gint             n_queued;
} WorkState;

typedef struct
{
  /* In the state's queue while queued; the data is the item. */
  GList            link;
  /* Not owned: valid until @destroy ran. */
  AioFuture       *future;
  GCancellable    *cancellable;
  AioExecutorFunc  func;
  gpointer         data;
  GDestroyNotify   destroy;
} WorkItem;

static WorkState *
work_state_new (void)
{
  WorkState *state = g_new0 (WorkState, 1);

  g_atomic_ref_count_init (&state->ref_count);
  g_mutex_init (&state->mutex);
  g_cond_init (&state->work_cond);
  g_cond_init (&state->idle_cond);
  g_queue_init (&state->queued);
  return state;
}

static WorkState *
work_state_ref (WorkState *state)
{
  g_atomic_ref_count_inc (&state->ref_count);
  return state;
}

static void
work_state_unref (WorkState *state)
{
  if (!g_atomic_ref_count_dec (&state->ref_count))
    return;

  g_assert (g_queue_is_empty (&state->queued));
  g_assert (state->running == 0);
  g_assert (state->n_workers == 0);
  g_mutex_clear (&state->mutex);
  g_cond_clear (&state->work_cond);
  g_cond_clear (&state->idle_cond);
  g_free (state);
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

/* In a worker: runs the item, unlocked, and frees it. */
static void
work_item_run (WorkItem *item)
{
  item->func (item->future, item->cancellable, item->data);
  if (item->destroy != NULL)
    item->destroy (item->data);
  g_free (item);
}

static gpointer
worker_main (gpointer data)
{
  WorkState *state = data;

  g_mutex_lock (&state->mutex);
  for (;;)
    {
      GList *link = g_queue_pop_head_link (&state->queued);

      if (link != NULL)
        {
          g_atomic_int_set (&state->n_queued, (gint) state->queued.length);
          state->running++;
          g_mutex_unlock (&state->mutex);

          work_item_run (link->data);

          g_mutex_lock (&state->mutex);
          if (--state->running == 0 && g_queue_is_empty (&state->queued))
            g_cond_broadcast (&state->idle_cond);
          continue;
        }

      if (state->shut_down)
        break;

      /* Nothing queued: watch for a moment before sleeping. */
      if (state->n_spinning == 0)
        {
          gint64 end;

          state->n_spinning++;
          g_mutex_unlock (&state->mutex);
          end = g_get_monotonic_time () + AIO_WORKER_SPIN_US;
          while (g_atomic_int_get (&state->n_queued) == 0 &&
                 g_get_monotonic_time () < end)
            cpu_relax ();
          g_mutex_lock (&state->mutex);
          state->n_spinning--;
          if (!g_queue_is_empty (&state->queued))
            continue;
        }

      state->n_sleeping++;
      if (!g_cond_wait_until (&state->work_cond, &state->mutex,
                              g_get_monotonic_time () + AIO_WORKER_IDLE_SECONDS * G_TIME_SPAN_SECOND) &&
          g_queue_is_empty (&state->queued))
        {
          state->n_sleeping--;
          if (state->n_waking > state->n_sleeping)
            state->n_waking = state->n_sleeping;
          break;
        }
      state->n_sleeping--;
      if (state->n_waking > 0)
        state->n_waking--;
    }

  state->n_workers--;
  g_mutex_unlock (&state->mutex);
  work_state_unref (state);
  return NULL;
}

/* With @mutex held, after an item was queued: gets a worker to it. */
static void
work_state_dispatch (WorkState *state)
{
  guint queued = state->queued.length;
  g_autoptr(GError) error = NULL;
  GThread *thread;

  /* A spinning worker takes the first job, waking ones one job each. */
  if (queued <= state->n_spinning + state->n_waking)
    return;

  if (state->n_sleeping > state->n_waking)
    {
      state->n_waking++;
      g_cond_signal (&state->work_cond);
      return;
    }

  if (state->n_workers >= state->max_workers)
    return;

  thread = g_thread_try_new ("aio-executor", worker_main, work_state_ref (state), &error);
  if (thread == NULL)
    {
      work_state_unref (state);
      /* The job waits for the workers there are. */
      if (state->n_workers == 0)
        g_warning ("AioThreadPoolExecutor: cannot start a worker: %s", error->message);
      return;
    }
  state->n_workers++;
  g_thread_unref (thread);
}

/* Queues a job, or refuses it with AIO_ERROR_CLOSED once the executor was
 * shut down. */
static void
work_state_add (WorkState       *state,
                AioFuture       *future,
                GCancellable    *cancellable,
                AioExecutorFunc  func,
                gpointer         user_data,
                GDestroyNotify   destroy)
{
  WorkItem *item;

  g_mutex_lock (&state->mutex);
  if (state->shut_down)
    {
      g_mutex_unlock (&state->mutex);
      aio_future_reject_literal (future, AIO_ERROR, AIO_ERROR_CLOSED,
                                 _("The executor was shut down"));
      if (destroy != NULL)
        destroy (user_data);
      return;
    }

  item = g_new (WorkItem, 1);
  item->link.data = item;
  item->link.prev = item->link.next = NULL;
  item->future = future;
  item->cancellable = cancellable;
  item->func = func;
  item->data = user_data;
  item->destroy = destroy;
  g_queue_push_tail_link (&state->queued, &item->link);
  g_atomic_int_set (&state->n_queued, (gint) state->queued.length);
  work_state_dispatch (state);
  g_mutex_unlock (&state->mutex);
}

static void
work_state_shutdown (WorkState *state,
                     gboolean   wait)
{
  /* As concurrent.futures' shutdown() with cancel_futures=False, which is
   * what asyncio's shutdown_default_executor() calls: jobs already
   * submitted still run, later ones are refused.  Idle workers end. */
  g_mutex_lock (&state->mutex);
  state->shut_down = TRUE;
  g_cond_broadcast (&state->work_cond);
  if (wait)
    while (state->running > 0 || !g_queue_is_empty (&state->queued))
      g_cond_wait (&state->idle_cond, &state->mutex);
  g_mutex_unlock (&state->mutex);
}

/* ---- the loop's default executor ----------------------------------------- */

/* asyncio's default: enough threads for blocking I/O, not so many that
 * short jobs mostly fight over two cores.  (GTask's own pool, which the
 * default executor first ran on, costs three times as much per job: a
 * GTask, and a report through an idle source that we do not need, since
 * outcomes reach the loop through its inbox.) */
static guint
default_max_workers (void)
{
  return MIN (32, g_get_num_processors () + 4);
}

/* Returns a new reference on @loop's default executor, creating it. */
static AioExecutor *
loop_ref_default_executor (AioLoop *loop)
{
  AioExecutor *executor;

  executor_quarks_init ();

  G_LOCK (default_executor);
  executor = g_object_get_qdata (G_OBJECT (loop), quark_default_executor);
  if (executor == NULL)
    {
      executor = AIO_EXECUTOR (aio_thread_pool_executor_new (default_max_workers ()));
      g_object_set_qdata_full (G_OBJECT (loop), quark_default_executor,
                               executor, g_object_unref);
    }
  g_object_ref (executor);
  G_UNLOCK (default_executor);

  return executor;
}

/**
 * aio_loop_get_default_executor:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the executor that [method@Aio.Loop.run_in_executor] uses when given
 * none. Unless [method@Aio.Loop.set_default_executor] replaced it, it is an
 * [class@Aio.ThreadPoolExecutor] of the loop's own, with as many workers
 * as asyncio's default: the number of processors plus 4, at most 32.
 *
 * Returns: (transfer none): the default executor of @loop
 *
 * Since: 1.0
 */
AioExecutor *
aio_loop_get_default_executor (AioLoop *loop)
{
  AioExecutor *executor;

  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  /* The loop keeps it alive for as long as it stays the default. */
  executor = loop_ref_default_executor (loop);
  g_object_unref (executor);
  return executor;
}

/**
 * aio_loop_set_default_executor:
 * @loop: an [class@Aio.Loop]
 * @executor: (nullable): an [iface@Aio.Executor], or %NULL to go back to
 *   a thread pool of the loop's own
 *
 * Sets the executor [method@Aio.Loop.run_in_executor] uses when given none
 * (asyncio's `loop.set_default_executor()`). The loop takes a reference.
 * The previous one is not shut down: jobs it was given go on.
 *
 * Since: 1.0
 */
void
aio_loop_set_default_executor (AioLoop     *loop,
                               AioExecutor *executor)
{
  gpointer previous;

  g_return_if_fail (AIO_IS_LOOP (loop));
  g_return_if_fail (executor == NULL || AIO_IS_EXECUTOR (executor));

  executor_quarks_init ();

  G_LOCK (default_executor);
  previous = g_object_steal_qdata (G_OBJECT (loop), quark_default_executor);
  if (executor != NULL)
    g_object_set_qdata_full (G_OBJECT (loop), quark_default_executor,
                             g_object_ref (executor), g_object_unref);
  G_UNLOCK (default_executor);

  g_clear_object (&previous);
}

/**
 * aio_loop_shutdown_default_executor:
 * @loop: an [class@Aio.Loop]
 *
 * Shuts @loop's default executor down and blocks until the jobs given to
 * it have returned (asyncio's `loop.shutdown_default_executor()`). Their
 * outcomes reach their futures when the loop next runs. Later calls of [method@Aio.Loop.run_in_executor] without an
 * executor fail with `AIO_ERROR_CLOSED`.
 *
 * [method@Aio.Loop.close] does not wait for executors; [func@Aio.run] calls
 * this before it closes its loop.
 *
 * Since: 1.0
 */
void
aio_loop_shutdown_default_executor (AioLoop *loop)
{
  AioExecutor *executor;

  g_return_if_fail (AIO_IS_LOOP (loop));

  executor = loop_ref_default_executor (loop);
  aio_executor_shutdown (executor, TRUE);
  g_object_unref (executor);
}

/**
 * aio_loop_run_in_executor:
 * @loop: an [class@Aio.Loop]
 * @executor: (nullable): an [iface@Aio.Executor], or %NULL for @loop's
 *   default executor
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function to run on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the job is over
 *
 * Runs @func on a worker thread of @executor (asyncio's
 * `loop.run_in_executor()`) and returns a future on @loop for its outcome.
 *
 * The job starts at once, whether or not @loop runs; its outcome reaches
 * the future's done callbacks in @loop's thread when the loop runs. The
 * future is a plain [class@Aio.Future], not a task. Cancelling it cancels
 * the `GCancellable` given to @func (on the loop's next iteration), and a
 * job cancelled before it started never calls @func.
 *
 * @destroy is called once the job is over, whether @func ran or not: in
 * @loop's thread while the loop is open, in whichever thread let go of the
 * job otherwise.
 *
 * If @loop is closed or @executor was shut down, the future fails with
 * `AIO_ERROR_CLOSED`.
 *
 * Returns: (transfer full): a future for @func's outcome
 *
 * Since: 1.0
 */
AioFuture *
aio_loop_run_in_executor (AioLoop         *loop,
                          AioExecutor     *executor,
                          AioExecutorFunc  func,
                          gpointer         user_data,
                          GDestroyNotify   destroy)
{
  g_autoptr(AioExecutor) owned = NULL;

  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);
  g_return_val_if_fail (executor == NULL || AIO_IS_EXECUTOR (executor), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (executor == NULL)
    executor = owned = loop_ref_default_executor (loop);

  return executor_submit_on_loop (executor, loop, func, user_data, destroy);
}

/**
 * aio_run_in_executor:
 * @executor: (nullable): an [iface@Aio.Executor], or %NULL for the loop's
 *   default executor
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   function to run on a worker thread
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the job is over
 *
 * Runs @func on a worker thread, as [method@Aio.Loop.run_in_executor] does
 * on the running loop, or when no loop runs in this thread, on the default
 * loop ([func@Aio.Loop.get_default]).
 *
 * Returns: (transfer full): a future for @func's outcome
 *
 * Since: 1.0
 */
AioFuture *
aio_run_in_executor (AioExecutor     *executor,
                     AioExecutorFunc  func,
                     gpointer         user_data,
                     GDestroyNotify   destroy)
{
  g_return_val_if_fail (executor == NULL || AIO_IS_EXECUTOR (executor), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return aio_loop_run_in_executor (_aio_loop_get_current_or_default (), executor,
                                   func, user_data, destroy);
}

/* ---- AioThreadPoolExecutor ----------------------------------------------- */

/**
 * AioThreadPoolExecutor:
 *
 * An [iface@Aio.Executor] with worker threads of its own, running at most
 * [property@Aio.ThreadPoolExecutor:max-workers] jobs at once (asyncio's
 * `concurrent.futures.ThreadPoolExecutor`).
 *
 * Jobs start in the order they were submitted. Workers are started as
 * jobs need them, and end after ten idle seconds or at shutdown; a burst
 * of short jobs is taken up by a worker that watches the queue for a few
 * microseconds after its last job, rather than by waking a thread per
 * job. Dropping the last reference without shutting the executor down
 * lets its queued and running jobs finish in the background.
 *
 * ```c
 * g_autoptr(AioThreadPoolExecutor) pool = aio_thread_pool_executor_new (4);
 *
 * for (guint i = 0; i < n_files; i++)
 *   futures[i] = aio_run_in_executor (AIO_EXECUTOR (pool), hash_file,
 *                                     g_object_ref (files[i]), g_object_unref);
 * ...
 * aio_executor_shutdown (AIO_EXECUTOR (pool), TRUE);
 * ```
 *
 * Since: 1.0
 */

struct _AioThreadPoolExecutor
{
  GObject      parent_instance;

  /* Set at construction, never changed. */
  guint        max_workers;

  /* Owned; shared with the workers. */
  WorkState   *state;
};

enum {
  PROP_0,
  PROP_MAX_WORKERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void aio_thread_pool_executor_iface_init (AioExecutorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (AioThreadPoolExecutor, aio_thread_pool_executor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (AIO_TYPE_EXECUTOR,
                                                      aio_thread_pool_executor_iface_init))

static void
aio_thread_pool_executor_submit (AioExecutor     *executor,
                                 AioFuture       *future,
                                 GCancellable    *cancellable,
                                 AioExecutorFunc  func,
                                 gpointer         user_data,
                                 GDestroyNotify   destroy)
{
  AioThreadPoolExecutor *self = (AioThreadPoolExecutor *) executor;

  work_state_add (self->state, future, cancellable, func, user_data, destroy);
}

static void
aio_thread_pool_executor_shutdown (AioExecutor *executor,
                                   gboolean     wait)
{
  AioThreadPoolExecutor *self = (AioThreadPoolExecutor *) executor;

  work_state_shutdown (self->state, wait);
}

static void
aio_thread_pool_executor_iface_init (AioExecutorInterface *iface)
{
  iface->submit = aio_thread_pool_executor_submit;
  iface->shutdown = aio_thread_pool_executor_shutdown;
}

static void
aio_thread_pool_executor_constructed (GObject *object)
{
  AioThreadPoolExecutor *self = (AioThreadPoolExecutor *) object;

  G_OBJECT_CLASS (aio_thread_pool_executor_parent_class)->constructed (object);

  if (self->max_workers == 0)
    self->max_workers = MAX (1, g_get_num_processors ());
  self->state->max_workers = self->max_workers;
}

static void
aio_thread_pool_executor_finalize (GObject *object)
{
  AioThreadPoolExecutor *self = (AioThreadPoolExecutor *) object;

  /* Neither immediate nor waiting: the queued items are still run and the
   * workers go away once the queue is empty.  This may run in one of the
   * executor's own workers. */
  work_state_shutdown (self->state, FALSE);
  work_state_unref (self->state);

  G_OBJECT_CLASS (aio_thread_pool_executor_parent_class)->finalize (object);
}

static void
aio_thread_pool_executor_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  AioThreadPoolExecutor *self = AIO_THREAD_POOL_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, self->max_workers);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_thread_pool_executor_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  AioThreadPoolExecutor *self = AIO_THREAD_POOL_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_MAX_WORKERS:
      self->max_workers = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_thread_pool_executor_class_init (AioThreadPoolExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = aio_thread_pool_executor_constructed;
  object_class->finalize = aio_thread_pool_executor_finalize;
  object_class->get_property = aio_thread_pool_executor_get_property;
  object_class->set_property = aio_thread_pool_executor_set_property;

  /**
   * AioThreadPoolExecutor:max-workers:
   *
   * The most jobs the executor runs at once. 0 at construction picks the
   * number of processors ([func@GLib.get_num_processors]); reading the
   * property gives the number in effect.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL,
                       0, G_MAXINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_thread_pool_executor_init (AioThreadPoolExecutor *self)
{
  self->state = work_state_new ();
}

/**
 * aio_thread_pool_executor_new:
 * @max_workers: the most jobs to run at once, or 0 for the number of
 *   processors
 *
 * Creates an executor that runs at most @max_workers jobs at once, on
 * threads of its own.
 *
 * Returns: (transfer full): a new [class@Aio.ThreadPoolExecutor]
 *
 * Since: 1.0
 */
AioThreadPoolExecutor *
aio_thread_pool_executor_new (guint max_workers)
{
  g_return_val_if_fail (max_workers <= G_MAXINT, NULL);

  return g_object_new (AIO_TYPE_THREAD_POOL_EXECUTOR,
                       "max-workers", max_workers,
                       NULL);
}

/**
 * aio_thread_pool_executor_get_max_workers:
 * @self: an [class@Aio.ThreadPoolExecutor]
 *
 * Gets the most jobs @self runs at once.
 *
 * Returns: the number of workers
 *
 * Since: 1.0
 */
guint
aio_thread_pool_executor_get_max_workers (AioThreadPoolExecutor *self)
{
  g_return_val_if_fail (AIO_IS_THREAD_POOL_EXECUTOR (self), 0);

  return self->max_workers;
}
