/* aio-fiber-private.h: stackful coroutines (fibers) for aio-glib
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This is private API: it is not installed and may change at any time.
 * See docs/fibers.md for the design.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AioFiber AioFiber;

/**
 * AioFiberFunc:
 * @user_data: the data passed to aio_fiber_new()
 *
 * The body of a fiber.  When it returns the fiber is finished and control
 * goes back to whoever resumed it last.
 */
typedef void (*AioFiberFunc) (gpointer user_data);

/* Creates a fiber that will run @func (@user_data) on its own stack the
 * first time it is resumed.  The stack is only taken (from the per-thread
 * pool, or freshly mapped) at the first aio_fiber_resume(), so a fiber that
 * never runs costs no stack.  @stack_size 0 means
 * aio_fiber_get_default_stack_size(); other sizes are rounded up to whole
 * pages (and to at least 16 KiB).  Never fails. */
AioFiber *aio_fiber_new                    (AioFiberFunc   func,
                                            gpointer       user_data,
                                            gsize          stack_size);

/**
 * AioFiberDescribeFunc:
 * @user_data: the data passed to aio_fiber_new()
 * @buf: where to write a name for the fiber, NUL-terminated
 * @size: the size of @buf
 *
 * Names a fiber in the report of its stack overflow.  Called from a
 * signal handler: it must not allocate, lock, or call anything that is not
 * async-signal-safe.
 */
typedef void (*AioFiberDescribeFunc) (gpointer  user_data,
                                      char     *buf,
                                      gsize     size);

/* Sets how a stack overflow report names @fiber (as "a fiber" without). */
void      aio_fiber_set_describe_func      (AioFiber             *fiber,
                                            AioFiberDescribeFunc  func);

/* Switches from the caller (a plain thread stack, or another fiber) into
 * @fiber until it calls aio_fiber_suspend() or its func returns.  Returns
 * TRUE on success.  Returns FALSE and sets @error (AIO_ERROR_NO_STACK) when
 * no stack could be had for the fiber's first run; the fiber then has not
 * run (it stays unstarted: it may be resumed again later, or freed).
 * Resuming a running or finished fiber is a programming error. */
gboolean  aio_fiber_resume                 (AioFiber      *fiber,
                                            GError       **error);

/* Called from inside a running fiber: switches back to whoever resumed it.
 * Returns when the fiber is resumed again (possibly by someone else, or on
 * another thread).  Calling it outside a fiber is a programming error. */
void      aio_fiber_suspend                (void);

/* The fiber running on this thread, or NULL on a plain thread stack. */
AioFiber *aio_fiber_get_current            (void);

/* Whether @fiber's func has returned. */
gboolean  aio_fiber_is_finished            (AioFiber      *fiber);

/* Whether @fiber has been resumed successfully at least once. */
gboolean  aio_fiber_is_started             (AioFiber      *fiber);

/* Frees @fiber, which must not be running (nor waiting in a nested
 * aio_fiber_resume()).  If it is suspended mid-way its stack is simply
 * released: nothing on it is unwound.  The stack goes back to the calling
 * thread's pool (bounded; beyond the bound stacks go back to the system). */
void      aio_fiber_free                   (AioFiber      *fiber);

/* 256 KiB. */
gsize     aio_fiber_get_default_stack_size (void);

/* For tests and benchmarks: the number of live stacks (in use by a fiber,
 * or kept in a pool) that have their own guard page, and of those carved
 * from shared slabs (protected by a canary instead). */
guint     aio_fiber_get_n_guarded_stacks   (void);
guint     aio_fiber_get_n_slab_stacks      (void);

G_END_DECLS
