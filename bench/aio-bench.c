/* aio-bench.c: aio-glib on the seven benchmark workloads
 *
 * Usage: aio-bench MODE WORKLOAD [N]
 *
 *   MODE      fiber    tasks with fiber bodies and aio_await(), as an
 *                      end-user developer writes them (impl "aio-fiber")
 *             stepped  tasks with stepped bodies, as a framework developer
 *                      writes them (impl "aio-stepped")
 *             fiber-gio  as fiber, but echo's reads and writes go through
 *                      GIO's streams and their _async calls, awaited with
 *                      aio_await_gio(), instead of aio_socket_* (impl
 *                      "aio-fiber-gio"): the generic path, for comparison
 *   WORKLOAD  spawn | sleepers | pingpong | cancel | executor | timers | echo
 *   N         items (default: the workload's default from WORKLOADS.md)
 *
 * Prints exactly one line of JSON following the output contract of
 * shared/bench/WORKLOADS.md and exits 0 when the workload's own check
 * passed.  Only the measured phase is timed: from just before the first
 * item is created until the gather (or the last round trip) completes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <aio-glib.h>

#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLEEPERS_DELAY     0.2
#define CANCEL_DELAY       60.0
#define EXECUTOR_LIMIT     1000
#define EXECUTOR_EXPECTED  ((gint64) EXECUTOR_LIMIT * (EXECUTOR_LIMIT - 1) / 2)
#define TIMERS_STRIDE      7919
#define TIMER_SLACK        0.002
#define ECHO_CLIENTS       100     /* connections sharing echo's n round trips */
#define ECHO_SIZE          64      /* bytes per echo message */
#define ECHO_BUFFER        4096    /* each connection's read buffer */

/* ---- measurement --------------------------------------------------------- */

typedef struct
{
  const char *workload;
  gboolean    stepped;
  gboolean    gio;        /* fiber-gio: echo through GIO's streams */
  guint       n;

  gint64      t0, t1;
  glong       base_rss_kb;
  glong       peak_rss_kb;

  /* Per-workload state. */
  AioFuture  *gather;
  AioFuture **items;
  guint       gauge, gauge_peak;
  AioQueue   *to_a, *to_b;
  gint64      token;
  guint       good_trips;
  guint       round;
  gdouble    *deadline;
  gdouble    *woke_at;
  guint      *woken;
  guint       n_woken;
  GSocket        *echo_listener;
  GSocketAddress *echo_address;
  guint       served, clean, server_closed, clients_closed;

  /* The check's verdict and its extra fields. */
  gboolean    ok;
  GString    *extra;
} Bench;

static Bench bench;

static glong
current_rss_kb (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f != NULL)
    {
      if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

static glong
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

static void
measure_start (void)
{
  bench.base_rss_kb = current_rss_kb ();
  bench.t0 = g_get_monotonic_time ();
}

static void
measure_stop (void)
{
  bench.t1 = g_get_monotonic_time ();
  bench.peak_rss_kb = peak_rss_kb ();
}

static gdouble
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* What each child of a gather must be, given its index. */
typedef gboolean (*ChildCheck) (AioFuture *child,
                                guint      index);

/* The gather resolved, with its n children in order, each passing @check. */
static gboolean
check_children (AioFuture  *gather,
                ChildCheck  check)
{
  GPtrArray *children;

  if (gather == NULL || !aio_future_is_resolved (gather))
    return FALSE;
  children = aio_future_get_futures (gather, NULL);
  if (children == NULL || children->len != bench.n)
    return FALSE;
  for (guint i = 0; i < children->len; i++)
    if (!check (g_ptr_array_index (children, i), i))
      return FALSE;
  return TRUE;
}

static gboolean
returned_index (AioFuture *child,
                guint      index)
{
  return aio_future_get_int64 (child, NULL) == index;
}

static gboolean
was_cancelled (AioFuture *child,
               guint      index)
{
  return aio_future_is_cancelled (child);
}

static gboolean
summed (AioFuture *child,
        guint      index)
{
  return aio_future_get_int64 (child, NULL) == EXECUTOR_EXPECTED;
}

/* ---- spawn: n tasks each yield once and return their index --------------- */

static void
spawn_fiber_child (AioTask  *task,
                   gpointer  data)
{
  if (aio_yield (NULL))
    aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
}

static AioFuture *
spawn_step_child (AioTask   *task,
                  AioFuture *completed,
                  gpointer   data)
{
  if (completed == NULL)
    return aio_yield_future ();
  aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
  return NULL;
}

/* ---- sleepers: n tasks all asleep for 0.2 s at once ---------------------- */

static void
gauge_enter (void)
{
  if (++bench.gauge > bench.gauge_peak)
    bench.gauge_peak = bench.gauge;
}

static void
sleepers_fiber_child (AioTask  *task,
                      gpointer  data)
{
  gauge_enter ();
  if (aio_await (aio_sleep (SLEEPERS_DELAY), NULL))
    {
      bench.gauge--;
      aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
    }
}

static AioFuture *
sleepers_step_child (AioTask   *task,
                     AioFuture *completed,
                     gpointer   data)
{
  if (completed == NULL)
    {
      gauge_enter ();
      return aio_sleep (SLEEPERS_DELAY);
    }
  bench.gauge--;
  aio_task_return_int64 (task, GPOINTER_TO_UINT (data));
  return NULL;
}

/* ---- cancel: n tasks parked in a 60 s sleep, all cancelled --------------- */

static void
cancel_fiber_child (AioTask  *task,
                    gpointer  data)
{
  GError *error = NULL;

  if (!aio_await (aio_sleep (CANCEL_DELAY), &error))
    aio_task_return_error (task, error);
}

static AioFuture *
cancel_step_child (AioTask   *task,
                   AioFuture *completed,
                   gpointer   data)
{
  if (completed == NULL)
    return aio_sleep (CANCEL_DELAY);
  if (!aio_future_is_resolved (completed))
    aio_task_return_error (task, g_error_copy (aio_future_get_error (completed)));
  return NULL;
}


/* ---- executor: n blocking calls on the default thread pool --------------- */

static void
blocking_sum (AioFuture    *future,
              GCancellable *cancellable,
              gpointer      data)
{
  volatile gint64 total = 0;

  for (gint64 i = 0; i < EXECUTOR_LIMIT; i++)
    total += i;
  aio_future_resolve_int64 (future, total);
}


/* ---- timers: n tasks sleep distinct delays covering [0, 1) s ------------- */

static gdouble
timer_delay (guint i)
{
  return (gdouble) (((guint64) i * TIMERS_STRIDE) % bench.n) / bench.n;
}

static void
timer_woke (guint i)
{
  bench.woke_at[i] = now_s ();
  bench.woken[bench.n_woken++] = i;
}

static void
timers_fiber_child (AioTask  *task,
                    gpointer  data)
{
  guint i = GPOINTER_TO_UINT (data);
  gdouble delay = timer_delay (i);

  bench.deadline[i] = now_s () + delay;
  if (aio_await (aio_sleep (delay), NULL))
    timer_woke (i);
}

static AioFuture *
timers_step_child (AioTask   *task,
                   AioFuture *completed,
                   gpointer   data)
{
  guint i = GPOINTER_TO_UINT (data);

  if (completed == NULL)
    {
      gdouble delay = timer_delay (i);

      bench.deadline[i] = now_s () + delay;
      return aio_sleep (delay);
    }
  timer_woke (i);
  return NULL;
}

static gboolean
check_timers (void)
{
  gboolean *seen = g_new0 (gboolean, bench.n);
  gdouble latest = -INFINITY, max_early = 0, max_inversion = 0, late = 0;
  gboolean ok = bench.n_woken == bench.n;

  for (guint k = 0; ok && k < bench.n_woken; k++)
    {
      guint i = bench.woken[k];

      if (i >= bench.n || seen[i])
        {
          ok = FALSE;
          break;
        }
      seen[i] = TRUE;
      max_early = MAX (max_early, bench.deadline[i] - bench.woke_at[i]);
      max_inversion = MAX (max_inversion, latest - bench.deadline[i]);
      latest = MAX (latest, bench.deadline[i]);
      late += bench.woke_at[i] - bench.deadline[i];
    }
  g_free (seen);

  if (!ok)
    return FALSE;
  g_string_append_printf (bench.extra,
                          ", \"mean_late_ms\": %.3f, \"max_early_ms\": %.3f, \"max_inversion_ms\": %.3f",
                          late * 1000 / bench.n, max_early * 1000, max_inversion * 1000);
  return max_early <= TIMER_SLACK && max_inversion <= TIMER_SLACK;
}

/* ---- pingpong: n round trips through two single-slot queues -------------- */

static void
ping_fiber (AioTask  *task,
            gpointer  data)
{
  gint64 token = 0;

  for (guint i = 0; i < bench.n; i++)
    {
      gint64 reply;

      if (!aio_await (aio_queue_put (bench.to_b, GSIZE_TO_POINTER ((gsize) token)), NULL))
        return;
      reply = (gint64) GPOINTER_TO_SIZE (aio_await_pointer (aio_queue_get (bench.to_a), NULL));
      bench.good_trips += reply == token + 1;
      token = reply;
    }
  bench.token = token;
}

static void
pong_fiber (AioTask  *task,
            gpointer  data)
{
  for (guint i = 0; i < bench.n; i++)
    {
      gsize token = GPOINTER_TO_SIZE (aio_await_pointer (aio_queue_get (bench.to_b), NULL));

      if (!aio_await (aio_queue_put (bench.to_a, GSIZE_TO_POINTER (token + 1)), NULL))
        return;
    }
}

/* Each player is a two-state machine: putting, then getting. */
static AioFuture *
ping_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  /* Odd rounds are gets: the one that just completed carries the reply. */
  if (completed != NULL && bench.round % 2 == 0)
    {
      gint64 reply = (gint64) GPOINTER_TO_SIZE (aio_future_get_pointer (completed, NULL));

      bench.good_trips += reply == bench.token + 1;
      bench.token = reply;
    }

  if (bench.round == 2 * bench.n)
    return NULL;

  if (bench.round++ % 2 == 0)
    return aio_queue_put (bench.to_b, GSIZE_TO_POINTER ((gsize) bench.token));
  return aio_queue_get (bench.to_a);
}

static AioFuture *
pong_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  guint *state = data;   /* 2 * trips done, plus 1 while putting */

  if (completed != NULL && *state % 2 == 0)
    {
      gsize token = GPOINTER_TO_SIZE (aio_future_get_pointer (completed, NULL));

      (*state)++;
      return aio_queue_put (bench.to_a, GSIZE_TO_POINTER (token + 1));
    }
  if (completed != NULL)
    (*state)++;
  if (*state == 2 * bench.n)
    return NULL;
  return aio_queue_get (bench.to_b);
}

/* ---- echo: n round trips of 64 bytes over 100 loopback TCP connections -- */

/* Each connection reads through a small buffer of its own, as a stream
 * reader does: a receive asks for all the room left, not for exactly the
 * 64 bytes a message needs, so that a short read tells the socket layer
 * that nothing more is queued. */
typedef struct
{
  guint8 data[ECHO_BUFFER];
  gsize  start, end;
} EchoReader;

typedef struct
{
  GSocket    *socket;
  GIOStream  *stream;           /* fiber-gio only */
  EchoReader  in;
  guint       id, trips, seq;
  guint       state;            /* stepped bodies only */
  char        message[ECHO_SIZE + 1];
} EchoPeer;

static GSocket *
echo_socket_new (void)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, NULL);

  g_assert (socket != NULL);
  return socket;
}

static void
echo_nodelay (GSocket *socket)
{
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

/* Takes a whole message out of @in into @out, when it holds one. */
static gboolean
echo_take (EchoReader *in,
           guint8     *out)
{
  if (in->end - in->start < ECHO_SIZE)
    return FALSE;
  memcpy (out, in->data + in->start, ECHO_SIZE);
  in->start += ECHO_SIZE;
  if (in->start == in->end)
    in->start = in->end = 0;
  return TRUE;
}

/* A receive into the room left in @in. */
static AioFuture *
echo_fill (EchoPeer *peer)
{
  EchoReader *in = &peer->in;

  if (in->start > 0)
    {
      memmove (in->data, in->data + in->start, in->end - in->start);
      in->end -= in->start;
      in->start = 0;
    }
  return aio_socket_receive (peer->socket, in->data + in->end, sizeof in->data - in->end);
}

static void
echo_format (EchoPeer *peer)
{
  snprintf (peer->message, sizeof peer->message, "%6u %56u\n", peer->id, peer->seq);
}

static void
echo_peer_free (gpointer data)
{
  EchoPeer *peer = data;

  g_clear_object (&peer->stream);
  g_clear_object (&peer->socket);
  g_free (peer);
}

/* A fiber's receive into the room left, and its send of a whole message:
 * on aio_socket_*, or for fiber-gio through GIO's streams and their
 * _async calls (a GTask and a GSource per call), awaited with
 * aio_await_gio(). */
static gint64
echo_receive_await (EchoPeer  *peer,
                    GError   **error)
{
  GInputStream *in;
  g_autoptr(GAsyncResult) result = NULL;
  gsize room;

  if (!bench.gio)
    return aio_await_int64 (echo_fill (peer), error);

  if (peer->stream == NULL)
    peer->stream = G_IO_STREAM (g_socket_connection_factory_create_connection (peer->socket));
  in = g_io_stream_get_input_stream (peer->stream);
  room = sizeof peer->in.data - peer->in.end;
  result = aio_await_gio (AIO_GIO_START (g_input_stream_read_async, in,
                                         peer->in.data + peer->in.end, room,
                                         G_PRIORITY_DEFAULT), error);
  if (result == NULL)
    return -1;
  return g_input_stream_read_finish (in, result, error);
}

static gboolean
echo_send_await (EchoPeer   *peer,
                 const void *data)
{
  GOutputStream *out;
  g_autoptr(GAsyncResult) result = NULL;

  if (!bench.gio)
    return aio_await (aio_socket_send_all (peer->socket, data, ECHO_SIZE), NULL);

  if (peer->stream == NULL)
    peer->stream = G_IO_STREAM (g_socket_connection_factory_create_connection (peer->socket));
  out = g_io_stream_get_output_stream (peer->stream);
  result = aio_await_gio (AIO_GIO_START (g_output_stream_write_all_async, out, data, ECHO_SIZE,
                                         G_PRIORITY_DEFAULT), NULL);
  return result != NULL && g_output_stream_write_all_finish (out, result, NULL, NULL);
}

/* The server's end of a connection ended: cleanly if at a message
 * boundary with nothing else wrong. */
static void
echo_handler_end (EchoPeer *peer,
                  gboolean  eof)
{
  bench.clean += eof && peer->in.end == peer->in.start;
  bench.server_closed++;
  g_socket_close (peer->socket, NULL);
}

static void
echo_handler_fiber (AioTask  *task,
                    gpointer  data)
{
  EchoPeer *peer = data;
  guint8 message[ECHO_SIZE];

  for (;;)
    {
      gint64 got;

      while (!echo_take (&peer->in, message))
        {
          g_autoptr(GError) error = NULL;

          got = echo_receive_await (peer, &error);
          if (got <= 0)
            {
              echo_handler_end (peer, error == NULL);
              return;
            }
          peer->in.end += got;
        }
      if (!echo_send_await (peer, message))
        {
          echo_handler_end (peer, FALSE);
          return;
        }
      bench.served++;
    }
}

static void
echo_client_fiber (AioTask  *task,
                   gpointer  data)
{
  EchoPeer *peer = data;
  guint8 reply[ECHO_SIZE];

  peer->socket = echo_socket_new ();
  if (!aio_await (aio_socket_connect (peer->socket, bench.echo_address), NULL))
    return;
  echo_nodelay (peer->socket);

  for (peer->seq = 0; peer->seq < peer->trips; peer->seq++)
    {
      echo_format (peer);
      if (!echo_send_await (peer, peer->message))
        return;
      while (!echo_take (&peer->in, reply))
        {
          gint64 got = echo_receive_await (peer, NULL);

          if (got <= 0)
            return;
          peer->in.end += got;
        }
      bench.good_trips += memcmp (reply, peer->message, ECHO_SIZE) == 0;
    }
  bench.clients_closed += g_socket_close (peer->socket, NULL);
}

static void
echo_server_fiber (AioTask  *task,
                   gpointer  data)
{
  AioFuture *handlers[ECHO_CLIENTS];

  for (guint c = 0; c < ECHO_CLIENTS; c++)
    {
      EchoPeer *peer = g_new0 (EchoPeer, 1);

      peer->socket = aio_await_object (aio_socket_accept (bench.echo_listener), NULL);
      g_assert (peer->socket != NULL);
      echo_nodelay (peer->socket);
      handlers[c] = AIO_FUTURE (aio_create_task (echo_handler_fiber, peer, echo_peer_free));
    }
  aio_await (aio_gatherv (handlers, ECHO_CLIENTS, FALSE), NULL);
}

/* The stepped bodies are the same loops as state machines. */
enum { ECHO_START, ECHO_CONNECTED, ECHO_SENT, ECHO_RECEIVED };

static AioFuture *
echo_handler_step (AioTask   *task,
                   AioFuture *completed,
                   gpointer   data)
{
  EchoPeer *peer = data;
  guint8 *message = (guint8 *) peer->message;

  switch (peer->state)
    {
    case ECHO_SENT:
      if (!aio_future_is_resolved (completed))
        {
          echo_handler_end (peer, FALSE);
          return NULL;
        }
      bench.served++;
      break;

    case ECHO_RECEIVED:
      {
        gint64 got = aio_future_is_resolved (completed) ? aio_future_get_int64 (completed, NULL) : -1;

        if (got <= 0)
          {
            echo_handler_end (peer, got == 0);
            return NULL;
          }
        peer->in.end += got;
      }
      break;

    default:
      break;
    }

  if (echo_take (&peer->in, message))
    {
      peer->state = ECHO_SENT;
      return aio_socket_send_all (peer->socket, message, ECHO_SIZE);
    }
  peer->state = ECHO_RECEIVED;
  return echo_fill (peer);
}

static AioFuture *
echo_client_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   data)
{
  EchoPeer *peer = data;
  guint8 reply[ECHO_SIZE];

  switch (peer->state)
    {
    case ECHO_START:
      peer->socket = echo_socket_new ();
      peer->state = ECHO_CONNECTED;
      return aio_socket_connect (peer->socket, bench.echo_address);

    case ECHO_CONNECTED:
      if (!aio_future_is_resolved (completed))
        return NULL;
      echo_nodelay (peer->socket);
      break;

    case ECHO_SENT:
      if (!aio_future_is_resolved (completed))
        return NULL;
      break;

    case ECHO_RECEIVED:
    default:
      {
        gint64 got = aio_future_is_resolved (completed) ? aio_future_get_int64 (completed, NULL) : -1;

        if (got <= 0)
          return NULL;
        peer->in.end += got;
      }
      break;
    }

  if (peer->state != ECHO_CONNECTED)
    {
      /* Waiting for the reply to message seq. */
      if (!echo_take (&peer->in, reply))
        {
          peer->state = ECHO_RECEIVED;
          return echo_fill (peer);
        }
      bench.good_trips += memcmp (reply, peer->message, ECHO_SIZE) == 0;
      peer->seq++;
    }

  if (peer->seq == peer->trips)
    {
      bench.clients_closed += g_socket_close (peer->socket, NULL);
      return NULL;
    }
  echo_format (peer);
  peer->state = ECHO_SENT;
  return aio_socket_send_all (peer->socket, peer->message, ECHO_SIZE);
}

typedef struct
{
  guint       accepted;
  AioFuture  *handlers[ECHO_CLIENTS];
} EchoServer;

static AioFuture *
echo_server_step (AioTask   *task,
                  AioFuture *completed,
                  gpointer   data)
{
  EchoServer *server = data;

  if (completed != NULL && server->accepted < ECHO_CLIENTS)
    {
      EchoPeer *peer = g_new0 (EchoPeer, 1);

      peer->socket = aio_future_get_object (completed, NULL);
      g_assert (peer->socket != NULL);
      g_object_ref (peer->socket);
      echo_nodelay (peer->socket);
      server->handlers[server->accepted++] =
        AIO_FUTURE (aio_create_stepped_task (echo_handler_step, peer, echo_peer_free));
      if (server->accepted == ECHO_CLIENTS)
        return aio_gatherv (server->handlers, ECHO_CLIENTS, FALSE);
    }
  else if (completed != NULL)
    return NULL;

  return aio_socket_accept (bench.echo_listener);
}

/* Listens on 127.0.0.1, an ephemeral port: outside the measured phase. */
static void
echo_listen (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  bench.echo_listener = echo_socket_new ();
  /* All the clients connect at once: past a full accept queue the kernel
   * drops SYNs and retries them a second later. */
  g_socket_set_listen_backlog (bench.echo_listener, ECHO_CLIENTS);
  if (!g_socket_bind (bench.echo_listener, any_port, TRUE, &error) ||
      !g_socket_listen (bench.echo_listener, &error) ||
      (bench.echo_address = g_socket_get_local_address (bench.echo_listener, &error)) == NULL)
    g_error ("aio-bench: cannot listen on 127.0.0.1: %s", error->message);
}

/* Starts the clients and the server; items[0] is the server. */
static void
echo_begin (void)
{
  bench.items[0] = bench.stepped
    ? AIO_FUTURE (aio_create_stepped_task (echo_server_step, g_new0 (EchoServer, 1), g_free))
    : AIO_FUTURE (aio_create_task (echo_server_fiber, NULL, NULL));

  for (guint c = 0; c < ECHO_CLIENTS; c++)
    {
      EchoPeer *peer = g_new0 (EchoPeer, 1);

      /* n / C round trips per client; the first n mod C do one more. */
      peer->id = c;
      peer->trips = bench.n / ECHO_CLIENTS + (c < bench.n % ECHO_CLIENTS);
      bench.items[1 + c] = bench.stepped
        ? AIO_FUTURE (aio_create_stepped_task (echo_client_step, peer, echo_peer_free))
        : AIO_FUTURE (aio_create_task (echo_client_fiber, peer, echo_peer_free));
    }
}

static gboolean
echo_check (void)
{
  return aio_future_is_resolved (bench.gather) &&
         bench.good_trips == bench.n && bench.served == bench.n &&
         bench.clean == ECHO_CLIENTS && bench.server_closed == ECHO_CLIENTS &&
         bench.clients_closed == ECHO_CLIENTS;
}

/* ---- the main task --------------------------------------------------------- */

static AioTask *
spawn_child (AioTaskFunc fiber,
             AioStepFunc step,
             gpointer    data)
{
  return bench.stepped ? aio_create_stepped_task (step, data, NULL)
                       : aio_create_task (fiber, data, NULL);
}

/* Starts the measured phase and returns the future it ends with. */
static AioFuture *
workload_begin (void)
{
  const char *w = bench.workload;
  guint n = bench.n;

  bench.items = g_new0 (AioFuture *, MAX (n, 1 + ECHO_CLIENTS));
  measure_start ();

  if (strcmp (w, "spawn") == 0 || strcmp (w, "sleepers") == 0 ||
      strcmp (w, "cancel") == 0 || strcmp (w, "timers") == 0)
    {
      AioTaskFunc fiber = NULL;
      AioStepFunc step = NULL;

      if (strcmp (w, "spawn") == 0)
        fiber = spawn_fiber_child, step = spawn_step_child;
      else if (strcmp (w, "sleepers") == 0)
        fiber = sleepers_fiber_child, step = sleepers_step_child;
      else if (strcmp (w, "cancel") == 0)
        fiber = cancel_fiber_child, step = cancel_step_child;
      else
        fiber = timers_fiber_child, step = timers_step_child;

      for (guint i = 0; i < n; i++)
        bench.items[i] = AIO_FUTURE (spawn_child (fiber, step, GUINT_TO_POINTER (i)));
      return NULL;
    }

  if (strcmp (w, "echo") == 0)
    {
      echo_begin ();
      return NULL;
    }

  if (strcmp (w, "executor") == 0)
    {
      for (guint i = 0; i < n; i++)
        bench.items[i] = aio_run_in_executor (NULL, blocking_sum, NULL, NULL);
      return NULL;
    }

  /* pingpong */
  bench.to_a = aio_queue_new (1, NULL);
  bench.to_b = aio_queue_new (1, NULL);
  if (bench.stepped)
    {
      bench.items[0] = AIO_FUTURE (aio_create_stepped_task (ping_step, NULL, NULL));
      bench.items[1] = AIO_FUTURE (aio_create_stepped_task (pong_step, g_new0 (guint, 1), g_free));
    }
  else
    {
      bench.items[0] = AIO_FUTURE (aio_create_task (ping_fiber, NULL, NULL));
      bench.items[1] = AIO_FUTURE (aio_create_task (pong_fiber, NULL, NULL));
    }
  return NULL;
}

static guint
n_items (void)
{
  if (strcmp (bench.workload, "echo") == 0)
    return 1 + ECHO_CLIENTS;
  return strcmp (bench.workload, "pingpong") == 0 ? 2 : bench.n;
}

static AioFuture *
gather_items (gboolean return_exceptions)
{
  AioFuture *gather = aio_gatherv (bench.items, n_items (), return_exceptions);

  /* The gather took our references to the items. */
  memset (bench.items, 0, sizeof (AioFuture *) * n_items ());
  bench.gather = g_object_ref (gather);
  return gather;
}

static gboolean
workload_check (void)
{
  const char *w = bench.workload;
  gdouble seconds = (bench.t1 - bench.t0) / 1e6;

  if (strcmp (w, "spawn") == 0)
    return check_children (bench.gather, returned_index);
  if (strcmp (w, "sleepers") == 0)
    return check_children (bench.gather, returned_index) && bench.gauge_peak == bench.n &&
           seconds >= SLEEPERS_DELAY && seconds < SLEEPERS_DELAY + 1.0 + bench.n * 50e-6;
  if (strcmp (w, "cancel") == 0)
    return check_children (bench.gather, was_cancelled) && seconds < CANCEL_DELAY / 2;
  if (strcmp (w, "executor") == 0)
    return check_children (bench.gather, summed);
  if (strcmp (w, "timers") == 0)
    return aio_future_is_resolved (bench.gather) && check_timers ();
  if (strcmp (w, "echo") == 0)
    return echo_check ();
  return aio_future_is_resolved (bench.gather) &&
         bench.good_trips == bench.n && bench.token == bench.n;
}

static void
main_fiber (AioTask  *task,
            gpointer  data)
{
  workload_begin ();

  if (strcmp (bench.workload, "cancel") == 0)
    {
      /* Let every task start and park in its sleep. */
      aio_yield (NULL);
      for (guint i = 0; i < bench.n; i++)
        aio_future_cancel (bench.items[i], NULL);
      aio_await (gather_items (TRUE), NULL);
    }
  else
    aio_await (gather_items (FALSE), NULL);

  measure_stop ();
}

static AioFuture *
main_step (AioTask   *task,
           AioFuture *completed,
           gpointer   data)
{
  guint *state = data;

  switch ((*state)++)
    {
    case 0:
      workload_begin ();
      if (strcmp (bench.workload, "cancel") == 0)
        return aio_yield_future ();
      (*state)++;
      return gather_items (FALSE);

    case 1:
      for (guint i = 0; i < bench.n; i++)
        aio_future_cancel (bench.items[i], NULL);
      return gather_items (TRUE);

    default:
      measure_stop ();
      return NULL;
    }
}

static guint
default_n (const char *workload)
{
  if (strcmp (workload, "pingpong") == 0 || strcmp (workload, "echo") == 0)
    return 200000;
  if (strcmp (workload, "executor") == 0)
    return 20000;
  return 100000;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const workloads[] = {
    "spawn", "sleepers", "pingpong", "cancel", "executor", "timers", "echo",
  };
  g_autoptr(AioLoop) loop = NULL;
  g_autoptr(AioTask) main_task = NULL;
  gboolean known = FALSE;
  guint state = 0;

  if (argc < 3 || argc > 4 ||
      (strcmp (argv[1], "fiber") != 0 && strcmp (argv[1], "stepped") != 0 &&
       strcmp (argv[1], "fiber-gio") != 0))
    {
      fprintf (stderr, "usage: aio-bench {fiber|stepped|fiber-gio} {spawn|sleepers|pingpong|cancel|executor|timers|echo} [N]\n");
      return 2;
    }

  for (guint i = 0; i < G_N_ELEMENTS (workloads); i++)
    known |= strcmp (argv[2], workloads[i]) == 0;
  if (!known)
    {
      fprintf (stderr, "aio-bench: unknown workload %s\n", argv[2]);
      return 2;
    }

  bench.stepped = strcmp (argv[1], "stepped") == 0;
  bench.gio = strcmp (argv[1], "fiber-gio") == 0;
  bench.workload = argv[2];
  bench.n = argc == 4 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : default_n (argv[2]);
  if (bench.n == 0)
    {
      fprintf (stderr, "aio-bench: N must be positive\n");
      return 2;
    }
  bench.extra = g_string_new (NULL);
  if (strcmp (bench.workload, "timers") == 0)
    {
      bench.deadline = g_new0 (gdouble, bench.n);
      bench.woke_at = g_new0 (gdouble, bench.n);
      bench.woken = g_new0 (guint, bench.n);
    }

  loop = aio_loop_new ();
  if (strcmp (bench.workload, "echo") == 0)
    echo_listen ();
  if (bench.stepped)
    main_task = aio_loop_create_stepped_task (loop, main_step, &state, NULL);
  else
    main_task = aio_loop_create_task (loop, main_fiber, NULL, NULL);
  aio_loop_run_until_complete (loop, AIO_FUTURE (main_task), NULL);

  bench.ok = bench.t1 > 0 && workload_check ();

  printf ("{\"workload\": \"%s\", \"impl\": \"%s\", \"n\": %u, \"seconds\": %.6f, "
          "\"per_item_us\": %.3f, \"base_rss_kb\": %ld, \"peak_rss_kb\": %ld, \"ok\": %s%s}\n",
          bench.workload, bench.stepped ? "aio-stepped" : bench.gio ? "aio-fiber-gio" : "aio-fiber", bench.n,
          (bench.t1 - bench.t0) / 1e6, (bench.t1 - bench.t0) / (gdouble) bench.n,
          bench.base_rss_kb, bench.peak_rss_kb, bench.ok ? "true" : "false", bench.extra->str);
  fflush (stdout);

  /* Tearing down 100 000 tasks is not part of the measurement, and the
   * process is about to end: leave it to the kernel. */
  _exit (bench.ok ? 0 : 1);
}
