/* aio-handle.h: AioHandle, a callback scheduled on a loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_HANDLE (aio_handle_get_type ())

typedef struct _AioHandle AioHandle;

AIO_AVAILABLE_IN_1_0
GType      aio_handle_get_type      (void) G_GNUC_CONST;
AIO_AVAILABLE_IN_1_0
AioHandle *aio_handle_ref           (AioHandle *handle);
AIO_AVAILABLE_IN_1_0
void       aio_handle_unref         (AioHandle *handle);
AIO_AVAILABLE_IN_1_0
void       aio_handle_cancel        (AioHandle *handle);
AIO_AVAILABLE_IN_1_0
gboolean   aio_handle_is_cancelled  (AioHandle *handle);
AIO_AVAILABLE_IN_1_0
gdouble    aio_handle_get_when      (AioHandle *handle);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AioHandle, aio_handle_unref)

G_END_DECLS
