/* test-task-own-sleep.c: a sleep only the task knows of
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A task that awaits a sleep nobody else holds sleeps on a timer of its
 * own, and the sleep future goes back to its pool (aio-task.c,
 * aio_task_wait_on()).  These check that the body cannot tell.
 * test-task-common.h says how the AioTask tests go.
 */

#include "config.h"

#include "test-task-common.h"

#define OWN_SLEEP 0.02

/* How long the fiber body sleeps.  The cancel test makes it long, so that
 * "woken before its deadline" says the cancel woke it on any machine,
 * however slow (under Valgrind a cancel takes tens of milliseconds). */
static gdouble fiber_sleep = OWN_SLEEP;

static void
own_sleep_body (AioTask  *task,
                gpointer  user_data)
{
  Body *b = user_data;
  gdouble start = aio_loop_time (b->f->loop);
  AioFuture *sleep = aio_sleep (fiber_sleep);

  b->pointer = sleep;                   /* no reference: only the address */
  b->flag = aio_await (sleep, &b->error);
  b->value = (gint64) ((aio_loop_time (b->f->loop) - start) * 1e6);
  if (b->flag)
    log_event ("%s", b->tag);
}

static AioFuture *
own_sleep_step (AioTask   *task,
                AioFuture *completed,
                gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  if (completed == NULL)
    {
      b->value = (gint64) (aio_loop_time (b->f->loop) * 1e6);
      return aio_sleep (OWN_SLEEP);
    }

  b->value = (gint64) (aio_loop_time (b->f->loop) * 1e6) - b->value;
  b->flag = aio_future_is_resolved (completed);
  if (aio_future_is_cancelled (completed))
    {
      b->flag = FALSE;
      aio_future_propagate (completed, &b->error);
      /* asyncio: a coroutine that catches CancelledError may go on. */
      if (b->state++ == 0 && aio_task_uncancel (task) == 0)
        return aio_sleep (OWN_SLEEP);
    }
  return NULL;
}

/* A fiber task on @fb, tagged "fiber", and a stepped task on @sb, tagged
 * "stepped", both to sleep on their own timers; returns the first. */
static AioTask *
create_sleepers (Fixture  *f,
                 Body     *fb,
                 Body     *sb,
                 AioTask **st)
{
  AioTask *ft;

  body_init (fb, f, "fiber");
  body_init (sb, f, "stepped");
  ft = create_task (f, own_sleep_body, fb);
  *st = create_stepped (f, own_sleep_step, sb);
  return ft;
}

static void
test_own_sleep_wakes (Fixture       *f,
                      gconstpointer  data)
{
  Body fb, sb;
  AioTask *ft, *st;

  g_test_summary ("asyncio: 'await asyncio.sleep(d)' resumes the task no "
                  "earlier than d, with no value, also when the task sleeps "
                  "on its own timer (fiber and stepped bodies)");

  ft = create_sleepers (f, &fb, &sb, &st);

  g_assert_true (run (f, ft, NULL));
  g_assert_true (run (f, st, NULL));

  g_assert_no_error (fb.error);
  g_assert_true (fb.flag);
  g_assert_cmpint (fb.value, >=, (gint64) (OWN_SLEEP * 1e6));
  g_assert_true (sb.flag);
  g_assert_cmpuint (sb.runs, ==, 2);
  g_assert_cmpint (sb.value, >=, (gint64) (OWN_SLEEP * 1e6));

  g_object_unref (ft);
  g_object_unref (st);
  body_clear (&fb);
  body_clear (&sb);
}

static void
test_own_sleep_recycled (Fixture       *f,
                         gconstpointer  data)
{
  Body b;
  AioTask *task;
  AioFuture *probe;

  g_test_summary ("A task sleeping on a sleep only it knows of holds no "
                  "sleep future: the sleep is reused at once, so 100 000 "
                  "sleeping tasks cost 100 000 tasks, not twice as many "
                  "objects");

  body_init (&b, f, "t");
  task = create_task (f, own_sleep_body, &b);
  run_sleep (f, 0);
  /* The task is asleep; its sleep went back to the pool, which hands it
   * out again. */
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_nonnull (b.pointer);
  probe = aio_loop_sleep (f->loop, 0);
  g_assert_true (probe == b.pointer);
  g_assert_true (run (f, probe, NULL));
  g_object_unref (probe);

  g_assert_true (run (f, task, NULL));
  g_assert_true (b.flag);
  g_object_unref (task);
  body_clear (&b);
}

static void
test_own_sleep_cancel (Fixture       *f,
                       gconstpointer  data)
{
  Body fb, sb;
  AioTask *ft, *st;

  g_test_summary ("asyncio: Task.cancel(msg) while the task sleeps raises "
                  "CancelledError(msg) at its await; a coroutine that "
                  "catches it, uncancels and sleeps again finishes normally "
                  "(tasks sleeping on their own timer)");

  fiber_sleep = 60.0;
  ft = create_sleepers (f, &fb, &sb, &st);
  run_sleep (f, 0);

  g_assert_true (aio_task_cancel (ft, "stop fiber"));
  g_assert_true (aio_task_cancel (st, "stop stepped"));
  g_assert_cmpuint (aio_task_cancelling (ft), ==, 1);

  run_cancelled (f, ft, "stop fiber");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (ft)));
  assert_cancelled (fb.error, "stop fiber");
  /* Cancelled well before its deadline. */
  g_assert_cmpint (fb.value, <, (gint64) (fiber_sleep * 1e6));
  fiber_sleep = OWN_SLEEP;

  /* The stepped body caught it, uncancelled and slept again. */
  g_assert_true (run (f, st, NULL));
  assert_cancelled (sb.error, "stop stepped");
  g_assert_cmpuint (sb.runs, ==, 3);
  g_assert_true (sb.flag);
  g_assert_cmpuint (aio_task_cancelling (st), ==, 0);

  g_object_unref (ft);
  g_object_unref (st);
  body_clear (&fb);
  body_clear (&sb);
}

static void
test_own_sleep_order (Fixture       *f,
                      gconstpointer  data)
{
  Body b[50];
  AioTask *tasks[G_N_ELEMENTS (b)];
  GString *expected = g_string_new (NULL);
  char tags[G_N_ELEMENTS (b)][8];

  g_test_summary ("asyncio: tasks sleeping for the same delay wake in the "
                  "order they went to sleep, on their own timers too");

  for (guint i = 0; i < G_N_ELEMENTS (b); i++)
    {
      g_snprintf (tags[i], sizeof tags[i], "%u", i);
      body_init (&b[i], f, tags[i]);
      tasks[i] = create_task (f, own_sleep_body, &b[i]);
      g_string_append_printf (expected, "%s%u", i > 0 ? " " : "", i);
    }
  for (guint i = 0; i < G_N_ELEMENTS (b); i++)
    g_assert_true (run (f, tasks[i], NULL));

  g_assert_cmpstr (log_str (), ==, expected->str);
  for (guint i = 0; i < G_N_ELEMENTS (b); i++)
    {
      g_object_unref (tasks[i]);
      body_clear (&b[i]);
    }
  g_string_free (expected, TRUE);
}

static void
test_own_sleep_shared (Fixture       *f,
                       gconstpointer  data)
{
  Body b;
  AioTask *task;

  g_test_summary ("A sleep that someone else still holds is awaited as it "
                  "is: cancelling it wakes the task with the cancellation");

  body_init (&b, f, "t");
  task = create_task (f, wait_long_body, &b);
  run_sleep (f, 0);
  g_assert_nonnull (b.sleep);
  g_assert_true (aio_future_cancel (b.sleep, "gone"));
  g_assert_true (run (f, task, NULL));
  assert_cancelled (b.error, "gone");
  g_assert_cmpstr (log_str (), ==, "t:wait t:error");
  g_object_unref (task);
  body_clear (&b);
}

static void
test_own_sleep_complete_outside (Fixture       *f,
                                 gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: Future.set_result() on a stepped task asleep on "
                  "its own timer ends it at once; the timer is dropped and "
                  "the step never runs again");

  body_init (&b, f, "t");
  task = create_stepped (f, own_sleep_step, &b);
  run_sleep (f, 0);
  g_assert_cmpuint (b.runs, ==, 1);

  aio_task_return_int64 (task, 9);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, 9);
  g_assert_cmpuint (b.destroyed, ==, 1);

  /* The timer let go of the task at once: it does not wait for its
   * deadline to be finalized. */
  g_assert_finalize_object (task);

  /* Past the sleep's deadline: nothing runs. */
  run_sleep (f, OWN_SLEEP * 2);
  g_assert_cmpuint (b.runs, ==, 1);
  body_clear (&b);
}

static void
test_own_sleep_loop_closed (Fixture       *f,
                            gconstpointer  data)
{
  Body b;
  AioTask *task;
  gpointer weak;

  g_test_summary ("Closing a loop lets go of a task asleep on its own "
                  "timer, as of every other pending task");

  body_init (&b, f, "t");
  task = create_task (f, own_sleep_body, &b);
  weak = task;
  g_object_add_weak_pointer (G_OBJECT (task), &weak);
  run_sleep (f, 0);
  g_object_unref (task);
  g_assert_nonnull (weak);

  g_test_expect_message ("Aio", G_LOG_LEVEL_WARNING, "*was destroyed while it was still pending*");
  aio_loop_close (f->loop);
  g_test_assert_expected_messages ();
  g_assert_null (weak);
  g_assert_cmpuint (b.destroyed, ==, 1);
  body_clear (&b);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("own-sleep/wakes", test_own_sleep_wakes);
  TASK_TEST ("own-sleep/recycled", test_own_sleep_recycled);
  TASK_TEST ("own-sleep/cancel", test_own_sleep_cancel);
  TASK_TEST ("own-sleep/order", test_own_sleep_order);
  TASK_TEST ("own-sleep/shared", test_own_sleep_shared);
  TASK_TEST ("own-sleep/loop-closed", test_own_sleep_loop_closed);
  TASK_TEST ("own-sleep/complete-outside", test_own_sleep_complete_outside);

  return g_test_run ();
}
