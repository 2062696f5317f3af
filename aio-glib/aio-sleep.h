/* aio-sleep.h: futures that resolve after a delay, asyncio's sleep()
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

AIO_AVAILABLE_IN_1_0
AioFuture *aio_sleep        (gdouble       seconds) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_sleep_value  (gdouble       seconds,
                             const GValue *value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_loop_sleep   (AioLoop      *loop,
                             gdouble       seconds) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
