/* aio-semaphore.h: AioSemaphore, asyncio's Semaphore and BoundedSemaphore
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

#define AIO_TYPE_SEMAPHORE (aio_semaphore_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioSemaphore, aio_semaphore, AIO, SEMAPHORE, GObject)

AIO_AVAILABLE_IN_1_0
AioSemaphore *aio_semaphore_new          (gint          value);
AIO_AVAILABLE_IN_1_0
AioSemaphore *aio_bounded_semaphore_new  (gint          value);
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_semaphore_acquire      (AioSemaphore *semaphore) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
gboolean      aio_semaphore_check_release (AioSemaphore  *semaphore,
                                           GError       **error);
AIO_AVAILABLE_IN_1_0
void          aio_semaphore_release      (AioSemaphore *semaphore);
AIO_AVAILABLE_IN_1_0
gboolean      aio_semaphore_is_locked    (AioSemaphore *semaphore);
AIO_AVAILABLE_IN_1_0
gint          aio_semaphore_get_value    (AioSemaphore *semaphore);
AIO_AVAILABLE_IN_1_0
gboolean      aio_semaphore_is_bounded   (AioSemaphore *semaphore);

G_END_DECLS
