/* soup-fetch.c: libsoup 3's _async pairs awaited like any other
 *
 * A small HTTP server (SoupServer on 127.0.0.1, a port the system picks)
 * answers /hello/NAME at once and never answers /slow. A SoupSession then
 * fetches four URLs concurrently, each with its own time limit: the three
 * /hello requests come back, the /slow one is cancelled in libsoup when its
 * limit passes. Nothing here is special to libsoup: AIO_GIO_START() and
 * aio_await_gio() work with any library's _async/_finish pairs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>
#include <libsoup/soup.h>

static void
handle_hello (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  g_autofree char *body = g_strdup_printf ("Hello, %s!", path + strlen ("/hello/"));

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
handle_slow (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  GPtrArray *paused = user_data;

  /* Not answered until the end: the client's time limit is what ends
   * its request. */
  soup_server_message_pause (msg);
  g_ptr_array_add (paused, g_object_ref (msg));
}

typedef struct
{
  SoupSession *session;
  char        *url;
  gdouble      limit;
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_free (fetch->url);
  g_free (fetch);
}

/* One request, with a time limit; returns the body. */
static void
fetch (AioTask  *task,
       gpointer  user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", fetch->url);
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  res = aio_await_gio (aio_wait_for (AIO_GIO_START (soup_session_send_and_read_async,
                                                    fetch->session, msg, G_PRIORITY_DEFAULT),
                                     fetch->limit),
                       &error);
  if (res == NULL ||
      (body = soup_session_send_and_read_finish (fetch->session, res, &error)) == NULL)
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  aio_task_return_pointer (task, g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body)),
                           g_free);
}

static void
main_task (AioTask  *task,
           gpointer  user_data)
{
  const char *paths[] = { "/hello/Ada", "/hello/Brian", "/hello/Grace", "/slow" };
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GPtrArray) fetches = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) paused = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GUri) base = NULL;
  GSList *uris;

  soup_server_add_handler (server, "/hello", handle_hello, NULL, NULL);
  soup_server_add_handler (server, "/slow", handle_slow, paused, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  uris = soup_server_get_uris (server);
  base = g_uri_ref (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Fetch *f = g_new0 (Fetch, 1);
      g_autoptr(GUri) uri = g_uri_parse_relative (base, paths[i], G_URI_FLAGS_NONE, NULL);

      f->session = session;
      f->url = g_uri_to_string (uri);
      /* A generous limit for the answered ones, a short one for /slow. */
      f->limit = g_str_equal (paths[i], "/slow") ? 0.3 : 10.0;
      g_ptr_array_add (fetches, aio_create_task (fetch, f, fetch_free));
    }

  /* Each outcome stays in its task. */
  aio_await (aio_gather_array (fetches, TRUE), NULL);

  for (guint i = 0; i < fetches->len; i++)
    {
      AioFuture *done = fetches->pdata[i];
      const GError *failed = aio_future_get_error (done);

      if (failed != NULL)
        g_print ("%s: %s\n", paths[i], failed->message);
      else
        g_print ("%s: %s\n", paths[i], (const char *) aio_future_get_pointer (done, NULL));
    }

  /* Let the server finish what it holds before it goes. */
  for (guint i = 0; i < paused->len; i++)
    {
      soup_server_message_set_status (paused->pdata[i], SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      soup_server_message_unpause (paused->pdata[i]);
    }
  soup_session_abort (session);
  soup_server_disconnect (server);
  aio_await (aio_sleep (0.05), NULL);
}

int
main (void)
{
  return aio_run_main (main_task, NULL);
}
