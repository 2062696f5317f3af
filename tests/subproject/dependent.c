/* dependent.c: a program of a project that has aio-glib as a subproject
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Awaits a sleep and a gather of two tasks, then prints what the gather
 * gave: "dependent: 2 + 40 = 42".
 */

#include <aio-glib.h>

/* A child task: sleeps, then returns the number it was given. */
static void
child_task (AioTask  *task,
            gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (0.01), &error))
    aio_task_return_error (task, g_steal_pointer (&error));
  else
    aio_task_return_int64 (task, GPOINTER_TO_INT (user_data));
}

static void
main_task (AioTask  *task,
           gpointer  user_data G_GNUC_UNUSED)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioFuture) gather = NULL;
  GPtrArray *children;
  gint64 a, b;

  if (!aio_await (aio_sleep (0.01), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  gather = aio_gather (FALSE,
                       AIO_FUTURE (aio_create_task (child_task, GINT_TO_POINTER (2), NULL)),
                       AIO_FUTURE (aio_create_task (child_task, GINT_TO_POINTER (40), NULL)),
                       NULL);
  if (!aio_await (AIO_FUTURE (g_object_ref (gather)), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The children, in the order given; the array belongs to the gather. */
  children = aio_future_get_futures (gather, &error);
  g_assert_no_error (error);
  a = aio_future_get_int64 (g_ptr_array_index (children, 0), NULL);
  b = aio_future_get_int64 (g_ptr_array_index (children, 1), NULL);
  g_print ("dependent: %" G_GINT64_FORMAT " + %" G_GINT64_FORMAT " = %" G_GINT64_FORMAT "\n",
           a, b, a + b);
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
