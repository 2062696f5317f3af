/* test-task-cancel.c: Task.cancel(), cancelling() and uncancel()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Task.cancel() before the start, while suspended, by the task itself,
 * after the awaited future completed, after the end, twice; the message
 * the CancelledError carries; uncancel() and a body that catches it.
 * test-task-cancellable.c has the task's GCancellable and other threads.
 * test-task-common.h says how the AioTask tests go.
 */

#include "config.h"

#include "test-task-common.h"

/* wait_long_body() as a state machine: waits on a long sleep, then returns NULL,
 * keeping a ref on the cancelled future it got back in b->future. */
static AioFuture *
wait_long_step (AioTask   *task,
                AioFuture *completed,
                gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  switch (b->state++)
    {
    case 0:
      g_assert_null (completed);
      log_event ("%s:wait", b->tag);
      b->sleep = aio_sleep (LONG_SLEEP);
      return g_object_ref (b->sleep);

    case 1:
      g_assert_nonnull (completed);
      b->future = g_object_ref (completed);
      if (aio_future_is_cancelled (completed))
        log_event ("%s:cancelled", b->tag);
      else
        log_event ("%s:woke", b->tag);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* Starts the fiber or the stepped form of a body on @t, tagged "t", and a
 * task on @c that cancels it with "stop" once it waits; empties the log. */
static AioTask *
start_cancelled (Fixture      *f,
                 gboolean      stepped,
                 AioTaskFunc   func,
                 AioStepFunc   step,
                 Body         *t,
                 Body         *c,
                 AioTask     **canceller)
{
  AioTask *target;

  log_reset ();
  body_init (t, f, "t");
  target = create_either (f, stepped, func, step, t);
  *canceller = create_canceller (f, c, target, "stop");
  return target;
}

static void
test_cancel_before_start (Fixture       *f,
                          gconstpointer  data)
{
  guint stepped;

  g_test_summary ("asyncio: Task.cancel() on a task that has not started "
                  "means its coroutine never runs; the task ends cancelled "
                  "with the message (fiber and stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *task;
      Body b;

      body_init (&b, f, "t");
      task = create_either (f, stepped, log_body, log_step, &b);

      g_assert_true (aio_task_cancel (task, "early"));
      g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
      /* Requested, not done: the loop finishes it. */
      g_assert_false (aio_future_is_done (AIO_FUTURE (task)));

      run_cancelled (f, task, "early");
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
      g_assert_cmpuint (b.runs, ==, 0);
      g_assert_cmpuint (b.destroyed, ==, 1);
      g_assert_finalize_object (task);
    }
}

static void
test_cancel_suspended (Fixture       *f,
                       gconstpointer  data)
{
  guint stepped;

  g_test_summary ("asyncio: cancel() on a task suspended in an await cancels "
                  "the awaited future; the coroutine gets CancelledError(msg) "
                  "at that await, and if it lets it out the task is cancelled "
                  "(fiber and stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *target, *canceller;
      GError *error = NULL;
      Body t, c;

      target = start_cancelled (f, stepped, wait_long_body, wait_long_step,
                                &t, &c, &canceller);

      run_cancelled (f, target, NULL);

      if (stepped)
        {
          g_assert_cmpstr (log_str (), ==, "t:wait c:cancel t:cancelled");
          /* The step got the awaited future back, cancelled with msg. */
          g_assert_true (t.future == t.sleep);
          g_assert_false (aio_future_propagate (t.future, &error));
        }
      else
        {
          g_assert_cmpstr (log_str (), ==, "t:wait c:cancel t:error");
          error = g_steal_pointer (&t.error);
        }
      assert_cancelled (error, "stop");
      g_clear_error (&error);

      g_assert_true (aio_future_is_cancelled (t.sleep));
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));
      g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
      g_assert_cmpuint (t.destroyed, ==, 1);

      g_assert_finalize_object (canceller);
      g_assert_finalize_object (target);
      body_clear (&t);
    }
}

static void
test_cancel_message (Fixture       *f,
                     gconstpointer  data)
{
  guint stepped;

  g_test_summary ("asyncio: the CancelledError(msg) that leaves a cancelled "
                  "coroutine keeps its message: awaiting the task raises it "
                  "with msg (fiber and stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *target, *canceller;
      Body t, c;

      target = start_cancelled (f, stepped, wait_long_body, wait_long_step,
                                &t, &c, &canceller);

      run_cancelled (f, target, "stop");
      assert_cancelled (aio_future_get_error (AIO_FUTURE (target)), "stop");

      g_assert_finalize_object (canceller);
      g_assert_finalize_object (target);
      body_clear (&t);
    }
}

static void
cancel_self_body (AioTask  *task,
                  gpointer  user_data)
{
  Body *b = user_data;

  log_event ("a");
  g_assert_true (aio_task_cancel (task, "me"));
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  /* Still running: nothing happens until the next await. */
  log_event ("b");
  g_assert_false (aio_yield (&b->error));
  log_event ("c");
}

static AioFuture *
cancel_self_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   user_data)
{
  Body *b = user_data;

  switch (b->state++)
    {
    case 0:
      log_event ("a");
      g_assert_true (aio_task_cancel (task, "me"));
      log_event ("b");
      b->sleep = aio_sleep (LONG_SLEEP);
      return g_object_ref (b->sleep);

    case 1:
      g_assert_true (completed == b->sleep);
      g_assert_false (aio_future_propagate (completed, &b->error));
      log_event ("c");
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static void
test_cancel_self (Fixture       *f,
                  gconstpointer  data)
{
  guint stepped;

  g_test_summary ("asyncio: a running task that cancels itself goes on until "
                  "its next await, which raises CancelledError(msg); the task "
                  "then ends cancelled (fiber and stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *task;
      Body b;

      log_reset ();
      body_init (&b, f, NULL);
      task = create_either (f, stepped, cancel_self_body, cancel_self_step, &b);

      run_cancelled (f, task, NULL);
      g_assert_cmpstr (log_str (), ==, "a b c");
      assert_cancelled (b.error, "me");
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
      g_assert_cmpuint (b.destroyed, ==, 1);
      g_assert_finalize_object (task);
      body_clear (&b);
    }
}

static void
cancel_self_return_body (AioTask  *task,
                         gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_task_cancel (task, "late"));
  /* Returns without awaiting again: the cancellation is never seen.  The
   * value is not heap memory, so that a leak shows in the count alone. */
  aio_task_return_pointer (task, &b->freed, aio_test_count);
}

static void
test_cancel_self_then_return (Fixture       *f,
                              gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a cancel() the coroutine never saw wins over its "
                  "return value (the task ends cancelled), and the value it "
                  "returned is freed, not leaked");

  body_init (&b, f, NULL);
  task = create_task (f, cancel_self_return_body, &b);
  run_cancelled (f, task, "late");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
  g_assert_null (aio_future_get_pointer (AIO_FUTURE (task), NULL));
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
  g_assert_cmpuint (b.freed, ==, 1);
}

static void
resolve_and_cancel_body (AioTask  *task,
                         gpointer  user_data)
{
  Body *b = user_data;

  log_event ("r:resolve");
  aio_future_resolve_int64 (b->future, 1);
  /* The target's wakeup is queued; it has not resumed yet. */
  g_assert_false (aio_future_is_done (AIO_FUTURE (b->task)));
  g_assert_true (aio_task_cancel (b->task, "late"));
  log_event ("r:cancel");
}

/* Waits on b->future (wait_future_body()), then on a long sleep: where a
 * cancellation that came in between is delivered. */
static void
wait_future_then_sleep_body (AioTask  *task,
                             gpointer  user_data)
{
  Body *b = user_data;

  wait_future_body (task, b);
  if (b->error != NULL)
    return;
  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    log_event ("%s:cancelled", b->tag);
}

static AioFuture *
wait_future_then_sleep_step (AioTask   *task,
                             AioFuture *completed,
                             gpointer   user_data)
{
  Body *b = user_data;

  switch (b->state++)
    {
    case 0:
      log_event ("%s:wait", b->tag);
      return g_object_ref (b->future);

    case 1:
      /* The very future returned, with its result. */
      g_assert_true (completed == b->future);
      b->value = aio_future_get_int64 (completed, &b->error);
      log_event ("%s:%s", b->tag, b->error == NULL ? "woke" : "error");
      return aio_sleep (LONG_SLEEP);

    case 2:
      if (!aio_future_propagate (completed, &b->error))
        log_event ("%s:cancelled", b->tag);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static void
test_cancel_after_wakeup (Fixture       *f,
                          gconstpointer  data)
{
  guint stepped;

  g_test_summary ("A cancel() that comes after the awaited future completed "
                  "but before the task resumed does not take the outcome away "
                  "(it may carry a queue item or a lock): the body gets the "
                  "result, and the cancellation at its next wait, as asyncio "
                  "delivers it at the next suspension point (fiber and "
                  "stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *target, *resolver;
      Body t, r;

      log_reset ();
      body_init (&t, f, "t");
      t.future = aio_future_new_for_loop (f->loop);
      target = create_either (f, stepped, wait_future_then_sleep_body,
                              wait_future_then_sleep_step, &t);
      body_init (&r, f, "r");
      r.future = g_object_ref (t.future);
      r.task = target;
      resolver = create_task (f, resolve_and_cancel_body, &r);

      run_cancelled (f, target, NULL);

      g_assert_cmpstr (log_str (), ==, "t:wait r:resolve r:cancel t:woke t:cancelled");
      g_assert_cmpint (t.value, ==, 1);
      assert_cancelled (t.error, "late");
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));
      g_assert_cmpuint (t.destroyed, ==, 1);

      g_assert_finalize_object (resolver);
      g_assert_finalize_object (target);
      body_clear (&r);
      body_clear (&t);
    }
}

static void
test_cancel_after_finish (Fixture       *f,
                          gconstpointer  data)
{
  guint kind;

  g_test_summary ("asyncio: cancel() on a task that is done returns False and "
                  "changes nothing (result, exception, cancelling() and its "
                  "GCancellable stay as they were)");

  for (kind = 0; kind < 3; kind++)
    {
      GCancellable *cancellable;
      AioTask *task;
      Body b;

      body_init (&b, f, "t");
      switch (kind)
        {
        case 0:
          b.kind = RETURN_INT64;
          task = create_task (f, return_body, &b);
          break;
        case 1:
          b.kind = G_IO_ERROR_FAILED;
          b.message = "failed";
          task = create_task (f, return_error_body, &b);
          break;
        default:
          task = create_stepped (f, log_step, &b);
          break;
        }
      cancellable = aio_task_get_cancellable (task);
      run_sleep (f, 0);
      g_assert_true (aio_future_is_done (AIO_FUTURE (task)));

      g_assert_false (aio_task_cancel (task, "too late"));
      g_assert_false (aio_future_cancel (AIO_FUTURE (task), "too late"));
      g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
      g_assert_false (g_cancellable_is_cancelled (cancellable));
      /* Nor does cancelling its GCancellable now. */
      g_cancellable_cancel (cancellable);
      run_sleep (f, 0);
      g_assert_cmpuint (aio_task_cancelling (task), ==, 0);

      switch (kind)
        {
        case 0:
          g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
          g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, INT64_RESULT);
          break;
        case 1:
          g_assert_true (aio_future_is_rejected (AIO_FUTURE (task)));
          g_assert_error (aio_future_get_error (AIO_FUTURE (task)), G_IO_ERROR, G_IO_ERROR_FAILED);
          break;
        default:
          g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
          break;
        }
      g_assert_cmpuint (b.destroyed, ==, 1);
      g_assert_finalize_object (task);
    }
}

static void
cancel_twice_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    log_event ("t:cancelled");
  /* One CancelledError for both requests: the next await goes through. */
  if (aio_yield (NULL))
    log_event ("t:yielded");
  g_assert_cmpuint (aio_task_cancelling (task), ==, 2);
}

static void
cancel_twice_canceller (AioTask  *task,
                        gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_task_cancel (b->task, "one"));
  g_assert_true (aio_task_cancel (b->task, "two"));
  g_assert_cmpuint (aio_task_cancelling (b->task), ==, 2);
  log_event ("c:cancel2");
}

static void
test_cancel_twice (Fixture       *f,
                   gconstpointer  data)
{
  AioTask *target, *canceller;
  Body t, c;

  g_test_summary ("asyncio: every cancel() counts (cancelling() == 2 after "
                  "two) but the coroutine gets one CancelledError, with the "
                  "last message; its next await goes through");

  body_init (&t, f, "t");
  target = create_task (f, cancel_twice_body, &t);
  body_init (&c, f, "c");
  c.task = target;
  canceller = create_task (f, cancel_twice_canceller, &c);

  run_cancelled (f, target, NULL);
  g_assert_cmpstr (log_str (), ==, "c:cancel2 t:cancelled t:yielded");
  assert_cancelled (t.error, "two");
  g_assert_cmpuint (aio_task_cancelling (target), ==, 2);
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));

  g_assert_finalize_object (canceller);
  g_assert_finalize_object (target);
  body_clear (&t);
}

/* ---- uncancel ------------------------------------------------------------ */

static void
uncancel_body (AioTask  *task,
               gpointer  user_data)
{
  GCancellable *cancellable = aio_task_get_cancellable (task);
  GError *error = NULL;

  log_event ("t:wait");
  g_assert_false (aio_await (aio_sleep (LONG_SLEEP), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  /* Reset for the GIO calls that follow. */
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  log_event ("t:uncancel");

  g_assert_true (aio_yield (&error));
  g_assert_no_error (error);
  aio_task_return_int64 (task, 11);
  log_event ("t:return");
}

static AioFuture *
uncancel_step (AioTask   *task,
               AioFuture *completed,
               gpointer   user_data)
{
  Body *b = user_data;

  switch (b->state++)
    {
    case 0:
      b->cancellable = aio_task_get_cancellable (task);
      log_event ("t:wait");
      return aio_sleep (LONG_SLEEP);

    case 1:
      g_assert_true (aio_future_is_cancelled (completed));
      g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
      g_assert_true (g_cancellable_is_cancelled (b->cancellable));
      g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
      g_assert_false (g_cancellable_is_cancelled (b->cancellable));
      log_event ("t:uncancel");
      return aio_sleep (0);

    case 2:
      g_assert_true (aio_future_is_resolved (completed));
      aio_task_return_int64 (task, 11);
      log_event ("t:return");
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static void
test_cancel_uncancel (Fixture       *f,
                      gconstpointer  data)
{
  guint stepped;

  g_test_summary ("asyncio: a coroutine may catch CancelledError and call "
                  "uncancel() to go on: cancelling() is back to 0, later "
                  "awaits are not cancelled, and the task completes with its "
                  "value; the task's GCancellable is reset (fiber and stepped)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      AioTask *target, *canceller;
      GError *error = NULL;
      Body t, c;

      target = start_cancelled (f, stepped, uncancel_body, uncancel_step,
                                &t, &c, &canceller);

      g_assert_true (run (f, target, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (log_str (), ==, "t:wait c:cancel t:uncancel t:return");
      g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (target), NULL), ==, 11);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 0);
      g_assert_false (g_cancellable_is_cancelled (aio_task_get_cancellable (target)));

      g_assert_finalize_object (canceller);
      g_assert_finalize_object (target);
    }
}

static void
caught_return_body (AioTask  *task,
                    gpointer  user_data)
{
  Body *b = user_data;

  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    aio_task_return (task);
}

static void
test_cancel_caught_return (Fixture       *f,
                           gconstpointer  data)
{
  AioTask *target, *canceller;
  Body t, c;

  g_test_summary ("asyncio: a coroutine that catches CancelledError and "
                  "returns completes its task normally (here: an explicit "
                  "aio_task_return; a body that just returns lets it out)");

  body_init (&t, f, "t");
  target = create_task (f, caught_return_body, &t);
  canceller = create_canceller (f, &c, target, NULL);

  g_assert_true (run (f, target, NULL));
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (target)));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);

  g_assert_finalize_object (canceller);
  g_assert_finalize_object (target);
  body_clear (&t);
}

static void
await_cancelled_body (AioTask  *task,
                      gpointer  user_data)
{
  Body *b = user_data;
  GError *error = NULL;

  log_event ("w:await");
  if (!aio_await (g_object_ref (AIO_FUTURE (b->task)), &error))
    {
      log_event ("w:error");
      b->error = g_error_copy (error);
      /* Let it out, as an uncaught CancelledError would. */
      aio_task_return_error (task, error);
    }
}

static void
test_cancel_await_cancelled_task (Fixture       *f,
                                  gconstpointer  data)
{
  AioTask *target, *waiter, *canceller;
  Body t, w, c;

  g_test_summary ("asyncio: awaiting a task that gets cancelled raises "
                  "CancelledError in the awaiter, which is cancelled too if "
                  "it lets it out; the awaiter itself was not cancel()ed");

  body_init (&t, f, "t");
  target = create_task (f, wait_long_body, &t);
  body_init (&w, f, "w");
  w.task = target;
  waiter = create_task (f, await_cancelled_body, &w);
  canceller = create_canceller (f, &c, target, "bye");

  run_cancelled (f, waiter, NULL);
  g_assert_cmpstr (log_str (), ==, "t:wait w:await c:cancel t:error w:error");
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (waiter)));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
  g_assert_cmpuint (aio_task_cancelling (waiter), ==, 0);

  g_assert_finalize_object (canceller);
  g_assert_finalize_object (waiter);
  g_assert_finalize_object (target);
  body_clear (&t);
  body_clear (&w);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("cancel/before-start", test_cancel_before_start);
  TASK_TEST ("cancel/suspended", test_cancel_suspended);
  TASK_TEST ("cancel/message", test_cancel_message);
  TASK_TEST ("cancel/self", test_cancel_self);
  TASK_TEST ("cancel/self-then-return", test_cancel_self_then_return);
  TASK_TEST ("cancel/after-wakeup", test_cancel_after_wakeup);
  TASK_TEST ("cancel/after-finish", test_cancel_after_finish);
  TASK_TEST ("cancel/twice", test_cancel_twice);
  TASK_TEST ("cancel/uncancel", test_cancel_uncancel);
  TASK_TEST ("cancel/caught-return", test_cancel_caught_return);
  TASK_TEST ("cancel/await-cancelled-task", test_cancel_await_cancelled_task);

  return g_test_run ();
}
