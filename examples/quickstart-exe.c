/* quickstart-exe.c: a blocking function in the default executor
 *
 * The third program of asyncio's quick start, in C:
 *
 *     def blocking():
 *         time.sleep(0.5)
 *         print(f"{time.ctime()} Hello from a thread!")
 *
 *     loop = asyncio.get_event_loop()
 *     task = loop.create_task(main())
 *     loop.run_in_executor(None, blocking)
 *     loop.run_until_complete(task)
 *     pending = asyncio.all_tasks(loop=loop)
 *     for task in pending:
 *         task.cancel()
 *     group = asyncio.gather(*pending, return_exceptions=True)
 *     loop.run_until_complete(group)
 *     loop.close()
 *
 * The blocking function starts on a worker thread at once; the loop only
 * sees its result when it runs.
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
  char stamp[26];   /* ctime_r(): a worker thread prints too */

  printf ("%.24s %s\n", ctime_r (&now, stamp), what);
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

/* Runs on a worker thread of the default executor. */
static void
blocking (AioFuture    *future,
          GCancellable *cancellable,
          gpointer      user_data)
{
  g_usleep (G_USEC_PER_SEC / 2);
  print_stamped ("Hello from a thread!");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AioTask) task = NULL;
  g_autoptr(AioFuture) job = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(AioFuture) group = NULL;
  AioLoop *loop;

  loop = aio_loop_get_default ();
  task = aio_loop_create_task (loop, main_task, NULL, NULL);
  job = aio_loop_run_in_executor (loop, NULL, blocking, NULL, NULL);

  aio_loop_run_until_complete (loop, AIO_FUTURE (task), NULL);

  pending = aio_loop_all_tasks (loop);
  for (guint i = 0; i < pending->len; i++)
    aio_task_cancel (g_ptr_array_index (pending, i), NULL);
  group = aio_gather_array (pending, TRUE);
  aio_loop_run_until_complete (loop, group, NULL);

  aio_loop_close (loop);
  return 0;
}
