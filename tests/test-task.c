/* test-task.c: AioTask, checked against asyncio's Task semantics
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test names, in its g_test_summary(), the asyncio behaviour it
 * checks.  Each one runs on a fresh loop (the fixture), records the order
 * of events in a string where order matters, and proves that it cleaned up:
 * tasks and futures are finalized, destroy notifies ran exactly once, and
 * the loop itself is finalized after aio_loop_close() (every future holds
 * its loop, so a leaked future or task fails the teardown).
 *
 * Environment:
 *   AIO_TEST_TASK_N   fiber tasks suspended at once in /aio/task/many
 *                     (default 100000; 2000 under valgrind, which cannot
 *                     track that many mappings; 6000 under TSan, which
 *                     counts fibers as threads)
 */

#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-fiber-private.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-watchdog.h"

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Long enough that a body still waiting when it should have been cancelled
 * shows up as a failure, short enough to stay under the watchdog. */
#define LONG_SLEEP 30.0

/* The fiber back end's per-thread pool bound (aio-fiber.c). */
#define FIBER_POOL_MAX 256

/* ---- harness ------------------------------------------------------------- */

/* Generous, so that the suite also passes under Valgrind; a hung test is
 * reported and aborts instead of blocking `meson test` until its timeout. */
#define WATCHDOG_SECONDS 60


typedef struct
{
  AioLoop *loop;
  GString *log;
} Fixture;

/* Each test gets a fresh loop whose context is the thread default, so
 * that futures made without a loop land on it too. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  aio_test_watchdog_arm (WATCHDOG_SECONDS);

  f->loop = aio_loop_new ();
  f->log = g_string_new (NULL);
  g_main_context_push_thread_default (aio_loop_get_context (f->loop));
  g_assert_true (aio_loop_get_default () == f->loop);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  GMainContext *context = aio_loop_get_context (f->loop);

  if (!aio_loop_is_closed (f->loop))
    {
      guint i;

      /* Let whatever is queued (cancelled zero-delay sleeps) drain; then
       * nothing may be left, and no task may still be pending. */
      for (i = 0; i < 100 && g_main_context_pending (context); i++)
        g_main_context_iteration (context, FALSE);
      g_assert_false (g_main_context_pending (context));
      g_assert_cmpuint (g_queue_get_length (_aio_loop_get_tasks (f->loop)), ==, 0);
    }

  g_main_context_pop_thread_default (context);
  aio_loop_close (f->loop);
  /* Every future and task holds its loop: this proves none leaked. */
  g_assert_finalize_object (f->loop);
  g_string_free (f->log, TRUE);

  aio_test_watchdog_disarm ();
}

#define TEST(path, func) \
  g_test_add ("/aio/task/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

static void log_event (Fixture    *f,
                       const char *format,
                       ...) G_GNUC_PRINTF (2, 3);

static void
log_event (Fixture    *f,
           const char *format,
           ...)
{
  va_list args;

  if (f->log->len > 0)
    g_string_append_c (f->log, ' ');
  va_start (args, format);
  g_string_append_vprintf (f->log, format, args);
  va_end (args);
}

/* Runs the loop until @future is done; returns its outcome. */
static gboolean
run (Fixture    *f,
     gpointer    future,
     GError    **error)
{
  return aio_loop_run_until_complete (f->loop, AIO_FUTURE (future), error);
}

/* Runs the loop for @seconds.  With 0, every task that is ready takes
 * exactly one step: the sleep's wakeup is queued behind them. */
static void
run_sleep (Fixture *f,
           gdouble  seconds)
{
  AioFuture *sleep = aio_loop_sleep (f->loop, seconds);
  GError *error = NULL;

  g_assert_true (aio_loop_run_until_complete (f->loop, sleep, &error));
  g_assert_no_error (error);
  g_object_unref (sleep);
}

static void
no_core_dumps (void)
{
  struct rlimit limit = { 0, 0 };

  setrlimit (RLIMIT_CORE, &limit);
}

static guint
live_stacks (void)
{
  return aio_fiber_get_n_guarded_stacks () + aio_fiber_get_n_slab_stacks ();
}

/* What a body sees and does, shared with the test that runs it.  It lives
 * on the test's stack: the task's destroy notify only counts. */
typedef struct
{
  Fixture      *f;
  const char   *tag;          /* in the event log */
  const char   *message;      /* for aio_task_cancel() */
  guint         kind;
  guint         runs;         /* times the body or a step was entered */
  guint         destroyed;    /* times the destroy notify ran */
  guint         freed;        /* Counted values freed */
  guint         state;        /* stepped bodies */
  AioTask      *task;         /* another task the body acts on (borrowed) */
  AioFuture    *future;       /* owned by the test; bodies await a ref */
  AioFuture    *sleep;        /* a ref on what the body waits for */
  AioFuture    *expected;     /* stepped bodies: the future returned last */
  GObject      *object;
  gpointer      pointer;
  GError       *error;        /* what the body's await reported */
  GCancellable *cancellable;
  GThread      *thread;
  GThread      *seen_in;
  gint64        value;
  gboolean      flag;
} Body;

static void
body_init (Body       *b,
           Fixture    *f,
           const char *tag)
{
  memset (b, 0, sizeof *b);
  b->f = f;
  b->tag = tag;
}

static void
body_clear (Body *b)
{
  g_clear_object (&b->future);
  g_clear_object (&b->sleep);
  g_clear_error (&b->error);
}

static void
body_destroyed (gpointer data)
{
  ((Body *) data)->destroyed++;
}

static AioTask *
create_task (Fixture     *f,
             AioTaskFunc  func,
             Body        *b)
{
  AioTask *task = aio_loop_create_task (f->loop, func, b, body_destroyed);

  g_assert_true (AIO_IS_TASK (task));
  return task;
}

static AioTask *
create_stepped (Fixture     *f,
                AioStepFunc  func,
                Body        *b)
{
  AioTask *task = aio_loop_create_stepped_task (f->loop, func, b, body_destroyed);

  g_assert_true (AIO_IS_TASK (task));
  return task;
}

static void
count_destroy (gpointer data)
{
  (*(guint *) data)++;
}

/* A heap value whose destroy notify counts. */
typedef struct
{
  guint *freed;
} Counted;

static Counted *
counted_new (guint *freed)
{
  Counted *counted = g_new0 (Counted, 1);

  counted->freed = freed;
  return counted;
}

static void
counted_free (gpointer data)
{
  Counted *counted = data;

  (*counted->freed)++;
  g_free (counted);
}

/* ---- common bodies ------------------------------------------------------- */

/* Logs "<tag>" and returns. */
static void
log_body (AioTask  *task,
          gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event (b->f, "%s", b->tag);
}

static AioFuture *
log_step (AioTask   *task,
          AioFuture *completed,
          gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event (b->f, "%s", b->tag);
  return NULL;
}

/* Waits on a long sleep, keeping a ref on it in b->sleep, and records what
 * the await reported in b->error; then just returns. */
static void
wait_long_body (AioTask  *task,
                gpointer  user_data)
{
  Body *b = user_data;
  AioFuture *sleep = aio_sleep (LONG_SLEEP);

  b->runs++;
  b->sleep = g_object_ref (sleep);
  log_event (b->f, "%s:wait", b->tag);
  if (aio_await (sleep, &b->error))
    log_event (b->f, "%s:woke", b->tag);
  else
    log_event (b->f, "%s:error", b->tag);
  b->seen_in = g_thread_self ();
}

/* The same as a state machine: waits on a long sleep, then returns NULL,
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
      log_event (b->f, "%s:wait", b->tag);
      b->sleep = aio_sleep (LONG_SLEEP);
      return g_object_ref (b->sleep);

    case 1:
      g_assert_nonnull (completed);
      b->future = g_object_ref (completed);
      if (aio_future_is_cancelled (completed))
        log_event (b->f, "%s:cancelled", b->tag);
      else
        log_event (b->f, "%s:woke", b->tag);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* Waits on b->future (owned by the test) and records the outcome. */
static void
wait_future_body (AioTask  *task,
                  gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event (b->f, "%s:wait", b->tag);
  b->value = aio_await_int64 (g_object_ref (b->future), &b->error);
  log_event (b->f, "%s:%s", b->tag, b->error == NULL ? "woke" : "error");
}

static AioFuture *
wait_future_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  switch (b->state++)
    {
    case 0:
      log_event (b->f, "%s:wait", b->tag);
      return g_object_ref (b->future);

    case 1:
      b->expected = completed;   /* borrowed: only compared, not kept */
      b->flag = aio_future_is_cancelled (completed);
      log_event (b->f, "%s:%s", b->tag, b->flag ? "cancelled" : "woke");
      if (b->flag)
        aio_future_propagate (completed, &b->error);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* Cancels b->task with b->message. */
static void
cancel_body (AioTask  *task,
             gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event (b->f, "%s:cancel", b->tag);
  g_assert_true (aio_task_cancel (b->task, b->message));
}

/* ---- results ------------------------------------------------------------- */

typedef enum
{
  RETURN_BOOLEAN,
  RETURN_INT64,
  RETURN_DOUBLE,
  RETURN_STRING,
  RETURN_OBJECT,
  RETURN_POINTER,
  RETURN_VALUE,
  N_RETURNS
} ReturnKind;

#define INT64_RESULT G_GINT64_CONSTANT (-1234567890123)

static void
return_body (AioTask  *task,
             gpointer  user_data)
{
  Body *b = user_data;
  GValue value = G_VALUE_INIT;
  char *string;

  b->runs++;
  switch ((ReturnKind) b->kind)
    {
    case RETURN_BOOLEAN:
      aio_task_return_boolean (task, TRUE);
      break;
    case RETURN_INT64:
      aio_task_return_int64 (task, INT64_RESULT);
      break;
    case RETURN_DOUBLE:
      aio_task_return_double (task, 0.25);
      break;
    case RETURN_STRING:
      /* The task copies it. */
      string = g_strdup ("hello");
      aio_task_return_string (task, string);
      g_free (string);
      break;
    case RETURN_OBJECT:
      aio_task_return_object (task, b->object);
      break;
    case RETURN_POINTER:
      b->pointer = counted_new (&b->freed);
      aio_task_return_pointer (task, b->pointer, counted_free);
      break;
    case RETURN_VALUE:
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, "gvalue");
      aio_task_return_value (task, &value);
      g_value_unset (&value);
      break;
    case N_RETURNS:
    default:
      g_assert_not_reached ();
    }

  /* The outcome waits for the body to end. */
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
}

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
return_error_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, b->kind, b->message));
  log_event (b->f, "returned");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  log_event (b->f, "end");
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

  g_assert_cmpstr (f->log->str, ==, "returned end");
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
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a coroutine that raises CancelledError itself "
                  "makes its task cancelled (Task.cancelled() is True)");

  body_init (&b, f, NULL);
  b.kind = G_IO_ERROR_CANCELLED;
  b.message = "gave up";
  task = create_task (f, return_error_body, &b);
  g_assert_false (run (f, task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "gave up");
  g_clear_error (&error);

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

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*returned already*");
  aio_task_return_int64 (task, 2);
  g_test_assert_expected_messages ();

  /* A refused value is freed right away, not leaked. */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*returned already*");
  aio_task_return_pointer (task, counted_new (&b->freed), counted_free);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (b->freed, ==, 1);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*returned already*");
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*returned already*");
  aio_task_return_string (task, "late");
  g_test_assert_expected_messages ();
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
  Body *b = user_data;

  aio_task_return_int64 (task, 7);
  log_event (b->f, "a:return");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (aio_yield (NULL));
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  log_event (b->f, "a:end");
}

static void
await_task_body (AioTask  *task,
                 gpointer  user_data)
{
  Body *b = user_data;

  log_event (b->f, "b:await");
  b->value = aio_await_int64 (g_object_ref (AIO_FUTURE (b->task)), &b->error);
  log_event (b->f, "b:%" G_GINT64_FORMAT, b->value);
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
  g_assert_cmpstr (f->log->str, ==, "a:return b:await a:end b:7");
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
  log_event (b->f, "outer:create");
  inner = aio_create_task (log_body, b->pointer, NULL);
  /* aio_create_task() picks the running loop. */
  g_assert_true (aio_future_get_loop (AIO_FUTURE (inner)) == b->f->loop);
  log_event (b->f, "outer:created");
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
  g_assert_cmpstr (f->log->str, ==, "");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (run (f, task, NULL));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_finalize_object (task);

  g_string_truncate (f->log, 0);
  body_init (&b, f, "outer");
  body_init (&inner_b, f, "inner");
  b.pointer = &inner_b;   /* the inner body's data */
  task = create_task (f, create_inner_body, &b);
  g_assert_true (run (f, task, NULL));
  inner = g_object_ref (aio_future_get_object (AIO_FUTURE (task), NULL));
  g_assert_true (run (f, inner, NULL));
  g_assert_cmpstr (f->log->str, ==, "outer:create outer:created inner");
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
  g_assert_cmpstr (f->log->str, ==, "a b c d e f");

  for (i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      g_assert_true (aio_future_is_resolved (AIO_FUTURE (tasks[i])));
      g_assert_cmpuint (bodies[i].runs, ==, 1);
      g_assert_cmpuint (bodies[i].destroyed, ==, 1);
      g_assert_finalize_object (tasks[i]);
    }
}

/* ---- aio_await ----------------------------------------------------------- */

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
  log_event (b->f, "typed:wait");
  g_assert_cmpint (aio_await_int64 (g_object_ref (b->future), &error), ==, 42);
  g_assert_no_error (error);
  log_event (b->f, "typed:got");

  aio_task_return_boolean (task, TRUE);
}

static void
resolve_later_body (AioTask  *task,
                    gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_yield (NULL));
  log_event (b->f, "resolver:resolve");
  aio_future_resolve_int64 (b->future, 42);
}

static void
test_await_typed (Fixture       *f,
                  gconstpointer  data)
{
  AioTask *task, *resolver;
  Body b, resolver_b;

  g_test_summary ("asyncio: 'await fut' evaluates to the future's result "
                  "(aio_await and its typed forms: boolean, int64, double, "
                  "string, object, pointer, GValue)");

  body_init (&b, f, NULL);
  b.object = g_object_new (G_TYPE_OBJECT, NULL);
  b.future = aio_future_new_for_loop (f->loop);
  task = create_task (f, typed_body, &b);
  body_init (&resolver_b, f, NULL);
  resolver_b.future = g_object_ref (b.future);
  resolver = create_task (f, resolve_later_body, &resolver_b);

  g_assert_true (run (f, task, NULL));
  g_assert_true (aio_future_get_boolean (AIO_FUTURE (task), NULL));
  g_assert_cmpstr (f->log->str, ==, "typed:wait resolver:resolve typed:got");

  g_assert_finalize_object (task);
  g_assert_finalize_object (resolver);
  body_clear (&resolver_b);
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

  log_event (b->f, "a1");
  g_assert_cmpint (aio_await_int64 (aio_future_new_for_int64 (1), NULL), ==, 1);
  /* A finished task is a done future too. */
  g_assert_true (aio_future_is_done (AIO_FUTURE (finished)));
  g_assert_true (aio_await (g_object_ref (AIO_FUTURE (finished)), NULL));
  log_event (b->f, "a2");
  g_assert_true (aio_yield (NULL));
  log_event (b->f, "a3");
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
  g_string_truncate (f->log, 0);

  body_init (&a_b, f, "a");
  a_b.task = finished;
  a = create_task (f, no_yield_body, &a_b);
  body_init (&b_b, f, "b1");
  b_task = create_task (f, log_body, &b_b);

  g_assert_true (run (f, a, NULL));
  g_assert_cmpstr (f->log->str, ==, "a1 a2 b1 a3");

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
  log_event (b->f, "wait");
  g_assert_false (aio_await (g_object_ref (b->future), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  log_event (b->f, "rejected");
}

static void
reject_later_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_yield (NULL));
  log_event (b->f, "reject");
  aio_future_reject_literal (b->future, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "slow");
}

static void
test_await_rejected (Fixture       *f,
                     gconstpointer  data)
{
  AioTask *task, *rejecter;
  GError *error = NULL;
  Body b, rejecter_b;

  g_test_summary ("asyncio: awaiting a future that failed raises its "
                  "exception in the awaiting coroutine, which may handle it "
                  "and go on");

  body_init (&b, f, NULL);
  b.future = aio_future_new_for_loop (f->loop);
  task = create_task (f, await_rejected_body, &b);
  body_init (&rejecter_b, f, NULL);
  rejecter_b.future = g_object_ref (b.future);
  rejecter = create_task (f, reject_later_body, &rejecter_b);

  /* The body handled the errors: the task itself succeeds. */
  g_assert_true (run (f, task, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (f->log->str, ==, "wait reject rejected");
  g_assert_true (aio_future_is_rejected (b.future));

  g_assert_finalize_object (task);
  g_assert_finalize_object (rejecter);
  body_clear (&rejecter_b);
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

static void
yield_body (AioTask  *task,
            gpointer  user_data)
{
  Body *b = user_data;

  log_event (b->f, "%s1", b->tag);
  g_assert_true (aio_yield (NULL));
  log_event (b->f, "%s2", b->tag);
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
  g_assert_cmpstr (f->log->str, ==, "a1 b1 a2 b2");
  g_assert_finalize_object (a);
  g_assert_finalize_object (b_task);
}

/* ---- stepped bodies ------------------------------------------------------ */

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
      log_event (b->f, "s0");
      next = aio_sleep (0.001);
      b->expected = next;
      g_object_add_weak_pointer (G_OBJECT (next), (gpointer *) &b->expected);
      return next;

    case 1:
      /* Given back the very future returned, now done; the task let go
       * of nothing yet (it still holds it for this call). */
      g_assert_true (completed == b->expected);
      g_assert_true (aio_future_is_resolved (completed));
      log_event (b->f, "s1");
      next = aio_sleep (0);
      b->sleep = next;
      g_object_add_weak_pointer (G_OBJECT (next), (gpointer *) &b->sleep);
      return next;

    case 2:
      /* The first one was released once its step returned. */
      g_assert_null (b->expected);
      g_assert_true (completed == b->sleep);
      log_event (b->f, "s2");
      next = aio_future_new_for_int64 (5);
      b->pointer = next;
      return next;

    case 3:
      /* A future that was done already is given back on the next step. */
      g_assert_true (completed == b->pointer);
      b->value = aio_future_get_int64 (completed, NULL);
      log_event (b->f, "s3");
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
  g_assert_cmpstr (f->log->str, ==, "s0 s1 s2 s3");
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
  g_assert_cmpstr (f->log->str, ==, "t:wait");

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

  no_core_dumps ();
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

/* ---- introspection ------------------------------------------------------- */

static void
current_body (AioTask  *task,
              gpointer  user_data)
{
  Body *b = user_data;

  g_assert_true (aio_task_get_current () == task);
  log_event (b->f, "a1");
  g_assert_true (aio_yield (NULL));
  /* Another task ran meanwhile; we are current again. */
  g_assert_true (aio_task_get_current () == task);
  log_event (b->f, "a2");
}

static AioFuture *
current_step (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  Body *b = user_data;

  g_assert_true (aio_task_get_current () == task);
  log_event (b->f, "b%u", b->state);
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
  g_assert_cmpstr (f->log->str, ==, "a1 b0 a2 b1");
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

/* ---- cancellation -------------------------------------------------------- */

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
      GError *error = NULL;
      AioTask *task;
      Body b;

      body_init (&b, f, "t");
      if (stepped)
        task = create_stepped (f, log_step, &b);
      else
        task = create_task (f, log_body, &b);

      g_assert_true (aio_task_cancel (task, "early"));
      g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
      /* Requested, not done: the loop finishes it. */
      g_assert_false (aio_future_is_done (AIO_FUTURE (task)));

      g_assert_false (run (f, task, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "early");
      g_clear_error (&error);
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

      g_string_truncate (f->log, 0);
      body_init (&t, f, "t");
      if (stepped)
        target = create_stepped (f, wait_long_step, &t);
      else
        target = create_task (f, wait_long_body, &t);
      body_init (&c, f, "c");
      c.task = target;
      c.message = "stop";
      canceller = create_task (f, cancel_body, &c);

      g_assert_false (run (f, target, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);

      if (stepped)
        {
          g_assert_cmpstr (f->log->str, ==, "t:wait c:cancel t:cancelled");
          /* The step got the awaited future back, cancelled with msg. */
          g_assert_true (t.future == t.sleep);
          g_assert_false (aio_future_propagate (t.future, &error));
        }
      else
        {
          g_assert_cmpstr (f->log->str, ==, "t:wait c:cancel t:error");
          error = g_steal_pointer (&t.error);
        }
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "stop");
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
      GError *error = NULL;
      Body t, c;

      body_init (&t, f, "t");
      if (stepped)
        target = create_stepped (f, wait_long_step, &t);
      else
        target = create_task (f, wait_long_body, &t);
      body_init (&c, f, "c");
      c.task = target;
      c.message = "stop";
      canceller = create_task (f, cancel_body, &c);

      g_assert_false (run (f, target, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "stop");
      g_clear_error (&error);
      g_assert_error (aio_future_get_error (AIO_FUTURE (target)),
                      G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (aio_future_get_error (AIO_FUTURE (target))->message, ==, "stop");

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

  log_event (b->f, "a");
  g_assert_true (aio_task_cancel (task, "me"));
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  /* Still running: nothing happens until the next await. */
  log_event (b->f, "b");
  g_assert_false (aio_yield (&b->error));
  log_event (b->f, "c");
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
      log_event (b->f, "a");
      g_assert_true (aio_task_cancel (task, "me"));
      log_event (b->f, "b");
      b->sleep = aio_sleep (LONG_SLEEP);
      return g_object_ref (b->sleep);

    case 1:
      g_assert_true (completed == b->sleep);
      g_assert_false (aio_future_propagate (completed, &b->error));
      log_event (b->f, "c");
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
      GError *error = NULL;
      AioTask *task;
      Body b;

      g_string_truncate (f->log, 0);
      body_init (&b, f, NULL);
      if (stepped)
        task = create_stepped (f, cancel_self_step, &b);
      else
        task = create_task (f, cancel_self_body, &b);

      g_assert_false (run (f, task, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_assert_cmpstr (f->log->str, ==, "a b c");
      g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (b.error->message, ==, "me");
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
  aio_task_return_pointer (task, &b->freed, count_destroy);
}

static void
test_cancel_self_then_return (Fixture       *f,
                              gconstpointer  data)
{
  GError *error = NULL;
  AioTask *task;
  Body b;

  g_test_summary ("asyncio: a cancel() the coroutine never saw wins over its "
                  "return value (the task ends cancelled), and the value it "
                  "returned is freed, not leaked");

  body_init (&b, f, NULL);
  task = create_task (f, cancel_self_return_body, &b);
  g_assert_false (run (f, task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "late");
  g_clear_error (&error);
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

  log_event (b->f, "r:resolve");
  aio_future_resolve_int64 (b->future, 1);
  /* The target's wakeup is queued; it has not resumed yet. */
  g_assert_false (aio_future_is_done (AIO_FUTURE (b->task)));
  g_assert_true (aio_task_cancel (b->task, "late"));
  log_event (b->f, "r:cancel");
}

/* Waits on b->future, then on a long sleep: where a cancellation that
 * came in between is delivered. */
static void
wait_future_then_sleep_body (AioTask  *task,
                             gpointer  user_data)
{
  Body *b = user_data;

  log_event (b->f, "%s:wait", b->tag);
  b->value = aio_await_int64 (g_object_ref (b->future), &b->error);
  log_event (b->f, "%s:%s", b->tag, b->error == NULL ? "woke" : "error");
  if (b->error != NULL)
    return;
  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    log_event (b->f, "%s:cancelled", b->tag);
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
      log_event (b->f, "%s:wait", b->tag);
      return g_object_ref (b->future);

    case 1:
      /* The very future returned, with its result. */
      g_assert_true (completed == b->future);
      b->value = aio_future_get_int64 (completed, &b->error);
      log_event (b->f, "%s:%s", b->tag, b->error == NULL ? "woke" : "error");
      return aio_sleep (LONG_SLEEP);

    case 2:
      if (!aio_future_propagate (completed, &b->error))
        log_event (b->f, "%s:cancelled", b->tag);
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
      GError *error = NULL;
      Body t, r;

      g_string_truncate (f->log, 0);
      body_init (&t, f, "t");
      t.future = aio_future_new_for_loop (f->loop);
      if (stepped)
        target = create_stepped (f, wait_future_then_sleep_step, &t);
      else
        target = create_task (f, wait_future_then_sleep_body, &t);
      body_init (&r, f, "r");
      r.future = g_object_ref (t.future);
      r.task = target;
      resolver = create_task (f, resolve_and_cancel_body, &r);

      g_assert_false (run (f, target, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);

      g_assert_cmpstr (f->log->str, ==, "t:wait r:resolve r:cancel t:woke t:cancelled");
      g_assert_cmpint (t.value, ==, 1);
      g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (t.error->message, ==, "late");
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
    log_event (b->f, "t:cancelled");
  /* One CancelledError for both requests: the next await goes through. */
  if (aio_yield (NULL))
    log_event (b->f, "t:yielded");
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
  log_event (b->f, "c:cancel2");
}

static void
test_cancel_twice (Fixture       *f,
                   gconstpointer  data)
{
  AioTask *target, *canceller;
  GError *error = NULL;
  Body t, c;

  g_test_summary ("asyncio: every cancel() counts (cancelling() == 2 after "
                  "two) but the coroutine gets one CancelledError, with the "
                  "last message; its next await goes through");

  body_init (&t, f, "t");
  target = create_task (f, cancel_twice_body, &t);
  body_init (&c, f, "c");
  c.task = target;
  canceller = create_task (f, cancel_twice_canceller, &c);

  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpstr (f->log->str, ==, "c:cancel2 t:cancelled t:yielded");
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (t.error->message, ==, "two");
  g_assert_cmpuint (aio_task_cancelling (target), ==, 2);
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));

  g_assert_finalize_object (canceller);
  g_assert_finalize_object (target);
  body_clear (&t);
}

static void
uncancel_body (AioTask  *task,
               gpointer  user_data)
{
  Body *b = user_data;
  GCancellable *cancellable = aio_task_get_cancellable (task);
  GError *error = NULL;

  log_event (b->f, "t:wait");
  g_assert_false (aio_await (aio_sleep (LONG_SLEEP), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  /* Reset for the GIO calls that follow. */
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  log_event (b->f, "t:uncancel");

  g_assert_true (aio_yield (&error));
  g_assert_no_error (error);
  aio_task_return_int64 (task, 11);
  log_event (b->f, "t:return");
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
      log_event (b->f, "t:wait");
      return aio_sleep (LONG_SLEEP);

    case 1:
      g_assert_true (aio_future_is_cancelled (completed));
      g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
      g_assert_true (g_cancellable_is_cancelled (b->cancellable));
      g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
      g_assert_false (g_cancellable_is_cancelled (b->cancellable));
      log_event (b->f, "t:uncancel");
      return aio_sleep (0);

    case 2:
      g_assert_true (aio_future_is_resolved (completed));
      aio_task_return_int64 (task, 11);
      log_event (b->f, "t:return");
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

      g_string_truncate (f->log, 0);
      body_init (&t, f, "t");
      if (stepped)
        target = create_stepped (f, uncancel_step, &t);
      else
        target = create_task (f, uncancel_body, &t);
      body_init (&c, f, "c");
      c.task = target;
      c.message = "stop";
      canceller = create_task (f, cancel_body, &c);

      g_assert_true (run (f, target, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (f->log->str, ==, "t:wait c:cancel t:uncancel t:return");
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
  body_init (&c, f, "c");
  c.task = target;
  canceller = create_task (f, cancel_body, &c);

  g_assert_true (run (f, target, NULL));
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (target)));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);

  g_assert_finalize_object (canceller);
  g_assert_finalize_object (target);
  body_clear (&t);
}

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

  log_event (b->f, "c:cancel");
  g_cancellable_cancel (aio_task_get_cancellable (b->task));
}

static void
test_cancel_cancellable (Fixture       *f,
                         gconstpointer  data)
{
  AioTask *target, *canceller;
  GCancellable *cancellable;
  GError *error = NULL;
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
  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_finalize_object (target);
  body_clear (&t);

  /* Asked for after: cancelled already. */
  body_init (&t, f, "t");
  target = create_task (f, log_body, &t);
  g_assert_true (aio_task_cancel (target, NULL));
  g_assert_true (g_cancellable_is_cancelled (aio_task_get_cancellable (target)));
  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (t.runs, ==, 0);
  g_assert_finalize_object (target);

  /* Cancelling the GCancellable (in the loop's thread) cancels the task. */
  g_string_truncate (f->log, 0);
  body_init (&t, f, "t");
  target = create_task (f, wait_long_body, &t);
  body_init (&c, f, "c");
  c.task = target;
  canceller = create_task (f, cancel_through_cancellable_body, &c);
  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpstr (f->log->str, ==, "t:wait c:cancel t:error");
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

static void
thread_cancel_body (AioTask  *task,
                    gpointer  user_data)
{
  Body *b = user_data;
  GThread *thread;

  log_event (b->f, "t:wait");
  /* The request reaches the loop through its inbox: only once this body
   * is suspended, whenever the thread gets to it. */
  thread = g_thread_new ("canceller", cancel_in_thread, aio_task_get_cancellable (task));
  if (!aio_await (aio_sleep (LONG_SLEEP), &b->error))
    log_event (b->f, "t:error");
  b->seen_in = g_thread_self ();
  g_thread_join (thread);
}

static void
test_cancel_thread (Fixture       *f,
                    gconstpointer  data)
{
  GThread *self = g_thread_self ();
  GCancellable *cancellable;
  GError *error = NULL;
  AioTask *target;
  GThread *thread;
  Body t;

  g_test_summary ("asyncio: call_soon_threadsafe(task.cancel) from another "
                  "thread; here cancelling the task's GCancellable in "
                  "another thread cancels the task, and its state only "
                  "changes in the loop's thread");

  /* Loop idle: the request waits in the inbox, nothing changes yet. */
  body_init (&t, f, "t");
  target = create_task (f, wait_long_body, &t);
  aio_future_add_done_callback (AIO_FUTURE (target), record_thread, &t, NULL);
  run_sleep (f, 0);
  cancellable = aio_task_get_cancellable (target);
  thread = g_thread_new ("canceller", cancel_in_thread, cancellable);
  g_thread_join (thread);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 0);
  g_assert_false (aio_future_is_done (t.sleep));
  g_assert_false (aio_future_is_done (AIO_FUTURE (target)));

  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_future_is_cancelled (t.sleep));
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
  run_sleep (f, 0);
  g_assert_true (t.seen_in == self);
  g_assert_true (t.thread == self);
  g_assert_finalize_object (target);
  body_clear (&t);

  /* Loop running: the thread cancels while the task waits. */
  g_string_truncate (f->log, 0);
  body_init (&t, f, "t");
  target = create_task (f, thread_cancel_body, &t);
  aio_future_add_done_callback (AIO_FUTURE (target), record_thread, &t, NULL);
  g_assert_false (run (f, target, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpstr (f->log->str, ==, "t:wait t:error");
  g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
  run_sleep (f, 0);
  g_assert_true (t.seen_in == self);
  g_assert_true (t.thread == self);
  g_assert_finalize_object (target);
  body_clear (&t);
}

/* ---- aio_task_cancel() from another thread ------------------------------ */

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

  log_event (b->f, "t:wait");
  if (!aio_await (aio_sleep (3600.0), &b->error))
    log_event (b->f, "t:error");
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
      log_event (b->f, "t:wait");
      return aio_sleep (3600.0);

    case 1:
      if (!aio_future_propagate (completed, &b->error))
        log_event (b->f, "t:error");
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
      GThread *thread;
      Body t, c;

      /* Loop idle: the request waits in the inbox, nothing changes yet. */
      g_string_truncate (f->log, 0);
      body_init (&t, f, "t");
      if (stepped)
        target = create_stepped (f, hour_sleep_step, &t);
      else
        target = create_task (f, hour_sleep_body, &t);
      aio_future_add_done_callback (AIO_FUTURE (target), record_thread, &t, NULL);
      run_sleep (f, 0);
      g_assert_cmpstr (f->log->str, ==, "t:wait");

      tc.task = target;
      thread = g_thread_new ("canceller", task_cancel_in_thread, &tc);
      g_thread_join (thread);
      g_assert_true (tc.ret);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 0);
      g_assert_false (aio_future_is_done (AIO_FUTURE (target)));

      /* The loop's next round delivers it: no waiting for the hour. */
      bounded = aio_wait_for (g_object_ref (AIO_FUTURE (target)), 20.0);
      g_assert_false (run (f, bounded, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "from a thread");
      g_clear_error (&error);
      g_object_unref (bounded);
      g_assert_cmpstr (f->log->str, ==, "t:wait t:error");
      g_assert_error (t.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
      g_assert_true (g_cancellable_is_cancelled (aio_task_get_cancellable (target)));
      run_sleep (f, 0);
      g_assert_true (t.seen_in == self);
      g_assert_true (t.thread == self);

      /* Done: FALSE from any thread, and nothing changes. */
      thread = g_thread_new ("canceller", task_cancel_in_thread, &tc);
      g_thread_join (thread);
      g_assert_false (tc.ret);
      g_assert_cmpuint (aio_task_cancelling (target), ==, 1);
      g_assert_finalize_object (target);
      body_clear (&t);

      /* Loop running: the thread cancels while the loop waits for it. */
      g_string_truncate (f->log, 0);
      body_init (&t, f, "t");
      if (stepped)
        target = create_stepped (f, hour_sleep_step, &t);
      else
        target = create_task (f, hour_sleep_body, &t);
      run_sleep (f, 0);
      body_init (&c, f, "c");
      c.task = target;
      canceller = create_task (f, thread_task_cancel_body, &c);
      g_assert_true (run (f, canceller, &error));
      g_assert_no_error (error);
      g_assert_true (c.flag);
      g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (c.error->message, ==, "from a thread");
      g_assert_true (aio_future_is_cancelled (AIO_FUTURE (target)));
      g_assert_cmpstr (f->log->str, ==, "t:wait t:error");
      g_assert_true (t.seen_in == self);
      run_sleep (f, 0);
      g_assert_finalize_object (canceller);
      g_assert_finalize_object (target);
      body_clear (&c);
      body_clear (&t);
    }
}

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

static void
await_cancelled_body (AioTask  *task,
                      gpointer  user_data)
{
  Body *b = user_data;
  GError *error = NULL;

  log_event (b->f, "w:await");
  if (!aio_await (g_object_ref (AIO_FUTURE (b->task)), &error))
    {
      log_event (b->f, "w:error");
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
  GError *error = NULL;
  Body t, w, c;

  g_test_summary ("asyncio: awaiting a task that gets cancelled raises "
                  "CancelledError in the awaiter, which is cancelled too if "
                  "it lets it out; the awaiter itself was not cancel()ed");

  body_init (&t, f, "t");
  target = create_task (f, wait_long_body, &t);
  body_init (&w, f, "w");
  w.task = target;
  waiter = create_task (f, await_cancelled_body, &w);
  body_init (&c, f, "c");
  c.task = target;
  c.message = "bye";
  canceller = create_task (f, cancel_body, &c);

  g_assert_false (run (f, waiter, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpstr (f->log->str, ==, "t:wait w:await c:cancel t:error w:error");
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

/* ---- very many tasks ----------------------------------------------------- */

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
  before = live_stacks ();
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
  g_assert_cmpuint (live_stacks (), >=, n);
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
  g_assert_cmpuint (live_stacks (), <=, MAX (before, FIBER_POOL_MAX));
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

  no_core_dumps ();
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
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*started*");
  aio_task_set_stack_size (task, 64 * 1024);
  g_test_assert_expected_messages ();
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

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*started*");
  aio_task_set_stack_size (task, 64 * 1024);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (aio_task_get_stack_size (task), ==, 0);
  g_assert_finalize_object (task);
}

/* ---- lifetime and bad input ---------------------------------------------- */

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

  before = live_stacks ();
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
  g_assert_cmpuint (live_stacks (), <=, MAX (before, 1));
}

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

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_LOOP*");
  g_assert_null (aio_loop_create_task (NULL, log_body, NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (aio_loop_create_task (f->loop, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_LOOP*");
  g_assert_null (aio_loop_create_stepped_task (NULL, log_step, NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (aio_loop_create_stepped_task (f->loop, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (aio_create_task (NULL, NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (aio_create_stepped_task (NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_TASK*");
  g_assert_false (aio_task_cancel (NULL, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_TASK*");
  g_assert_cmpuint (aio_task_cancelling (NULL), ==, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_TASK*");
  g_assert_cmpuint (aio_task_uncancel (NULL), ==, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_TASK*");
  g_assert_null (aio_task_get_cancellable (NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AIO_IS_FUTURE*");
  g_assert_false (aio_await (NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  /* A closed loop runs nothing more; the data given is freed anyway. */
  closed = aio_loop_new ();
  aio_loop_close (closed);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*closed loop*");
  g_assert_null (aio_loop_create_task (closed, log_body, &destroyed, count_destroy));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (destroyed, ==, 1);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*closed loop*");
  g_assert_null (aio_loop_create_stepped_task (closed, log_step, &destroyed, count_destroy));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (destroyed, ==, 2);
  g_assert_finalize_object (closed);

  /* A fiber task returns from its own body only; the value is freed. */
  body_init (&b, f, "t");
  task = create_task (f, log_body, &b);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*own body only*");
  aio_task_return_pointer (task, counted_new (&freed), counted_free);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (freed, ==, 1);
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  g_assert_true (run (f, task, NULL));
  g_assert_null (aio_future_get_pointer (AIO_FUTURE (task), NULL));
  g_assert_cmpuint (b.runs, ==, 1);
  g_assert_cmpuint (b.destroyed, ==, 1);
  g_assert_finalize_object (task);
}

/* ---- yielding from stepped bodies ----------------------------------------- */

typedef struct
{
  Fixture    *f;
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
          log_event (y->f, "%s-cancelled", y->tag);
          return NULL;
        }
      g_assert_true (completed == y->yield);
      g_assert_true (aio_future_is_resolved (completed));
    }

  log_event (y->f, "%s%u", y->tag, y->step);
  if (y->step++ == 2)
    return NULL;
  return aio_yield_future ();
}

static void
test_stepped_yield (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AioFuture) yield = aio_yield_future ();
  YieldBody a = { f, "a", 0, yield }, b = { f, "b", 0, yield };
  AioTask *ta, *tb;

  g_test_summary ("asyncio: a stepped body returning aio_yield_future() yields "
                  "like 'await asyncio.sleep(0)': the other ready tasks run "
                  "before it is stepped again, with the same shared future");

  g_assert_true (aio_future_is_resolved (yield));
  ta = aio_loop_create_stepped_task (f->loop, yield_step, &a, NULL);
  tb = aio_loop_create_stepped_task (f->loop, yield_step, &b, NULL);
  g_assert_true (run (f, tb, NULL));
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (ta)));
  g_assert_cmpstr (f->log->str, ==, "a0 b0 a1 b1 a2 b2");
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
  YieldBody a = { f, "a", 0, yield };
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
  g_assert_cmpstr (f->log->str, ==, "a0");
  g_assert_true (aio_task_cancel (ta, "stop"));
  g_assert_true (run (f, ta, NULL) == FALSE);
  g_assert_cmpstr (f->log->str, ==, "a0 a-cancelled");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (ta)));
  g_assert_cmpstr (aio_future_get_error (AIO_FUTURE (ta))->message, ==, "stop");
  g_assert_finalize_object (ta);
}

static void
yield_cancel_body (AioTask  *task,
                   gpointer  user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;

  log_event (f, "x0");
  g_assert_false (aio_yield (&error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  log_event (f, "x-cancelled");
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

  t = aio_loop_create_task (f->loop, yield_cancel_body, f, NULL);
  g_main_context_iteration (context, FALSE);
  g_assert_cmpstr (f->log->str, ==, "x0");
  g_assert_true (aio_task_cancel (t, NULL));
  g_assert_false (run (f, t, NULL));
  g_assert_cmpstr (f->log->str, ==, "x0 x-cancelled");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (t)));
  g_assert_finalize_object (t);
}

/* ---- the explicit loop ---------------------------------------------------- */

typedef struct
{
  Fixture *f;
  gdouble  delay;
  char     name;
} Sleeper;

static void
sleeper_body (AioTask  *task,
              gpointer  user_data)
{
  Sleeper *s = user_data;

  log_event (s->f, "%c-start", s->name);
  g_assert_true (aio_await (aio_sleep (s->delay), NULL));
  log_event (s->f, "%c-end", s->name);
}

static void
test_run_until_complete_others_pending (Fixture       *f,
                                        gconstpointer  data)
{
  Sleeper a = { f, 0.01, 'a' }, b = { f, 0.05, 'b' };
  AioTask *ta, *tb;
  g_autoptr(GPtrArray) pending = NULL;

  g_test_summary ("asyncio: when run_until_complete() returns because its future is "
                  "done, other tasks stay pending, and resume when the loop runs again");

  ta = aio_loop_create_task (f->loop, sleeper_body, &a, NULL);
  tb = aio_loop_create_task (f->loop, sleeper_body, &b, NULL);
  g_assert_true (run (f, ta, NULL));
  g_assert_cmpstr (f->log->str, ==, "a-start b-start a-end");

  pending = aio_loop_all_tasks (f->loop);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_true (g_ptr_array_index (pending, 0) == tb);
  g_assert_false (aio_future_is_done (AIO_FUTURE (tb)));

  g_assert_true (run (f, tb, NULL));
  g_assert_cmpstr (f->log->str, ==, "a-start b-start a-end b-end");
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
  Sleeper a = { f, 0.01, 'a' };
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


/* ---- a sleep only the task knows of -------------------------------------- */

/* A task that awaits a sleep nobody else holds sleeps on a timer of its
 * own, and the sleep future goes back to its pool (aio-task.c,
 * aio_task_wait_on()).  These check that the body cannot tell. */

#define OWN_SLEEP 0.02

static void
own_sleep_body (AioTask  *task,
                gpointer  user_data)
{
  Body *b = user_data;
  gdouble start = aio_loop_time (b->f->loop);
  AioFuture *sleep = aio_sleep (OWN_SLEEP);

  b->pointer = sleep;                   /* no reference: only the address */
  b->flag = aio_await (sleep, &b->error);
  b->value = (gint64) ((aio_loop_time (b->f->loop) - start) * 1e6);
  if (b->flag)
    log_event (b->f, "%s", b->tag);
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

static void
test_own_sleep_wakes (Fixture       *f,
                      gconstpointer  data)
{
  Body fb, sb;
  AioTask *ft, *st;

  g_test_summary ("asyncio: 'await asyncio.sleep(d)' resumes the task no "
                  "earlier than d, with no value, also when the task sleeps "
                  "on its own timer (fiber and stepped bodies)");

  body_init (&fb, f, "fiber");
  body_init (&sb, f, "stepped");
  ft = create_task (f, own_sleep_body, &fb);
  st = create_stepped (f, own_sleep_step, &sb);

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
  g_autoptr(GError) error = NULL;

  g_test_summary ("asyncio: Task.cancel(msg) while the task sleeps raises "
                  "CancelledError(msg) at its await; a coroutine that "
                  "catches it, uncancels and sleeps again finishes normally "
                  "(tasks sleeping on their own timer)");

  body_init (&fb, f, "fiber");
  body_init (&sb, f, "stepped");
  ft = create_task (f, own_sleep_body, &fb);
  st = create_stepped (f, own_sleep_step, &sb);
  run_sleep (f, 0);

  g_assert_true (aio_task_cancel (ft, "stop fiber"));
  g_assert_true (aio_task_cancel (st, "stop stepped"));
  g_assert_cmpuint (aio_task_cancelling (ft), ==, 1);

  g_assert_false (run (f, ft, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "stop fiber");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (ft)));
  g_assert_error (fb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (fb.error->message, ==, "stop fiber");
  /* Cancelled well before its deadline. */
  g_assert_cmpint (fb.value, <, (gint64) (OWN_SLEEP * 1e6));

  /* The stepped body caught it, uncancelled and slept again. */
  g_assert_true (run (f, st, NULL));
  g_assert_error (sb.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (sb.error->message, ==, "stop stepped");
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

  g_assert_cmpstr (f->log->str, ==, expected->str);
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
  g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (b.error->message, ==, "gone");
  g_assert_cmpstr (f->log->str, ==, "t:wait t:error");
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
  /* Children (g_test_trap_subprocess) inherit this: freed memory is
   * cleared, so that a use after free shows. */
  if (g_getenv ("G_DEBUG") == NULL)
    g_setenv ("G_DEBUG", "gc-friendly", FALSE);

  g_test_init (&argc, &argv, NULL);
  /* One failing check does not hide the results of the other tests. */
  g_test_set_nonfatal_assertions ();

  TEST ("result/types", test_result_types);
  TEST ("loop/others-stay-pending", test_run_until_complete_others_pending);
  TEST ("loop/all-tasks-no-executor-futures", test_all_tasks_no_executor_futures);
  TEST ("stepped/yield", test_stepped_yield);
  TEST ("stepped/yield-cancel", test_stepped_yield_cancel);
  TEST ("await/yield-cancel", test_fiber_yield_cancel);
  TEST ("result/none", test_result_none);
  TEST ("result/error", test_result_error);
  TEST ("result/error-cancelled", test_result_error_cancelled);
  TEST ("result/return-twice", test_result_return_twice);
  TEST ("result/published-at-end", test_result_published_at_end);
  TEST ("result/never-retrieved", test_result_never_retrieved);
  TEST ("schedule/next-iteration", test_schedule_next_iteration);
  TEST ("schedule/creation-order", test_schedule_creation_order);
  TEST ("await/typed", test_await_typed);
  TEST ("await/done-no-yield", test_await_done_no_yield);
  TEST ("await/rejected", test_await_rejected);
  TEST ("await/not-in-task", test_await_not_in_task);
  TEST ("await/self", test_await_self);
  TEST ("await/other-loop", test_await_other_loop);
  TEST ("await/yield", test_await_yield);
  TEST ("stepped/state-machine", test_stepped_state_machine);
  TEST ("stepped/return-null", test_stepped_return_null);
  TEST ("stepped/complete-outside", test_stepped_complete_outside);
  TEST ("stepped/complete-before-start", test_stepped_complete_before_start);
  TEST ("stepped/await-self", test_stepped_await_self);
  TEST ("current", test_current);
  TEST ("name", test_name);
  TEST ("all-tasks", test_all_tasks);
  TEST ("kept-alive", test_kept_alive);
  TEST ("own-sleep/wakes", test_own_sleep_wakes);
  TEST ("own-sleep/recycled", test_own_sleep_recycled);
  TEST ("own-sleep/cancel", test_own_sleep_cancel);
  TEST ("own-sleep/order", test_own_sleep_order);
  TEST ("own-sleep/shared", test_own_sleep_shared);
  TEST ("own-sleep/loop-closed", test_own_sleep_loop_closed);
  TEST ("own-sleep/complete-outside", test_own_sleep_complete_outside);
  TEST ("cancel/before-start", test_cancel_before_start);
  TEST ("cancel/suspended", test_cancel_suspended);
  TEST ("cancel/message", test_cancel_message);
  TEST ("cancel/self", test_cancel_self);
  TEST ("cancel/self-then-return", test_cancel_self_then_return);
  TEST ("cancel/after-wakeup", test_cancel_after_wakeup);
  TEST ("cancel/after-finish", test_cancel_after_finish);
  TEST ("cancel/twice", test_cancel_twice);
  TEST ("cancel/uncancel", test_cancel_uncancel);
  TEST ("cancel/caught-return", test_cancel_caught_return);
  TEST ("cancel/cancellable", test_cancel_cancellable);
  TEST ("cancel/thread", test_cancel_thread);
  TEST ("cancel/from-thread", test_cancel_from_thread);
  TEST ("cancel/cancellable-after-uncancel", test_cancel_cancellable_after_uncancel);
  TEST ("cancel/await-cancelled-task", test_cancel_await_cancelled_task);
  TEST ("many", test_many);
  TEST ("stack-size/task", test_stack_size_task);
  TEST ("stack-size/loop", test_stack_size_loop);
  TEST ("stack-size/after-start", test_stack_size_after_start);
  TEST ("destroyed-pending", test_destroyed_pending);
  TEST ("bad-input", test_bad_input);

  return g_test_run ();
}
