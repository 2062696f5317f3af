/* test-task-group.c: AioTaskGroup, in asyncio.TaskGroup's terms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-loop-private.h"

#include "aio-test.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

/* A child that sleeps, then succeeds or fails, and logs what happened
 * ("a" done, "a!" cancelled, "a-" failed). */
typedef struct
{
  GString *log;
  char     name;
  gdouble  delay;
  gint     fail_code;      /* 0: succeed */
  guint   *destroyed;
} Child;

static Child *
child_new (GString *log,
           char     name,
           gdouble  delay,
           gint     fail_code)
{
  Child *child = g_new0 (Child, 1);

  child->log = log;
  child->name = name;
  child->delay = delay;
  child->fail_code = fail_code;
  return child;
}

static void
child_free (gpointer data)
{
  Child *child = data;

  if (child->destroyed != NULL)
    (*child->destroyed)++;
  g_free (child);
}

static void
child_body (AioTask  *task,
            gpointer  user_data)
{
  Child *child = user_data;
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (child->delay), &error))
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_string_append_printf (child->log, "%c! ", child->name);
      return;
    }

  if (child->fail_code != 0)
    {
      g_string_append_printf (child->log, "%c- ", child->name);
      aio_task_return_error (task, g_error_new (TEST_ERROR, child->fail_code,
                                                "%c failed", child->name));
      return;
    }

  g_string_append_printf (child->log, "%c ", child->name);
  aio_task_return_int64 (task, child->name);
}

/* ==== tests =============================================================== */

static void
test_all_succeed (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  AioTask *a;
  AioFuture *wait;

  g_test_summary ("asyncio.TaskGroup: leaving the block waits for every task; tasks may "
                  "be added while it waits; the tasks' results stay readable");

  a = aio_task_group_create_task (group, child_body, child_new (log, 'a', 0.02, 0), child_free);
  g_object_ref (a);
  aio_task_group_create_task (group, child_body, child_new (log, 'b', 0.01, 0), child_free);
  g_assert_cmpuint (aio_task_group_get_n_pending (group), ==, 2);

  wait = aio_task_group_wait (group);
  aio_task_group_create_task (group, child_body, child_new (log, 'c', 0.0, 0), child_free);
  g_assert_true (aio_await (wait, &error));
  /* All three ran to the end, whatever order their timers fired in (c's
   * delay is 0 and a's 20 ms, but a slow machine may start b more than
   * 10 ms after a). */
  g_assert_cmpuint (log->len, ==, 6);
  g_assert_nonnull (strstr (log->str, "a "));
  g_assert_nonnull (strstr (log->str, "b "));
  g_assert_nonnull (strstr (log->str, "c "));
  g_assert_cmpuint (aio_task_group_get_n_pending (group), ==, 0);
  g_assert_false (aio_task_group_is_aborting (group));
  g_assert_cmpint (aio_future_get_int64 ((AioFuture *) a, &error), ==, 'a');
  g_object_unref (a);

  g_assert_finalize_object (group);
}

static void
test_empty (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();

  g_test_summary ("asyncio.TaskGroup: an empty block exits at once");

  g_assert_true (aio_await (aio_task_group_wait (group), &error));
  g_assert_finalize_object (group);
}

static void
test_failure (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  guint destroyed = 0;
  Child *late;

  g_test_summary ("asyncio.TaskGroup: the first task that fails cancels the others; the "
                  "block then raises its error (an ExceptionGroup in asyncio); a task "
                  "added while the group aborts is cancelled before it runs");

  aio_task_group_create_task (group, child_body, child_new (log, 'a', 10.0, 0), child_free);
  aio_task_group_create_task (group, child_body, child_new (log, 'b', 0.0, 7), child_free);
  aio_task_group_create_task (group, child_body, child_new (log, 'c', 10.0, 0), child_free);
  /* b fails once its zero-delay sleep fired, on the next timer dispatch. */
  for (guint i = 0; i < 100 && !aio_task_group_is_aborting (group); i++)
    yield_n (1);
  g_assert_true (aio_task_group_is_aborting (group));

  late = child_new (log, 'd', 0.0, 0);
  late->destroyed = &destroyed;
  aio_task_group_create_task (group, child_body, late, child_free);

  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_cmpstr (error->message, ==, "b failed");
  g_assert_cmpstr (log->str, ==, "b- a! c! ");
  g_assert_cmpuint (destroyed, ==, 1);

  g_assert_finalize_object (group);
}

static void
test_many_failures (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();

  g_test_summary ("asyncio.TaskGroup: an ExceptionGroup with every error; here one error "
                  "with the first one's domain and code, and the message "
                  "'first (and N more: second; third)'");

  /* All three fail in the same iteration, before the cancellation of
   * the others can reach them. */
  aio_task_group_create_task (group, child_body, child_new (log, 'a', 0.0, 1), child_free);
  aio_task_group_create_task (group, child_body, child_new (log, 'b', 0.0, 2), child_free);
  aio_task_group_create_task (group, child_body, child_new (log, 'c', 0.0, 3), child_free);
  aio_task_group_create_task (group, child_body, child_new (log, 'd', 1.0, 0), child_free);

  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  g_assert_error (error, TEST_ERROR, 1);
  g_assert_cmpstr (error->message, ==, "a failed (and 2 more: b failed; c failed)");
  g_assert_cmpstr (log->str, ==, "a- b- c- d! ");

  g_assert_finalize_object (group);
}

static void
group_parent (AioTask  *task,
              gpointer  user_data)
{
  Child *child = user_data;
  g_autoptr(AioTaskGroup) group = aio_task_group_new ();
  g_autoptr(GError) error = NULL;

  aio_task_group_create_task (group, child_body, child_new (child->log, 'x', 10.0, 0), child_free);
  /* y fails soon when told to, else sleeps until cancelled. */
  aio_task_group_create_task (group, child_body,
                              child_new (child->log, 'y', child->fail_code ? 0.01 : 10.0,
                                         child->fail_code),
                              child_free);
  if (!aio_await (aio_task_group_wait (group), &error))
    {
      g_string_append_printf (child->log, "%c:%s ", child->name,
                              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                              ? "cancelled" : error->message);
      aio_task_return_error (task, g_steal_pointer (&error));
    }
}

static void
test_cancel_wait (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Child parent = { log, 'p', 0, 0, NULL };
  AioTask *task;

  g_test_summary ("asyncio.TaskGroup: cancelling the task that waits in the block "
                  "cancels the group's tasks; the block then raises CancelledError once "
                  "they are done");

  task = aio_create_task (group_parent, &parent, NULL);
  yield_n (3);
  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_await ((AioFuture *) task, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (log->str, ==, "x! y! p:cancelled ");
}

static void
failing_cleanup (AioTask  *task,
                 gpointer  user_data)
{
  GString *log = user_data;

  if (!aio_await (aio_sleep (10.0), NULL))
    {
      /* Its cleanup fails: that error wins over the cancellation. */
      g_string_append (log, "f- ");
      aio_task_return_error (task, g_error_new_literal (TEST_ERROR, 9, "cleanup failed"));
    }
}

static void
test_cancel_error_wins (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  AioFuture *wait;

  g_test_summary ("asyncio.TaskGroup: when the block is cancelled and a task fails while "
                  "stopping, the error wins over CancelledError");

  aio_task_group_create_task (group, failing_cleanup, log, NULL);
  wait = aio_task_group_wait (group);
  yield_n (2);
  g_assert_true (aio_future_cancel (wait, "stop"));
  g_assert_false (aio_future_is_done (wait));   /* it waits for its tasks */
  g_assert_false (aio_future_cancel (wait, NULL));   /* requested already */
  g_assert_false (aio_await (wait, &error));
  g_assert_error (error, TEST_ERROR, 9);
  g_assert_cmpstr (log->str, ==, "f- ");
  g_assert_finalize_object (group);

  /* Without a failure, the wait ends cancelled, with the message. */
  g_clear_error (&error);
  group = aio_task_group_new ();
  aio_task_group_create_task (group, child_body, child_new (log, 'a', 10.0, 0), child_free);
  wait = aio_task_group_wait (group);
  g_assert_true (aio_future_cancel (wait, "stop"));
  g_assert_false (aio_await (wait, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "stop");
  g_assert_finalize_object (group);
}

static void
test_nested (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *outer = aio_task_group_new ();
  Child inner_parent = { log, 'p', 0, 0, NULL };

  g_test_summary ("asyncio.TaskGroup nested in a task of another group: a failure in the "
                  "outer group cancels the inner group's tasks through the task that "
                  "waits for it; a failure in the inner group propagates to the outer");

  aio_task_group_create_task (outer, group_parent, &inner_parent, NULL);
  aio_task_group_create_task (outer, child_body, child_new (log, 'o', 0.01, 5), child_free);
  g_assert_false (aio_await (aio_task_group_wait (outer), &error));
  g_assert_error (error, TEST_ERROR, 5);
  g_assert_cmpstr (log->str, ==, "o- x! y! p:cancelled ");
  g_assert_finalize_object (outer);

  /* The inner group fails: the outer one reports it. */
  g_clear_error (&error);
  g_string_truncate (log, 0);
  outer = aio_task_group_new ();
  inner_parent.fail_code = 4;
  aio_task_group_create_task (outer, group_parent, &inner_parent, NULL);
  aio_task_group_create_task (outer, child_body, child_new (log, 'o', 10.0, 0), child_free);
  g_assert_false (aio_await (aio_task_group_wait (outer), &error));
  g_assert_error (error, TEST_ERROR, 4);
  g_assert_cmpstr (error->message, ==, "y failed");
  g_assert_cmpstr (log->str, ==, "y- x! p:y failed o! ");
  g_assert_finalize_object (outer);
}

typedef struct
{
  GString *log;
  guint    steps;
  gboolean fail;
} Stepper;

static AioFuture *
stepper_step (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  Stepper *stepper = user_data;

  if (completed != NULL && aio_future_is_cancelled (completed))
    {
      g_string_append (stepper->log, "s! ");
      return NULL;
    }
  if (stepper->steps-- > 0)
    return aio_sleep (0.001);
  if (stepper->fail)
    aio_task_return_error (task, g_error_new_literal (TEST_ERROR, 3, "stepper failed"));
  g_string_append (stepper->log, stepper->fail ? "s- " : "s ");
  return NULL;
}

static void
test_stepped (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  Stepper ok = { log, 3, FALSE };
  Stepper bad = { log, 2, TRUE };
  Stepper slow = { log, 1000, FALSE };

  g_test_summary ("asyncio.TaskGroup with stepped tasks (as bindings drive coroutines): "
                  "they count as the group's tasks, fail it and are cancelled by it");

  aio_task_group_create_stepped_task (group, stepper_step, &ok, NULL);
  g_assert_true (aio_await (aio_task_group_wait (group), &error));
  g_assert_cmpstr (log->str, ==, "s ");
  g_assert_finalize_object (group);

  g_string_truncate (log, 0);
  group = aio_task_group_new ();
  aio_task_group_create_stepped_task (group, stepper_step, &slow, NULL);
  aio_task_group_create_stepped_task (group, stepper_step, &bad, NULL);
  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  g_assert_error (error, TEST_ERROR, 3);
  g_assert_cmpstr (log->str, ==, "s- s! ");
  g_assert_finalize_object (group);
}

static void
test_finished (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  guint destroyed = 0;
  Child *child = child_new (NULL, 'z', 0, 0);
  Stepper stepper = { NULL, 0, FALSE };

  g_test_summary ("asyncio.TaskGroup: a group whose block has exited takes no new task "
                  "(RuntimeError in asyncio, here a critical that frees the task's data); "
                  "waiting twice is a critical too");

  g_assert_true (aio_await (aio_task_group_wait (group), &error));

  child->destroyed = &destroyed;
  EXPECT_CRITICAL ("*is finished*",
                   g_assert_null (aio_task_group_create_task (group, child_body, child, child_free)));
  g_assert_cmpuint (destroyed, ==, 1);

  EXPECT_CRITICAL ("*is finished*",
                   g_assert_null (aio_task_group_create_stepped_task (group, stepper_step, &stepper, NULL)));

  EXPECT_CRITICAL ("*waited for already*", g_assert_null (aio_task_group_wait (group)));

  g_assert_finalize_object (group);
}

static void
test_group_outlives_ref (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();
  AioFuture *wait;

  g_test_summary ("A group dropped by its creator lives on until its tasks are done, and "
                  "its wait still reports them");

  aio_task_group_create_task (group, child_body, child_new (log, 'a', 0.01, 0), child_free);
  wait = aio_task_group_wait (group);
  g_object_unref (group);
  g_assert_true (aio_await (wait, &error));
  g_assert_cmpstr (log->str, ==, "a ");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/task-group/all-succeed", test_all_succeed);
  TEST ("/aio/task-group/empty", test_empty);
  TEST ("/aio/task-group/failure", test_failure);
  TEST ("/aio/task-group/many-failures", test_many_failures);
  TEST ("/aio/task-group/cancel/wait", test_cancel_wait);
  TEST ("/aio/task-group/cancel/error-wins", test_cancel_error_wins);
  TEST ("/aio/task-group/nested", test_nested);
  TEST ("/aio/task-group/stepped", test_stepped);
  TEST ("/aio/task-group/finished", test_finished);
  TEST ("/aio/task-group/outlives-ref", test_group_outlives_ref);

  return g_test_run ();
}
