/* gio-files.c: concurrent file reads, a read with a timeout, a cancelled read
 *
 * Reads three files at once; then waits at most 0.2 s for a pipe nobody
 * writes to (the read is cancelled in GIO when the time is up); then
 * cancels a task that reads the pipe, and shows the pipe is free for the
 * next read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <unistd.h>

#define N_FILES 3

static gboolean
fail (AioTask *task,
      GError  *error)
{
  aio_task_return_error (task, error);
  return FALSE;
}

static gboolean
read_files (AioTask *task,
            GFile  **files)
{
  g_autoptr(GPtrArray) reads = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;

  /* asyncio: async with timeout(5): await gather(*reads) */
  scope = aio_timeout_enter (5.0);
  for (guint i = 0; i < N_FILES; i++)
    g_ptr_array_add (reads, aio_file_load_bytes (files[i]));
  aio_await (aio_gather_array (reads, FALSE), &error);
  if (!aio_timeout_exit (scope, &error))
    return fail (task, g_steal_pointer (&error));

  for (guint i = 0; i < N_FILES; i++)
    {
      GBytes *bytes = aio_future_get_pointer (reads->pdata[i], NULL);

      g_print ("file %u: %.*s\n", i, (int) g_bytes_get_size (bytes),
               (const char *) g_bytes_get_data (bytes, NULL));
    }
  return TRUE;
}

static void
pipe_reader (AioTask  *task,
             gpointer  user_data)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = aio_await_pointer (aio_input_stream_read_bytes (user_data, 64), &error);
  if (bytes == NULL)
    aio_task_return_error (task, g_steal_pointer (&error));
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) pipe_in = NULL;
  g_autoptr(AioTask) reader = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GFile *files[N_FILES] = { NULL, };
  char *paths[N_FILES] = { NULL, };
  int fds[2];

  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *text = g_strdup_printf ("the contents of file %u", i);
      int fd = g_file_open_tmp ("aio-gio-files-XXXXXX", &paths[i], &error);

      if (fd < 0 || (close (fd), !g_file_set_contents (paths[i], text, -1, &error)))
        goto out;
      files[i] = g_file_new_for_path (paths[i]);
    }

  /* 1. Three reads at once. */
  if (!read_files (task, files))
    goto out;

  /* 2. A read with a time limit: nobody writes to this pipe. */
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error))
    goto out;
  pipe_in = g_unix_input_stream_new (fds[0], TRUE);
  bytes = aio_await_pointer (aio_wait_for (aio_input_stream_read_bytes (pipe_in, 64), 0.2),
                             &error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      if (error == NULL)
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected a timeout");
      goto out;
    }
  g_print ("pipe: %s\n", error->message);
  g_clear_error (&error);

  /* 3. A task reading the pipe, cancelled. */
  reader = aio_create_task (pipe_reader, pipe_in, NULL);
  if (!aio_yield (&error))
    goto out;
  aio_task_cancel (reader, "not needed any more");
  if (aio_await (g_object_ref ((AioFuture *) reader), &error) ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (error == NULL)
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected a cancellation");
      goto out;
    }
  g_print ("reader: %s\n", error->message);
  g_clear_error (&error);

  /* The cancelled reads are over in GIO: the pipe takes the next one. */
  if (write (fds[1], "late data", 9) != 9)
    g_error ("write: %s", g_strerror (errno));
  bytes = aio_await_pointer (aio_input_stream_read_bytes (pipe_in, 64), &error);
  if (bytes == NULL)
    goto out;
  g_print ("pipe: %.*s\n", (int) g_bytes_get_size (bytes),
           (const char *) g_bytes_get_data (bytes, NULL));
  close (fds[1]);

out:
  for (guint i = 0; i < N_FILES; i++)
    {
      if (paths[i] != NULL)
        g_unlink (paths[i]);
      g_free (paths[i]);
      g_clear_object (&files[i]);
    }
  if (error != NULL)
    aio_task_return_error (task, g_steal_pointer (&error));
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
