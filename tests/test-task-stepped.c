/* test-task-stepped.c: stepped tasks: bodies that are state machines
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stepped body is called once a step with the future its last step
 * returned, now done, and returns what to wait for next: the form language
 * bindings drive their coroutines with.  These check the steps, the
 * outcome, completion from outside, awaiting itself and yielding.
 * test-task-common.h says how the AioTask tests go.
 */

#include "config.h"

#include "aio-loop-private.h"

#include "test-task-common.h"

static AioFuture *
machine_step (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  Body *b = user_data;
  AioFuture *next;

  b->runs++;
  g_assert_true (aio_task_get_current () == task);

  switch (b->state++)
    {
    case 0:
      g_assert_null (completed);
      log_event ("s0");
      next = aio_sleep (0.001);
      b->expected = next;
      g_object_add_weak_pointer (G_OBJECT (next), (gpointer *) &b->expected);
      return next;

    case 1:
      /* Given back the very future returned, now done; the task let go
       * of nothing yet (it still holds it for this call). */
      g_assert_true (completed == b->expected);
      g_assert_true (aio_future_is_resolved (completed));
      log_event ("s1");
      next = aio_sleep (0);
      b->sleep = next;
      g_object_add_weak_pointer (G_OBJECT (next), (gpointer *) &b->sleep);
      return next;

    case 2:
      /* The first one was released once its step returned. */
      g_assert_null (b->expected);
      g_assert_true (completed == b->sleep);
      log_event ("s2");
      next = aio_future_new_for_int64 (5);
      b->pointer = next;
      return next;

    case 3:
      /* A future that was done already is given back on the next step. */
      g_assert_true (completed == b->pointer);
      b->value = aio_future_get_int64 (completed, NULL);
      log_event ("s3");
      aio_task_return_int64 (task, b->value * 2);
      g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static void
test_stepped_state_machine (Fixture       *f,
                            gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a task drives its coroutine step by step, "
                  "sending each awaited future's outcome back in; a stepped "
                  "body is that state machine, returning what to wait for next");

  body_init (&b, f, NULL);
  task = create_stepped (f, machine_step, &b);
  g_assert_true (run (f, task, NULL));
  g_assert_cmpstr (log_str (), ==, "s0 s1 s2 s3");
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, 10);
  g_assert_cmpuint (b.runs, ==, 4);
  g_assert_null (b.expected);
  g_assert_null (b.sleep);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

static AioFuture *
return_null_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  if (b->state++ == 0)
    return aio_sleep (0);
  g_assert_true (aio_future_is_resolved (completed));
  return NULL;
}

static AioFuture *
return_error_step (AioTask   *task,
                   AioFuture *completed,
                   gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "step"));
  /* What it returns besides is dropped: the task is over. */
  return aio_sleep (0);
}

static void
test_stepped_return_null (Fixture       *f,
                          gconstpointer  data)
{
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a coroutine that returns without a value "
                  "resolves its task with None; one that raises rejects it "
                  "(stepped bodies: returning NULL, aio_task_return_error)");

  body_init (&b, f, NULL);
  task = create_stepped (f, return_null_step, &b);
  g_assert_true (run (f, task, &error));
  g_assert_no_error (error);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  g_assert_null (aio_future_get_pointer (AIO_FUTURE (task), NULL));
  g_assert_cmpuint (b.runs, ==, 2);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);

  body_init (&b, f, NULL);
  task = create_stepped (f, return_error_step, &b);
  g_assert_false (run (f, task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (aio_future_is_rejected (AIO_FUTURE (task)));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

static void
test_stepped_complete_outside (Fixture       *f,
                               gconstpointer  data)
{
  GPtrArray *tasks;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: Future.set_result() makes a future done at once; "
                  "a stepped task completed from outside its step (by a "
                  "framework) ends then, and its step never runs again");

  body_init (&b, f, "t");
  b.future = aio_future_new_for_loop (f->loop);
  task = create_stepped (f, wait_future_step, &b);
  run_sleep (f, 0);
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));

  aio_task_return_int64 (task, 9);
  /* Done now, not on the next iteration. */
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, 9);
  g_assert_cmpuint (b.destroyed, ==, 1);
  tasks = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (tasks->len, ==, 0);
  g_ptr_array_unref (tasks);

  /* What it waited for completes later: the step is not called. */
  aio_future_resolve_int64 (b.future, 1);
  run_sleep (f, 0);
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_cmpstr (log_str (), ==, "t:wait");

  g_assert_finalize_object (task);
  body_clear (&b);
}

static void
test_stepped_complete_before_start (Fixture       *f,
                                    gconstpointer  data)
{
  AioTask *task;
  gpointer weak;
  Body b;

  g_test_summary ("asyncio: a future completed from outside is done at once; "
                  "a stepped task completed before its first step never runs "
                  "its step, and the loop touches nothing of it once it is "
                  "freed");

  /* A use after free crashes: run it in a child. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  aio_test_no_core_dumps ();
  body_init (&b, f, "t");
  task = create_stepped (f, log_step, &b);
  aio_task_return_int64 (task, 4);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, 4);
  g_assert_cmpuint (b.destroyed, ==, 1);

  /* The caller lets go of it before the loop runs: the loop may still
   * hold it for its queued first step, but must not touch it once freed. */
  weak = task;
  g_object_add_weak_pointer (G_OBJECT (task), &weak);
  g_object_unref (task);

  run_sleep (f, 0);
  g_assert_null (weak);
  g_assert_cmpuint (b.runs, ==, 0);
  g_assert_cmpuint (b.destroyed, ==, 1);
}

static AioFuture *
await_self_step (AioTask   *task,
                 AioFuture *completed,
                 gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  if (b->state++ == 0)
    return g_object_ref (AIO_FUTURE (task));

  g_assert_true (completed != AIO_FUTURE (task));
  g_assert_true (aio_future_is_done (completed));
  g_assert_false (aio_future_propagate (completed, &b->error));
  return NULL;
}

static void
test_stepped_await_self (Fixture       *f,
                         gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a task cannot await itself: the step gets an "
                  "error (RuntimeError is thrown into the coroutine) instead "
                  "of the task waiting for itself forever");

  body_init (&b, f, NULL);
  task = create_stepped (f, await_self_step, &b);
  run_sleep (f, 0.05);

  g_assert_cmpuint (b.runs, ==, 2);
  g_assert_error (b.error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_true (aio_future_is_done (AIO_FUTURE (task)));

  /* If it still waits for itself, the task holds itself: completing it
   * from outside is the only way to break that cycle. */
  if (!aio_future_is_done (AIO_FUTURE (task)))
    aio_task_return (task);
  body_clear (&b);
  g_assert_finalize_object (task);
}

/* ---- yielding ------------------------------------------------------------ */

typedef struct
{
  const char *tag;
  guint       step;
  AioFuture  *yield;
} YieldBody;

static AioFuture *
yield_step (AioTask   *task,
            AioFuture *completed,
            gpointer   user_data)
{
  YieldBody *y = user_data;

  if (completed != NULL)
    {
      /* Stepped again with the shared yield future, or a cancelled one. */
      if (aio_future_is_cancelled (completed))
        {
          log_event ("%s-cancelled", y->tag);
          return NULL;
        }
      g_assert_true (completed == y->yield);
      g_assert_true (aio_future_is_resolved (completed));
    }

  log_event ("%s%u", y->tag, y->step);
  if (y->step++ == 2)
    return NULL;
  return aio_yield_future ();
}

static void
test_stepped_yield (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AioFuture) yield = aio_yield_future ();
  YieldBody a = { "a", 0, yield }, b = { "b", 0, yield };
  AioTask *ta, *tb;

  g_test_summary ("asyncio: a stepped body returning aio_yield_future() yields "
                  "like 'await asyncio.sleep(0)': the other ready tasks run "
                  "before it is stepped again, with the same shared future");

  g_assert_true (aio_future_is_resolved (yield));
  ta = aio_loop_create_stepped_task (f->loop, yield_step, &a, NULL);
  tb = aio_loop_create_stepped_task (f->loop, yield_step, &b, NULL);
  g_assert_true (run (f, tb, NULL));
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (ta)));
  g_assert_cmpstr (log_str (), ==, "a0 b0 a1 b1 a2 b2");
  g_assert_finalize_object (ta);
  g_assert_finalize_object (tb);
  /* The shared future belongs to nobody's loop but lives on. */
  g_assert_true (aio_future_is_resolved (yield));
}

static void
test_stepped_yield_cancel (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(AioFuture) yield = aio_yield_future ();
  YieldBody a = { "a", 0, yield };
  AioTask *ta;
  GMainContext *context = aio_loop_get_context (f->loop);

  /* One batch per GMainContext iteration, to cancel between them. */
  _aio_loop_set_ready_budget (f->loop, 0);
  g_test_summary ("asyncio: cancelling a task that yielded delivers the "
                  "cancellation at its next step, as CancelledError thrown "
                  "into the coroutine at its 'await sleep(0)'");

  ta = aio_loop_create_stepped_task (f->loop, yield_step, &a, NULL);
  /* First step: a0, then it yields. */
  g_main_context_iteration (context, FALSE);
  g_assert_cmpstr (log_str (), ==, "a0");
  g_assert_true (aio_task_cancel (ta, "stop"));
  g_assert_true (run (f, ta, NULL) == FALSE);
  g_assert_cmpstr (log_str (), ==, "a0 a-cancelled");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (ta)));
  g_assert_cmpstr (aio_future_get_error (AIO_FUTURE (ta))->message, ==, "stop");
  g_assert_finalize_object (ta);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("stepped/yield", test_stepped_yield);
  TASK_TEST ("stepped/yield-cancel", test_stepped_yield_cancel);
  TASK_TEST ("stepped/state-machine", test_stepped_state_machine);
  TASK_TEST ("stepped/return-null", test_stepped_return_null);
  TASK_TEST ("stepped/complete-outside", test_stepped_complete_outside);
  TASK_TEST ("stepped/complete-before-start", test_stepped_complete_before_start);
  TASK_TEST ("stepped/await-self", test_stepped_await_self);

  return g_test_run ();
}
