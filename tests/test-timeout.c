/* test-timeout.c: AioTimeout scopes, in asyncio.timeout()'s terms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <signal.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-loop-private.h"

#include "aio-test.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

static gdouble
now (void)
{
  return aio_loop_time (aio_loop_get_running ());
}

static AioTask *
current (void)
{
  return aio_task_get_current ();
}

/* ==== tests =============================================================== */

static void
test_expires (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;
  gdouble start = now ();

  g_test_summary ("asyncio.timeout(delay): at the deadline the task is cancelled, so the "
                  "pending await raises CancelledError; leaving the block turns it into "
                  "TimeoutError and uncancels the task, which goes on normally");

  scope = aio_timeout_enter (0.02);
  g_assert_cmpfloat (aio_timeout_when (scope), >=, start + 0.02);
  g_assert_cmpfloat (aio_timeout_when (scope), <, start + 1.0);
  g_assert_false (aio_timeout_expired (scope));

  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (aio_timeout_expired (scope));
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 1);
  g_assert_cmpfloat (now () - start, >=, 0.02);
  g_assert_cmpfloat (now () - start, <, 4.0);

  g_object_ref (scope);
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (aio_timeout_expired (scope));
  g_assert_finalize_object (scope);

  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);
  g_clear_error (&error);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
  g_assert_true (aio_yield (&error));

  /* The bindings' form says whether the body was cancelled. */
  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), NULL));
  g_assert_false (aio_timeout_exit_with (scope, TRUE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  scope = aio_timeout_enter (5.0);
  g_assert_true (aio_await (aio_sleep (0.001), NULL));
  g_assert_true (aio_timeout_exit_with (scope, FALSE, &error));
  g_assert_no_error (error);
}

static void
test_not_expired (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;

  g_test_summary ("asyncio.timeout(): a block that finishes before the deadline leaves "
                  "without error, and the timer is gone: it never cancels the task later");

  scope = aio_timeout_enter (0.05);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
  g_assert_true (aio_timeout_exit (scope, &error));
  g_assert_no_error (error);

  scope = aio_timeout_enter (0.05);
  g_assert_true (aio_timeout_exit (scope, NULL));

  /* Past both deadlines, nothing cancels us. */
  g_assert_true (aio_await (aio_sleep (0.1), &error));
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  /* No deadline at all. */
  scope = aio_timeout_enter (INFINITY);
  g_assert_cmpfloat (aio_timeout_when (scope), ==, G_MAXDOUBLE);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
  g_assert_true (aio_timeout_exit (scope, &error));
  scope = aio_timeout_enter_at (G_MAXDOUBLE);
  g_assert_true (aio_timeout_exit (scope, &error));
}

static void
test_nested_inner (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *outer, *inner;

  g_test_summary ("Nested asyncio.timeout() blocks, the inner deadline first: the inner "
                  "block raises TimeoutError; the outer one lets it through unchanged");

  outer = aio_timeout_enter (10.0);
  inner = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_false (aio_timeout_exit (inner, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_false (aio_timeout_expired (outer));
  g_assert_false (aio_timeout_exit (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  /* Handled inside: the outer block sees a success. */
  g_clear_error (&error);
  outer = aio_timeout_enter (10.0);
  inner = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_false (aio_timeout_exit (inner, &error));
  g_clear_error (&error);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
  g_assert_true (aio_timeout_exit (outer, &error));
  g_assert_no_error (error);
}

static void
test_nested_outer (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *outer, *inner;
  gdouble when;

  g_test_summary ("Nested asyncio.timeout() blocks: when the outer deadline fires, the "
                  "inner block leaves the CancelledError alone and the outer one turns it "
                  "into TimeoutError; when both fire, only the outer one reports it");

  outer = aio_timeout_enter (0.01);
  inner = aio_timeout_enter (10.0);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_false (aio_timeout_exit (inner, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_timeout_exit (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  /* Both fire, at the same deadline: two cancellation requests. */
  g_clear_error (&error);
  when = now () + 0.01;
  outer = aio_timeout_enter_at (when);
  inner = aio_timeout_enter_at (when);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_true (aio_timeout_expired (inner));
  g_assert_true (aio_timeout_expired (outer));
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 2);
  g_assert_false (aio_timeout_exit (inner, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 1);
  g_assert_false (aio_timeout_exit (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);
}

static void
test_reschedule (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;
  gdouble start = now ();

  g_test_summary ("asyncio.Timeout.reschedule(): a deadline moved earlier fires then, "
                  "one moved later or removed does not fire at the old time; "
                  "rescheduling an expired scope raises RuntimeError, here a critical");

  scope = aio_timeout_enter (10.0);
  aio_timeout_reschedule (scope, now () + 0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_cmpfloat (now () - start, <, 4.0);
  g_assert_true (aio_timeout_expired (scope));

  EXPECT_CRITICAL ("*has expired*", aio_timeout_reschedule (scope, now () + 10.0));

  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  scope = aio_timeout_enter (0.01);
  aio_timeout_reschedule (scope, now () + 10.0);
  g_assert_cmpfloat (aio_timeout_when (scope), >, now () + 5.0);
  g_assert_true (aio_await (aio_sleep (0.05), &error));
  aio_timeout_reschedule (scope, G_MAXDOUBLE);
  g_assert_cmpfloat (aio_timeout_when (scope), ==, G_MAXDOUBLE);
  g_assert_true (aio_await (aio_sleep (0.01), &error));
  g_assert_false (aio_timeout_expired (scope));
  g_assert_true (aio_timeout_exit (scope, &error));
  g_assert_no_error (error);
}

static void
test_past_deadline (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;

  g_test_summary ("asyncio.timeout(0) and timeout_at() in the past: the next await is "
                  "cancelled and the block raises TimeoutError; a block that swallowed "
                  "the CancelledError exits without error, and the task is not left "
                  "cancelled");

  scope = aio_timeout_enter_at (now () - 1.0);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  scope = aio_timeout_enter (0);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* The body swallows the cancellation and leaves in success: as in
   * asyncio, there is nothing to report, and the task is uncancelled.
   * (Said with exit_with(): aio_timeout_exit() takes a cleared error for
   * a timeout, see test_cleared_error().) */
  scope = aio_timeout_enter (0);
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_clear_error (&error);
  g_assert_true (aio_timeout_exit_with (scope, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
}

static void
test_other_error (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;

  g_test_summary ("asyncio.timeout(): an error other than cancellation leaves the block "
                  "as it is, expired or not");

  scope = aio_timeout_enter (10.0);
  g_assert_false (aio_await (aio_future_new_for_error (g_error_new_literal (TEST_ERROR, 1, "boom")),
                             &error));
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, TEST_ERROR, 1);
  g_clear_error (&error);

  scope = aio_timeout_enter (0);
  g_assert_false (aio_await (aio_sleep (1.0), &error));
  g_clear_error (&error);
  g_set_error_literal (&error, TEST_ERROR, 2, "cleanup failed");
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, TEST_ERROR, 2);
}

static void
test_cleared_error (Fixture *f)
{
  g_autoptr(GError) body_error = NULL;
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;

  g_test_summary ("asyncio.timeout(): a block cancelled by its deadline raises "
                  "TimeoutError; in C, even when the body's error was cleared (or "
                  "never passed) before aio_timeout_exit(), as GLib's convention "
                  "has it: a timeout never counts as a success");

  /* The body's error handled and freed, then a fresh location. */
  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &body_error));
  g_assert_error (body_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&body_error);
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  /* No location at all. */
  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), NULL));
  g_assert_false (aio_timeout_exit (scope, NULL));
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);

  /* GLib's convention, explicit: the body says it was cancelled. */
  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &body_error));
  g_clear_error (&body_error);
  g_assert_false (aio_timeout_exit_with (scope, TRUE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* asyncio: a body that caught the cancellation and ended normally is a
   * success, which only the explicit form can say. */
  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_sleep (5.0), &body_error));
  g_clear_error (&body_error);
  g_assert_true (aio_timeout_exit_with (scope, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);
  g_assert_true (aio_await (aio_sleep (0.001), &error));
}

typedef struct
{
  AioEvent *event;
  GString  *log;
} Cancelled;

static void
cancelled_child (AioTask  *task,
                 gpointer  user_data)
{
  Cancelled *data = user_data;
  g_autoptr(GError) error = NULL;
  AioTimeout *scope = aio_timeout_enter (0.02);

  /* Cancelled from outside first ... */
  g_assert_false (aio_await (aio_event_wait (data->event), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_string_append (data->log, "outside ");
  g_clear_error (&error);

  /* ... then by the deadline. */
  g_assert_false (aio_await (aio_sleep (5.0), &error));
  g_assert_true (aio_timeout_expired (scope));
  g_assert_cmpuint (aio_task_cancelling (task), ==, 2);

  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 1);
  g_string_append (data->log, "still-cancelled ");
  aio_task_return_error (task, g_steal_pointer (&error));
}

static void
test_external_cancel (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Cancelled data = { aio_event_new (), log };
  AioTask *child;

  g_test_summary ("asyncio.timeout(): a task also cancelled from outside stays cancelled: "
                  "after uncancel() it is still cancelling(), so the block raises "
                  "CancelledError, not TimeoutError");

  child = aio_create_task (cancelled_child, &data, NULL);
  for (guint i = 0; i < 2; i++)
    g_assert_true (aio_yield (NULL));
  g_assert_true (aio_task_cancel (child, "from outside"));
  g_assert_false (aio_await ((AioFuture *) child, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (log->str, ==, "outside still-cancelled ");
  g_assert_finalize_object (data.event);
}

static void
sleeper (AioTask  *task,
         gpointer  user_data)
{
  GString *log = user_data;
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (10.0), &error))
    g_string_append (log, "!");
}

static void
test_task_group (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  AioTimeout *scope;

  g_test_summary ("asyncio.timeout() around a TaskGroup block: at the deadline the "
                  "group's tasks are cancelled and the block raises TimeoutError");

  scope = aio_timeout_enter (0.01);
  aio_task_group_create_task (group, sleeper, log, NULL);
  aio_task_group_create_task (group, sleeper, log, NULL);
  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (log->str, ==, "!!");
  g_assert_cmpuint (aio_task_cancelling (current ()), ==, 0);
  g_assert_finalize_object (group);
}

static AioFuture *
stepped_body (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  AioTimeout **scope = user_data;
  g_autoptr(GError) error = NULL;

  if (completed == NULL)
    {
      *scope = aio_timeout_enter (0.01);
      return aio_sleep (5.0);
    }

  g_assert_false (aio_future_propagate (completed, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_timeout_exit (*scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  aio_task_return_int64 (task, 42);
  return NULL;
}

static void
test_stepped (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope = NULL;
  AioTask *task;

  g_test_summary ("asyncio.timeout() in a coroutine driven as a stepped task (as "
                  "bindings do): the same scope semantics, the task resolving normally "
                  "after handling the timeout");

  task = aio_create_stepped_task (stepped_body, &scope, NULL);
  g_assert_cmpint (aio_await_int64 ((AioFuture *) task, &error), ==, 42);
  g_assert_no_error (error);
}

static void
other_task (AioTask  *task,
            gpointer  user_data)
{
  AioTimeout *scope = user_data;

  EXPECT_CRITICAL ("*belongs to task*", g_assert_false (aio_timeout_exit (scope, NULL)));
}

static void
test_misuse_in_task (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope = aio_timeout_enter (10.0);

  g_test_summary ("asyncio.Timeout: leaving a scope from another task is a programmer "
                  "error, here a critical that changes nothing");

  g_assert_true (aio_await ((AioFuture *) aio_create_task (other_task, scope, NULL), &error));
  g_assert_true (aio_timeout_exit (scope, &error));
}

static void
test_outside_task (void)
{
  g_test_summary ("asyncio.timeout() outside a task raises RuntimeError: here a critical");

  EXPECT_CRITICAL ("*for the bodies of tasks*", g_assert_null (aio_timeout_enter (1.0)));
  EXPECT_CRITICAL ("*for the bodies of tasks*", g_assert_null (aio_timeout_enter_at (1.0)));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/timeout/expires", test_expires);
  TEST ("/aio/timeout/not-expired", test_not_expired);
  TEST ("/aio/timeout/nested/inner", test_nested_inner);
  TEST ("/aio/timeout/nested/outer", test_nested_outer);
  TEST ("/aio/timeout/reschedule", test_reschedule);
  TEST ("/aio/timeout/past-deadline", test_past_deadline);
  TEST ("/aio/timeout/other-error", test_other_error);
  TEST ("/aio/timeout/cleared-error", test_cleared_error);
  TEST ("/aio/timeout/external-cancel", test_external_cancel);
  TEST ("/aio/timeout/task-group", test_task_group);
  TEST ("/aio/timeout/stepped", test_stepped);
  TEST ("/aio/timeout/misuse", test_misuse_in_task);
  TEST_BARE ("/aio/timeout/outside-task", test_outside_task);

  return g_test_run ();
}
