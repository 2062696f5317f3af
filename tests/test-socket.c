/* test-socket.c: awaitable GSocket I/O (aio_socket_*) over real sockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-loop-private.h"

#include "aio-test.h"

/* ==== helpers ============================================================= */

/* Two connected stream sockets of a socketpair(). */
static void
socket_pair (GSocket **a,
             GSocket **b)
{
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  *a = g_socket_new_from_fd (fds[0], NULL);
  *b = g_socket_new_from_fd (fds[1], NULL);
  g_assert_nonnull (*a);
  g_assert_nonnull (*b);
}

/* A TCP socket listening on 127.0.0.1, an ephemeral port. */
static GSocket *
tcp_listener (GSocketAddress **address)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  GSocket *listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                    G_SOCKET_PROTOCOL_TCP, NULL);

  g_socket_set_listen_backlog (listener, 128);
  g_assert_true (g_socket_bind (listener, any_port, TRUE, NULL));
  g_assert_true (g_socket_listen (listener, NULL));
  *address = g_socket_get_local_address (listener, NULL);
  g_assert_nonnull (*address);
  return listener;
}

static GSocket *
tcp_socket (void)
{
  return g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
}

/* Two ends of a loopback TCP connection, made with aio_socket_connect()
 * and aio_socket_accept() (from a fiber). */
static void
tcp_pair (GSocket **client,
          GSocket **server)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) listener = tcp_listener (&address);
  g_autoptr(GError) error = NULL;
  AioFuture *connecting;

  *client = tcp_socket ();
  connecting = aio_socket_connect (*client, address);
  *server = aio_await_object (aio_socket_accept (listener), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_SOCKET (*server));
  g_assert_true (aio_await (connecting, &error));
  g_assert_no_error (error);
}

static gint64
receive (GSocket *socket,
         void    *buffer,
         gsize    size)
{
  g_autoptr(GError) error = NULL;
  gint64 n = aio_await_int64 (aio_socket_receive (socket, buffer, size), &error);

  g_assert_no_error (error);
  return n;
}

static void
send_all (GSocket    *socket,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  gsize size = strlen (text);

  g_assert_cmpint (aio_await_int64 (aio_socket_send_all (socket, text, size), &error), ==, size);
  g_assert_no_error (error);
}

/* Sends @text on @a and receives it, whole, on @b. */
static void
check_passes (GSocket    *a,
              GSocket    *b,
              const char *text)
{
  char buffer[64];
  gsize size = strlen (text);

  send_all (a, text);
  g_assert_cmpint (receive (b, buffer, sizeof buffer), ==, size);
  g_assert_cmpmem (buffer, size, text, size);
}

/* ==== tests =============================================================== */

static void
test_round_trip (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  char buffer[16] = { 0 };
  AioFuture *pending;

  g_test_summary ("Bytes sent on one end are received on the other, both ways; a receive "
                  "that finds no data waits for it, one that finds data is done at once");

  socket_pair (&a, &b);

  /* Nothing there yet: the receive waits until the send. */
  pending = aio_socket_receive (b, buffer, sizeof buffer);
  g_assert_false (aio_future_is_done (pending));
  send_all (a, "hello");
  g_assert_cmpint (aio_await_int64 (pending, NULL), ==, 5);
  g_assert_cmpmem (buffer, 5, "hello", 5);

  /* Data there already: done when the call returns. */
  send_all (b, "world!");
  pending = aio_socket_receive (a, buffer, sizeof buffer);
  g_assert_true (aio_future_is_done (pending));
  g_assert_cmpint (aio_await_int64 (pending, NULL), ==, 6);
  g_assert_cmpmem (buffer, 6, "world!", 6);

  /* aio_socket_send() reports what it sent. */
  g_assert_cmpint (aio_await_int64 (aio_socket_send (a, "xyz", 3), NULL), ==, 3);
  g_assert_cmpint (receive (b, buffer, sizeof buffer), ==, 3);
  g_assert_cmpmem (buffer, 3, "xyz", 3);
}

static void
test_partial_reads (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  char buffer[16];

  g_test_summary ("A receive takes at most its size; the rest stays for the next ones, "
                  "and a receive after a short one waits for new data");

  socket_pair (&a, &b);
  send_all (a, "0123456789");

  g_assert_cmpint (receive (b, buffer, 4), ==, 4);
  g_assert_cmpmem (buffer, 4, "0123", 4);
  g_assert_cmpint (receive (b, buffer, 4), ==, 4);
  g_assert_cmpmem (buffer, 4, "4567", 4);
  g_assert_cmpint (receive (b, buffer, sizeof buffer), ==, 2);
  g_assert_cmpmem (buffer, 2, "89", 2);

  /* That was short: the next receive waits for the event of new data. */
  check_passes (a, b, "ab");
}

static void
test_eof (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  char buffer[16];
  AioFuture *pending;

  g_test_summary ("The peer's close is a receive of 0 bytes, for a waiting receive and "
                  "every later one, after the data sent before it");

  socket_pair (&a, &b);
  pending = aio_socket_receive (b, buffer, sizeof buffer);
  send_all (a, "bye");
  g_assert_true (g_socket_close (a, NULL));

  g_assert_cmpint (aio_await_int64 (pending, NULL), ==, 3);
  g_assert_cmpint (receive (b, buffer, sizeof buffer), ==, 0);
  g_assert_cmpint (receive (b, buffer, sizeof buffer), ==, 0);
}

static void
test_peer_reset (Fixture *f)
{
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GSocket) server = NULL;
  g_autoptr(GError) error = NULL;
  struct linger abort_on_close = { 1, 0 };
  char buffer[16];
  AioFuture *pending;

  g_test_summary ("A connection reset by the peer rejects the waiting receive with GIO's "
                  "error for it, and a send on the reset socket fails too");

  tcp_pair (&client, &server);
  pending = aio_socket_receive (server, buffer, sizeof buffer);
  g_assert_false (aio_future_is_done (pending));

  /* Closing with a zero linger sends a reset instead of a FIN. */
  g_assert_cmpint (setsockopt (g_socket_get_fd (client), SOL_SOCKET, SO_LINGER,
                               &abort_on_close, sizeof abort_on_close), ==, 0);
  g_assert_true (g_socket_close (client, NULL));

  g_assert_cmpint (aio_await_int64 (pending, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);

  /* The reset was reported; sending now finds the connection gone. */
  g_assert_cmpint (aio_await_int64 (aio_socket_send_all (server, "x", 1), &error), ==, 0);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
}

/* A task that waits for a receive, so that it can be cancelled. */
typedef struct
{
  GSocket *socket;
  char     buffer[8];
  gboolean returned;
} Receiver;

static void
receiver_body (AioTask  *task,
               gpointer  data)
{
  Receiver *r = data;
  g_autoptr(GError) error = NULL;

  aio_await_int64 (aio_socket_receive (r->socket, r->buffer, sizeof r->buffer), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  r->returned = TRUE;
  aio_task_return_error (task, g_steal_pointer (&error));
}

static void
test_cancel_task (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  Receiver r = { 0 };
  AioTask *task;

  g_test_summary ("Cancelling a task that waits for a receive ends the wait at once; the "
                  "receive read nothing, so the data sent next goes to the next receive");

  socket_pair (&a, &b);
  r.socket = b;
  memset (r.buffer, 'x', sizeof r.buffer);
  task = aio_create_task (receiver_body, &r, NULL);
  yield_n (2);
  g_assert_false (r.returned);

  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_await (AIO_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r.returned);

  check_passes (a, b, "data");
  /* The cancelled receive's buffer was never written. */
  for (gsize i = 0; i < sizeof r.buffer; i++)
    g_assert_cmpint (r.buffer[i], ==, 'x');
}

static void
test_cancel_wait_for (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8];

  g_test_summary ("A wait_for deadline on a receive cancels it: the await fails with "
                  "TIMED_OUT, and the socket takes the next receive with nothing lost");

  socket_pair (&a, &b);
  g_assert_cmpint (aio_await_int64 (aio_wait_for (aio_socket_receive (b, buffer, sizeof buffer), 0.01),
                                    &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

  check_passes (a, b, "late");
}

static void
test_cancel_future (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8];
  AioFuture *pending;

  g_test_summary ("Cancelling the receive future itself, and a receive or send on a "
                  "closed socket fails with CLOSED");

  socket_pair (&a, &b);
  pending = aio_socket_receive (b, buffer, sizeof buffer);
  g_assert_true (aio_future_cancel (pending, "enough"));
  g_assert_false (aio_future_cancel (pending, NULL));
  g_assert_false (aio_await (pending, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_assert_true (g_socket_close (b, NULL));
  g_assert_false (aio_await (aio_socket_receive (b, buffer, sizeof buffer), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (aio_await (aio_socket_send (b, "x", 1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* Receives once, then drops the only reference to its socket. */
static void
last_reference_body (AioTask  *task,
                     gpointer  data)
{
  GSocket *socket = data;
  char buffer[8];

  g_assert_cmpint (receive (socket, buffer, sizeof buffer), ==, 2);
  g_object_unref (socket);
}

static void
test_last_reference (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  GSocket *b = NULL;
  AioTask *task;

  g_test_summary ("A waiting receive keeps its socket; an awaiter that drops the last "
                  "reference when it resumes finalizes the socket in the loop's dispatch, "
                  "and nothing of it is touched afterwards");

  socket_pair (&a, &b);
  g_object_add_weak_pointer (G_OBJECT (b), (gpointer *) &b);
  task = aio_create_task (last_reference_body, b, NULL);
  yield_n (2);
  g_assert_nonnull (b);

  send_all (a, "ok");
  g_assert_true (aio_await (AIO_FUTURE (task), NULL));
  g_assert_null (b);
}

static void
test_cancel_other_thread (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8];
  AioFuture *pending;

  g_test_summary ("A receive cancelled from another thread is cancelled; the next "
                  "receive on the socket takes its place and gets the data");

  socket_pair (&a, &b);
  pending = aio_socket_receive (b, buffer, sizeof buffer);
  aio_test_cancel_in_thread (pending, NULL);
  g_assert_false (aio_await (pending, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  check_passes (a, b, "next");
}

static void
test_pending (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  char one[8], two[8];
  AioFuture *first;

  g_test_summary ("A second receive while one is pending fails with PENDING and leaves "
                  "the first one waiting");

  socket_pair (&a, &b);
  first = aio_socket_receive (b, one, sizeof one);
  g_assert_false (aio_await (aio_socket_receive (b, two, sizeof two), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_false (aio_future_is_done (first));

  send_all (a, "one");
  g_assert_cmpint (aio_await_int64 (first, NULL), ==, 3);
  g_assert_cmpmem (one, 3, "one", 3);
}

/* Reads everything @socket receives until its end, checking the pattern
 * (byte i is i % 251). */
static void
pattern_reader (AioTask  *task,
                gpointer  data)
{
  GSocket *socket = data;
  guint8 buffer[1000];
  gint64 total = 0, n;

  while ((n = receive (socket, buffer, sizeof buffer)) > 0)
    {
      for (gint64 i = 0; i < n; i++)
        g_assert_cmpuint (buffer[i], ==, (total + i) % 251);
      total += n;
      /* A slow reader, so that the sender waits for room. */
      if (total % 7 == 0)
        g_assert_true (aio_yield (NULL));
    }
  aio_task_return_int64 (task, total);
}

static void
test_send_all_large (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = 4 << 20;
  g_autofree guint8 *data = g_malloc (size);
  AioTask *reader;

  g_test_summary ("send_all sends more than the socket buffers hold, waiting for room, "
                  "and the reader gets every byte in order");

  for (gsize i = 0; i < size; i++)
    data[i] = i % 251;
  socket_pair (&a, &b);
  reader = aio_create_task (pattern_reader, b, NULL);

  g_assert_cmpint (aio_await_int64 (aio_socket_send_all (a, data, size), &error), ==, size);
  g_assert_no_error (error);
  g_assert_true (g_socket_shutdown (a, FALSE, TRUE, NULL));
  g_assert_cmpint (aio_await_int64 (AIO_FUTURE (reader), &error), ==, size);
  g_assert_no_error (error);
}

static void
test_bytes (Fixture *f)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  g_autoptr(GBytes) out = g_bytes_new_static ("bytes!", 6);
  g_autoptr(GBytes) in = NULL;
  g_autoptr(GBytes) end = NULL;
  GValue value = G_VALUE_INIT;
  AioFuture *future;

  g_test_summary ("The GBytes forms, for bindings: send and send_all take a GBytes, "
                  "receive resolves with one, empty at the end of the stream");

  socket_pair (&a, &b);
  g_assert_cmpint (aio_await_int64 (aio_socket_send_bytes (a, out), NULL), ==, 6);
  future = aio_socket_receive_bytes (b, 4);
  g_assert_true (aio_await (g_object_ref (future), NULL));
  g_assert_true (aio_future_get_value (future, &value, NULL));
  g_object_unref (future);
  in = g_value_dup_boxed (&value);
  g_value_unset (&value);
  g_assert_cmpmem (g_bytes_get_data (in, NULL), g_bytes_get_size (in), "byte", 4);
  g_clear_pointer (&in, g_bytes_unref);

  g_assert_cmpint (aio_await_int64 (aio_socket_send_all_bytes (a, out), NULL), ==, 6);
  g_assert_true (g_socket_close (a, NULL));

  future = aio_socket_receive_bytes (b, 100);
  g_assert_true (aio_await (g_object_ref (future), NULL));
  g_assert_true (aio_future_get_value (future, &value, NULL));
  g_object_unref (future);
  in = g_value_dup_boxed (&value);
  g_value_unset (&value);
  g_assert_cmpmem (g_bytes_get_data (in, NULL), g_bytes_get_size (in), "s!bytes!", 8);

  future = aio_socket_receive_bytes (b, 100);
  g_assert_true (aio_await (g_object_ref (future), NULL));
  g_assert_true (aio_future_get_value (future, &value, NULL));
  g_object_unref (future);
  end = g_value_dup_boxed (&value);
  g_value_unset (&value);
  g_assert_cmpuint (g_bytes_get_size (end), ==, 0);
}

static void
test_connect_refused (Fixture *f)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) listener = tcp_listener (&address);
  g_autoptr(GSocket) socket = tcp_socket ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("Connecting to a port nobody listens on fails with CONNECTION_REFUSED");

  /* The port was free a moment ago: close the listener, keep the address. */
  g_assert_true (g_socket_close (listener, NULL));
  g_assert_false (aio_await (aio_socket_connect (socket, address), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static void
test_accept_cancel (Fixture *f)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) listener = tcp_listener (&address);
  g_autoptr(GSocket) client = tcp_socket ();
  g_autoptr(GSocket) server = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A timed-out accept takes no connection: the next accept gets the "
                  "client that connected after it");

  g_assert_false (aio_await (aio_wait_for (aio_socket_accept (listener), 0.01), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  g_assert_true (aio_await (aio_socket_connect (client, address), &error));
  server = aio_await_object (aio_socket_accept (listener), &error);
  g_assert_no_error (error);
  send_all (client, "hi");
}

/* ---- many connections, fiber and stepped --------------------------------- */

#define MANY_CONNECTIONS 100
#define MANY_TRIPS       20
#define MESSAGE          16

typedef struct
{
  GSocket *socket;
  guint    id, seq, state;
  char     message[MESSAGE + 1];
  char     reply[MESSAGE];
  gsize    got;
  guint   *good;
} Peer;

static void
peer_free (gpointer data)
{
  Peer *p = data;

  g_clear_object (&p->socket);
  g_free (p);
}

/* Echoes MESSAGE-byte messages until the end of the stream. */
static void
echo_fiber (AioTask  *task,
            gpointer  data)
{
  Peer *p = data;

  for (;;)
    {
      p->got = 0;
      while (p->got < MESSAGE)
        {
          gint64 n = receive (p->socket, p->reply + p->got, MESSAGE - p->got);

          if (n == 0)
            {
              g_assert_cmpuint (p->got, ==, 0);
              return;
            }
          p->got += n;
        }
      g_assert_cmpint (aio_await_int64 (aio_socket_send_all (p->socket, p->reply, MESSAGE), NULL),
                       ==, MESSAGE);
    }
}

static void
client_fiber (AioTask  *task,
              gpointer  data)
{
  Peer *p = data;

  for (p->seq = 0; p->seq < MANY_TRIPS; p->seq++)
    {
      g_snprintf (p->message, sizeof p->message, "%7u %7u\n", p->id, p->seq);
      g_assert_cmpint (aio_await_int64 (aio_socket_send_all (p->socket, p->message, MESSAGE), NULL),
                       ==, MESSAGE);
      for (p->got = 0; p->got < MESSAGE;)
        p->got += receive (p->socket, p->reply + p->got, MESSAGE - p->got);
      *p->good += memcmp (p->reply, p->message, MESSAGE) == 0;
    }
  g_assert_true (g_socket_shutdown (p->socket, FALSE, TRUE, NULL));
}

/* The two bodies again, as state machines. */
static AioFuture *
echo_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  Peer *p = data;

  if (completed != NULL)
    {
      gint64 n = aio_future_get_int64 (completed, NULL);

      g_assert_true (aio_future_is_resolved (completed));
      if (p->state == 1)        /* received */
        {
          if (n == 0)
            {
              g_assert_cmpuint (p->got, ==, 0);
              return NULL;
            }
          p->got += n;
        }
      else                      /* sent */
        p->got = 0;
    }

  if (p->got < MESSAGE)
    {
      p->state = 1;
      return aio_socket_receive (p->socket, p->reply + p->got, MESSAGE - p->got);
    }
  p->state = 2;
  return aio_socket_send_all (p->socket, p->reply, MESSAGE);
}

static AioFuture *
client_step (AioTask   *task,
             AioFuture *completed,
             gpointer   data)
{
  Peer *p = data;

  if (completed != NULL)
    {
      g_assert_true (aio_future_is_resolved (completed));
      if (p->state == 1)
        p->got += aio_future_get_int64 (completed, NULL);
      else
        p->got = 0;
      if (p->state == 1 && p->got == MESSAGE)
        {
          *p->good += memcmp (p->reply, p->message, MESSAGE) == 0;
          p->seq++;
        }
      else if (p->state == 1 || p->state == 2)
        {
          p->state = 1;
          return aio_socket_receive (p->socket, p->reply + p->got, MESSAGE - p->got);
        }
    }

  if (p->seq == MANY_TRIPS)
    {
      g_assert_true (g_socket_shutdown (p->socket, FALSE, TRUE, NULL));
      return NULL;
    }
  g_snprintf (p->message, sizeof p->message, "%7u %7u\n", p->id, p->seq);
  p->state = 2;
  return aio_socket_send_all (p->socket, p->message, MESSAGE);
}

static void
run_many (gboolean stepped)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) listener = tcp_listener (&address);
  g_autoptr(GError) error = NULL;
  AioFuture *tasks[2 * MANY_CONNECTIONS];
  guint good = 0;

  for (guint c = 0; c < MANY_CONNECTIONS; c++)
    {
      Peer *client = g_new0 (Peer, 1);
      Peer *server = g_new0 (Peer, 1);
      AioFuture *connecting;

      client->id = c;
      client->good = &good;
      client->socket = tcp_socket ();
      connecting = aio_socket_connect (client->socket, address);
      server->socket = aio_await_object (aio_socket_accept (listener), &error);
      g_assert_no_error (error);
      g_assert_true (aio_await (connecting, &error));

      if (stepped)
        {
          tasks[2 * c] = AIO_FUTURE (aio_create_stepped_task (client_step, client, peer_free));
          tasks[2 * c + 1] = AIO_FUTURE (aio_create_stepped_task (echo_step, server, peer_free));
        }
      else
        {
          tasks[2 * c] = AIO_FUTURE (aio_create_task (client_fiber, client, peer_free));
          tasks[2 * c + 1] = AIO_FUTURE (aio_create_task (echo_fiber, server, peer_free));
        }
    }

  g_assert_true (aio_await (aio_gatherv (tasks, G_N_ELEMENTS (tasks), FALSE), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (good, ==, MANY_CONNECTIONS * MANY_TRIPS);
}

static void
test_many_fiber (Fixture *f)
{
  g_test_summary ("100 loopback TCP connections with a fiber task at each end, 2000 "
                  "round trips in all, every reply equal to its message");
  run_many (FALSE);
}

static void
test_many_stepped (Fixture *f)
{
  g_test_summary ("The same with stepped tasks at both ends");
  run_many (TRUE);
}

/* ---- outside a fixture ----------------------------------------------------- */

static void
test_loop_closed (Fixture       *f,
                  gconstpointer  data)
{
  AioLoop *loop = f->loop;
  GSocket *a, *b;
  AioFuture *pending;
  char buffer[8];

  g_test_summary ("Closing the loop while a receive waits drops the wait: the receive "
                  "stays pending, and the socket, the future and the loop are freed");

  g_main_context_push_thread_default (aio_loop_get_context (loop));
  socket_pair (&a, &b);
  pending = aio_socket_receive (b, buffer, sizeof buffer);
  g_assert_false (aio_future_is_done (pending));

  g_main_context_pop_thread_default (aio_loop_get_context (loop));
  aio_loop_close (loop);
  g_assert_false (aio_future_is_done (pending));
  g_object_unref (pending);
  g_assert_finalize_object (b);
  g_assert_finalize_object (a);
}

static void
test_bad_arguments (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  char buffer[4];

  g_test_summary ("NULL for the socket or the buffer is a programmer error: a critical "
                  "and no future");

  socket_pair (&a, &b);

  EXPECT_CRITICAL ("*G_IS_SOCKET*",
                   g_assert_null (aio_socket_receive (NULL, buffer, sizeof buffer)));

  EXPECT_CRITICAL ("*buffer != NULL*", g_assert_null (aio_socket_send (a, NULL, 1)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/socket/round-trip", test_round_trip);
  TEST ("/aio/socket/partial-reads", test_partial_reads);
  TEST ("/aio/socket/eof", test_eof);
  TEST ("/aio/socket/peer-reset", test_peer_reset);
  TEST ("/aio/socket/cancel/task", test_cancel_task);
  TEST ("/aio/socket/cancel/wait-for", test_cancel_wait_for);
  TEST ("/aio/socket/cancel/future", test_cancel_future);
  TEST ("/aio/socket/cancel/other-thread", test_cancel_other_thread);
  TEST ("/aio/socket/pending", test_pending);
  TEST ("/aio/socket/last-reference", test_last_reference);
  TEST ("/aio/socket/send-all-large", test_send_all_large);
  TEST ("/aio/socket/bytes", test_bytes);
  TEST ("/aio/socket/connect-refused", test_connect_refused);
  TEST ("/aio/socket/accept-cancel", test_accept_cancel);
  TEST ("/aio/socket/many/fiber", test_many_fiber);
  TEST ("/aio/socket/many/stepped", test_many_stepped);
  TEST_UNPUSHED ("/aio/socket/loop-closed", test_loop_closed);
  TEST_MAIN ("/aio/socket/bad-arguments", test_bad_arguments);

  return g_test_run ();
}
