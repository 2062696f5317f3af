/* task-arguments.c: passing several arguments to a task
 *
 * asyncio's
 *
 *     async def greet(name, times, delay):
 *         for i in range(times):
 *             await asyncio.sleep(delay)
 *             print(f"{i + 1}/{times}: hello, {name}")
 *
 *     async def main():
 *         await asyncio.gather(greet("Ada", 2, 0.2), greet("Grace", 1, 0.3))
 *
 * A task body takes one user_data pointer, as GLib callbacks do: put the
 * arguments in a struct, and give aio_create_task() the function that
 * frees it. The task owns the struct from then on and frees it as soon as
 * the task is done, however it ends: returned, failed, or cancelled (even
 * before its body started).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <stdio.h>

typedef struct
{
  char    *name;
  guint    times;
  gdouble  delay;
} Greeting;

static Greeting *
greeting_new (const char *name,
              guint       times,
              gdouble     delay)
{
  Greeting *greeting = g_new0 (Greeting, 1);

  greeting->name = g_strdup (name);
  greeting->times = times;
  greeting->delay = delay;
  return greeting;
}

static void
greeting_free (gpointer data)
{
  Greeting *greeting = data;

  printf ("freed the arguments for %s\n", greeting->name);
  g_free (greeting->name);
  g_free (greeting);
}

static void
greet (AioTask  *task,
       gpointer  user_data)
{
  Greeting *greeting = user_data;   /* the task's: do not free it here */
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < greeting->times; i++)
    {
      if (!aio_await (aio_sleep (greeting->delay), &error))
        {
          aio_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      printf ("%u/%u: hello, %s\n", i + 1, greeting->times, greeting->name);
    }
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_gather (FALSE,
                              AIO_FUTURE (aio_create_task (greet,
                                                           greeting_new ("Ada", 2, 0.2),
                                                           greeting_free)),
                              AIO_FUTURE (aio_create_task (greet,
                                                           greeting_new ("Grace", 1, 0.3),
                                                           greeting_free)),
                              NULL),
                  &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  printf ("all greeted\n");
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
