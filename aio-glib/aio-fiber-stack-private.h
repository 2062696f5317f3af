/* aio-fiber-stack-private.h: the stacks fibers run on
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This is private API: it is not installed and may change at any time.
 * aio-fiber-stack.c hands out stacks and takes them back; aio-fiber.c
 * switches onto them.  See the design notes at the top of each file and
 * docs/fibers.md.
 */

#pragma once

#include "config.h"

#include <glib.h>

G_BEGIN_DECLS

/* Slab stacks start with a canary of this many bytes, which no frame may
 * overwrite. */
#define AIO_FIBER_CANARY_SIZE 64

typedef struct _AioFiberStack AioFiberStack;
typedef struct _AioFiberSlab  AioFiberSlab;

/* aio-fiber.c reads low and size, and whether slab is NULL (no canary);
 * the rest belongs to aio-fiber-stack.c. */
struct _AioFiberStack
{
  guint8        *low;          /* lowest byte (slab stacks: the canary) */
  gsize          size;         /* from low to the top of the stack */
  AioFiberSlab  *slab;         /* NULL for a guarded stack of its own */
  AioFiberStack *next;         /* in a pool */
#ifdef HAVE_VALGRIND_H
  guint          valgrind_id;
#endif
};

/* @size rounded up to whole pages.  The first call sets the stacks up
 * (page size, guarded budget, canary secret), so it comes before any
 * other function of this header. */
gsize          aio_fiber_stack_round_size   (gsize          size);

/* A stack of @size bytes (a multiple of the page size): the most recently
 * released one of that size from this thread's pool, else a guarded stack
 * while the budget lasts, else one from a slab.  NULL when none can be
 * mapped. */
AioFiberStack *aio_fiber_stack_acquire      (gsize          size);

/* Gives @stack back, to this thread's pool while it has room, else to the
 * system or its slab.  Nothing on it may be in use any more. */
void           aio_fiber_stack_release      (AioFiberStack *stack);

/* Aborts (g_error) if the canary of @stack was overwritten: its fiber ran
 * past the bottom.  Does nothing for a stack with a guard page. */
void           aio_fiber_stack_check_canary (AioFiberStack *stack);

/* Whether a fault at @address, with the stack pointer at @sp (0 if
 * unknown), is an overflow of @stack.  Async-signal-safe: it only reads. */
gboolean       aio_fiber_stack_is_overflow  (const AioFiberStack *stack,
                                             gconstpointer        address,
                                             guintptr             sp);

G_END_DECLS
