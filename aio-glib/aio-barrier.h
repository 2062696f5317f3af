/* aio-barrier.h: AioBarrier, asyncio's Barrier
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

#define AIO_TYPE_BARRIER (aio_barrier_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioBarrier, aio_barrier, AIO, BARRIER, GObject)

AIO_AVAILABLE_IN_1_0
AioBarrier *aio_barrier_new            (guint       parties);
AIO_AVAILABLE_IN_1_0
AioFuture  *aio_barrier_wait           (AioBarrier *barrier) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void        aio_barrier_reset          (AioBarrier *barrier);
AIO_AVAILABLE_IN_1_0
void        aio_barrier_abort          (AioBarrier *barrier);
AIO_AVAILABLE_IN_1_0
guint       aio_barrier_get_parties    (AioBarrier *barrier);
AIO_AVAILABLE_IN_1_0
guint       aio_barrier_get_n_waiting  (AioBarrier *barrier);
AIO_AVAILABLE_IN_1_0
gboolean    aio_barrier_is_broken      (AioBarrier *barrier);

G_END_DECLS
