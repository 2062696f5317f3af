/* test-task-body.c: AioTask's bodies: what they return, and when they run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a body returns, of every type, an error, twice or too early, and
 * when a waiting task sees it; the order bodies start in; the programmer
 * errors of creating, cancelling and returning.  test-task-common.h says
 * how the AioTask tests go.
 */

#include "config.h"

#include "test-task-common.h"

/* ---- results ------------------------------------------------------------- */

static void
check_result (AioTask    *task,
              Body       *b,
              ReturnKind  kind)
{
  AioFuture *future = AIO_FUTURE (task);
  GValue value = G_VALUE_INIT;
  GError *error = NULL;

  switch (kind)
    {
    case RETURN_BOOLEAN:
      g_assert_true (aio_future_get_boolean (future, &error));
      break;
    case RETURN_INT64:
      g_assert_cmpint (aio_future_get_int64 (future, &error), ==, INT64_RESULT);
      break;
    case RETURN_DOUBLE:
      g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 0.25);
      break;
    case RETURN_STRING:
      g_assert_cmpstr (aio_future_get_string (future, &error), ==, "hello");
      break;
    case RETURN_OBJECT:
      g_assert_true (aio_future_get_object (future, &error) == b->object);
      break;
    case RETURN_POINTER:
      g_assert_true (aio_future_get_pointer (future, &error) == b->pointer);
      g_assert_cmpuint (b->freed, ==, 0);
      break;
    case RETURN_VALUE:
      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_STRING (&value));
      g_assert_cmpstr (g_value_get_string (&value), ==, "gvalue");
      g_value_unset (&value);
      break;
    case N_RETURNS:
    default:
      g_assert_not_reached ();
    }
  g_assert_no_error (error);
}

static void
test_result_types (Fixture       *f,
                   gconstpointer  data)
{
  guint kind;

  g_test_summary ("asyncio: a task's result is what its coroutine returned, "
                  "and Task.result() can be read any number of times");

  for (kind = 0; kind < N_RETURNS; kind++)
    {
      GError *error = NULL;
      AioTask *task;
      Body b;

      body_init (&b, f, NULL);
      b.kind = kind;
      b.object = g_object_new (G_TYPE_OBJECT, NULL);

      task = create_task (f, return_body, &b);
      g_assert_true (run (f, task, &error));
      g_assert_no_error (error);
      g_assert_cmpint (aio_future_get_state (AIO_FUTURE (task)), ==, AIO_FUTURE_RESOLVED);
      g_assert_cmpuint (b.runs, ==, 1);
      g_assert_cmpuint (b.destroyed, ==, 1);

      check_result (task, &b, kind);
      check_result (task, &b, kind);

      /* The task owned its value; reading it took nothing away. */
      g_assert_finalize_object (task);
      g_assert_finalize_object (b.object);
      g_assert_cmpuint (b.freed, ==, kind == RETURN_POINTER ? 1 : 0);
    }
}

static void
return_nothing_body (AioTask  *task,
                     gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  if (b->kind == 1)
    aio_task_return (task);
}

static void
test_result_none (Fixture       *f,
                  gconstpointer  data)
{
  guint explicit_return;

  g_test_summary ("asyncio: a coroutine that just returns (or returns None) "
                  "makes its task done with the result None");

  for (explicit_return = 0; explicit_return < 2; explicit_return++)
    {
      GValue value = G_VALUE_INIT;
      GError *error = NULL;
      AioTask *task;
      Body b;

      body_init (&b, f, NULL);
      b.kind = explicit_return;
      task = create_task (f, return_nothing_body, &b);
      g_assert_true (run (f, task, &error));
      g_assert_no_error (error);
      g_assert_cmpint (aio_future_get_state (AIO_FUTURE (task)), ==, AIO_FUTURE_RESOLVED);
      g_assert_null (aio_future_get_error (AIO_FUTURE (task)));
      g_assert_null (aio_future_get_pointer (AIO_FUTURE (task), &error));
      g_assert_no_error (error);
      g_assert_true (aio_future_get_value (AIO_FUTURE (task), &value, &error));
      g_assert_no_error (error);
      g_assert_false (G_IS_VALUE (&value));
      g_assert_cmpuint (b.runs, ==, 1);
      g_assert_cmpuint (b.destroyed, ==, 1);
      g_assert_finalize_object (task);
    }
}

static void
test_result_error (Fixture       *f,
                   gconstpointer  data)
{
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: an exception raised by the coroutine becomes the "
                  "task's exception: the task is done, not cancelled, and "
                  "awaiting it raises that exception");

  body_init (&b, f, NULL);
  b.kind = G_IO_ERROR_NOT_FOUND;
  b.message = "nope";
  task = create_task (f, return_error_body, &b);
  g_assert_false (run (f, task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "nope");
  g_clear_error (&error);

  g_assert_cmpstr (log_str (), ==, "returned end");
  g_assert_cmpint (aio_future_get_state (AIO_FUTURE (task)), ==, AIO_FUTURE_REJECTED);
  g_assert_true (aio_future_is_rejected (AIO_FUTURE (task)));
  g_assert_false (aio_future_is_cancelled (AIO_FUTURE (task)));
  g_assert_error (aio_future_get_error (AIO_FUTURE (task)), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

static void
test_result_error_cancelled (Fixture       *f,
                             gconstpointer  data)
{
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a coroutine that raises CancelledError itself "
                  "makes its task cancelled (Task.cancelled() is True)");

  body_init (&b, f, NULL);
  b.kind = G_IO_ERROR_CANCELLED;
  b.message = "gave up";
  task = create_task (f, return_error_body, &b);
  run_cancelled (f, task, "gave up");

  g_assert_cmpint (aio_future_get_state (AIO_FUTURE (task)), ==, AIO_FUTURE_CANCELLED);
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
  /* Nobody called cancel(). */
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

static void
return_twice_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  aio_task_return_int64 (task, 1);

  EXPECT_CRITICAL ("*returned already*", aio_task_return_int64 (task, 2));

  /* A refused value is freed right away, not leaked. */
  EXPECT_CRITICAL ("*returned already*",
                   aio_task_return_pointer (task, counted_new (&b->freed), counted_free));
  g_assert_cmpuint (b->freed, ==, 1);

  EXPECT_CRITICAL ("*returned already*",
                   aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                                     "late")));

  EXPECT_CRITICAL ("*returned already*", aio_task_return_string (task, "late"));
}

static void
test_result_return_twice (Fixture       *f,
                          gconstpointer  data)
{
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a coroutine returns once; in C a second "
                  "aio_task_return_*() is a programmer error (critical) and "
                  "the first result stays");

  body_init (&b, f, NULL);
  task = create_task (f, return_twice_body, &b);
  g_assert_true (run (f, task, &error));
  g_assert_no_error (error);
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (task), &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

/* Returns 7 and goes on running for one more iteration. */
static void
return_early_body (AioTask  *task,
                   gpointer  user_data)
{
  aio_task_return_int64 (task, 7);
  log_event ("a:return");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (aio_yield (NULL));
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  log_event ("a:end");
}

static void
await_task_body (AioTask  *task,
                 gpointer  user_data)
{
  Body *b = user_data;

  log_event ("b:await");
  b->value = aio_await_int64 (g_object_ref (AIO_FUTURE (b->task)), &b->error);
  log_event ("b:%" G_GINT64_FORMAT, b->value);
}

static void
test_result_published_at_end (Fixture       *f,
                              gconstpointer  data)
{
  AioTask *a, *b_task;
  Body a_body, b_body;

  g_test_summary ("asyncio: a task is done only when its coroutine has "
                  "ended; another task awaiting it sees its result after that");

  body_init (&a_body, f, "a");
  body_init (&b_body, f, "b");
  a = create_task (f, return_early_body, &a_body);
  b_body.task = a;
  b_task = create_task (f, await_task_body, &b_body);

  g_assert_true (run (f, b_task, NULL));
  g_assert_cmpstr (log_str (), ==, "a:return b:await a:end b:7");
  g_assert_no_error (b_body.error);
  g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (a), NULL), ==, 7);

  g_assert_finalize_object (b_task);
  g_assert_finalize_object (a);
  g_assert_cmpuint (a_body.destroyed + b_body.destroyed, ==, 2);
}

static void
test_result_never_retrieved (Fixture       *f,
                             gconstpointer  data)
{
  AioTask *task, *read_task;
  gpointer weak;
  Body b, read_b;

  g_test_summary ("asyncio: 'Task exception was never retrieved' is logged "
                  "when a failed task whose exception nobody asked for is "
                  "collected; a retrieved one is not logged");

  body_init (&b, f, NULL);
  b.kind = G_IO_ERROR_FAILED;
  b.message = "forgotten";
  task = create_task (f, return_error_body, &b);

  body_init (&read_b, f, NULL);
  read_b.kind = G_IO_ERROR_FAILED;
  read_b.message = "read";
  read_task = create_task (f, return_error_body, &read_b);

  /* Run both to their end without reading their outcome. */
  run_sleep (f, 0);
  g_assert_true (aio_future_is_rejected (AIO_FUTURE (task)));
  g_assert_true (aio_future_is_rejected (AIO_FUTURE (read_task)));

  /* Read: finalized without a word (a warning would fail the test). */
  g_assert_nonnull (aio_future_get_error (AIO_FUTURE (read_task)));
  g_assert_finalize_object (read_task);

  weak = task;
  g_object_add_weak_pointer (G_OBJECT (task), &weak);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*never retrieved*forgotten*");
  g_object_unref (task);
  g_test_assert_expected_messages ();
  g_assert_null (weak);
  g_assert_cmpuint (b.destroyed + read_b.destroyed, ==, 2);
}

/* ---- scheduling ---------------------------------------------------------- */

static void
create_inner_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;
  AioTask *inner;

  g_assert_true (aio_loop_get_running () == b->f->loop);
  log_event ("outer:create");
  inner = aio_create_task (log_body, b->pointer, NULL);
  /* aio_create_task() picks the running loop. */
  g_assert_true (aio_future_get_loop (AIO_FUTURE (inner)) == b->f->loop);
  log_event ("outer:created");
  aio_task_return_object (task, inner);
  g_object_unref (inner);
}

static void
test_schedule_next_iteration (Fixture       *f,
                              gconstpointer  data)
{
  AioTask *task, *inner;
  Body b, inner_b;

  g_test_summary ("asyncio: create_task() schedules the coroutine; it starts "
                  "on the loop's next iteration, not inside create_task() "
                  "(from outside the loop and from inside a task alike)");

  body_init (&b, f, "task");
  task = create_task (f, log_body, &b);
  g_assert_cmpuint (b.runs, ==, 0);
  g_assert_cmpstr (log_str (), ==, "");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (run (f, task, NULL));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_finalize_object (task);

  log_reset ();
  body_init (&b, f, "outer");
  body_init (&inner_b, f, "inner");
  b.pointer = &inner_b;   /* the inner body's data */
  task = create_task (f, create_inner_body, &b);
  g_assert_true (run (f, task, NULL));
  inner = g_object_ref (aio_future_get_object (AIO_FUTURE (task), NULL));
  g_assert_true (run (f, inner, NULL));
  g_assert_cmpstr (log_str (), ==, "outer:create outer:created inner");
  g_assert_finalize_object (task);
  g_assert_finalize_object (inner);
}

static void
test_schedule_creation_order (Fixture       *f,
                              gconstpointer  data)
{
  static const char * const tags[] = { "a", "b", "c", "d", "e", "f" };
  AioTask *tasks[G_N_ELEMENTS (tags)];
  Body bodies[G_N_ELEMENTS (tags)];
  guint i;

  g_test_summary ("asyncio: tasks start in the order they were created "
                  "(the ready queue is FIFO), fiber and stepped bodies alike");

  for (i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      body_init (&bodies[i], f, tags[i]);
      if (i % 2 == 0)
        tasks[i] = create_task (f, log_body, &bodies[i]);
      else
        tasks[i] = create_stepped (f, log_step, &bodies[i]);
    }

  g_assert_true (run (f, tasks[G_N_ELEMENTS (tags) - 1], NULL));
  g_assert_cmpstr (log_str (), ==, "a b c d e f");

  for (i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      g_assert_true (aio_future_is_resolved (AIO_FUTURE (tasks[i])));
      g_assert_cmpuint (bodies[i].runs, ==, 1);
      g_assert_cmpuint (bodies[i].destroyed, ==, 1);
      g_assert_finalize_object (tasks[i]);
    }
}

/* ---- bad input ----------------------------------------------------------- */

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  AioLoop *closed;
  guint destroyed = 0, freed = 0;
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("Programmer errors (asyncio raises TypeError or "
                  "RuntimeError) are criticals that leave everything intact: "
                  "NULL body or loop, a closed loop (the data is still "
                  "freed), NULL task, returning a fiber task from outside");

  EXPECT_CRITICAL ("*AIO_IS_LOOP*",
                   g_assert_null (aio_loop_create_task (NULL, log_body, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (aio_loop_create_task (f->loop, NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*AIO_IS_LOOP*",
                   g_assert_null (aio_loop_create_stepped_task (NULL, log_step, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (aio_loop_create_stepped_task (f->loop, NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (aio_create_task (NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*func != NULL*",
                   g_assert_null (aio_create_stepped_task (NULL, NULL, NULL)));

  EXPECT_CRITICAL ("*AIO_IS_TASK*",
                   g_assert_false (aio_task_cancel (NULL, NULL)));
  EXPECT_CRITICAL ("*AIO_IS_TASK*",
                   g_assert_cmpuint (aio_task_cancelling (NULL), ==, 0));
  EXPECT_CRITICAL ("*AIO_IS_TASK*",
                   g_assert_cmpuint (aio_task_uncancel (NULL), ==, 0));
  EXPECT_CRITICAL ("*AIO_IS_TASK*",
                   g_assert_null (aio_task_get_cancellable (NULL)));
  EXPECT_CRITICAL ("*AIO_IS_FUTURE*",
                   g_assert_false (aio_await (NULL, &error)));
  g_assert_no_error (error);

  /* A closed loop runs nothing more; the data given is freed anyway. */
  closed = aio_loop_new ();
  aio_loop_close (closed);
  EXPECT_CRITICAL ("*closed loop*",
                   g_assert_null (aio_loop_create_task (closed, log_body,
                                                        &destroyed, aio_test_count)));
  g_assert_cmpuint (destroyed, ==, 1);
  EXPECT_CRITICAL ("*closed loop*",
                   g_assert_null (aio_loop_create_stepped_task (closed, log_step,
                                                                &destroyed, aio_test_count)));
  g_assert_cmpuint (destroyed, ==, 2);
  g_assert_finalize_object (closed);

  /* A fiber task returns from its own body only; the value is freed. */
  body_init (&b, f, "t");
  task = create_task (f, log_body, &b);
  EXPECT_CRITICAL ("*own body only*",
                   aio_task_return_pointer (task, counted_new (&freed), counted_free));
  g_assert_cmpuint (freed, ==, 1);
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (run (f, task, NULL));
  g_assert_null (aio_future_get_pointer (AIO_FUTURE (task), NULL));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

int
main (int   argc,
      char *argv[])
{
  task_test_init (&argc, &argv);

  TASK_TEST ("result/types", test_result_types);
  TASK_TEST ("result/none", test_result_none);
  TASK_TEST ("result/error", test_result_error);
  TASK_TEST ("result/error-cancelled", test_result_error_cancelled);
  TASK_TEST ("result/return-twice", test_result_return_twice);
  TASK_TEST ("result/published-at-end", test_result_published_at_end);
  TASK_TEST ("result/never-retrieved", test_result_never_retrieved);
  TASK_TEST ("schedule/next-iteration", test_schedule_next_iteration);
  TASK_TEST ("schedule/creation-order", test_schedule_creation_order);
  TASK_TEST ("bad-input", test_bad_input);

  return g_test_run ();
}
