/* gather-results.c: reading what a gather gathered
 *
 * asyncio's
 *
 *     async def main():
 *         results = await asyncio.gather(word(), number(), fail(),
 *                                        return_exceptions=True)
 *         for result in results:
 *             print(result)
 *
 * A gather resolves with the array of its children, in the order given
 * (not the order they completed in): aio_future_get_futures() gives it,
 * and each child's value is read with the typed getter for what it
 * returned (aio_future_get_string(), aio_future_get_int64(), ...). With
 * return_exceptions, a failed child keeps its error: aio_future_get_error().
 * The array and the children belong to the gather: nothing to free but
 * the gather itself.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <stdio.h>

static void
word (AioTask  *task,
      gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (0.03), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  aio_task_return_string (task, "forty-two");
}

static void
number (AioTask  *task,
        gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_sleep (0.01), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  aio_task_return_int64 (task, 42);
}

static void
fail (AioTask  *task,
      gpointer  user_data)
{
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                                    "no such thing"));
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioFuture) gather = NULL;
  GPtrArray *children;

  /* The gather takes the three tasks. */
  gather = aio_gather (TRUE,
                       AIO_FUTURE (aio_create_task (word, NULL, NULL)),
                       AIO_FUTURE (aio_create_task (number, NULL, NULL)),
                       AIO_FUTURE (aio_create_task (fail, NULL, NULL)),
                       NULL);

  /* Keep our reference to read the results after the await. */
  if (!aio_await (g_object_ref (gather), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Borrowed from the gather: not to be freed. */
  children = aio_future_get_futures (gather, NULL);
  printf ("word: %s\n", aio_future_get_string (g_ptr_array_index (children, 0), NULL));
  printf ("number: %" G_GINT64_FORMAT "\n",
          aio_future_get_int64 (g_ptr_array_index (children, 1), NULL));
  printf ("fail: %s\n", aio_future_get_error (g_ptr_array_index (children, 2))->message);
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
