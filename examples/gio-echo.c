/* gio-echo.c: a TCP echo server and its clients, one task per connection
 *
 * The server is a GSocketService on 127.0.0.1 (a port the system picks);
 * each connection it accepts gets a task that echoes what it reads until
 * the client closes. Five client tasks connect at once, send three lines
 * each, check the echo, and close; the whole exchange has a time limit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>

#define N_CLIENTS 5
#define N_LINES   3

/* ---- the server: one task per connection ---- */

static void
serve_connection (AioTask  *task,
                  gpointer  user_data)
{
  GIOStream *connection = user_data;
  GInputStream *in = g_io_stream_get_input_stream (connection);
  GOutputStream *out = g_io_stream_get_output_stream (connection);
  g_autoptr(GError) error = NULL;

  for (;;)
    {
      g_autoptr(GBytes) chunk = aio_await_pointer (aio_input_stream_read_bytes (in, 4096), &error);

      if (chunk == NULL || g_bytes_get_size (chunk) == 0)
        break;                          /* an error, or the client closed */
      if (!aio_await (aio_output_stream_write_all (out, chunk), &error))
        break;
    }

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_printerr ("server: %s\n", error->message);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  /* The loop keeps the task until it is done. */
  g_object_unref (aio_create_task (serve_connection, g_object_ref (connection), g_object_unref));
  return TRUE;
}

/* ---- a client ---- */

typedef struct
{
  guint   id;
  guint16 port;
} Client;

static void
run_client (AioTask  *task,
            gpointer  user_data)
{
  Client *c = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  GInputStream *in;
  GOutputStream *out;
  gsize echoed = 0;

  /* The generic form, for any _async/_finish pair: await, then _finish. */
  res = aio_await_gio (AIO_GIO_START (g_socket_client_connect_to_host_async,
                                      client, "127.0.0.1", c->port), &error);
  if (res == NULL ||
      (connection = g_socket_client_connect_to_host_finish (client, res, &error)) == NULL)
    goto out;

  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  for (guint i = 0; i < N_LINES; i++)
    {
      g_autofree char *line = g_strdup_printf ("line %u of client %u\n", i, c->id);
      g_autoptr(GBytes) sent = g_bytes_new (line, strlen (line));
      g_autoptr(GString) back = g_string_new (NULL);

      if (!aio_await (aio_output_stream_write_all (out, sent), &error))
        goto out;

      /* TCP may cut the echo in pieces: read until it is all there. */
      while (back->len < strlen (line))
        {
          g_autoptr(GBytes) chunk = aio_await_pointer (aio_input_stream_read_bytes (in, 4096),
                                                       &error);

          if (chunk == NULL)
            goto out;
          if (g_bytes_get_size (chunk) == 0)
            {
              g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                   "the server closed the connection");
              goto out;
            }
          g_string_append_len (back, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
        }

      if (strcmp (back->str, line) != 0)
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "echo mismatch: %s", back->str);
          goto out;
        }
      echoed += back->len;
    }

  g_clear_object (&res);
  res = aio_await_gio (AIO_GIO_START (g_io_stream_close_async, G_IO_STREAM (connection),
                                      G_PRIORITY_DEFAULT), &error);
  if (res != NULL)
    g_io_stream_close_finish (G_IO_STREAM (connection), res, &error);

out:
  if (error != NULL)
    aio_task_return_error (task, g_steal_pointer (&error));
  else
    aio_task_return_int64 (task, echoed);
}

/* ---- the main task ---- */

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  Client specs[N_CLIENTS];
  guint16 port;

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &bound, &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (service);
  g_print ("echo server listening on 127.0.0.1 (an ephemeral port)\n");

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      specs[i] = (Client) { i, port };
      g_ptr_array_add (clients, aio_create_task (run_client, &specs[i], NULL));
    }

  /* All the clients at once, within ten seconds. */
  if (!aio_await (aio_wait_for (aio_gather_array (clients, FALSE), 10.0), &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < N_CLIENTS; i++)
    g_print ("client %u: %" G_GINT64_FORMAT " bytes echoed\n", i,
             aio_future_get_int64 (clients->pdata[i], NULL));

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_print ("done\n");
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
