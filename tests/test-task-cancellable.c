/* test-task-cancellable.c: a task's GCancellable; cancelling from threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The task's GCancellable is cancelled with the task and cancels it; it is
 * reset by uncancel(); cancelling it, or calling aio_task_cancel(), from
 * another thread goes through the loop's inbox.  test-task-common.h says
 * how the AioTask tests go.
 */

#include "config.h"

#include "test-task-common.h"

/* ---- the GCancellable ---------------------------------------------------- */

static void
gio_call_body (AioTask  *task,
               gpointer  user_data)
{
  Body *b = user_data;
  GError *error = NULL;

  if (!aio_await (aio_sleep (LONG_SLEEP), &error))
    {
      /* GIO calls made with the task's GCancellable stop too. */
      g_assert_true (g_cancellable_is_cancelled (aio_task_get_cancellable (task)));
      g_assert_true (g_cancellable_set_error_if_cancelled (aio_task_get_cancellable (task),
                                                           &b->error));
      aio_task_return_error (task, error);
    }
}

static void
cancel_through_cancellable_body (AioTask  *task,
                                 gpointer  user_data)
{
  Body *b = user_data;

  log_event ("c:cancel");
  g_cancellable_cancel (aio_task_get_cancellable (b->task));
}

static void
test_cancel_cancellable (Fixture       *f,
                         gconstpointer  data)
{
  AioTask *target, *canceller;
  GCancellable *cancellable;
  Body t, c;

  g_test_summary ("asyncio's cancel() reaches the I/O the coroutine waits on; "
                  "here the task's GCancellable is cancelled with the task "
                  "(at once, or at creation if asked for later), and "
                  "cancelling it cancels the task");

  /* Asked for before: cancelled by cancel(), synchronously. */
  body_init (&t, f, "t");
  target = create_task (f, gio_call_body, &t);
  cancellable = aio_task_get_cancellable (target);
  g_assert_true (aio_task_get_cancellable (target) == cancellable);
  run_sleep (f, 0);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_assert_true (aio_task_cancel (target, "stop"));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  run_cancelled (f, target, NULL);
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_finalize_object (target);
  body_clear (&t);

  /* Asked for after: cancelled already. */
  body_init (&t, f, "t");
  target = create_task (f, log_body, &t);
  g_assert_true (aio_task_cancel (target, NULL));
  g_assert_true (g_cancellable_is_cancelled (aio_task_get_cancellable (target)));
  run_cancelled (f, target, NULL);
  g_assert_cmpuint (t.runs, ==, 0);
  g_assert_finalize_object (target);

  /* Cancelling the GCancellable (in the loop's thread) cancels the task. */
  log_reset ();
  body_init (&t, f, "t");
  target = create_task (f, wait_long_body, &t);
  body_init (&c, f, "c");
  c.task = target;
  canceller = create_task (f, cancel_through_cancellable_body, &c);
  run_cancelled (f, target, NULL);
  g_assert_cmpstr (log_str (), ==, "t:wait c:cancel t:error");
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_future_is_cancelled (t.sleep));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
  g_assert_finalize_object (canceller);
  g_assert_finalize_object (target);
  body_clear (&t);
}

static gpointer
cancel_in_thread (gpointer data)
{
  g_cancellable_cancel (data);
  return NULL;
}

static void
record_thread (AioFuture *future,
               gpointer   user_data)
{
  Body *b = user_data;

  b->thread = g_thread_self ();
}

/* The fiber or the stepped form of a body on @t, tagged "t", whose task
 * records in t->thread the thread its done callbacks run in. */
static AioTask *
create_watched (Fixture     *f,
                gboolean     stepped,
                AioTaskFunc  func,
                AioStepFunc  step,
                Body        *t)
{
  AioTask *task;

  body_init (t, f, "t");
  task = create_either (f, stepped, func, step, t);
  aio_future_add_done_callback (AIO_FUTURE (task), record_thread, t, NULL);
  return task;
}

/* Checks that the body of @target, cancelled from another thread, saw the
 * cancellation, and that it and @target's done callbacks ran in the
 * loop's thread, this one. */
static void
assert_cancelled_in_loop (Fixture *f,
                          AioTask *target,
                          Body    *t)
{
  g_assert_error (t->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
  run_sleep (f, 0);
  g_assert_true (t->seen_in == g_thread_self ());
  g_assert_true (t->thread == g_thread_self ());
}

static void
thread_cancel_body (AioTask  *task,
                    gpointer  user_data)
{
  Body *b = user_data;
  GThread *thread;

  log_event ("t:wait");
  /* The request reaches the loop through its inbox: only once this body
   * is suspended, whenever the thread gets to it. */
  thread = g_thread_new ("canceller", cancel_in_thread, aio_task_get_cancellable (task));
  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    log_event ("t:error");
  b->seen_in = g_thread_self ();
  g_thread_join (thread);
}

static void
test_cancel_thread (Fixture       *f,
                    gconstpointer  data)
{
  GCancellable *cancellable;
  AioTask *target;
  Body t;

  g_test_summary ("asyncio: call_soon_threadsafe(task.cancel) from another "
                  "thread; here cancelling the task's GCancellable in "
                  "another thread cancels the task, and its state only "
                  "changes in the loop's thread");

  /* Loop idle: the request waits in the inbox, nothing changes yet. */
  target = create_watched (f, FALSE, wait_long_body, NULL, &t);
  run_sleep (f, 0);
  cancellable = aio_task_get_cancellable (target);
  aio_test_run_in_thread (cancel_in_thread, cancellable);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 0);
  g_assert_false (aio_future_is_done (t.sleep));
  g_assert_false (aio_future_is_done (AIO_FUTURE (target)));

  run_cancelled (f, target, NULL);
  g_assert_true (aio_future_is_cancelled (t.sleep));
  assert_cancelled_in_loop (f, target, &t);
  g_assert_finalize_object (target);
  body_clear (&t);

  /* Loop running: the thread cancels while the task waits. */
  log_reset ();
  target = create_watched (f, FALSE, thread_cancel_body, NULL, &t);
  run_cancelled (f, target, NULL);
  g_assert_cmpstr (log_str (), ==, "t:wait t:error");
  assert_cancelled_in_loop (f, target, &t);
  g_assert_finalize_object (target);
  body_clear (&t);
}

/* ---- aio_task_cancel() from another thread ------------------------------- */

typedef struct
{
  AioTask    *task;
  const char *message;
  gboolean    ret;
} ThreadCancel;

static gpointer
task_cancel_in_thread (gpointer data)
{
  ThreadCancel *tc = data;

  tc->ret = aio_task_cancel (tc->task, tc->message);
  return NULL;
}

/* Sleeps for an hour on the task's own timer (nothing else holds the
 * sleep), as the task of issue 12 did for 5 s. */
static void
hour_sleep_body (AioTask  *task,
                 gpointer  user_data)
{
  Body *b = user_data;

  log_event ("t:wait");
  if (!aio_await (aio_sleep (3600.0), &b->error))
    log_event ("t:error");
  b->seen_in = g_thread_self ();
}

static AioFuture *
hour_sleep_step (AioTask   *task,
                 AioFuture *completed,
                 gpointer   user_data)
{
  Body *b = user_data;

  switch (b->state++)
    {
    case 0:
      log_event ("t:wait");
      return aio_sleep (3600.0);

    case 1:
      if (!aio_future_propagate (completed, &b->error))
        log_event ("t:error");
      b->seen_in = g_thread_self ();
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* Cancels b->task from a thread of its own while the loop runs, then
 * waits (at most 20 s, which only a broken build would reach) for
 * the task to end. */
static void
thread_task_cancel_body (AioTask  *task,
                         gpointer  user_data)
{
  Body *b = user_data;
  ThreadCancel tc = { b->task, "from a thread", FALSE };
  GThread *thread;

  thread = g_thread_new ("canceller", task_cancel_in_thread, &tc);
  aio_await (aio_wait_for (g_object_ref (AIO_FUTURE (b->task)), 20.0), &b->error);
  g_thread_join (thread);
  b->flag = tc.ret;
}

static void
test_cancel_from_thread (Fixture       *f,
                         gconstpointer  data)
{
  GThread *self = g_thread_self ();
  guint stepped;

  g_test_summary ("aio_task_cancel() works from any thread, as g_cancellable_cancel() "
                  "does: the request goes through the loop's inbox, wakes the loop and "
                  "cancels a task asleep on its own timer at once, with its message; the "
                  "task's state only changes in the loop's thread; a done task says so "
                  "(fiber and stepped bodies)");

  for (stepped = 0; stepped < 2; stepped++)
    {
      ThreadCancel tc = { NULL, "from a thread", FALSE };
      AioTask *target, *canceller;
      AioFuture *bounded;
      GError *error = NULL;
      Body t, c;

      /* Loop idle: the request waits in the inbox, nothing changes yet. */
      log_reset ();
      target = create_watched (f, stepped, hour_sleep_body, hour_sleep_step, &t);
      run_sleep (f, 0);
      g_assert_cmpstr (log_str (), ==, "t:wait");

      tc.task = target;
      aio_test_run_in_thread (task_cancel_in_thread, &tc);
      g_assert_true (tc.ret);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 0);
      g_assert_false (aio_future_is_done (AIO_FUTURE (target)));

      /* The loop's next round delivers it: no waiting for the hour. */
      bounded = aio_wait_for (g_object_ref (AIO_FUTURE (target)), 20.0);
      run_cancelled (f, bounded, "from a thread");
      g_object_unref (bounded);
      g_assert_cmpstr (log_str (), ==, "t:wait t:error");
      g_assert_true (g_cancellable_is_cancelled (aio_task_get_cancellable (target)));
      assert_cancelled_in_loop (f, target, &t);

      /* Done: FALSE from any thread, and nothing changes. */
      aio_test_run_in_thread (task_cancel_in_thread, &tc);
      g_assert_false (tc.ret);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
      g_assert_finalize_object (target);
      body_clear (&t);

      /* Loop running: the thread cancels while the loop waits for it. */
      log_reset ();
      body_init (&t, f, "t");
      target = create_either (f, stepped, hour_sleep_body, hour_sleep_step, &t);
      run_sleep (f, 0);
      body_init (&c, f, "c");
      c.task = target;
      canceller = create_task (f, thread_task_cancel_body, &c);
      g_assert_true (run (f, canceller, &error));
      g_assert_no_error (error);
      g_assert_true (c.flag);
      assert_cancelled (c.error, "from a thread");
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));
      g_assert_cmpstr (log_str (), ==, "t:wait t:error");
      g_assert_true (t.seen_in == self);
      run_sleep (f, 0);
      g_assert_finalize_object (canceller);
      g_assert_finalize_object (target);
      body_clear (&c);
      body_clear (&t);
    }
}

/* ---- after uncancel() ---------------------------------------------------- */

static void
late_cancellable_body (AioTask  *task,
                       gpointer  user_data)
{
  Body *b = user_data;
  GCancellable *cancellable;
  GError *error = NULL;

  if (b->kind == 0)
    aio_task_get_cancellable (task);

  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_yield (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* First asked for (kind 1) while a cancellation stands. */
  cancellable = aio_task_get_cancellable (task);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
  g_assert_false (g_cancellable_is_cancelled (cancellable));

  /* It still cancels the task. */
  g_cancellable_cancel (cancellable);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  b->flag = !aio_yield (&b->error);
}

static void
test_cancel_cancellable_after_uncancel (Fixture       *f,
                                        gconstpointer  data)
{
  guint kind;

  g_test_summary ("asyncio: after uncancel() a task can be cancelled again; "
                  "here its GCancellable, reset by uncancel(), still cancels "
                  "the task, even when first asked for while cancelled");

  for (kind = 0; kind < 2; kind++)
    {
      AioTask *task;
      Body b;

      body_init (&b, f, NULL);
      b.kind = kind;
      task = create_task (f, late_cancellable_body, &b);
      g_assert_false (run (f, task, NULL));
      g_assert_true (b.flag);
      g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
      g_assert_finalize_object (task);
      body_clear (&b);
    }
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("cancel/cancellable", test_cancel_cancellable);
  TASK_TEST ("cancel/thread", test_cancel_thread);
  TASK_TEST ("cancel/from-thread", test_cancel_from_thread);
  TASK_TEST ("cancel/cancellable-after-uncancel", test_cancel_cancellable_after_uncancel);

  return g_test_run ();
}
