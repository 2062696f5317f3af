/* aio-executor.h: executors run blocking work on worker threads
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

/**
 * AioExecutorFunc:
 * @future: the future to complete with the job's outcome
 * @cancellable: cancelled when @future is cancelled
 * @user_data: the data given with the function
 *
 * A blocking function that an executor runs on a worker thread.
 *
 * It completes @future in [class@Gio.Task]'s style, with the thread-safe
 * [method@Aio.Future.resolve_int64] and relatives or
 * [method@Aio.Future.reject]; returning without completing it resolves it
 * with no value. Done callbacks still run in the thread of the future's
 * loop. Completing @future after it was cancelled is not an error: the
 * outcome is dropped.
 *
 * @cancellable is cancelled when @future is cancelled; long jobs should
 * check it or pass it to the GIO calls they make.
 */
typedef void (*AioExecutorFunc) (AioFuture    *future,
                                 GCancellable *cancellable,
                                 gpointer      user_data);

#define AIO_TYPE_EXECUTOR (aio_executor_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_INTERFACE (AioExecutor, aio_executor, AIO, EXECUTOR, GObject)

/**
 * AioExecutorInterface:
 * @g_iface: the parent interface
 * @submit: runs @func (@future, @cancellable, @user_data) once on some
 *   thread, then calls @destroy (@user_data) in that thread. A job that is
 *   dropped without running (because the executor was shut down, say) only
 *   gets @destroy called, in any thread; its future is then cancelled,
 *   unless @future was rejected first to tell why. @future and
 *   @cancellable stay valid until @destroy is called. Called from any
 *   thread.
 * @shutdown: stops accepting jobs, drops the queued ones (calling their
 *   @destroy without @func) and, when @wait is %TRUE, blocks until the
 *   running ones have returned. Called at most once.
 *
 * The virtual functions of [iface@Aio.Executor].
 *
 * Implementations only run jobs: [method@Aio.Executor.submit] wraps the
 * caller's function so that a job cancelled before it started never calls
 * it and one that returns without completing its future resolves it, and
 * wraps @destroy so that the caller's data is freed in the loop's thread.
 *
 * Since: 1.0
 */
struct _AioExecutorInterface
{
  GTypeInterface g_iface;

  void (*submit)   (AioExecutor     *executor,
                    AioFuture       *future,
                    GCancellable    *cancellable,
                    AioExecutorFunc  func,
                    gpointer         user_data,
                    GDestroyNotify   destroy);
  void (*shutdown) (AioExecutor     *executor,
                    gboolean         wait);
};

AIO_AVAILABLE_IN_1_0
AioFuture   *aio_executor_submit                  (AioExecutor     *executor,
                                                   AioExecutorFunc  func,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void         aio_executor_shutdown                (AioExecutor     *executor,
                                                   gboolean         wait);
AIO_AVAILABLE_IN_1_0
gboolean     aio_executor_is_shutdown             (AioExecutor     *executor);

AIO_AVAILABLE_IN_1_0
AioFuture   *aio_run_in_executor                  (AioExecutor     *executor,
                                                   AioExecutorFunc  func,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture   *aio_loop_run_in_executor             (AioLoop         *loop,
                                                   AioExecutor     *executor,
                                                   AioExecutorFunc  func,
                                                   gpointer         user_data,
                                                   GDestroyNotify   destroy) G_GNUC_WARN_UNUSED_RESULT;

AIO_AVAILABLE_IN_1_0
AioExecutor *aio_loop_get_default_executor        (AioLoop         *loop);
AIO_AVAILABLE_IN_1_0
void         aio_loop_set_default_executor        (AioLoop         *loop,
                                                   AioExecutor     *executor);
AIO_AVAILABLE_IN_1_0
void         aio_loop_shutdown_default_executor   (AioLoop         *loop);

#define AIO_TYPE_THREAD_POOL_EXECUTOR (aio_thread_pool_executor_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioThreadPoolExecutor, aio_thread_pool_executor, AIO, THREAD_POOL_EXECUTOR, GObject)

AIO_AVAILABLE_IN_1_0
AioThreadPoolExecutor *aio_thread_pool_executor_new             (guint                  max_workers);
AIO_AVAILABLE_IN_1_0
guint                  aio_thread_pool_executor_get_max_workers (AioThreadPoolExecutor *self);

G_END_DECLS
