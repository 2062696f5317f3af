/* hello-ish-world.c: what aio_run() does for you, spelled out
 *
 * The second program of asyncio's quick start, in C:
 *
 *     loop = asyncio.get_event_loop()
 *     task = loop.create_task(main())
 *     loop.run_until_complete(task)
 *     pending = asyncio.all_tasks(loop=loop)
 *     for task in pending:
 *         task.cancel()
 *     group = asyncio.gather(*pending, return_exceptions=True)
 *     loop.run_until_complete(group)
 *     loop.close()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <stdio.h>
#include <time.h>

static void
print_stamped (const char *what)
{
  time_t now = time (NULL);

  printf ("%.24s %s\n", ctime (&now), what);
  fflush (stdout);
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  print_stamped ("Hello!");
  if (!aio_await (aio_sleep (1.0), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  print_stamped ("Goodbye!");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) task = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(AioFuture) group = NULL;
  AioLoop *loop;

  /* The loop of the default GMainContext; the loop keeps it alive until
   * it is closed. */
  loop = aio_loop_get_default ();
  task = aio_loop_create_task (loop, main_task, NULL, NULL);

  if (!aio_loop_run_until_complete (loop, AIO_FUTURE (task), &error))
    g_printerr ("main task failed: %s\n", error->message);

  /* Whatever main() left running is cancelled, then waited for. */
  pending = aio_loop_all_tasks (loop);
  for (guint i = 0; i < pending->len; i++)
    aio_task_cancel (g_ptr_array_index (pending, i), NULL);
  group = aio_gather_array (pending, TRUE);
  aio_loop_run_until_complete (loop, group, NULL);

  aio_loop_close (loop);
  return error == NULL ? 0 : 1;
}
