/* aio-test.c: the harness of the tests whose bodies run on a fiber
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "aio-loop-private.h"
#include "aio-test.h"
#include "aio-watchdog.h"

static guint watchdog_seconds = 120;

static void
watchdog_expired (int signum)
{
  static const char msg[] = "Bail out! watchdog: the test hung\n";

  if (write (STDOUT_FILENO, msg, sizeof msg - 1) < 0)
    {
      /* abort() below reports the failure all the same. */
    }
  abort ();
}

void
aio_test_watchdog_arm (guint seconds)
{
  signal (SIGALRM, watchdog_expired);
  alarm (seconds);
}

void
aio_test_watchdog_disarm (void)
{
  alarm (0);
}

void
aio_test_set_watchdog (guint seconds)
{
  watchdog_seconds = seconds;
}

void
aio_test_drain (Fixture *f)
{
  GMainContext *context = aio_loop_get_context (f->loop);
  guint i;

  for (i = 0; i < 1000 && g_main_context_pending (context); i++)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpuint (i, <, 1000);
}

void
aio_test_yield_n (guint n)
{
  for (guint i = 0; i < n; i++)
    g_assert_true (aio_yield (NULL));
}

void
aio_test_fixture_setup (Fixture       *f,
                        gconstpointer  data)
{
  aio_test_watchdog_arm (watchdog_seconds);

  f->loop = aio_loop_new ();
  g_main_context_push_thread_default (aio_loop_get_context (f->loop));
  g_assert_true (aio_loop_get_default () == f->loop);
}

void
aio_test_fixture_teardown (Fixture       *f,
                           gconstpointer  data)
{
  aio_test_drain (f);
  /* No task is left waiting, nothing is left for the loop to run. */
  g_assert_cmpuint (g_queue_get_length (_aio_loop_get_tasks (f->loop)), ==, 0);
  g_assert_false (g_main_context_pending (aio_loop_get_context (f->loop)));

  g_main_context_pop_thread_default (aio_loop_get_context (f->loop));
  aio_loop_close (f->loop);
  /* Futures, tasks and primitives hold their loop: this proves none
   * leaked. */
  g_assert_finalize_object (f->loop);

  aio_test_watchdog_disarm ();
}

typedef struct
{
  Fixture   *f;
  FiberTest  func;
} Body;

static void
body_run (AioTask  *task,
          gpointer  user_data)
{
  Body *body = user_data;

  body->func (body->f);
}

void
aio_test_run_fiber_test (Fixture       *f,
                         gconstpointer  data)
{
  Body body = { f, (FiberTest) data };
  g_autoptr(GError) error = NULL;
  AioTask *task;

  task = aio_loop_create_task (f->loop, body_run, &body, NULL);
  g_assert_true (aio_loop_run_until_complete (f->loop, (AioFuture *) task, &error));
  g_assert_no_error (error);
  aio_test_drain (f);
  g_assert_finalize_object (task);
}
