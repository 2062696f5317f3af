/* aio-future.h: AioFuture, the result of work that finishes later
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_FUTURE            (aio_future_get_type ())
#define AIO_FUTURE(obj)            (G_TYPE_CHECK_INSTANCE_CAST ((obj), AIO_TYPE_FUTURE, AioFuture))
#define AIO_IS_FUTURE(obj)         (G_TYPE_CHECK_INSTANCE_TYPE ((obj), AIO_TYPE_FUTURE))

typedef struct _AioFutureClass AioFutureClass;

AIO_AVAILABLE_IN_1_0
GType           aio_future_get_type              (void) G_GNUC_CONST;

AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new                   (void) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_loop          (AioLoop        *loop) G_GNUC_WARN_UNUSED_RESULT;

AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_resolved          (void) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_boolean       (gboolean        value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_int64         (gint64          value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_double        (gdouble         value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_string        (const char     *value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_take_string       (char           *value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_object        (gpointer        object) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_pointer       (gpointer        pointer,
                                                  GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_value         (const GValue   *value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture      *aio_future_new_for_error         (GError         *error) G_GNUC_WARN_UNUSED_RESULT;

AIO_AVAILABLE_IN_1_0
AioLoop        *aio_future_get_loop              (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
AioFutureState  aio_future_get_state             (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_is_done               (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_is_resolved           (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_is_rejected           (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_is_cancelled          (AioFuture      *future);

AIO_AVAILABLE_IN_1_0
void            aio_future_resolve               (AioFuture      *future);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_boolean       (AioFuture      *future,
                                                  gboolean        value);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_int64         (AioFuture      *future,
                                                  gint64          value);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_double        (AioFuture      *future,
                                                  gdouble         value);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_string        (AioFuture      *future,
                                                  const char     *value);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_take_string   (AioFuture      *future,
                                                  char           *value);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_object        (AioFuture      *future,
                                                  gpointer        object);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_pointer       (AioFuture      *future,
                                                  gpointer        pointer,
                                                  GDestroyNotify  destroy);
AIO_AVAILABLE_IN_1_0
void            aio_future_resolve_value         (AioFuture      *future,
                                                  const GValue   *value);
AIO_AVAILABLE_IN_1_0
void            aio_future_reject                (AioFuture      *future,
                                                  GError         *error);
AIO_AVAILABLE_IN_1_0
void            aio_future_reject_literal        (AioFuture      *future,
                                                  GQuark          domain,
                                                  gint            code,
                                                  const char     *message);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_cancel                (AioFuture      *future,
                                                  const char     *message);

AIO_AVAILABLE_IN_1_0
gboolean        aio_future_propagate             (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_get_boolean           (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gint64          aio_future_get_int64             (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gdouble         aio_future_get_double            (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
const char     *aio_future_get_string            (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gpointer        aio_future_get_object            (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gpointer        aio_future_get_pointer           (AioFuture      *future,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_get_value             (AioFuture      *future,
                                                  GValue         *value,
                                                  GError        **error);
AIO_AVAILABLE_IN_1_0
const GError   *aio_future_get_error             (AioFuture      *future);

AIO_AVAILABLE_IN_1_0
guint           aio_future_add_done_callback     (AioFuture         *future,
                                                  AioFutureCallback  callback,
                                                  gpointer           user_data,
                                                  GDestroyNotify     destroy);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_remove_done_callback  (AioFuture         *future,
                                                  guint              id);

AIO_AVAILABLE_IN_1_0
void            aio_future_wait_async            (AioFuture           *future,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
AIO_AVAILABLE_IN_1_0
gboolean        aio_future_wait_finish           (AioFuture           *future,
                                                  GAsyncResult        *result,
                                                  GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AioFuture, g_object_unref)

G_END_DECLS
