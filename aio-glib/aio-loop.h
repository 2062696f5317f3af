/* aio-loop.h: AioLoop, asyncio's event loop over a GMainContext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "aio-handle.h"
#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_LOOP (aio_loop_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioLoop, aio_loop, AIO, LOOP, GObject)

AIO_AVAILABLE_IN_1_0
AioLoop      *aio_loop_new                   (void);
AIO_AVAILABLE_IN_1_0
AioLoop      *aio_loop_ref_for_context       (GMainContext  *context);
AIO_AVAILABLE_IN_1_0
AioLoop      *aio_loop_get_default           (void);
AIO_AVAILABLE_IN_1_0
AioLoop      *aio_loop_get_running           (void);

AIO_AVAILABLE_IN_1_0
GMainContext *aio_loop_get_context           (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
gdouble       aio_loop_time                  (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
gsize         aio_loop_get_stack_size        (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
void          aio_loop_set_stack_size        (AioLoop       *loop,
                                              gsize          stack_size);

AIO_AVAILABLE_IN_1_0
gint          aio_loop_get_priority          (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
void          aio_loop_set_priority          (AioLoop       *loop,
                                              gint           priority);
AIO_AVAILABLE_IN_1_0
gboolean      aio_loop_run_until_complete    (AioLoop       *loop,
                                              AioFuture     *future,
                                              GError       **error);
AIO_AVAILABLE_IN_1_0
gboolean      aio_loop_run_forever           (AioLoop       *loop,
                                              GError       **error);
AIO_AVAILABLE_IN_1_0
void          aio_loop_stop                  (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
void          aio_loop_close                 (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
gboolean      aio_loop_is_running            (AioLoop       *loop);
AIO_AVAILABLE_IN_1_0
gboolean      aio_loop_is_closed             (AioLoop       *loop);

AIO_AVAILABLE_IN_1_0
AioHandle    *aio_loop_call_soon             (AioLoop       *loop,
                                              AioCallback    callback,
                                              gpointer       user_data,
                                              GDestroyNotify destroy);
AIO_AVAILABLE_IN_1_0
AioHandle    *aio_loop_call_later            (AioLoop       *loop,
                                              gdouble        delay,
                                              AioCallback    callback,
                                              gpointer       user_data,
                                              GDestroyNotify destroy);
AIO_AVAILABLE_IN_1_0
AioHandle    *aio_loop_call_at               (AioLoop       *loop,
                                              gdouble        when,
                                              AioCallback    callback,
                                              gpointer       user_data,
                                              GDestroyNotify destroy);
AIO_AVAILABLE_IN_1_0
AioHandle    *aio_loop_call_soon_threadsafe  (AioLoop       *loop,
                                              AioCallback    callback,
                                              gpointer       user_data,
                                              GDestroyNotify destroy);

G_END_DECLS
