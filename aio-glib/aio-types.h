/* aio-types.h: forward declarations shared by aio-glib's headers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _AioFuture AioFuture;
typedef struct _AioLoop AioLoop;
typedef struct _AioTask AioTask;

/**
 * AioFutureState:
 * @AIO_FUTURE_PENDING: not done yet
 * @AIO_FUTURE_RESOLVED: done, with a value (possibly none)
 * @AIO_FUTURE_REJECTED: done, with an error
 * @AIO_FUTURE_CANCELLED: done, cancelled; its error is `G_IO_ERROR_CANCELLED`
 *
 * The states of an [class@Aio.Future]. A future starts pending and moves
 * once, to one of the three final states.
 */
typedef enum
{
  AIO_FUTURE_PENDING,
  AIO_FUTURE_RESOLVED,
  AIO_FUTURE_REJECTED,
  AIO_FUTURE_CANCELLED,
} AioFutureState;

/**
 * AioCallback:
 * @user_data: the data given with the callback
 *
 * A callback scheduled on a loop with [method@Aio.Loop.call_soon] and its
 * relatives.
 */
typedef void (*AioCallback) (gpointer user_data);

/**
 * AioFutureCallback:
 * @future: the future that is done
 * @user_data: the data given with the callback
 *
 * A done callback of a future; see [method@Aio.Future.add_done_callback].
 */
typedef void (*AioFutureCallback) (AioFuture *future,
                                   gpointer   user_data);

G_END_DECLS
