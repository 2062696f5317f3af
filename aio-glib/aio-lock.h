/* aio-lock.h: AioLock, asyncio's Lock
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

#define AIO_TYPE_LOCK (aio_lock_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioLock, aio_lock, AIO, LOCK, GObject)

AIO_AVAILABLE_IN_1_0
AioLock   *aio_lock_new        (void);
AIO_AVAILABLE_IN_1_0
AioFuture *aio_lock_acquire    (AioLock *lock) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void       aio_lock_release    (AioLock *lock);
AIO_AVAILABLE_IN_1_0
gboolean   aio_lock_check_held (AioLock  *lock,
                                GError  **error);
AIO_AVAILABLE_IN_1_0
gboolean   aio_lock_is_locked  (AioLock *lock);
AIO_AVAILABLE_IN_1_0
AioTask   *aio_lock_get_owner  (AioLock *lock);

G_END_DECLS
