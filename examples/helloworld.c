/* helloworld.c: the "Hello World" of aio-glib
 *
 * The first program of asyncio's quick start, in C:
 *
 *     async def main():
 *         print(f"{time.ctime()} Hello!")
 *         await asyncio.sleep(1.0)
 *         print(f"{time.ctime()} Goodbye!")
 *
 *     asyncio.run(main())
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <stdio.h>
#include <time.h>

/* Prints @what after a timestamp like Python's time.ctime(). */
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
  /* aio_run_main() makes a loop, runs main_task to completion, cancels
   * whatever is left, shuts down the default executor, closes the loop,
   * and turns the outcome into an exit status. */
  return aio_run_main (main_task, NULL);
}
