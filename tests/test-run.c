/* test-run.c: aio_run() and the main loops it refuses to run inside
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"

static void
main_returns_42 (AioTask  *task,
                 gpointer  user_data)
{
  g_assert_true (aio_await (aio_sleep (0), NULL));
  aio_task_return_int64 (task, 42);
}

/* What a callback of a running main loop saw when it called aio_run(). */
typedef struct
{
  GMainLoop *main_loop;
  gboolean   ran;
  GError    *error;
  guint      destroyed;
} Refused;

static void
count_destroy (gpointer user_data)
{
  Refused *refused = user_data;

  refused->destroyed++;
}

static void
never_runs (AioTask  *task,
            gpointer  user_data)
{
  g_error ("the main task of a refused aio_run() ran");
}

static void
try_run (Refused *refused)
{
  AioTask *main_task;

  main_task = aio_run_full (never_runs, refused, count_destroy, &refused->error);
  g_assert_null (main_task);
  refused->ran = TRUE;
}

static gboolean
try_run_in_dispatch (gpointer user_data)
{
  Refused *refused = user_data;

  try_run (refused);
  g_main_loop_quit (refused->main_loop);
  return G_SOURCE_REMOVE;
}

static void
check_refused (Refused *refused)
{
  g_assert_true (refused->ran);
  g_assert_error (refused->error, AIO_ERROR, AIO_ERROR_RUNNING);
  /* The message says what to do instead. */
  g_assert_nonnull (strstr (refused->error->message, "main loop is running"));
  g_assert_nonnull (strstr (refused->error->message, "create a task on the default loop"));
  /* The user data was handed over, and is freed. */
  g_assert_cmpuint (refused->destroyed, ==, 1);
  g_clear_error (&refused->error);
}

static void
test_refuses_in_main_loop (void)
{
  Refused refused = { g_main_loop_new (NULL, FALSE), FALSE, NULL, 0 };

  g_test_summary ("asyncio: run() cannot be called from a running event loop. "
                  "From a callback of a GMainLoop (a GTK application's signal "
                  "handler) aio_run() fails with AIO_ERROR_RUNNING and says to "
                  "create a task on the default loop instead, instead of "
                  "freezing that loop for the whole run");

  g_idle_add (try_run_in_dispatch, &refused);
  g_main_loop_run (refused.main_loop);
  check_refused (&refused);
  g_main_loop_unref (refused.main_loop);

  /* Once that loop is over, aio_run() runs. */
  {
    g_autoptr(AioTask) main_task = aio_run_full (main_returns_42, NULL, NULL, NULL);

    g_assert_nonnull (main_task);
    g_assert_cmpint (aio_future_get_int64 (AIO_FUTURE (main_task), NULL), ==, 42);
  }
}

static gpointer
run_in_thread_dispatch (gpointer user_data)
{
  Refused *refused = user_data;
  GMainContext *context = g_main_context_new ();

  /* A main loop of the thread's own default context, in another thread. */
  g_main_context_push_thread_default (context);
  refused->main_loop = g_main_loop_new (context, FALSE);
  {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, try_run_in_dispatch, refused, NULL);
    g_source_attach (idle, context);
    g_source_unref (idle);
  }
  g_main_loop_run (refused->main_loop);
  g_main_loop_unref (refused->main_loop);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_refuses_in_thread_main_loop (void)
{
  Refused refused = { NULL, FALSE, NULL, 0 };

  g_test_summary ("The same in a thread whose own context runs a main loop");

  aio_test_run_in_thread (run_in_thread_dispatch, &refused);
  check_refused (&refused);
}

static void
test_refuses_while_context_held (void)
{
  Refused refused = { NULL, FALSE, NULL, 0 };

  g_test_summary ("g_application_run() holds the default context from the "
                  "start, and emits 'activate' outside any dispatch: "
                  "aio_run() refuses there too");

  g_assert_true (g_main_context_acquire (NULL));
  try_run (&refused);
  g_main_context_release (NULL);
  check_refused (&refused);
}

static void
in_running_loop (AioTask  *task,
                 gpointer  user_data)
{
  Refused *refused = user_data;
  AioTask *inner;

  inner = aio_run_full (never_runs, refused, count_destroy, &refused->error);
  g_assert_null (inner);
  g_assert_error (refused->error, AIO_ERROR, AIO_ERROR_RUNNING);
  g_assert_cmpuint (refused->destroyed, ==, 1);
  g_clear_error (&refused->error);
}

static void
test_refuses_in_aio_loop (void)
{
  Refused refused = { NULL, FALSE, NULL, 0 };
  g_autoptr(GError) error = NULL;

  g_test_summary ("asyncio: run() cannot be called from a running event loop, "
                  "here aio-glib's own");

  g_assert_true (aio_run (in_running_loop, &refused, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_BARE ("/aio/run/refuses/in-main-loop", test_refuses_in_main_loop);
  TEST_BARE ("/aio/run/refuses/in-thread-main-loop", test_refuses_in_thread_main_loop);
  TEST_BARE ("/aio/run/refuses/context-held", test_refuses_while_context_held);
  TEST_BARE ("/aio/run/refuses/in-aio-loop", test_refuses_in_aio_loop);

  return g_test_run ();
}
