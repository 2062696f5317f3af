/* aio-gio.h: GIO's _async/_finish pairs awaited from tasks, and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "aio-executor.h"
#include "aio-future.h"
#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_GIO_CALL            (aio_gio_call_get_type ())
#define AIO_GIO_CALL(obj)            (G_TYPE_CHECK_INSTANCE_CAST ((obj), AIO_TYPE_GIO_CALL, AioGioCall))
#define AIO_IS_GIO_CALL(obj)         (G_TYPE_CHECK_INSTANCE_TYPE ((obj), AIO_TYPE_GIO_CALL))

typedef struct _AioGioCall AioGioCall;
typedef struct _AioGioCallClass AioGioCallClass;

AIO_AVAILABLE_IN_1_0
GType         aio_gio_call_get_type          (void) G_GNUC_CONST;

AIO_AVAILABLE_IN_1_0
AioGioCall   *aio_gio_call_new               (void) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioGioCall   *aio_gio_call_new_for_loop      (AioLoop             *loop) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
GCancellable *aio_gio_call_get_cancellable   (AioGioCall          *call);
AIO_AVAILABLE_IN_1_0
void          aio_gio_call_ready             (GObject             *source_object,
                                              GAsyncResult        *result,
                                              gpointer             user_data);
AIO_AVAILABLE_IN_1_0
void          aio_gio_call_return_result     (AioGioCall          *call,
                                              GAsyncResult        *result);
AIO_AVAILABLE_IN_1_0
GAsyncResult *aio_gio_call_get_result        (AioGioCall          *call);

AIO_AVAILABLE_IN_1_0
GAsyncResult *aio_future_get_async_result    (AioFuture           *future,
                                              GError             **error);
AIO_AVAILABLE_IN_1_0
void          aio_future_export              (AioFuture           *future,
                                              gpointer             source_object,
                                              gpointer             source_tag,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
AIO_AVAILABLE_IN_1_0
GAsyncResult *aio_await_gio                  (AioFuture           *future,
                                              GError             **error) G_GNUC_WARN_UNUSED_RESULT;

/**
 * AIO_GIO_CALL_ARGS:
 * @call: an [class@Aio.GioCall]
 *
 * Expands to the last three arguments of a GIO `_async` function — the
 * call's `GCancellable`, `aio_gio_call_ready()` and a new reference to
 * @call as its data — so that the function reports to @call:
 *
 * ```c
 * AioGioCall *call = aio_gio_call_new ();
 * g_file_load_contents_async (file, AIO_GIO_CALL_ARGS (call));
 * res = aio_await_gio (AIO_FUTURE (call), &error);
 * ```
 *
 * @call is evaluated twice.
 *
 * Since: 1.0
 */
#define AIO_GIO_CALL_ARGS(call) \
  aio_gio_call_get_cancellable (call), aio_gio_call_ready, g_object_ref (call)

/**
 * AIO_GIO_START:
 * @func: a GIO-style `_async` function
 * @...: its arguments up to, not including, the `GCancellable`
 *
 * Calls @func with the given arguments followed by the
 * [class@Aio.GioCall] triple of `AIO_GIO_CALL_ARGS()`, and evaluates to
 * the new call, as an [class@Aio.Future] (transfer full): the one-liner of
 * a GIO call in a task.
 *
 * ```c
 * g_autoptr(GAsyncResult) res =
 *   aio_await_gio (AIO_GIO_START (g_file_load_contents_async, file), &error);
 * if (res == NULL ||
 *     !g_file_load_contents_finish (file, res, &contents, &length, NULL, &error))
 *   return fail (task, error);
 * ```
 *
 * A stepped body returns it as the future to wait for, then reads the
 * result with [method@Aio.Future.get_async_result].
 *
 * It uses a statement expression (GCC and Clang); elsewhere, write out
 * `AIO_GIO_CALL_ARGS()`.
 *
 * Since: 1.0
 */
#define AIO_GIO_START(func, ...) \
  G_GNUC_EXTENSION ({ \
    AioGioCall *aio_gio_start_call_ = aio_gio_call_new (); \
    func (__VA_ARGS__, AIO_GIO_CALL_ARGS (aio_gio_start_call_)); \
    (AioFuture *) aio_gio_start_call_; \
  })

AIO_AVAILABLE_IN_1_0
AioFuture    *aio_file_load_bytes            (GFile               *file) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_input_stream_read_bytes    (GInputStream        *stream,
                                              gsize                count) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_output_stream_write_all    (GOutputStream       *stream,
                                              GBytes              *bytes) G_GNUC_WARN_UNUSED_RESULT;

#define AIO_TYPE_GTASK_EXECUTOR (aio_gtask_executor_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioGTaskExecutor, aio_gtask_executor, AIO, GTASK_EXECUTOR, GObject)

AIO_AVAILABLE_IN_1_0
AioGTaskExecutor *aio_gtask_executor_new      (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AioGioCall, g_object_unref)

G_END_DECLS
