/* test-bind.c: tasks and task groups bound to an object's lifetime
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"

static void
sleep_short (AioTask  *task,
             gpointer  user_data)
{
  g_assert_true (aio_await (aio_sleep (0.001), NULL));
}

static void
test_task_object_gone (Fixture       *f,
                       gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  AioTask *task;
  const GError *error;

  g_test_summary ("A task bound to an object is cancelled when the object goes "
                  "away, as asyncio cancels a task (CancelledError) with a "
                  "message that says why");

  task = aio_loop_create_task (f->loop, aio_test_sleep_long, NULL, NULL);
  aio_task_bind_to_object (task, object);
  /* The object goes away while the task sleeps. */
  aio_handle_unref (aio_loop_call_later (f->loop, 0.001, g_object_unref, object, NULL));

  g_assert_false (aio_loop_run_until_complete (f->loop, AIO_FUTURE (task), NULL));
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
  error = aio_future_get_error (AIO_FUTURE (task));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "The GObject the task was bound to went away");
  g_assert_finalize_object (task);
}

static void
test_task_finishes_first (Fixture       *f,
                          gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  AioTask *task;

  g_test_summary ("A task that finishes before the object it is bound to lets "
                  "go of it: the object outlives it unharmed, and going away "
                  "later touches nothing of the task (ASan and Valgrind would "
                  "see a weak reference left behind)");

  task = aio_loop_create_task (f->loop, sleep_short, NULL, NULL);
  aio_task_bind_to_object (task, object);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (task), NULL));
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  /* The task and its binding are gone before the object. */
  g_assert_finalize_object (task);
  g_assert_finalize_object (object);
}

static void
test_task_done_before_bind (Fixture       *f,
                            gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  AioTask *task;

  g_test_summary ("Binding a task that is done already holds nothing once "
                  "its done callbacks have run");

  task = aio_loop_create_task (f->loop, sleep_short, NULL, NULL);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (task), NULL));
  aio_task_bind_to_object (task, object);
  while (g_main_context_pending (aio_loop_get_context (f->loop)))
    g_main_context_iteration (aio_loop_get_context (f->loop), FALSE);
  g_assert_finalize_object (object);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (task)));
  g_assert_finalize_object (task);
}

static void
test_task_two_objects (Fixture       *f,
                       gconstpointer  data)
{
  GObject *first = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *second = g_object_new (G_TYPE_OBJECT, NULL);
  AioTask *task;

  g_test_summary ("A task bound to two objects is cancelled by the first to "
                  "go, and lets go of the other");

  task = aio_loop_create_task (f->loop, aio_test_sleep_long, NULL, NULL);
  aio_task_bind_to_object (task, first);
  aio_task_bind_to_object (task, second);
  aio_handle_unref (aio_loop_call_later (f->loop, 0.001, g_object_unref, second, NULL));
  g_assert_false (aio_loop_run_until_complete (f->loop, AIO_FUTURE (task), NULL));
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (task)));
  g_assert_finalize_object (task);
  g_assert_finalize_object (first);
}

static void
test_task_bad_input (Fixture       *f,
                     gconstpointer  data)
{
  AioTask *task;

  g_test_summary ("Binding to something that is not a GObject is a critical "
                  "that binds nothing");

  task = aio_loop_create_task (f->loop, sleep_short, NULL, NULL);
  EXPECT_CRITICAL ("*G_IS_OBJECT*", aio_task_bind_to_object (task, NULL));
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (task), NULL));
  g_assert_finalize_object (task);
}

static void
test_group_object_gone (Fixture       *f,
                        gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(AioTaskGroup) group = NULL;
  g_autoptr(AioFuture) wait = NULL;
  g_autoptr(GError) error = NULL;
  AioTask *a, *b;
  GMainContext *context = aio_loop_get_context (f->loop);

  g_test_summary ("A task group bound to an object cancels all its tasks when "
                  "the object goes away, and those created later at once; its "
                  "wait ends cancelled, as cancelling it does (asyncio's "
                  "TaskGroup when its parent task is cancelled)");

  g_main_context_push_thread_default (context);
  group = aio_task_group_new ();
  g_main_context_pop_thread_default (context);
  aio_task_group_bind_to_object (group, object);
  a = g_object_ref (aio_task_group_create_task (group, aio_test_sleep_long, NULL, NULL));
  b = g_object_ref (aio_task_group_create_task (group, aio_test_sleep_long, NULL, NULL));
  wait = aio_task_group_wait (group);
  aio_handle_unref (aio_loop_call_later (f->loop, 0.001, g_object_unref, object, NULL));

  g_assert_false (aio_loop_run_until_complete (f->loop, wait, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "The GObject the task group was bound to went away");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (a)));
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (b)));
  g_assert_true (aio_task_group_is_aborting (group));

  /* The wait is over: the group takes no more tasks. */
  EXPECT_CRITICAL ("*finished*",
                   g_assert_null (aio_task_group_create_task (group, aio_test_sleep_long, NULL, NULL)));

  g_assert_finalize_object (a);
  g_assert_finalize_object (b);
}

static void
test_group_finishes_first (Fixture       *f,
                           gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  AioTaskGroup *group;
  g_autoptr(AioFuture) wait = NULL;
  GMainContext *context = aio_loop_get_context (f->loop);

  g_test_summary ("A task group that finishes before the object it is bound "
                  "to lets go of it at once, while the group itself lives on");

  g_main_context_push_thread_default (context);
  group = aio_task_group_new ();
  g_main_context_pop_thread_default (context);
  aio_task_group_bind_to_object (group, object);
  aio_task_group_create_task (group, sleep_short, NULL, NULL);
  wait = aio_task_group_wait (group);
  g_assert_true (aio_loop_run_until_complete (f->loop, wait, NULL));
  g_assert_false (aio_task_group_is_aborting (group));

  /* The object goes first now, and nothing of the group is touched. */
  g_assert_finalize_object (object);
  g_assert_false (aio_task_group_is_aborting (group));
  g_clear_object (&wait);
  g_assert_finalize_object (group);
}

static void
test_group_finalized_first (Fixture       *f,
                            gconstpointer  data)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  AioTaskGroup *group;
  GMainContext *context = aio_loop_get_context (f->loop);

  g_test_summary ("A task group dropped before its wait lets go of the object "
                  "it is bound to");

  g_main_context_push_thread_default (context);
  group = aio_task_group_new ();
  g_main_context_pop_thread_default (context);
  aio_task_group_bind_to_object (group, object);
  g_assert_finalize_object (group);
  g_assert_finalize_object (object);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_UNPUSHED ("/aio/bind/task/object-gone", test_task_object_gone);
  TEST_UNPUSHED ("/aio/bind/task/finishes-first", test_task_finishes_first);
  TEST_UNPUSHED ("/aio/bind/task/done-before-bind", test_task_done_before_bind);
  TEST_UNPUSHED ("/aio/bind/task/two-objects", test_task_two_objects);
  TEST_UNPUSHED ("/aio/bind/task/bad-input", test_task_bad_input);
  TEST_UNPUSHED ("/aio/bind/group/object-gone", test_group_object_gone);
  TEST_UNPUSHED ("/aio/bind/group/finishes-first", test_group_finishes_first);
  TEST_UNPUSHED ("/aio/bind/group/finalized-first", test_group_finalized_first);

  return g_test_run ();
}
