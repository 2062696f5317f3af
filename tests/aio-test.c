/* aio-test.c: the harness of the C tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "aio-fiber-private.h"
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
aio_test_iterate_until (Fixture        *f,
                        const gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (aio_loop_get_context (f->loop), TRUE);
}

void
aio_test_yield_n (guint n)
{
  for (guint i = 0; i < n; i++)
    g_assert_true (aio_yield (NULL));
}

void
aio_test_fixture_setup_bare (Fixture       *f,
                             gconstpointer  data)
{
  aio_test_watchdog_arm (watchdog_seconds);

  f->loop = NULL;
  f->loop_thread = g_thread_self ();
  f->pushed = FALSE;
}

void
aio_test_fixture_setup_unpushed (Fixture       *f,
                                 gconstpointer  data)
{
  aio_test_fixture_setup_bare (f, data);

  f->loop = aio_loop_new ();
}

void
aio_test_fixture_setup (Fixture       *f,
                        gconstpointer  data)
{
  aio_test_fixture_setup_unpushed (f, data);

  g_main_context_push_thread_default (aio_loop_get_context (f->loop));
  f->pushed = TRUE;
  g_assert_true (aio_loop_get_default () == f->loop);
}

void
aio_test_fixture_teardown (Fixture       *f,
                           gconstpointer  data)
{
  if (f->loop != NULL)
    {
      GMainContext *context = aio_loop_get_context (f->loop);

      if (!aio_loop_is_closed (f->loop))
        {
          /* No task is left waiting, nothing is left for the loop to run.
           * Sources of others on the context may still be: GIO finishes
           * its own bookkeeping (a worker's GTask, a stream's close) on
           * the context after the call it reported. */
          g_assert_cmpuint (g_queue_get_length (_aio_loop_get_tasks (f->loop)), ==, 0);
          g_assert_false (_aio_loop_has_work_now (f->loop));
        }

      if (f->pushed)
        g_main_context_pop_thread_default (context);
      aio_loop_close (f->loop);
      /* Futures, tasks and primitives hold their loop: this proves none
       * leaked. */
      g_assert_finalize_object (f->loop);
    }
  g_assert_null (aio_loop_get_running ());

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
  /* What letting go of the task queued. */
  aio_test_drain (f);
}

void
aio_test_run_bare_test (Fixture       *f,
                        gconstpointer  data)
{
  ((GTestFunc) data) ();
}

void
aio_test_count (gpointer user_data)
{
  (*(guint *) user_data)++;
}

void
aio_test_set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

void
aio_test_sleep_long (AioTask  *task,
                     gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (60), &error))
    aio_task_return_error (task, g_steal_pointer (&error));
}

gpointer
aio_test_run_in_thread (GThreadFunc func,
                        gpointer    data)
{
  return g_thread_join (g_thread_new ("aio-test", func, data));
}

typedef struct
{
  AioFuture  *future;
  const char *message;
} Cancel;

static gpointer
cancel_future (gpointer data)
{
  Cancel *cancel = data;

  g_assert_true (aio_future_cancel (cancel->future, cancel->message));
  return NULL;
}

void
aio_test_cancel_in_thread (AioFuture  *future,
                           const char *message)
{
  Cancel cancel = { future, message };

  aio_test_run_in_thread (cancel_future, &cancel);
}

guint
aio_test_count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

guint
aio_test_live_stacks (void)
{
  return aio_fiber_get_n_guarded_stacks () + aio_fiber_get_n_slab_stacks ();
}

void
aio_test_no_core_dumps (void)
{
  struct rlimit limit = { 0, 0 };

  setrlimit (RLIMIT_CORE, &limit);
}
