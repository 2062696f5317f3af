/* aio-timeout.h: AioTimeout, asyncio's timeout() scopes
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

#define AIO_TYPE_TIMEOUT (aio_timeout_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioTimeout, aio_timeout, AIO, TIMEOUT, GObject)

AIO_AVAILABLE_IN_1_0
AioTimeout *aio_timeout_enter       (gdouble      seconds);
AIO_AVAILABLE_IN_1_0
AioTimeout *aio_timeout_enter_at    (gdouble      when);
AIO_AVAILABLE_IN_1_0
void        aio_timeout_reschedule  (AioTimeout  *scope,
                                     gdouble      when);
AIO_AVAILABLE_IN_1_0
gdouble     aio_timeout_when        (AioTimeout  *scope);
AIO_AVAILABLE_IN_1_0
gboolean    aio_timeout_expired     (AioTimeout  *scope);
AIO_AVAILABLE_IN_1_0
gboolean    aio_timeout_exit        (AioTimeout  *scope,
                                     GError     **error);
AIO_AVAILABLE_IN_1_0
gboolean    aio_timeout_exit_with   (AioTimeout  *scope,
                                     gboolean     body_cancelled,
                                     GError     **error);

G_END_DECLS
