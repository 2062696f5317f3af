/* test-task-current.c: the current task, names, all_tasks, lifetime and stacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * current_task(), task names and all_tasks(); the loop keeping its pending
 * tasks alive, and letting go of them when closed; very many fiber tasks
 * at once, and the size of their stacks.  test-task-common.h says how the
 * AioTask tests go.
 *
 * Environment:
 *   AIO_TEST_TASK_N   fiber tasks suspended at once in /aio/task/many
 *                     (default 100000; 2000 under valgrind, which cannot
 *                     track that many mappings; 6000 under TSan, which
 *                     counts fibers as threads)
 */

#include "config.h"

#include <string.h>

#include "aio-fiber-private.h"
#include "aio-loop-private.h"

#include "test-task-common.h"

/* ---- introspection ------------------------------------------------------- */

static void
current_body (AioTask  *task,
              gpointer  user_data)
{
  g_assert_true (aio_task_get_current () == task);
  log_event ("a1");
  g_assert_true (aio_yield (NULL));
  /* Another task ran meanwhile; we are current again. */
  g_assert_true (aio_task_get_current () == task);
  log_event ("a2");
}

static AioFuture *
current_step (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  Body *b = user_data;

  g_assert_true (aio_task_get_current () == task);
  log_event ("b%u", b->state);
  return b->state++ == 0 ? aio_sleep (0) : NULL;
}

static void
current_done (AioFuture *future,
              gpointer   user_data)
{
  Body *b = user_data;

  g_assert_null (aio_task_get_current ());
  g_assert_true (aio_loop_get_running () == b->f->loop);
  b->flag = TRUE;
}

static void
test_current (Fixture       *f,
              gconstpointer  data)
{
  AioTask *a, *b_task;
  Body a_b, b_b;

  g_test_summary ("asyncio: current_task() is the task whose coroutine is "
                  "running, and None outside of any (in done callbacks and "
                  "outside the loop)");

  g_assert_null (aio_task_get_current ());
  body_init (&a_b, f, NULL);
  body_init (&b_b, f, NULL);
  a = create_task (f, current_body, &a_b);
  b_task = create_stepped (f, current_step, &b_b);
  aio_future_add_done_callback (AIO_FUTURE (a), current_done, &a_b, NULL);
  g_assert_null (aio_task_get_current ());

  g_assert_true (run (f, b_task, NULL));
  g_assert_true (run (f, a, NULL));
  run_sleep (f, 0);
  g_assert_true (a_b.flag);
  g_assert_cmpstr (log_str (), ==, "a1 b0 a2 b1");
  g_assert_null (aio_task_get_current ());

  g_assert_finalize_object (a);
  g_assert_finalize_object (b_task);
}

static void
name_body (AioTask  *task,
           gpointer  user_data)
{
  Body *b = user_data;

  g_assert_cmpstr (aio_task_get_name (aio_task_get_current ()), ==, b->tag);
}

static void
test_name (Fixture       *f,
           gconstpointer  data)
{
  AioTask *first, *second;
  const char *name;
  guint64 n1, n2;
  char *expected;
  Body b1, b2;

  g_test_summary ("asyncio: tasks are named 'Task-N' by default, N counting "
                  "up; set_name() renames a task, and None goes back to the "
                  "default");

  body_init (&b1, f, "fetcher");
  body_init (&b2, f, NULL);
  first = create_task (f, name_body, &b1);
  second = create_stepped (f, log_step, &b2);

  name = aio_task_get_name (first);
  g_assert_true (g_str_has_prefix (name, "Task-"));
  g_assert_true (g_ascii_string_to_unsigned (name + 5, 10, 1, G_MAXUINT, &n1, NULL));
  name = aio_task_get_name (second);
  g_assert_true (g_str_has_prefix (name, "Task-"));
  g_assert_true (g_ascii_string_to_unsigned (name + 5, 10, 1, G_MAXUINT, &n2, NULL));
  g_assert_cmpuint (n2, ==, n1 + 1);

  expected = g_strdup (aio_task_get_name (first));
  aio_task_set_name (first, "fetcher");
  g_assert_cmpstr (aio_task_get_name (first), ==, "fetcher");
  b2.tag = "second";
  g_assert_true (run (f, first, NULL));
  g_assert_true (run (f, second, NULL));

  aio_task_set_name (first, NULL);
  g_assert_cmpstr (aio_task_get_name (first), ==, expected);
  g_free (expected);

  g_assert_finalize_object (first);
  g_assert_finalize_object (second);
}

static void
test_all_tasks (Fixture       *f,
                gconstpointer  data)
{
  AioFuture *plain, *gate, *sleep;
  AioTask *a, *b_task, *c;
  Body a_b, b_b, c_b;
  GPtrArray *tasks;

  g_test_summary ("asyncio: all_tasks() lists the loop's tasks that are not "
                  "done yet, oldest first; plain futures are not tasks and "
                  "finished tasks are gone");

  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 0);
  g_ptr_array_unref (tasks);

  gate = aio_future_new_for_loop (f->loop);
  body_init (&a_b, f, "a");
  a_b.future = g_object_ref (gate);
  a = create_task (f, wait_future_body, &a_b);
  plain = aio_future_new_for_loop (f->loop);
  body_init (&b_b, f, "b");
  b_b.future = g_object_ref (gate);
  b_task = create_stepped (f, wait_future_step, &b_b);
  sleep = aio_loop_sleep (f->loop, LONG_SLEEP);
  body_init (&c_b, f, "c");
  c = create_task (f, log_body, &c_b);

  /* Not started yet: pending all the same. */
  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 3);
  g_assert_true (g_ptr_array_index (tasks, 0) == a);
  g_assert_true (g_ptr_array_index (tasks, 1) == b_task);
  g_assert_true (g_ptr_array_index (tasks, 2) == c);
  g_ptr_array_unref (tasks);

  run_sleep (f, 0);
  g_assert_true (aio_future_is_done (AIO_FUTURE (c)));
  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 2);
  g_assert_true (g_ptr_array_index (tasks, 0) == a);
  g_assert_true (g_ptr_array_index (tasks, 1) == b_task);
  g_ptr_array_unref (tasks);

  aio_future_resolve_int64 (gate, 1);
  g_assert_true (run (f, b_task, NULL));
  g_assert_true (aio_future_is_done (AIO_FUTURE (a)));
  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 0);
  g_ptr_array_unref (tasks);

  g_assert_true (aio_future_cancel (sleep, NULL));
  g_assert_finalize_object (a);
  g_assert_finalize_object (b_task);
  g_assert_finalize_object (c);
  body_clear (&a_b);
  body_clear (&b_b);
  g_assert_finalize_object (gate);
  g_assert_finalize_object (plain);
  g_object_unref (sleep);
}

/* ---- the explicit loop --------------------------------------------------- */

typedef struct
{
  gdouble  delay;
  char     name;
} Sleeper;

static void
sleeper_body (AioTask  *task,
              gpointer  user_data)
{
  Sleeper *s = user_data;

  log_event ("%c-start", s->name);
  g_assert_true (aio_await (aio_sleep (s->delay), NULL));
  log_event ("%c-end", s->name);
}

static void
test_run_until_complete_others_pending (Fixture       *f,
                                        gconstpointer  data)
{
  Sleeper a = { 0.01, 'a' }, b = { 0.05, 'b' };
  AioTask *ta, *tb;
  g_autoptr(GPtrArray) pending = NULL;

  g_test_summary ("asyncio: when run_until_complete() returns because its future is "
                  "done, other tasks stay pending, and resume when the loop runs again");

  ta = aio_loop_create_task (f->loop, sleeper_body, &a, NULL);
  tb = aio_loop_create_task (f->loop, sleeper_body, &b, NULL);
  g_assert_true (run (f, ta, NULL));
  g_assert_cmpstr (log_str (), ==, "a-start b-start a-end");

  pending = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_true (g_ptr_array_index (pending, 0) == tb);
  g_assert_false (aio_future_is_done (AIO_FUTURE (tb)));

  g_assert_true (run (f, tb, NULL));
  g_assert_cmpstr (log_str (), ==, "a-start b-start a-end b-end");
  g_assert_finalize_object (ta);
  g_clear_pointer (&pending, g_ptr_array_unref);
  g_assert_finalize_object (tb);
}

static void
executor_job (AioFuture    *future,
              GCancellable *cancellable,
              gpointer      user_data)
{
  aio_future_resolve_int64 (future, 7);
}

static void
test_all_tasks_no_executor_futures (Fixture       *f,
                                    gconstpointer  data)
{
  Sleeper a = { 0.01, 'a' };
  g_autoptr(GPtrArray) tasks = NULL;
  AioFuture *job;
  AioTask *ta;

  g_test_summary ("asyncio: run_in_executor() returns a plain future, which "
                  "all_tasks() does not list; only tasks are listed");

  ta = aio_loop_create_task (f->loop, sleeper_body, &a, NULL);
  job = aio_loop_run_in_executor (f->loop, NULL, executor_job, NULL, NULL);
  g_assert_false (AIO_IS_TASK (job));

  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 1);
  g_assert_true (g_ptr_array_index (tasks, 0) == ta);
  g_clear_pointer (&tasks, g_ptr_array_unref);

  g_assert_true (run (f, job, NULL));
  g_assert_cmpint (aio_future_get_int64 (job, NULL), ==, 7);
  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, <=, 1);
  g_clear_pointer (&tasks, g_ptr_array_unref);

  g_assert_true (run (f, ta, NULL));
  aio_loop_shutdown_default_executor (f->loop);
  g_assert_finalize_object (job);
  g_assert_finalize_object (ta);
}

/* ---- lifetime ------------------------------------------------------------ */

static void
kept_alive_body (AioTask  *task,
                 gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_await (aio_sleep (0.01), NULL));
  aio_future_resolve (b->future);
}

static void
test_kept_alive (Fixture       *f,
                 gconstpointer  data)
{
  AioTask *task;
  gpointer weak;
  Body b;

  g_test_summary ("asyncio keeps only weak references to tasks (a known "
                  "trap); aio-glib's loop keeps every pending task alive "
                  "though its creator dropped it, until it finishes");

  body_init (&b, f, NULL);
  b.future = aio_future_new_for_loop (f->loop);
  task = create_task (f, kept_alive_body, &b);
  weak = task;
  g_object_add_weak_pointer (G_OBJECT (task), &weak);
  g_object_unref (task);
  g_assert_nonnull (weak);

  run_sleep (f, 0);
  /* Suspended in its sleep, held by the loop alone. */
  g_assert_nonnull (weak);
  g_assert_cmpuint (b.destroyed, ==, 0);

  g_assert_true (run (f, b.future, NULL));
  g_assert_null (weak);
  g_assert_cmpuint (b.destroyed, ==, 1);
  body_clear (&b);
}

static void
test_destroyed_pending (Fixture       *f,
                        gconstpointer  data)
{
  gpointer weak_a, weak_b, weak_sleep;
  AioTask *a, *b_task;
  guint before;
  Body a_b, b_b;

  g_test_summary ("asyncio: 'Task was destroyed but it is pending!' is "
                  "logged when a loop is closed with a task still suspended "
                  "(or never started); nothing of it leaks");

  before = aio_test_live_stacks ();
  body_init (&a_b, f, "a");
  a = create_task (f, wait_long_body, &a_b);
  run_sleep (f, 0);
  g_assert_cmpuint (a_b.runs, ==, 1);
  weak_sleep = a_b.sleep;
  g_object_add_weak_pointer (G_OBJECT (a_b.sleep), &weak_sleep);
  g_clear_object (&a_b.sleep);

  body_init (&b_b, f, "b");
  b_task = create_stepped (f, log_step, &b_b);

  weak_a = a;
  g_object_add_weak_pointer (G_OBJECT (a), &weak_a);
  weak_b = b_task;
  g_object_add_weak_pointer (G_OBJECT (b_task), &weak_b);
  g_object_unref (a);
  g_object_unref (b_task);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*destroyed while it was still pending*");
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*destroyed while it was still pending*");
  aio_loop_close (f->loop);
  g_test_assert_expected_messages ();

  g_assert_null (weak_a);
  g_assert_null (weak_b);
  g_assert_null (weak_sleep);
  g_assert_cmpuint (a_b.destroyed, ==, 1);
  g_assert_cmpuint (b_b.destroyed, ==, 1);
  g_assert_cmpuint (b_b.runs, ==, 0);
  /* The suspended fiber's stack went back. */
  g_assert_cmpuint (aio_test_live_stacks (), <=, MAX (before, 1));
}

/* ---- very many tasks ----------------------------------------------------- */

/* The fiber back end's per-thread pool bound (aio-fiber-stack.c). */
#define FIBER_POOL_MAX 256

typedef struct
{
  AioFuture *gate;
  AioFuture *done;
  guint      suspended;
  guint      remaining;
} Many;

static Many *many;

static void
many_body (AioTask  *task,
           gpointer  user_data)
{
  guint index = GPOINTER_TO_UINT (user_data);
  GError *error = NULL;
  gint64 value;

  many->suspended++;
  value = aio_await_int64 (g_object_ref (many->gate), &error);
  g_assert_no_error (error);
  many->suspended--;
  aio_task_return_int64 (task, value + index);
  if (--many->remaining == 0)
    aio_future_resolve (many->done);
}

static void
test_many (Fixture       *f,
           gconstpointer  data)
{
  const char *env = g_getenv ("AIO_TEST_TASK_N");
  guint n = 100000, before, i;
  AioTask **tasks;
  gint64 start;
  Many state;

  g_test_summary ("asyncio runs 100 000 coroutines suspended at once; so "
                  "does aio-glib with fiber tasks, each on its own stack, all "
                  "completing with their results");

  if (env != NULL && *env != '\0')
    n = (guint) g_ascii_strtoull (env, NULL, 10);
  else if (RUNNING_ON_VALGRIND)
    n = 2000;   /* valgrind tracks at most some 30 000 mappings */
#if defined(__SANITIZE_THREAD__)
  else
    n = 6000;   /* ThreadSanitizer has room for 8128 threads and fibers */
#endif
  g_assert_cmpuint (n, >, 0);

  memset (&state, 0, sizeof state);
  state.gate = aio_future_new_for_loop (f->loop);
  state.done = aio_future_new_for_loop (f->loop);
  state.remaining = n;
  many = &state;
  tasks = g_new (AioTask *, n);
  before = aio_test_live_stacks ();
  start = g_get_monotonic_time ();

  for (i = 0; i < n; i++)
    tasks[i] = aio_loop_create_task (f->loop, many_body, GUINT_TO_POINTER (i), NULL);
  g_assert_cmpuint (g_queue_get_length (_aio_loop_get_tasks (f->loop)), ==, n);

  /* One step each: all of them suspended, each holding a stack.  Starting
   * them takes several dispatches of the ready queue, which yields to the
   * context every millisecond. */
  for (i = 0; i < 100000 && state.suspended < n; i++)
    g_main_context_iteration (aio_loop_get_context (f->loop), FALSE);
  g_assert_cmpuint (state.suspended, ==, n);
  g_assert_cmpuint (aio_test_live_stacks (), >=, n);
  g_test_message ("%u tasks suspended after %.3f s: %u guarded stacks, %u slab stacks",
                  n, (g_get_monotonic_time () - start) / 1e6,
                  aio_fiber_get_n_guarded_stacks (), aio_fiber_get_n_slab_stacks ());

  aio_future_resolve_int64 (state.gate, 1000000);
  g_assert_true (run (f, state.done, NULL));
  g_assert_cmpuint (state.suspended, ==, 0);
  g_assert_cmpuint (g_queue_get_length (_aio_loop_get_tasks (f->loop)), ==, 0);

  for (i = 0; i < n; i++)
    {
      /* Checked quietly first: 100 000 assertions would dominate the run. */
      if (aio_future_get_int64 (AIO_FUTURE (tasks[i]), NULL) != 1000000 + (gint64) i)
        g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (tasks[i]), NULL), ==, 1000000 + (gint64) i);
      g_object_unref (tasks[i]);
    }
  g_free (tasks);
  many = NULL;

  /* Stacks went back: only the per-thread pool is left. */
  g_assert_cmpuint (aio_test_live_stacks (), <=, MAX (before, FIBER_POOL_MAX));
  g_test_message ("all %u finished after %.3f s", n, (g_get_monotonic_time () - start) / 1e6);

  g_assert_finalize_object (state.gate);
  g_assert_finalize_object (state.done);
}

/* ---- stack size ---------------------------------------------------------- */

/* About 1 KiB of stack per level, every byte of it touched. */
static G_GNUC_NO_INLINE guint
use_stack (guint depth)
{
  volatile guint8 buffer[1024];
  guint i, sum;

  for (i = 0; i < sizeof buffer; i++)
    buffer[i] = (guint8) (i + depth);
  if (depth == 0)
    return buffer[7];
  sum = use_stack (depth - 1);
  return sum + buffer[depth % sizeof buffer];
}

#define STACK_DEPTH 100   /* ~100 KiB */

static void
deep_body (AioTask  *task,
           gpointer  user_data)
{
  aio_task_return_int64 (task, use_stack (STACK_DEPTH));
}

static void
test_stack_size_task (Fixture       *f,
                      gconstpointer  data)
{
  AioTask *task;
  gint64 expected = use_stack (STACK_DEPTH);

  g_test_summary ("asyncio coroutines need no stack; fibers do: a task's "
                  "stack size overrides the loop's, so a task using ~100 KiB "
                  "runs on a 256 KiB stack while the loop's is 32 KiB");

  g_assert_cmpuint (aio_loop_get_stack_size (f->loop), ==, 0);
  aio_loop_set_stack_size (f->loop, 1000);
  g_assert_cmpuint (aio_loop_get_stack_size (f->loop), ==, 16 * 1024);
  aio_loop_set_stack_size (f->loop, 32 * 1024);
  g_assert_cmpuint (aio_loop_get_stack_size (f->loop), ==, 32 * 1024);

  task = aio_loop_create_task (f->loop, deep_body, NULL, NULL);
  g_assert_cmpuint (aio_task_get_stack_size (task), ==, 0);
  aio_task_set_stack_size (task, 256 * 1024);
  g_assert_cmpuint (aio_task_get_stack_size (task), ==, 256 * 1024);
  g_assert_true (run (f, task, NULL));
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, expected);
  g_assert_finalize_object (task);
}

static void
test_stack_size_loop (Fixture       *f,
                      gconstpointer  data)
{
  AioTask *task;

  g_test_summary ("The loop's stack size applies to its tasks: ~100 KiB of "
                  "stack overflows a 32 KiB fiber stack into its guard page "
                  "(in a child process)");

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_failed ();
      return;
    }

  aio_test_no_core_dumps ();
  aio_loop_set_stack_size (f->loop, 32 * 1024);
  task = aio_loop_create_task (f->loop, deep_body, NULL, NULL);
  run (f, task, NULL);
  /* Not reached if the stack was 32 KiB. */
  g_object_unref (task);
}

static void
stack_size_started_body (AioTask  *task,
                         gpointer  user_data)
{
  EXPECT_CRITICAL ("*started*", aio_task_set_stack_size (task, 64 * 1024));
  g_assert_cmpuint (aio_task_get_stack_size (task), ==, 0);
}

static void
test_stack_size_after_start (Fixture       *f,
                             gconstpointer  data)
{
  AioTask *task;

  g_test_summary ("A fiber's stack is taken when the task starts: setting "
                  "its size afterwards is a programmer error (critical) and "
                  "changes nothing");

  task = aio_loop_create_task (f->loop, stack_size_started_body, NULL, NULL);
  g_assert_true (run (f, task, NULL));

  EXPECT_CRITICAL ("*started*", aio_task_set_stack_size (task, 64 * 1024));
  g_assert_cmpuint (aio_task_get_stack_size (task), ==, 0);
  g_assert_finalize_object (task);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("loop/others-stay-pending", test_run_until_complete_others_pending);
  TASK_TEST ("loop/all-tasks-no-executor-futures", test_all_tasks_no_executor_futures);
  TASK_TEST ("current", test_current);
  TASK_TEST ("name", test_name);
  TASK_TEST ("all-tasks", test_all_tasks);
  TASK_TEST ("kept-alive", test_kept_alive);
  TASK_TEST ("many", test_many);
  TASK_TEST ("stack-size/task", test_stack_size_task);
  TASK_TEST ("stack-size/loop", test_stack_size_loop);
  TASK_TEST ("stack-size/after-start", test_stack_size_after_start);
  TASK_TEST ("destroyed-pending", test_destroyed_pending);

  return g_test_run ();
}
