/* aio-handle-private.h: scheduling handles, for the rest of the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-handle.h"
#include "aio-loop.h"

G_BEGIN_DECLS

AioHandle *_aio_handle_schedule        (AioLoop        *loop,
                                        gboolean        threadsafe,
                                        gboolean        is_timer,
                                        gint64          deadline,
                                        AioCallback     func,
                                        gpointer        data,
                                        GDestroyNotify  destroy);
void       _aio_handle_schedule_locked (AioHandle      *self,
                                        gboolean        is_timer,
                                        gint64          deadline);

G_END_DECLS
