/* aio-io-private.h: file descriptor readiness on the loop's own source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-loop-private.h"

G_BEGIN_DECLS

/* What a watch was told about its descriptor. */
typedef enum
{
  AIO_IO_READABLE = 1 << 0,   /* data, end of stream, a pending connection */
  AIO_IO_WRITABLE = 1 << 1,   /* room to write, a connect that finished */
  AIO_IO_HANGUP   = 1 << 2,   /* the peer closed, or an error is pending:
                               * readable from now on */
} AioIoReady;

/* A file descriptor watched by a loop.  Whoever embeds one owns it and
 * must call _aio_loop_remove_io_watch() before freeing it (unless the
 * loop let go of it first: @loop is then NULL).
 *
 * Readiness is edge-triggered: @func is called, in the loop's thread
 * and inside the loop's dispatch, when the descriptor *becomes* readable
 * or writable, not for as long as it stays so.  So the owner tries its
 * operation first and waits only after the descriptor said it would
 * block; registering costs one system call for the watch's lifetime,
 * waiting none at all.  When the loop is closed first, @func is called
 * once more with @discard TRUE and 0, and @loop is NULL afterwards. */
typedef struct _AioIoWatch AioIoWatch;
typedef void (*AioIoFunc) (AioIoWatch *watch,
                           AioIoReady  ready,
                           gboolean    discard);
struct _AioIoWatch
{
  AioLoop   *loop;        /* not owned; NULL when not registered */
  AioIoFunc  func;
  int        fd;
  guint32    slot;        /* the loop's handle on the watch */
};

gboolean  _aio_loop_add_io_watch     (AioLoop     *loop,
                                      AioIoWatch  *watch,
                                      int          fd,
                                      GError     **error);
void      _aio_loop_remove_io_watch  (AioIoWatch  *watch);

/* For aio-loop.c, which closes it and sets its priority: the loop's I/O
 * state (AioLoop:io, made on the first watch). */
typedef struct _AioLoopIo AioLoopIo;
void      _aio_loop_io_close         (AioLoop     *loop,
                                      AioLoopIo   *io);
void      _aio_loop_io_set_priority  (AioLoopIo   *io,
                                      gint         priority);

G_END_DECLS
