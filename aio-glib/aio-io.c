/* aio-io.c: file descriptor readiness on the loop's own source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A loop that watches descriptors gets a fourth source, made on the first
 * watch, holding one epoll descriptor (added with g_source_add_unix_fd()).
 * Each watched descriptor is registered in that epoll set once, for its
 * whole life, edge-triggered for both directions: waiting for a socket
 * then costs no system call at all (no epoll_ctl(), no change to the
 * context's poll set, no wake-up of the context), and the context polls
 * one descriptor however many sockets the loop serves.  When the epoll
 * descriptor is readable, the source's dispatch collects the events with
 * epoll_wait() and calls each watch's function right there, so a task
 * waiting for a socket resumes in the same dispatch.
 *
 * The kernel hands back 64 bits with each event.  They hold a slot index
 * and the slot's generation, not a pointer: a descriptor that was dup()ed
 * stays in the epoll set after its watch is gone, and its events must find
 * a stale slot, never freed memory. */

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "aio-io-private.h"
#include "aio-loop-sources-private.h"
#include "aio-object-private.h"

#define IO_EVENTS_PER_DISPATCH 128
#define SLOT_NONE              G_MAXUINT32

typedef struct
{
  AioIoWatch *watch;       /* NULL when free */
  guint32     generation;  /* bumped each time the slot is freed */
  guint32     next_free;
} IoSlot;

struct _AioLoopIo
{
  GSource             *source;      /* owned, attached to the loop's context */
  int                  epoll_fd;    /* owned */
  GArray              *slots;       /* IoSlot */
  guint32              free_head;
  guint                n_watches;
  struct epoll_event  *events;      /* IO_EVENTS_PER_DISPATCH of them */
};

typedef struct
{
  GSource  source;
  AioLoop *loop;
} IoSource;

static inline guint64
slot_token (guint32 index,
            guint32 generation)
{
  return ((guint64) generation << 32) | index;
}

static gboolean
io_dispatch (GSource     *source,
             GSourceFunc  callback,
             gpointer     user_data)
{
  AioLoop *loop = _aio_ref (((IoSource *) source)->loop);
  AioLoop *previous;
  AioLoopIo *io = loop->io;
  int n;

  /* Nothing of the loop's runs in an iteration nested in one of its
   * callbacks (see aio-loop-sources.c). */
  if (!_aio_loop_begin_dispatch (loop, &previous))
    {
      _aio_unref (loop);
      return G_SOURCE_CONTINUE;
    }

  do
    n = epoll_wait (io->epoll_fd, io->events, IO_EVENTS_PER_DISPATCH, 0);
  while (n < 0 && errno == EINTR);

  for (int i = 0; i < n; i++)
    {
      guint64 token = io->events[i].data.u64;
      guint32 events = io->events[i].events;
      guint32 index = (guint32) token;
      AioIoReady ready = 0;
      IoSlot *slot;

      /* Earlier watches' functions may have removed (or replaced) this
       * one, or closed the loop: look the slot up again every time. */
      if (loop->io != io || index >= io->slots->len)
        break;
      slot = &g_array_index (io->slots, IoSlot, index);
      if (slot->watch == NULL || slot->generation != (guint32) (token >> 32))
        continue;

      /* A hang-up or an error is readiness for both directions: the next
       * operation reports it. */
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        ready |= AIO_IO_READABLE;
      if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        ready |= AIO_IO_WRITABLE;
      if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        ready |= AIO_IO_HANGUP;
      slot->watch->func (slot->watch, ready, FALSE);
    }

  _aio_loop_end_dispatch (loop, previous);
  _aio_unref (loop);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs io_funcs = {
  NULL,
  NULL,
  io_dispatch,
  NULL, NULL, NULL,
};

static AioLoopIo *
io_new (AioLoop  *loop,
        GError  **error)
{
  AioLoopIo *io;
  int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);

  if (epoll_fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the loop’s poll set: %s"), g_strerror (saved_errno));
      return NULL;
    }

  io = g_new0 (AioLoopIo, 1);
  io->epoll_fd = epoll_fd;
  io->slots = g_array_new (FALSE, FALSE, sizeof (IoSlot));
  io->free_head = SLOT_NONE;
  io->events = g_new (struct epoll_event, IO_EVENTS_PER_DISPATCH);

  io->source = g_source_new (&io_funcs, sizeof (IoSource));
  ((IoSource *) io->source)->loop = loop;
  g_source_set_name (io->source, "[aio-glib] sockets");
  g_source_set_can_recurse (io->source, FALSE);
  g_source_set_priority (io->source, loop->priority);
  g_source_add_unix_fd (io->source, epoll_fd, G_IO_IN);
  g_source_attach (io->source, loop->context);

  return io;
}

/* Follows the loop's priority (aio_loop_set_priority()). */
void
_aio_loop_io_set_priority (AioLoopIo *io,
                           gint       priority)
{
  g_source_set_priority (io->source, priority);
}

/* Registers @watch, whose func is set, for @fd on @loop.  Loop thread
 * only (inside a dispatch, or holding the context). */
gboolean
_aio_loop_add_io_watch (AioLoop     *loop,
                        AioIoWatch  *watch,
                        int          fd,
                        GError     **error)
{
  AioLoopIo *io = loop->io;
  struct epoll_event event = { 0 };
  guint32 index;
  IoSlot *slot;

  g_assert (watch->loop == NULL);
  g_assert (watch->func != NULL);

  if (!_aio_loop_check_open (loop, error))
    return FALSE;

  if (io == NULL)
    {
      io = io_new (loop, error);
      if (io == NULL)
        return FALSE;
      loop->io = io;
    }

  if (io->free_head != SLOT_NONE)
    {
      index = io->free_head;
      slot = &g_array_index (io->slots, IoSlot, index);
      io->free_head = slot->next_free;
    }
  else
    {
      IoSlot fresh = { NULL, 0, SLOT_NONE };

      index = io->slots->len;
      g_array_append_val (io->slots, fresh);
      slot = &g_array_index (io->slots, IoSlot, index);
    }

  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = slot_token (index, slot->generation);
  if (epoll_ctl (io->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    {
      int saved_errno = errno;

      slot->next_free = io->free_head;
      io->free_head = index;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not watch the socket: %s"), g_strerror (saved_errno));
      return FALSE;
    }

  slot->watch = watch;
  watch->loop = loop;
  watch->fd = fd;
  watch->slot = index;
  io->n_watches++;
  return TRUE;
}

static void
io_free_slot (AioLoopIo *io,
              guint32    index)
{
  IoSlot *slot = &g_array_index (io->slots, IoSlot, index);

  slot->watch = NULL;
  slot->generation++;
  slot->next_free = io->free_head;
  io->free_head = index;
  io->n_watches--;
}

/* Unregisters @watch; nothing when its loop let go of it already.  The
 * descriptor may be closed already (closing removes it from the epoll set
 * by itself). */
void
_aio_loop_remove_io_watch (AioIoWatch *watch)
{
  AioLoop *loop = watch->loop;
  AioLoopIo *io;

  if (loop == NULL)
    return;

  io = loop->io;
  g_assert (io != NULL);
  g_assert (g_array_index (io->slots, IoSlot, watch->slot).watch == watch);

  /* EBADF (closed already) and ENOENT (closed and reused) are fine: the
   * slot's generation changes, so late events find nothing. */
  (void) epoll_ctl (io->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
  io_free_slot (io, watch->slot);
  watch->loop = NULL;
}

/* Called by aio_loop_close() once the loop's other sources are gone: the
 * watches' owners drop what they wait for, and the epoll set goes. */
void
_aio_loop_io_close (AioLoop   *loop,
                    AioLoopIo *io)
{
  g_source_destroy (io->source);
  g_clear_pointer (&io->source, g_source_unref);

  for (guint32 i = 0; i < io->slots->len; i++)
    {
      IoSlot *slot = &g_array_index (io->slots, IoSlot, i);
      AioIoWatch *watch = slot->watch;

      if (watch == NULL)
        continue;
      io_free_slot (io, i);
      watch->loop = NULL;
      watch->func (watch, 0, TRUE);
    }

  close (io->epoll_fd);
  g_array_unref (io->slots);
  g_free (io->events);
  g_free (io);
}
