/* await-task.c: awaiting a task you keep
 *
 * asyncio's
 *
 *     async def main():
 *         task = asyncio.create_task(count_to(3))
 *         print("started")
 *         print(f"result: {await task}")
 *         print(f"still here: {task.result()}")
 *
 * aio_await() takes the future it is given, so awaiting a task you keep
 * (to read it again, or to cancel it) passes a new reference:
 * aio_await (AIO_FUTURE (g_object_ref (task)), &error). The g_autoptr
 * holds the reference aio_create_task() returned, and drops it at the end.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <stdio.h>

static void
count_to (AioTask  *task,
          gpointer  user_data)
{
  gint64 n = GPOINTER_TO_INT (user_data);
  g_autoptr(GError) error = NULL;

  for (gint64 i = 1; i <= n; i++)
    {
      if (!aio_await (aio_sleep (0.01), &error))
        {
          aio_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      printf ("counted %" G_GINT64_FORMAT "\n", i);
    }
  aio_task_return_int64 (task, n);
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) counter = NULL;
  gint64 result;

  counter = aio_create_task (count_to, GINT_TO_POINTER (3), NULL);
  printf ("started\n");

  /* A new reference for aio_await_int64(), which takes it; ours stays. */
  result = aio_await_int64 (AIO_FUTURE (g_object_ref (counter)), &error);
  if (error != NULL)
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  printf ("result: %" G_GINT64_FORMAT "\n", result);

  /* Our reference is still good: the task keeps its value. */
  printf ("still here: %" G_GINT64_FORMAT "\n",
          aio_future_get_int64 (AIO_FUTURE (counter), NULL));
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
