/* aio-bench.c: aio-glib on the six benchmark workloads
 *
 * Usage: aio-bench MODE WORKLOAD [N]
 *
 *   MODE      fiber    tasks with fiber bodies and aio_await(), as an
 *                      end-user developer writes them (impl "aio-fiber")
 *             stepped  tasks with stepped bodies, as a framework developer
 *                      writes them (impl "aio-stepped")
 *   WORKLOAD  spawn | sleepers | pingpong | cancel | executor | timers
 *   N         items (default: the workload's default from WORKLOADS.md)
 *
 * Prints exactly one line of JSON following the output contract of
 * shared/bench/WORKLOADS.md and exits 0 when the workload's own check
 * passed.  Only the measured phase is timed: from just before the first
 * item is created until the gather (or the last round trip) completes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLEEPERS_DELAY     0.2
#define CANCEL_DELAY       60.0
#define EXECUTOR_LIMIT     1000
#define EXECUTOR_EXPECTED  ((gint64) EXECUTOR_LIMIT * (EXECUTOR_LIMIT - 1) / 2)
#define TIMERS_STRIDE      7919
#define TIMER_SLACK        0.002

/* ---- measurement --------------------------------------------------------- */

typedef struct
{
  const char *workload;
  gboolean    stepped;
  guint       n;

  gint64      t0, t1;
  glong       base_rss_kb;
  glong       peak_rss_kb;

  /* Per-workload state. */
  AioFuture  *gather;
  AioFuture **items;
  guint       gauge, gauge_peak;
  AioQueue   *to_a, *to_b;
  gint64      token;
  guint       good_trips;
  guint       round;
  gdouble    *deadline;
  gdouble    *woke_at;
  guint      *woken;
  guint       n_woken;

  /* The check's verdict and its extra fields. */
  gboolean    ok;
  GString    *extra;
} Bench;

static Bench bench;

static glong
current_rss_kb (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f != NULL)
    {
      if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

static glong
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

static void
measure_start (void)
{
  bench.base_rss_kb = current_rss_kb ();
  bench.t0 = g_get_monotonic_time ();
}

static void
measure_stop (void)
{
  bench.t1 = g_get_monotonic_time ();
  bench.peak_rss_kb = peak_rss_kb ();
}

static gdouble
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* What each child of a gather must be, given its index. */
typedef gboolean (*ChildCheck) (AioFuture *child,
                                guint      index);

/* The gather resolved, with its n children in order, each passing @check. */
static gboolean
check_children (AioFuture  *gather,
                ChildCheck  check)
{
  GPtrArray *children;

  if (gather == NULL || !aio_future_is_resolved (gather))
    return FALSE;
  children = aio_future_get_futures (gather, NULL);
  if (children == NULL || children->len != bench.n)
    return FALSE;
  for (guint i = 0; i < children->len; i++)
    if (!check (g_ptr_array_index (children, i), i))
      return FALSE;
  return TRUE;
}

static gboolean
returned_index (AioFuture *child,
                guint      index)
{
  return aio_future_get_int64 (child, NULL) == index;
}

static gboolean
was_cancelled (AioFuture *child,
               guint      index)
{
  return aio_future_is_cancelled (child);
}

static gboolean
summed (AioFuture *child,
        guint      index)
{
  return aio_future_get_int64 (child, NULL) == EXECUTOR_EXPECTED;
}

/* ---- spawn: n tasks each yield once and return their index --------------- */

static void
spawn_fiber_child (AioTask  *task,
                   gpointer  data)
{
  if (aio_yield (NULL))
    aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
}

static AioFuture *
spawn_step_child (AioTask   *task,
                  AioFuture *completed,
                  gpointer   data)
{
  if (completed == NULL)
    return aio_yield_future ();
  aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
  return NULL;
}

/* ---- sleepers: n tasks all asleep for 0.2 s at once ---------------------- */

static void
gauge_enter (void)
{
  if (++bench.gauge > bench.gauge_peak)
    bench.gauge_peak = bench.gauge;
}

static void
sleepers_fiber_child (AioTask  *task,
                      gpointer  data)
{
  gauge_enter ();
  if (aio_await (aio_sleep (SLEEPERS_DELAY), NULL))
    {
      bench.gauge--;
      aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
    }
}

static AioFuture *
sleepers_step_child (AioTask   *task,
                     AioFuture *completed,
                     gpointer   data)
{
  if (completed == NULL)
    {
      gauge_enter ();
      return aio_sleep (SLEEPERS_DELAY);
    }
  bench.gauge--;
  aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
  return NULL;
}

/* ---- cancel: n tasks parked in a 60 s sleep, all cancelled --------------- */

static void
cancel_fiber_child (AioTask  *task,
                    gpointer  data)
{
  GError *error = NULL;

  if (!aio_await (aio_sleep (CANCEL_DELAY), &error))
    aio_task_return_error (task, error);
}

static AioFuture *
cancel_step_child (AioTask   *task,
                   AioFuture *completed,
                   gpointer   data)
{
  if (completed == NULL)
    return aio_sleep (CANCEL_DELAY);
  if (!aio_future_is_resolved (completed))
    aio_task_return_error (task, g_error_copy (aio_future_get_error (completed)));
  return NULL;
}


/* ---- executor: n blocking calls on the default thread pool --------------- */

static void
blocking_sum (AioFuture    *future,
              GCancellable *cancellable,
              gpointer      data)
{
  volatile gint64 total = 0;

  for (gint64 i = 0; i < EXECUTOR_LIMIT; i++)
    total += i;
  aio_future_resolve_int64 (future, total);
}


/* ---- timers: n tasks sleep distinct delays covering [0, 1) s ------------- */

static gdouble
timer_delay (guint i)
{
  return (gdouble) (((guint64) i * TIMERS_STRIDE) % bench.n) / bench.n;
}

static void
timer_woke (guint i)
{
  bench.woke_at[i] = now_s ();
  bench.woken[bench.n_woken++] = i;
}

static void
timers_fiber_child (AioTask  *task,
                    gpointer  data)
{
  guint i = GPOINTER_TO_UINT (data);
  gdouble delay = timer_delay (i);

  bench.deadline[i] = now_s () + delay;
  if (aio_await (aio_sleep (delay), NULL))
    timer_woke (i);
}

static AioFuture *
timers_step_child (AioTask   *task,
                   AioFuture *completed,
                   gpointer   data)
{
  guint i = GPOINTER_TO_UINT (data);

  if (completed == NULL)
    {
      gdouble delay = timer_delay (i);

      bench.deadline[i] = now_s () + delay;
      return aio_sleep (delay);
    }
  timer_woke (i);
  return NULL;
}

static gboolean
check_timers (void)
{
  gboolean *seen = g_new0 (gboolean, bench.n);
  gdouble latest = -INFINITY, max_early = 0, max_inversion = 0, late = 0;
  gboolean ok = bench.n_woken == bench.n;

  for (guint k = 0; ok && k < bench.n_woken; k++)
    {
      guint i = bench.woken[k];

      if (i >= bench.n || seen[i])
        {
          ok = FALSE;
          break;
        }
      seen[i] = TRUE;
      max_early = MAX (max_early, bench.deadline[i] - bench.woke_at[i]);
      max_inversion = MAX (max_inversion, latest - bench.deadline[i]);
      latest = MAX (latest, bench.deadline[i]);
      late += bench.woke_at[i] - bench.deadline[i];
    }
  g_free (seen);

  if (!ok)
    return FALSE;
  g_string_append_printf (bench.extra,
                          ", \"mean_late_ms\": %.3f, \"max_early_ms\": %.3f, \"max_inversion_ms\": %.3f",
                          late * 1000 / bench.n, max_early * 1000, max_inversion * 1000);
  return max_early <= TIMER_SLACK && max_inversion <= TIMER_SLACK;
}

/* ---- pingpong: n round trips through two single-slot queues -------------- */

static void
ping_fiber (AioTask  *task,
            gpointer  data)
{
  gint64 token = 0;

  for (guint i = 0; i < bench.n; i++)
    {
      gint64 reply;

      if (!aio_await (aio_queue_put (bench.to_b, GSIZE_TO_POINTER ((gsize) token)), NULL))
        return;
      reply = (gint64) GPOINTER_TO_SIZE (aio_await_pointer (aio_queue_get (bench.to_a), NULL));
      bench.good_trips += reply == token + 1;
      token = reply;
    }
  bench.token = token;
}

static void
pong_fiber (AioTask  *task,
            gpointer  data)
{
  for (guint i = 0; i < bench.n; i++)
    {
      gsize token = GPOINTER_TO_SIZE (aio_await_pointer (aio_queue_get (bench.to_b), NULL));

      if (!aio_await (aio_queue_put (bench.to_a, GSIZE_TO_POINTER (token + 1)), NULL))
        return;
    }
}

/* Each player is a two-state machine: putting, then getting. */
static AioFuture *
ping_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  /* Odd rounds are gets: the one that just completed carries the reply. */
  if (completed != NULL && bench.round % 2 == 0)
    {
      gint64 reply = (gint64) GPOINTER_TO_SIZE (aio_future_get_pointer (completed, NULL));

      bench.good_trips += reply == bench.token + 1;
      bench.token = reply;
    }

  if (bench.round == 2 * bench.n)
    return NULL;

  if (bench.round++ % 2 == 0)
    return aio_queue_put (bench.to_b, GSIZE_TO_POINTER ((gsize) bench.token));
  return aio_queue_get (bench.to_a);
}

static AioFuture *
pong_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  guint *state = data;   /* 2 * trips done, plus 1 while putting */

  if (completed != NULL && *state % 2 == 0)
    {
      gsize token = GPOINTER_TO_SIZE (aio_future_get_pointer (completed, NULL));

      (*state)++;
      return aio_queue_put (bench.to_a, GSIZE_TO_POINTER (token + 1));
    }
  if (completed != NULL)
    (*state)++;
  if (*state == 2 * bench.n)
    return NULL;
  return aio_queue_get (bench.to_b);
}

/* ---- the main task --------------------------------------------------------- */

static AioTask *
spawn_child (AioTaskFunc fiber,
             AioStepFunc step,
             gpointer    data)
{
  return bench.stepped ? aio_create_stepped_task (step, data, NULL)
                       : aio_create_task (fiber, data, NULL);
}

/* Starts the measured phase and returns the future it ends with. */
static AioFuture *
workload_begin (void)
{
  const char *w = bench.workload;
  guint n = bench.n;

  bench.items = g_new0 (AioFuture *, MAX (n, 2));
  measure_start ();

  if (strcmp (w, "spawn") == 0 || strcmp (w, "sleepers") == 0 ||
      strcmp (w, "cancel") == 0 || strcmp (w, "timers") == 0)
    {
      AioTaskFunc fiber = NULL;
      AioStepFunc step = NULL;

      if (strcmp (w, "spawn") == 0)
        fiber = spawn_fiber_child, step = spawn_step_child;
      else if (strcmp (w, "sleepers") == 0)
        fiber = sleepers_fiber_child, step = sleepers_step_child;
      else if (strcmp (w, "cancel") == 0)
        fiber = cancel_fiber_child, step = cancel_step_child;
      else
        fiber = timers_fiber_child, step = timers_step_child;

      for (guint i = 0; i < n; i++)
        bench.items[i] = AIO_FUTURE (spawn_child (fiber, step, GUINT_TO_POINTER (i)));
      return NULL;
    }

  if (strcmp (w, "executor") == 0)
    {
      for (guint i = 0; i < n; i++)
        bench.items[i] = aio_run_in_executor (NULL, blocking_sum, NULL, NULL);
      return NULL;
    }

  /* pingpong */
  bench.to_a = aio_queue_new (1, NULL);
  bench.to_b = aio_queue_new (1, NULL);
  if (bench.stepped)
    {
      bench.items[0] = AIO_FUTURE (aio_create_stepped_task (ping_step, NULL, NULL));
      bench.items[1] = AIO_FUTURE (aio_create_stepped_task (pong_step, g_new0 (guint, 1), g_free));
    }
  else
    {
      bench.items[0] = AIO_FUTURE (aio_create_task (ping_fiber, NULL, NULL));
      bench.items[1] = AIO_FUTURE (aio_create_task (pong_fiber, NULL, NULL));
    }
  return NULL;
}

static guint
n_items (void)
{
  return strcmp (bench.workload, "pingpong") == 0 ? 2 : bench.n;
}

static AioFuture *
gather_items (gboolean return_exceptions)
{
  AioFuture *gather = aio_gatherv (bench.items, n_items (), return_exceptions);

  /* The gather took our references to the items. */
  memset (bench.items, 0, sizeof (AioFuture *) * n_items ());
  bench.gather = g_object_ref (gather);
  return gather;
}

static gboolean
workload_check (void)
{
  const char *w = bench.workload;
  gdouble seconds = (bench.t1 - bench.t0) / 1e6;

  if (strcmp (w, "spawn") == 0)
    return check_children (bench.gather, returned_index);
  if (strcmp (w, "sleepers") == 0)
    return check_children (bench.gather, returned_index) && bench.gauge_peak == bench.n &&
           seconds >= SLEEPERS_DELAY && seconds < SLEEPERS_DELAY + 1.0 + bench.n * 50e-6;
  if (strcmp (w, "cancel") == 0)
    return check_children (bench.gather, was_cancelled) && seconds < CANCEL_DELAY / 2;
  if (strcmp (w, "executor") == 0)
    return check_children (bench.gather, summed);
  if (strcmp (w, "timers") == 0)
    return aio_future_is_resolved (bench.gather) && check_timers ();
  return aio_future_is_resolved (bench.gather) &&
         bench.good_trips == bench.n && bench.token == bench.n;
}

static void
main_fiber (AioTask  *task,
            gpointer  data)
{
  workload_begin ();

  if (strcmp (bench.workload, "cancel") == 0)
    {
      /* Let every task start and park in its sleep. */
      aio_yield (NULL);
      for (guint i = 0; i < bench.n; i++)
        aio_future_cancel (bench.items[i], NULL);
      aio_await (gather_items (TRUE), NULL);
    }
  else
    aio_await (gather_items (FALSE), NULL);

  measure_stop ();
}

static AioFuture *
main_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  guint *state = data;

  switch ((*state)++)
    {
    case 0:
      workload_begin ();
      if (strcmp (bench.workload, "cancel") == 0)
        return aio_yield_future ();
      (*state)++;
      return gather_items (FALSE);

    case 1:
      for (guint i = 0; i < bench.n; i++)
        aio_future_cancel (bench.items[i], NULL);
      return gather_items (TRUE);

    default:
      measure_stop ();
      return NULL;
    }
}

static guint
default_n (const char *workload)
{
  if (strcmp (workload, "pingpong") == 0)
    return 200000;
  if (strcmp (workload, "executor") == 0)
    return 20000;
  return 100000;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const workloads[] = {
    "spawn", "sleepers", "pingpong", "cancel", "executor", "timers",
  };
  g_autoptr(AioLoop) loop = NULL;
  g_autoptr(AioTask) main_task = NULL;
  gboolean known = FALSE;
  guint state = 0;

  if (argc < 3 || argc > 4 ||
      (strcmp (argv[1], "fiber") != 0 && strcmp (argv[1], "stepped") != 0))
    {
      fprintf (stderr, "usage: aio-bench {fiber|stepped} {spawn|sleepers|pingpong|cancel|executor|timers} [N]\n");
      return 2;
    }

  for (guint i = 0; i < G_N_ELEMENTS (workloads); i++)
    known |= strcmp (argv[2], workloads[i]) == 0;
  if (!known)
    {
      fprintf (stderr, "aio-bench: unknown workload %s\n", argv[2]);
      return 2;
    }

  bench.stepped = strcmp (argv[1], "stepped") == 0;
  bench.workload = argv[2];
  bench.n = argc == 4 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : default_n (argv[2]);
  if (bench.n == 0)
    {
      fprintf (stderr, "aio-bench: N must be positive\n");
      return 2;
    }
  bench.extra = g_string_new (NULL);
  if (strcmp (bench.workload, "timers") == 0)
    {
      bench.deadline = g_new0 (gdouble, bench.n);
      bench.woke_at = g_new0 (gdouble, bench.n);
      bench.woken = g_new0 (guint, bench.n);
    }

  loop = aio_loop_new ();
  if (bench.stepped)
    main_task = aio_loop_create_stepped_task (loop, main_step, &state, NULL);
  else
    main_task = aio_loop_create_task (loop, main_fiber, NULL, NULL);
  aio_loop_run_until_complete (loop, AIO_FUTURE (main_task), NULL);

  bench.ok = bench.t1 > 0 && workload_check ();

  printf ("{\"workload\": \"%s\", \"impl\": \"%s\", \"n\": %u, \"seconds\": %.6f, "
          "\"per_item_us\": %.3f, \"base_rss_kb\": %ld, \"peak_rss_kb\": %ld, \"ok\": %s%s}\n",
          bench.workload, bench.stepped ? "aio-stepped" : "aio-fiber", bench.n,
          (bench.t1 - bench.t0) / 1e6, (bench.t1 - bench.t0) / (gdouble) bench.n,
          bench.base_rss_kb, bench.peak_rss_kb, bench.ok ? "true" : "false", bench.extra->str);
  fflush (stdout);

  /* Tearing down 100 000 tasks is not part of the measurement, and the
   * process is about to end: leave it to the kernel. */
  _exit (bench.ok ? 0 : 1);
}
