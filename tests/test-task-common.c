/* test-task-common.c: what the AioTask tests share (test-task-common.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "test-task-common.h"

/* Generous, so that the suite also passes under Valgrind; a hung test is
 * reported and aborts instead of blocking `meson test` until its timeout. */
#define WATCHDOG_SECONDS 60

/* The event log of the test running (one at a time). */
static GString *event_log;

void
task_test_init (int    *argc,
                char ***argv)
{
  /* Children (g_test_trap_subprocess) inherit this: freed memory is
   * cleared, so that a use after free shows. */
  if (g_getenv ("G_DEBUG") == NULL)
    g_setenv ("G_DEBUG", "gc-friendly", FALSE);

  g_test_init (argc, argv, NULL);
  /* One failing check does not hide the results of the other tests. */
  g_test_set_nonfatal_assertions ();
  aio_test_set_watchdog (WATCHDOG_SECONDS);
}

void
task_test_setup (Fixture       *f,
                 gconstpointer  data)
{
  aio_test_fixture_setup (f, data);
  log_reset ();
}

void
log_event (const char *format,
           ...)
{
  va_list args;

  if (event_log->len > 0)
    g_string_append_c (event_log, ' ');
  va_start (args, format);
  g_string_append_vprintf (event_log, format, args);
  va_end (args);
}

const char *
log_str (void)
{
  return event_log->str;
}

void
log_reset (void)
{
  if (event_log == NULL)
    event_log = g_string_new (NULL);
  g_string_truncate (event_log, 0);
}

gboolean
run (Fixture    *f,
     gpointer    future,
     GError    **error)
{
  return aio_loop_run_until_complete (f->loop, AIO_FUTURE (future), error);
}

void
run_sleep (Fixture *f,
           gdouble  seconds)
{
  AioFuture *sleep = aio_loop_sleep (f->loop, seconds);
  GError *error = NULL;

  g_assert_true (aio_loop_run_until_complete (f->loop, sleep, &error));
  g_assert_no_error (error);
  g_object_unref (sleep);
}

void
body_init (Body       *b,
           Fixture    *f,
           const char *tag)
{
  memset (b, 0, sizeof *b);
  b->f = f;
  b->tag = tag;
}

void
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

AioTask *
create_either (Fixture     *f,
               gboolean     stepped,
               AioTaskFunc  func,
               AioStepFunc  step,
               Body        *b)
{
  AioTask *task;

  if (stepped)
    task = aio_loop_create_stepped_task (f->loop, step, b, body_destroyed);
  else
    task = aio_loop_create_task (f->loop, func, b, body_destroyed);
  g_assert_true (AIO_IS_TASK (task));
  return task;
}

AioTask *
create_task (Fixture     *f,
             AioTaskFunc  func,
             Body        *b)
{
  return create_either (f, FALSE, func, NULL, b);
}

AioTask *
create_stepped (Fixture     *f,
                AioStepFunc  step,
                Body        *b)
{
  return create_either (f, TRUE, NULL, step, b);
}

AioTask *
create_canceller (Fixture    *f,
                  Body       *c,
                  AioTask    *target,
                  const char *message)
{
  body_init (c, f, "c");
  c->task = target;
  c->message = message;
  return create_task (f, cancel_body, c);
}

void
assert_cancelled (const GError *error,
                  const char   *message)
{
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (message != NULL && error != NULL)
    g_assert_cmpstr (error->message, ==, message);
}

void
run_cancelled (Fixture    *f,
               gpointer    future,
               const char *message)
{
  GError *error = NULL;

  g_assert_false (run (f, future, &error));
  assert_cancelled (error, message);
  g_clear_error (&error);
}

Counted *
counted_new (guint *freed)
{
  Counted *counted = g_new0 (Counted, 1);

  counted->freed = freed;
  return counted;
}

void
counted_free (gpointer data)
{
  Counted *counted = data;

  (*counted->freed)++;
  g_free (counted);
}

void
log_body (AioTask  *task,
          gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event ("%s", b->tag);
}

AioFuture *
log_step (AioTask   *task,
          AioFuture *completed,
          gpointer   user_data)
{
  log_body (task, user_data);
  return NULL;
}

void
wait_long_body (AioTask  *task,
                gpointer  user_data)
{
  Body *b = user_data;
  AioFuture *sleep = aio_sleep (LONG_SLEEP);

  b->runs++;
  b->sleep = g_object_ref (sleep);
  log_event ("%s:wait", b->tag);
  if (aio_await (sleep, &b->error))
    log_event ("%s:woke", b->tag);
  else
    log_event ("%s:error", b->tag);
  b->seen_in = g_thread_self ();
}

void
wait_future_body (AioTask  *task,
                  gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event ("%s:wait", b->tag);
  b->value = aio_await_int64 (g_object_ref (b->future), &b->error);
  log_event ("%s:%s", b->tag, b->error == NULL ? "woke" : "error");
}

AioFuture *
wait_future_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   user_data)
{
  Body *b = user_data;

  b->runs++;
  switch (b->state++)
    {
    case 0:
      log_event ("%s:wait", b->tag);
      return g_object_ref (b->future);

    case 1:
      b->expected = completed;   /* borrowed: only compared, not kept */
      b->flag = aio_future_is_cancelled (completed);
      log_event ("%s:%s", b->tag, b->flag ? "cancelled" : "woke");
      if (b->flag)
        aio_future_propagate (completed, &b->error);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

void
cancel_body (AioTask  *task,
             gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  log_event ("%s:cancel", b->tag);
  g_assert_true (aio_task_cancel (b->task, b->message));
}

void
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

void
return_error_body (AioTask  *task,
                   gpointer  user_data)
{
  Body *b = user_data;

  b->runs++;
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, b->kind, b->message));
  log_event ("returned");
  g_assert_false (aio_future_is_done (AIO_FUTURE (task)));
  log_event ("end");
}
