/* aio-run.h: aio_run(), asyncio.run() for GLib programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include "aio-task.h"

G_BEGIN_DECLS

AIO_AVAILABLE_IN_1_0
gboolean  aio_run       (AioTaskFunc     func,
                         gpointer        user_data,
                         GError        **error);
AIO_AVAILABLE_IN_1_0
AioTask  *aio_run_full  (AioTaskFunc     func,
                         gpointer        user_data,
                         GDestroyNotify  destroy,
                         GError        **error);
AIO_AVAILABLE_IN_1_0
int       aio_run_main  (AioTaskFunc     func,
                         gpointer        user_data);

G_END_DECLS
