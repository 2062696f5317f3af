/* aio-combinators.h: gather, wait, wait_for, shield and as_completed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

/**
 * AIO_TIMEOUT_NONE:
 *
 * A timeout that never expires, for [func@Aio.wait], [func@Aio.wait_for]
 * and [func@Aio.as_completed] (asyncio's `timeout=None`).
 *
 * Any timeout of `G_MAXDOUBLE` or more, `INFINITY` included, means the
 * same.
 *
 * Since: 1.0
 */
#define AIO_TIMEOUT_NONE (G_MAXDOUBLE)

/**
 * AioWaitMode:
 * @AIO_WAIT_ALL_COMPLETED: when every future is done (asyncio's
 *   `ALL_COMPLETED`)
 * @AIO_WAIT_FIRST_COMPLETED: when any future is done (asyncio's
 *   `FIRST_COMPLETED`)
 * @AIO_WAIT_FIRST_EXCEPTION: when any future is rejected, or when every
 *   future is done if none is (asyncio's `FIRST_EXCEPTION`); a cancelled
 *   future does not count as rejected
 *
 * When [func@Aio.wait] returns, unless its timeout expires first.
 *
 * Since: 1.0
 */
typedef enum
{
  AIO_WAIT_ALL_COMPLETED,
  AIO_WAIT_FIRST_COMPLETED,
  AIO_WAIT_FIRST_EXCEPTION,
} AioWaitMode;

AIO_AVAILABLE_IN_1_0
AioFuture *aio_gather             (gboolean      return_exceptions,
                                   AioFuture    *first,
                                   ...) G_GNUC_NULL_TERMINATED G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_gatherv            (AioFuture   **futures,
                                   guint         n_futures,
                                   gboolean      return_exceptions) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_gather_array       (GPtrArray    *futures,
                                   gboolean      return_exceptions) G_GNUC_WARN_UNUSED_RESULT;

AIO_AVAILABLE_IN_1_0
AioFuture *aio_wait               (GPtrArray    *futures,
                                   gdouble       timeout,
                                   AioWaitMode   return_when) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_wait_for           (AioFuture    *future,
                                   gdouble       timeout) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_shield             (AioFuture    *future) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
GPtrArray *aio_as_completed       (GPtrArray    *futures,
                                   gdouble       timeout) G_GNUC_WARN_UNUSED_RESULT;

/* The array belongs to @future: do not free it. */
AIO_AVAILABLE_IN_1_0
GPtrArray *aio_future_get_futures (AioFuture    *future,
                                   GError      **error);

G_END_DECLS
