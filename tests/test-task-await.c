/* test-task-await.c: aio_await() and aio_yield() in a fiber task
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Awaiting futures of every type, done or pending, resolved or rejected;
 * what may not be awaited (outside a task, the task itself, another
 * loop's future); yielding to the other ready tasks.  test-task-common.h
 * says how the AioTask tests go.
 */

#include "config.h"

#include "aio-loop-private.h"

#include "test-task-common.h"

static void
typed_body (AioTask  *task,
            gpointer  user_data)
{
  Body *b = user_data;
  GValue in = G_VALUE_INIT, out = G_VALUE_INIT;
  GError *error = NULL;
  AioFuture *future;
  Counted *counted;
  gpointer object;
  char *string;

  g_assert_true (aio_await (aio_future_new_resolved (), &error));
  g_assert_no_error (error);

  g_assert_true (aio_await_boolean (aio_future_new_for_boolean (TRUE), &error));
  g_assert_no_error (error);

  g_assert_cmpfloat (aio_await_double (aio_future_new_for_double (-0.5), &error), ==, -0.5);
  g_assert_no_error (error);

  string = aio_await_string (aio_future_new_for_string ("text"), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (string, ==, "text");
  g_free (string);

  object = aio_await_object (aio_future_new_for_object (b->object), &error);
  g_assert_no_error (error);
  g_assert_true (object == b->object);
  g_object_unref (object);

  /* The pointer is taken: the future no longer frees it. */
  future = aio_future_new_for_pointer (counted_new (&b->freed), counted_free);
  counted = aio_await_pointer (g_object_ref (future), &error);
  g_assert_no_error (error);
  g_assert_nonnull (counted);
  g_assert_null (aio_future_get_pointer (future, NULL));
  g_assert_finalize_object (future);
  g_assert_cmpuint (b->freed, ==, 0);
  counted_free (counted);
  g_assert_cmpuint (b->freed, ==, 1);

  g_value_init (&in, G_TYPE_STRING);
  g_value_set_string (&in, "gvalue");
  g_assert_true (aio_await_value (aio_future_new_for_value (&in), &out, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_STRING (&out));
  g_assert_cmpstr (g_value_get_string (&out), ==, "gvalue");
  g_value_unset (&out);
  g_value_unset (&in);

  /* A pending future, completed by another task meanwhile. */
  log_event ("typed:wait");
  g_assert_cmpint (aio_await_int64 (g_object_ref (b->future), &error), ==, 42);
  g_assert_no_error (error);
  log_event ("typed:got");

  aio_task_return_boolean (task, TRUE);
}

/* Runs @func on @b until it ends, which it must do without an error:
 * it awaits b->future, a pending future made here, which another task
 * settles with @settle meanwhile, after one yield. */
static AioTask *
run_settled_later (Fixture     *f,
                   AioTaskFunc  func,
                   Body        *b,
                   AioTaskFunc  settle)
{
  GError *error = NULL;
  AioTask *task, *settler;
  Body settler_b;

  b->future = aio_future_new_for_loop (f->loop);
  task = create_task (f, func, b);
  body_init (&settler_b, f, NULL);
  settler_b.future = g_object_ref (b->future);
  settler = create_task (f, settle, &settler_b);

  g_assert_true (run (f, task, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (settler);
  body_clear (&settler_b);
  return task;
}

static void
resolve_later_body (AioTask  *task,
                    gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_yield (NULL));
  log_event ("resolver:resolve");
  aio_future_resolve_int64 (b->future, 42);
}

static void
test_await_typed (Fixture       *f,
                  gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: 'await fut' evaluates to the future's result "
                  "(aio_await and its typed forms: boolean, int64, double, "
                  "string, object, pointer, GValue)");

  body_init (&b, f, NULL);
  b.object = g_object_new (G_TYPE_OBJECT, NULL);
  task = run_settled_later (f, typed_body, &b, resolve_later_body);
  g_assert_true (aio_future_get_boolean (AIO_FUTURE (task), NULL));
  g_assert_cmpstr (log_str (), ==, "typed:wait resolver:resolve typed:got");

  g_assert_finalize_object (task);
  g_assert_finalize_object (b.future);
  b.future = NULL;
  g_assert_finalize_object (b.object);
}

static void
no_yield_body (AioTask  *task,
               gpointer  user_data)
{
  Body *b = user_data;
  AioTask *finished = b->task;

  log_event ("a1");
  g_assert_cmpint (aio_await_int64 (aio_future_new_for_int64 (1), NULL), ==, 1);
  /* A finished task is a done future too. */
  g_assert_true (aio_future_is_done (AIO_FUTURE (finished)));
  g_assert_true (aio_await (g_object_ref (AIO_FUTURE (finished)), NULL));
  log_event ("a2");
  g_assert_true (aio_yield (NULL));
  log_event ("a3");
}

static void
test_await_done_no_yield (Fixture       *f,
                          gconstpointer  data)
{
  AioTask *finished, *a, *b_task;
  Body finished_b, a_b, b_b;

  g_test_summary ("asyncio: awaiting a future (or task) that is already done "
                  "does not yield to the loop: no other task runs in between");

  body_init (&finished_b, f, "done");
  finished = create_task (f, log_body, &finished_b);
  g_assert_true (run (f, finished, NULL));
  log_reset ();

  body_init (&a_b, f, "a");
  a_b.task = finished;
  a = create_task (f, no_yield_body, &a_b);
  body_init (&b_b, f, "b1");
  b_task = create_task (f, log_body, &b_b);

  g_assert_true (run (f, a, NULL));
  g_assert_cmpstr (log_str (), ==, "a1 a2 b1 a3");

  g_assert_finalize_object (a);
  g_assert_finalize_object (b_task);
  g_assert_finalize_object (finished);
}

static void
await_rejected_body (AioTask  *task,
                     gpointer  user_data)
{
  Body *b = user_data;
  GValue value = G_VALUE_INIT;
  GError *error = NULL;
  AioFuture *future;
  gpointer weak;

  future = aio_future_new_for_error (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                                          "denied"));
  weak = future;
  g_object_add_weak_pointer (G_OBJECT (future), &weak);
  g_assert_false (aio_await (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (error->message, ==, "denied");
  g_clear_error (&error);
  /* Taken and released; its error was retrieved, so no warning. */
  g_assert_null (weak);

#define REJECTED() \
  aio_future_new_for_error (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed"))

  g_assert_false (aio_await_boolean (REJECTED (), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (aio_await_int64 (REJECTED (), &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpfloat (aio_await_double (REJECTED (), &error), ==, 0.0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (aio_await_string (REJECTED (), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (aio_await_object (REJECTED (), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (aio_await_pointer (REJECTED (), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (aio_await_value (REJECTED (), &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_false (G_IS_VALUE (&value));
  g_clear_error (&error);

#undef REJECTED

  /* A pending future rejected while the task waits. */
  log_event ("wait");
  g_assert_false (aio_await (g_object_ref (b->future), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  log_event ("rejected");
}

static void
reject_later_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_yield (NULL));
  log_event ("reject");
  aio_future_reject_literal (b->future, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "slow");
}

static void
test_await_rejected (Fixture       *f,
                     gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: awaiting a future that failed raises its "
                  "exception in the awaiting coroutine, which may handle it "
                  "and go on");

  /* The body handled the errors: the task itself succeeds. */
  body_init (&b, f, NULL);
  task = run_settled_later (f, await_rejected_body, &b, reject_later_body);
  g_assert_cmpstr (log_str (), ==, "wait reject rejected");
  g_assert_true (aio_future_is_rejected (b.future));

  g_assert_finalize_object (task);
  g_assert_finalize_object (b.future);
  b.future = NULL;
}

static AioFuture *
await_in_step (AioTask   *task,
               AioFuture *completed,
               gpointer   user_data)
{
  Body *b = user_data;
  GError *error = NULL;

  b->runs++;
  /* A stepped body has no stack to suspend. */
  g_assert_false (aio_await (aio_future_new_resolved (), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_clear_error (&error);
  g_assert_false (aio_yield (&error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_clear_error (&error);
  return NULL;
}

static void
test_await_not_in_task (Fixture       *f,
                        gconstpointer  data)
{
  AioTask *pending, *stepped;
  GError *error = NULL;
  AioFuture *future;
  gpointer weak;
  Body b, stepped_b;

  g_test_summary ("asyncio: 'await' outside a coroutine is an error "
                  "(AIO_ERROR_NOT_IN_TASK), never a nested run of the loop; "
                  "the future given is consumed all the same");

  body_init (&b, f, "task");
  pending = create_task (f, log_body, &b);

  future = aio_future_new_for_loop (f->loop);
  weak = future;
  g_object_add_weak_pointer (G_OBJECT (future), &weak);
  g_assert_false (aio_await (future, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_clear_error (&error);
  g_assert_null (weak);

  future = aio_future_new_for_int64 (3);
  weak = future;
  g_object_add_weak_pointer (G_OBJECT (future), &weak);
  g_assert_cmpint (aio_await_int64 (future, &error), ==, 0);
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_clear_error (&error);
  g_assert_null (weak);

  g_assert_false (aio_yield (&error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_clear_error (&error);

  /* The loop did not run. */
  g_assert_cmpuint (b.runs, ==, 0);
  g_assert_true (run (f, pending, NULL));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_finalize_object (pending);

  body_init (&stepped_b, f, NULL);
  stepped = create_stepped (f, await_in_step, &stepped_b);
  g_assert_true (run (f, stepped, NULL));
  g_assert_cmpuint (stepped_b.runs, ==, 1);
  g_assert_finalize_object (stepped);
}

static void
await_self_body (AioTask  *task,
                 gpointer  user_data)
{
  Body *b = user_data;

  g_assert_false (aio_await (g_object_ref (AIO_FUTURE (task)), &b->error));
  aio_task_return_int64 (task, 1);
}

static void
test_await_self (Fixture       *f,
                 gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a task cannot await itself (RuntimeError); here "
                  "aio_await fails with AIO_ERROR_INVALID_STATE and the task "
                  "goes on");

  body_init (&b, f, NULL);
  task = create_task (f, await_self_body, &b);
  g_assert_true (run (f, task, NULL));
  g_assert_error (b.error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), NULL), ==, 1);
  body_clear (&b);
  /* The reference given to aio_await() was released. */
  g_assert_finalize_object (task);
}

static void
await_other_loop_body (AioTask  *task,
                       gpointer  user_data)
{
  Body *b = user_data;

  g_assert_false (aio_await (g_steal_pointer (&b->future), &b->error));
}

static void
test_await_other_loop (Fixture       *f,
                       gconstpointer  data)
{
  AioLoop *other = aio_loop_new ();
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: awaiting a future attached to a different loop "
                  "is an error (RuntimeError); the future is released");

  body_init (&b, f, NULL);
  b.future = aio_future_new_for_loop (other);
  task = create_task (f, await_other_loop_body, &b);
  g_assert_true (run (f, task, NULL));
  g_assert_error (b.error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_null (b.future);
  body_clear (&b);
  g_assert_finalize_object (task);

  aio_loop_close (other);
  g_assert_finalize_object (other);
}

/* ---- yielding ------------------------------------------------------------ */

static void
yield_body (AioTask  *task,
            gpointer  user_data)
{
  Body *b = user_data;

  log_event ("%s1", b->tag);
  g_assert_true (aio_yield (NULL));
  log_event ("%s2", b->tag);
}

static void
test_await_yield (Fixture       *f,
                  gconstpointer  data)
{
  AioTask *a, *b_task;
  Body a_b, b_b;

  g_test_summary ("asyncio: 'await asyncio.sleep(0)' (aio_yield) lets the "
                  "other ready tasks run before the caller goes on");

  body_init (&a_b, f, "a");
  body_init (&b_b, f, "b");
  a = create_task (f, yield_body, &a_b);
  b_task = create_task (f, yield_body, &b_b);
  g_assert_true (run (f, b_task, NULL));
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (a)));
  g_assert_cmpstr (log_str (), ==, "a1 b1 a2 b2");
  g_assert_finalize_object (a);
  g_assert_finalize_object (b_task);
}

static void
yield_cancel_body (AioTask  *task,
                   gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  log_event ("x0");
  g_assert_false (aio_yield (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  log_event ("x-cancelled");
}

static void
test_fiber_yield_cancel (Fixture       *f,
                         gconstpointer  data)
{
  GMainContext *context = aio_loop_get_context (f->loop);
  AioTask *t;

  /* One batch per GMainContext iteration, to cancel between them. */
  _aio_loop_set_ready_budget (f->loop, 0);
  g_test_summary ("asyncio: a task cancelled while it yields sees "
                  "CancelledError at its 'await asyncio.sleep(0)'");

  t = aio_loop_create_task (f->loop, yield_cancel_body, NULL, NULL);
  g_main_context_iteration (context, FALSE);
  g_assert_cmpstr (log_str (), ==, "x0");
  g_assert_true (aio_task_cancel (t, NULL));
  g_assert_false (run (f, t, NULL));
  g_assert_cmpstr (log_str (), ==, "x0 x-cancelled");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (t)));
  g_assert_finalize_object (t);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("await/yield-cancel", test_fiber_yield_cancel);
  TASK_TEST ("await/typed", test_await_typed);
  TASK_TEST ("await/done-no-yield", test_await_done_no_yield);
  TASK_TEST ("await/rejected", test_await_rejected);
  TASK_TEST ("await/not-in-task", test_await_not_in_task);
  TASK_TEST ("await/self", test_await_self);
  TASK_TEST ("await/other-loop", test_await_other_loop);
  TASK_TEST ("await/yield", test_await_yield);

  return g_test_run ();
}
