/* aio-socket.c: awaitable GSocket I/O on the loop's own descriptor watches
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Socket operations that tasks await without GIO's `_async` machinery (a
 * GTask, a GSource and a GCancellable per call).  Each operation is a
 * future; it first tries its system call at once on the socket's
 * non-blocking descriptor, and only when that would block does it wait,
 * as the socket's reader or writer, for the loop's epoll set to say the
 * descriptor became ready (see aio-io.c).  A socket's state (its watch,
 * what it waits for, what it knows of its readiness) hangs off the
 * GSocket as qdata, made on its first operation and freed with it.
 *
 * An operation that completes at once returns a done future, so awaiting
 * it from a fiber does not even switch stacks.  One that waits costs no
 * system call beyond the I/O itself: the descriptor stays registered,
 * edge-triggered, for the socket's life.
 *
 * Ownership, while an operation waits: the socket's state holds a
 * reference to the operation (as its reader or writer), and the operation
 * holds one to the socket.  The cycle ends when the operation completes,
 * is cancelled, or the loop is closed. */

/* accept4() */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aio-error.h"
#include "aio-future-private.h"
#include "aio-io-private.h"
#include "aio-socket.h"

typedef enum
{
  OP_RECEIVE,
  OP_RECEIVE_BYTES,
  OP_SEND,
  OP_SEND_ALL,
  OP_ACCEPT,
  OP_CONNECT,
} OpKind;

typedef struct _SocketState SocketState;

typedef struct
{
  AioFuture    parent_instance;


  /* Owned while the operation waits (@attached); borrowed while
   * aio_socket_*() makes its first attempt; NULL otherwise. */
  GSocket     *socket;
  /* Not owned: the socket's state, while @attached. */
  SocketState *state;
  /* Owned by OP_RECEIVE_BYTES (the buffer) and the *_bytes sends. */
  GBytes      *bytes;

  /* Not owned: the caller's buffer, or @bytes' data. */
  gpointer     buffer;
  gsize        size;
  gsize        done;       /* bytes sent so far by OP_SEND_ALL */

  guint8       kind;       /* OpKind */
  gboolean     attached;   /* the socket's state holds a reference */
} AioSocketOp;

typedef struct
{
  AioFutureClass parent_class;
} AioSocketOpClass;

static GType aio_socket_op_get_type (void);
G_DEFINE_FINAL_TYPE (AioSocketOp, aio_socket_op, AIO_TYPE_FUTURE)

struct _SocketState
{
  AioIoWatch    watch;        /* first: the watch is the state */

  /* Not owned: the state lives and dies with the socket's qdata. */
  GSocket      *socket;

  /* Owned references; NULL when nothing waits in that direction.  Loop
   * thread only. */
  AioSocketOp  *reader;
  AioSocketOp  *writer;

  /* What the descriptor last said: cleared when a call would block (or a
   * stream's receive came back short), set by the loop's events. */
  guint         readable : 1;
  guint         writable : 1;
  guint         stream : 1;
  guint         hangup : 1;   /* no more edges to wait for: stays readable */
  guint         in_ready : 1; /* socket_state_ready() is on the stack */
  guint         dead : 1;     /* the socket is gone; freed when that returns */
};

static GQuark socket_state_quark;

static gboolean
op_is_reader (AioSocketOp *op)
{
  return op->kind == OP_RECEIVE || op->kind == OP_RECEIVE_BYTES || op->kind == OP_ACCEPT;
}

/* The socket's state stops holding @op, and @op the socket: this may
 * finalize the socket, and its state with it, unless the caller holds a
 * reference.  Loop thread only. */
static void
op_detach (AioSocketOp *op)
{
  SocketState *state = op->state;

  if (!op->attached)
    return;

  op->attached = FALSE;
  op->state = NULL;
  if (state->reader == op)
    state->reader = NULL;
  else
    {
      g_assert (state->writer == op);
      state->writer = NULL;
    }
  g_clear_object (&op->socket);
  _aio_future_unref ((AioFuture *) op);
}

/* The outcome of one attempt at an operation. */
typedef enum
{
  ATTEMPT_WOULD_BLOCK,
  ATTEMPT_RESOLVED,
  ATTEMPT_FAILED,
} Attempt;

/* GSocket's wording, with the system's reason. */
static Attempt
fail_errno (GError     **error,
            OpKind       kind,
            int          saved_errno)
{
  const char *reason = g_strerror (saved_errno);
  int code = g_io_error_from_errno (saved_errno);

  switch (kind)
    {
    case OP_RECEIVE:
    case OP_RECEIVE_BYTES:
      g_set_error (error, G_IO_ERROR, code, _("Error receiving data: %s"), reason);
      break;
    case OP_ACCEPT:
      g_set_error (error, G_IO_ERROR, code, _("Error accepting connection: %s"), reason);
      break;
    case OP_SEND:
    case OP_SEND_ALL:
    case OP_CONNECT:
    default:
      g_set_error (error, G_IO_ERROR, code, _("Error sending data: %s"), reason);
      break;
    }
  return ATTEMPT_FAILED;
}

static Attempt
attempt_receive (AioSocketOp  *op,
                 SocketState  *state,
                 gint64       *result,
                 GError      **error)
{
  gssize n;

  do
    n = recv (state->watch.fd, op->buffer, op->size, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int saved_errno = errno;

      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
        {
          state->readable = FALSE;
          return ATTEMPT_WOULD_BLOCK;
        }
      return fail_errno (error, op->kind, saved_errno);
    }

  /* A stream socket that gave less than was asked has nothing more
   * queued: wait for the next event rather than try a recv() that would
   * only block.  (Not so for datagrams, which come one per call, nor
   * once the peer has closed: the end of the stream, which follows the
   * data, comes with no event of its own.) */
  if (state->stream && n > 0 && (gsize) n < op->size && !state->hangup)
    state->readable = FALSE;

  *result = n;
  return ATTEMPT_RESOLVED;
}

static Attempt
attempt_send (AioSocketOp  *op,
              SocketState  *state,
              gint64       *result,
              GError      **error)
{
  for (;;)
    {
      gssize n = send (state->watch.fd, (const guint8 *) op->buffer + op->done,
                       op->size - op->done, MSG_NOSIGNAL);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
            {
              state->writable = FALSE;
              return ATTEMPT_WOULD_BLOCK;
            }
          return fail_errno (error, op->kind, saved_errno);
        }

      op->done += n;
      if (op->kind == OP_SEND || op->done == op->size)
        {
          *result = op->kind == OP_SEND ? n : (gint64) op->done;
          return ATTEMPT_RESOLVED;
        }
      /* send_all: the rest goes in the next call, which most likely
       * blocks and then waits for room. */
    }
}

static Attempt
attempt_accept (AioSocketOp  *op,
                SocketState  *state,
                GSocket     **accepted,
                GError      **error)
{
  int fd;

  do
    fd = accept4 (state->watch.fd, NULL, NULL, SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
        {
          state->readable = FALSE;
          return ATTEMPT_WOULD_BLOCK;
        }
      return fail_errno (error, op->kind, saved_errno);
    }

  *accepted = g_socket_new_from_fd (fd, error);
  if (*accepted == NULL)
    {
      close (fd);
      return ATTEMPT_FAILED;
    }
  return ATTEMPT_RESOLVED;
}

static Attempt
attempt_connect (AioSocketOp  *op,
                 SocketState  *state,
                 GError      **error)
{
  /* A writable event may come before the connection is made (an
   * unconnected socket reports a hang-up): ask the socket. */
  if (!g_socket_condition_check (op->socket, G_IO_OUT))
    {
      state->writable = FALSE;
      return ATTEMPT_WOULD_BLOCK;
    }
  return g_socket_check_connect_result (op->socket, error) ? ATTEMPT_RESOLVED : ATTEMPT_FAILED;
}

/* Publishes @op's outcome: in the loop's dispatch (@now), its awaiters run
 * at once, else on the loop's next iteration. */
static void
op_complete (AioSocketOp *op,
             Attempt      attempt,
             gint64       result,
             GObject     *object,
             GError      *error,
             gboolean     now)
{
  AioFuture *future = (AioFuture *) op;
  AioFutureState state;

  /* Cancelled meanwhile from another thread: the outcome is dropped. */
  if (!_aio_future_try_claim (future))
    {
      g_clear_error (&error);
      g_clear_object (&object);
      return;
    }

  if (attempt == ATTEMPT_FAILED)
    {
      future->error = error;
      state = AIO_FUTURE_REJECTED;
    }
  else
    {
      state = AIO_FUTURE_RESOLVED;
      switch ((OpKind) op->kind)
        {
        case OP_RECEIVE_BYTES:
          {
            GValue *value = g_new0 (GValue, 1);
            gpointer data = g_bytes_unref_to_data (g_steal_pointer (&op->bytes), &op->size);

            g_value_init (value, G_TYPE_BYTES);
            g_value_take_boxed (value, result > 0 ? g_bytes_new_take (g_realloc (data, result), result)
                                                  : (g_free (data), g_bytes_new (NULL, 0)));
            future->value_type = AIO_VALUE_VALUE;
            future->value.p = value;
          }
          break;

        case OP_ACCEPT:
          future->value_type = AIO_VALUE_OBJECT;
          future->value.p = object;
          break;

        case OP_CONNECT:
          break;

        case OP_RECEIVE:
        case OP_SEND:
        case OP_SEND_ALL:
        default:
          future->value_type = AIO_VALUE_INT64;
          future->value.i = result;
          break;
        }
    }

  if (now)
    _aio_future_publish_now (future, state);
  else
    _aio_future_publish (future, state);
}

/* Tries @op once more.  Returns FALSE when it would block (it goes on
 * waiting); TRUE once it is done, detached and its outcome published. */
static gboolean
op_try (AioSocketOp *op,
        SocketState *state,
        gboolean     now)
{
  AioFuture *future = (AioFuture *) op;
  g_autoptr(GError) error = NULL;
  GSocket *accepted = NULL;
  gint64 result = 0;
  Attempt attempt;

  /* Cancelled from another thread while it waited: its buffer is not
   * ours any more. */
  if (g_atomic_int_get (&future->claimed) != 0)
    {
      op_detach (op);
      return TRUE;
    }

  switch ((OpKind) op->kind)
    {
    case OP_RECEIVE:
    case OP_RECEIVE_BYTES:
      attempt = attempt_receive (op, state, &result, &error);
      break;
    case OP_SEND:
    case OP_SEND_ALL:
      attempt = attempt_send (op, state, &result, &error);
      break;
    case OP_ACCEPT:
      attempt = attempt_accept (op, state, &accepted, &error);
      break;
    case OP_CONNECT:
    default:
      attempt = attempt_connect (op, state, &error);
      break;
    }

  if (attempt == ATTEMPT_WOULD_BLOCK)
    return FALSE;

  /* Detaching may drop the state's reference: keep the op until its
   * outcome is out.  (When waiting, the socket is kept by the caller,
   * socket_state_ready(); on the first attempt, by aio_socket_*()'s.) */
  _aio_ref (op);
  op_detach (op);
  op_complete (op, attempt, result, (GObject *) accepted, g_steal_pointer (&error), now);
  /* Most often the last reference: the awaiter ran inside op_complete()
   * and let go.  Back to the pool, not through GObject's dispose. */
  _aio_future_unref ((AioFuture *) op);
  return TRUE;
}

/* The loop says the descriptor became ready (or the loop is closing). */
static void
socket_state_ready (AioIoWatch *watch,
                    AioIoReady  ready,
                    gboolean    discard)
{
  SocketState *state = (SocketState *) watch;

  /* Completing an operation lets its awaiter run, which may drop the
   * last reference to the socket (the operation's own goes too): the
   * state then outlives the socket until this returns, instead of this
   * holding a reference (GSocket has qdata, so every reference change
   * takes GObject's slow path). */
  g_assert (!state->in_ready);
  state->in_ready = TRUE;

  if (discard)
    {
      /* The loop is closed: whoever awaits these is gone with it. */
      if (state->reader != NULL)
        op_detach (state->reader);
      if (!state->dead && state->writer != NULL)
        op_detach (state->writer);
    }
  else
    {
      if (ready & AIO_IO_READABLE)
        state->readable = TRUE;
      if (ready & AIO_IO_WRITABLE)
        state->writable = TRUE;
      if (ready & AIO_IO_HANGUP)
        state->hangup = TRUE;

      if (state->reader != NULL && state->readable)
        op_try (state->reader, state, TRUE);
      if (!state->dead && state->writer != NULL && state->writable)
        op_try (state->writer, state, TRUE);
    }

  state->in_ready = FALSE;
  if (state->dead)
    g_free (state);
}

static void
socket_state_free (gpointer data)
{
  SocketState *state = data;

  /* Waiting operations hold the socket: none can be left. */
  g_assert (state->reader == NULL && state->writer == NULL);
  _aio_loop_remove_io_watch (&state->watch);
  state->socket = NULL;
  if (state->in_ready)
    state->dead = TRUE;      /* socket_state_ready() frees it */
  else
    g_free (state);
}

/* The state of @socket on @loop, made (and the descriptor registered) on
 * first use.  Loop thread only. */
static SocketState *
socket_state_get (GSocket  *socket,
                  AioLoop  *loop,
                  GError  **error)
{
  SocketState *state = g_object_get_qdata (G_OBJECT (socket), socket_state_quark);

  if (G_LIKELY (state != NULL && state->watch.loop == loop))
    return state;

  if (state == NULL)
    {
      state = g_new0 (SocketState, 1);
      state->socket = socket;
      state->watch.func = socket_state_ready;
      state->stream = g_socket_get_socket_type (socket) == G_SOCKET_TYPE_STREAM;
      g_object_set_qdata_full (G_OBJECT (socket), socket_state_quark, state, socket_state_free);
    }
  else if (state->watch.loop != NULL)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_INVALID_STATE,
                           _("The socket is in use by another event loop"));
      return NULL;
    }

  /* New, or its loop was closed: (re-)register on this one, and learn
   * its readiness afresh by trying. */
  if (!_aio_loop_add_io_watch (loop, &state->watch, g_socket_get_fd (socket), error))
    return NULL;
  state->readable = state->writable = TRUE;
  return state;
}

/* Starts @op, filled in, on @socket.  Returns the future. */
static AioFuture *
op_start (AioSocketOp *op,
          GSocket     *socket,
          OpKind       kind)
{
  AioFuture *future = (AioFuture *) op;
  AioLoop *loop = future->loop;
  g_autoptr(GError) error = NULL;
  AioSocketOp **slot;
  SocketState *state;
  gboolean acquired;

  /* Borrowed for the first attempt; owned if the operation waits. */
  op->socket = socket;
  op->kind = kind;

  if (!_aio_loop_enter (loop, &acquired))
    {
      g_critical ("aio_socket: the loop %p runs in another thread", loop);
      op->socket = NULL;
      _aio_unref (op);
      return NULL;
    }

  if (g_socket_is_closed (socket))
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("Socket is already closed"));
      goto failed;
    }

  state = socket_state_get (socket, loop, &error);
  if (state == NULL)
    goto failed;

  slot = op_is_reader (op) ? &state->reader : &state->writer;

  /* One cancelled from another thread, that no event has come for since:
   * it only waits to be dropped. */
  if (*slot != NULL && g_atomic_int_get (&((AioFuture *) *slot)->claimed) != 0)
    op_detach (*slot);

  if (*slot != NULL)
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           op_is_reader (op)
                             ? _("The socket has another receive or accept pending")
                             : _("The socket has another send or connect pending"));
      goto failed;
    }

  if (kind == OP_CONNECT)
    {
      /* The connect was started by the caller; wait for it. */
      state->writable = FALSE;
    }
  else if (op_is_reader (op) ? state->readable : state->writable)
    {
      if (op_try (op, state, FALSE))
        {
          op->socket = NULL;
          _aio_loop_leave (loop, acquired);
          return future;
        }
    }

  *slot = _aio_ref (op);
  g_object_ref (socket);
  op->state = state;
  op->attached = TRUE;
  _aio_loop_leave (loop, acquired);
  return future;

failed:
  op->socket = NULL;
  op_complete (op, ATTEMPT_FAILED, 0, NULL, g_steal_pointer (&error), FALSE);
  _aio_loop_leave (loop, acquired);
  return future;
}

static AioSocketOp *
op_new (void)
{
  return _aio_future_new (aio_socket_op_get_type (), NULL);
}

static gboolean
aio_socket_op_cancel (AioFuture  *future,
                      const char *message)
{
  AioSocketOp *op = (AioSocketOp *) future;
  gboolean acquired;

  if (!_aio_future_cancel_now (future, message, FALSE))
    return FALSE;

  /* Stop waiting now, in the loop's thread: the socket is free for the
   * next operation, and nothing was read into the buffer.  From another
   * thread, the op stays the socket's reader or writer until the loop
   * finds it cancelled. */
  if (op->attached && _aio_loop_enter (future->loop, &acquired))
    {
      _aio_ref (op);
      op_detach (op);
      _aio_loop_leave (future->loop, acquired);
      _aio_future_unref (future);
    }

  return TRUE;
}

static void
aio_socket_op_reset (AioSocketOp *self)
{
  g_assert (!self->attached && self->socket == NULL && self->state == NULL);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  self->buffer = NULL;
  self->size = self->done = 0;
  self->kind = OP_RECEIVE;
}

static gboolean
aio_socket_op_recycle (AioFuture *future)
{
  aio_socket_op_reset ((AioSocketOp *) future);
  return TRUE;
}

static void
aio_socket_op_finalize (GObject *object)
{
  aio_socket_op_reset ((AioSocketOp *) object);

  G_OBJECT_CLASS (aio_socket_op_parent_class)->finalize (object);
}

static void
aio_socket_op_class_init (AioSocketOpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  socket_state_quark = g_quark_from_static_string ("aio-socket-state");

  object_class->finalize = aio_socket_op_finalize;
  future_class->cancel = aio_socket_op_cancel;
  future_class->recycle = aio_socket_op_recycle;
}

static void
aio_socket_op_init (AioSocketOp *self)
{
}

/* Starts an operation on the caller's @buffer, which stays theirs: a
 * receive writes into it, a send only reads it. */
static AioFuture *
buffer_op_start (GSocket    *socket,
                 const void *buffer,
                 gsize       size,
                 OpKind      kind)
{
  AioSocketOp *op = op_new ();

  op->buffer = (gpointer) buffer;
  op->size = size;
  return op_start (op, socket, kind);
}

/**
 * aio_socket_receive: (skip)
 * @socket: a `GSocket`
 * @buffer: (array length=size) (element-type guint8): where the data goes;
 *   it must stay valid until the future is done
 * @size: the size of @buffer
 *
 * Receives up to @size bytes from @socket (`recv()`).
 *
 * The future resolves with the number of bytes received (an `int64`, read
 * it with `aio_await_int64()` or [method@Aio.Future.get_int64]); 0
 * means the peer closed the connection (end of stream), or @size was 0.
 * It is rejected with the `G_IO_ERROR` GIO would report for the same
 * `recv()` (`G_IO_ERROR_CONNECTION_CLOSED` for a connection reset, say),
 * or `G_IO_ERROR_PENDING` while another receive or accept on @socket is
 * pending.
 *
 * When data is there already, the future is done when this returns.
 * Otherwise it waits on the loop's own watch of the socket's descriptor,
 * with no `GSource`, thread or allocation beyond the future.
 *
 * Cancelling the future (cancelling the task that awaits it, or a
 * [func@Aio.wait_for] deadline) stops the wait at once and never loses
 * data: a cancelled receive has read nothing, and the socket takes the
 * next receive.
 *
 * @socket must stay open while the receive is pending, and be used from
 * one loop only. For TLS or any other `GIOStream`, use GIO's streams; see
 * the sockets page of the documentation.
 *
 * Returns: (transfer full): a future for the number of bytes received
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_receive (GSocket *socket,
                    void    *buffer,
                    gsize    size)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (buffer != NULL || size == 0, NULL);

  return buffer_op_start (socket, buffer, size, OP_RECEIVE);
}

/**
 * aio_socket_receive_bytes: (rename-to aio_socket_receive)
 * @socket: a `GSocket`
 * @max_size: the most bytes to receive
 *
 * Like [func@Aio.socket_receive], into a buffer of its own: the future
 * resolves with a `GBytes` of what was received, empty at the end of
 * the stream. This is the form for language bindings.
 *
 * Returns: (transfer full): a future for a `GBytes`
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_receive_bytes (GSocket *socket,
                          gsize    max_size)
{
  AioSocketOp *op;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);

  op = op_new ();
  op->buffer = g_malloc (MAX (max_size, 1));
  op->size = max_size;
  op->bytes = g_bytes_new_take (op->buffer, MAX (max_size, 1));
  return op_start (op, socket, OP_RECEIVE_BYTES);
}

/**
 * aio_socket_send: (skip)
 * @socket: a connected `GSocket`
 * @buffer: (array length=size) (element-type guint8): the data; it must
 *   stay valid until the future is done
 * @size: the size of @buffer
 *
 * Sends up to @size bytes on @socket (`send()`), waiting until the socket
 * takes at least one.
 *
 * The future resolves with the number of bytes sent (an `int64`), which
 * may be less than @size; [func@Aio.socket_send_all] sends them all. It
 * is rejected with the `G_IO_ERROR` GIO would report
 * (`G_IO_ERROR_BROKEN_PIPE` once the peer is gone, say), or
 * `G_IO_ERROR_PENDING` while another send or connect on @socket is
 * pending. `SIGPIPE` is never raised.
 *
 * Cancelling the future stops the wait; a cancelled send has sent
 * nothing.
 *
 * Returns: (transfer full): a future for the number of bytes sent
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_send (GSocket    *socket,
                 const void *buffer,
                 gsize       size)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (buffer != NULL || size == 0, NULL);

  return buffer_op_start (socket, buffer, size, OP_SEND);
}

/**
 * aio_socket_send_all: (skip)
 * @socket: a connected `GSocket`
 * @buffer: (array length=size) (element-type guint8): the data; it must
 *   stay valid until the future is done
 * @size: the size of @buffer
 *
 * Sends all @size bytes on @socket, in as many `send()` calls as it
 * takes, waiting for room in between (asyncio's `write()` and `drain()`
 * in one). The future resolves with @size (an `int64`), or is rejected as
 * [func@Aio.socket_send] is.
 *
 * Cancelling the future stops the sending; what was sent before stays
 * sent, so the stream is then cut in the middle of the data.
 *
 * Returns: (transfer full): a future for the number of bytes sent
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_send_all (GSocket    *socket,
                     const void *buffer,
                     gsize       size)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (buffer != NULL || size == 0, NULL);

  return buffer_op_start (socket, buffer, size, OP_SEND_ALL);
}

static AioFuture *
send_bytes (GSocket *socket,
            GBytes  *bytes,
            OpKind   kind)
{
  AioSocketOp *op = op_new ();

  op->bytes = g_bytes_ref (bytes);
  op->buffer = (gpointer) g_bytes_get_data (bytes, &op->size);
  return op_start (op, socket, kind);
}

/**
 * aio_socket_send_bytes: (rename-to aio_socket_send)
 * @socket: a connected `GSocket`
 * @bytes: the data, kept until the future is done
 *
 * Like [func@Aio.socket_send], for the data of @bytes. This is the form
 * for language bindings.
 *
 * Returns: (transfer full): a future for the number of bytes sent
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_send_bytes (GSocket *socket,
                       GBytes  *bytes)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  return send_bytes (socket, bytes, OP_SEND);
}

/**
 * aio_socket_send_all_bytes: (rename-to aio_socket_send_all)
 * @socket: a connected `GSocket`
 * @bytes: the data, kept until the future is done
 *
 * Like [func@Aio.socket_send_all], for the data of @bytes. This is the
 * form for language bindings.
 *
 * Returns: (transfer full): a future for the number of bytes sent
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_send_all_bytes (GSocket *socket,
                           GBytes  *bytes)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);

  return send_bytes (socket, bytes, OP_SEND_ALL);
}

/**
 * aio_socket_accept:
 * @socket: a listening `GSocket`
 *
 * Accepts a connection on @socket (`g_socket_accept()`), waiting for one
 * on the loop's watch of the socket.
 *
 * The future resolves with the new, connected `GSocket` (read it with
 * `aio_await_object()` or [method@Aio.Future.get_object]), or is rejected with the `G_IO_ERROR` GIO
 * would report. Cancelling it stops the wait; no connection is taken.
 *
 * Returns: (transfer full): a future for a `GSocket`
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_accept (GSocket *socket)
{
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);

  return op_start (op_new (), socket, OP_ACCEPT);
}

/**
 * aio_socket_connect:
 * @socket: a `GSocket`
 * @address: the address to connect to
 *
 * Connects @socket to @address (`g_socket_connect()`) without blocking
 * the loop, whether @socket is blocking or not.
 *
 * The future resolves with no value once the connection is made, or is
 * rejected with the `G_IO_ERROR` GIO would report
 * (`G_IO_ERROR_CONNECTION_REFUSED`, say). Cancelling it stops the wait;
 * the socket is then neither connected nor usable for another connect.
 *
 * Returns: (transfer full): a future
 *
 * Since: 1.0
 */
AioFuture *
aio_socket_connect (GSocket        *socket,
                    GSocketAddress *address)
{
  g_autoptr(GError) error = NULL;
  AioSocketOp *op;
  gboolean blocking;
  gboolean connected;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), NULL);

  op = op_new ();

  /* GSocket's connect waits in poll() on a blocking socket: make it
   * return G_IO_ERROR_PENDING instead, and wait on the loop. */
  blocking = g_socket_get_blocking (socket);
  g_socket_set_blocking (socket, FALSE);
  connected = g_socket_connect (socket, address, NULL, &error);
  g_socket_set_blocking (socket, blocking);

  if (connected)
    {
      aio_future_resolve ((AioFuture *) op);
      return (AioFuture *) op;
    }
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
    {
      aio_future_reject ((AioFuture *) op, g_steal_pointer (&error));
      return (AioFuture *) op;
    }

  return op_start (op, socket, OP_CONNECT);
}
