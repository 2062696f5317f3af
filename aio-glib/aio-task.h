/* aio-task.h: AioTask, a future that drives a body on its loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "aio-future.h"
#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_TASK            (aio_task_get_type ())
#define AIO_TASK(obj)            (G_TYPE_CHECK_INSTANCE_CAST ((obj), AIO_TYPE_TASK, AioTask))
#define AIO_IS_TASK(obj)         (G_TYPE_CHECK_INSTANCE_TYPE ((obj), AIO_TYPE_TASK))

typedef struct _AioTaskClass AioTaskClass;

/**
 * AioTaskFunc:
 * @task: the task whose body this is
 * @user_data: the data given when the task was created
 *
 * The body of a fiber task. It runs on a stack of its own and may call
 * [func@Aio.await] anywhere below it. It returns its value with
 * [method@Aio.Task.return_int64] and its relatives, an error with
 * [method@Aio.Task.return_error], or simply returns to resolve the task
 * with no value.
 */
typedef void (*AioTaskFunc) (AioTask  *task,
                             gpointer  user_data);

/**
 * AioStepFunc:
 * @task: the task whose body this is
 * @completed: (nullable): the future the task waited for, now done; %NULL
 *   on the first step
 * @user_data: the data given when the task was created
 *
 * One step of a stepped task: a state machine with no stack of its own.
 * It is called first with %NULL, then with each future it returned once
 * that future is done. When the task was cancelled, @completed is a
 * cancelled future.
 *
 * A sleep returned by a step and held by nobody else (the usual
 * `return aio_sleep (delay);`) is not kept while the task sleeps: the task
 * waits on a timer of its own, and @completed is then a resolved future
 * with no value, as the sleep would have been, but not the same object.
 * Keep a reference to the sleep if its identity matters.
 *
 * Returns: (transfer full) (nullable): the next future to wait for, or
 *   %NULL when the task is over (having returned its value with
 *   [method@Aio.Task.return_int64] and its relatives, or none)
 */
typedef AioFuture *(*AioStepFunc) (AioTask   *task,
                                   AioFuture *completed,
                                   gpointer   user_data);

AIO_AVAILABLE_IN_1_0
GType         aio_task_get_type            (void) G_GNUC_CONST;

AIO_AVAILABLE_IN_1_0
AioTask      *aio_create_task              (AioTaskFunc     func,
                                            gpointer        user_data,
                                            GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioTask      *aio_loop_create_task         (AioLoop        *loop,
                                            AioTaskFunc     func,
                                            gpointer        user_data,
                                            GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioTask      *aio_create_stepped_task      (AioStepFunc     func,
                                            gpointer        user_data,
                                            GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioTask      *aio_loop_create_stepped_task (AioLoop        *loop,
                                            AioStepFunc     func,
                                            gpointer        user_data,
                                            GDestroyNotify  destroy) G_GNUC_WARN_UNUSED_RESULT;

AIO_AVAILABLE_IN_1_0
AioTask      *aio_task_get_current         (void);
/* The array is the caller's: free it with g_ptr_array_unref(). */
AIO_AVAILABLE_IN_1_0
GPtrArray    *aio_loop_all_tasks           (AioLoop        *loop);

AIO_AVAILABLE_IN_1_0
const char   *aio_task_get_name            (AioTask        *task);
AIO_AVAILABLE_IN_1_0
void          aio_task_set_name            (AioTask        *task,
                                            const char     *name);
AIO_AVAILABLE_IN_1_0
gsize         aio_task_get_stack_size      (AioTask        *task);
AIO_AVAILABLE_IN_1_0
void          aio_task_set_stack_size      (AioTask        *task,
                                            gsize           stack_size);
AIO_AVAILABLE_IN_1_0
GCancellable *aio_task_get_cancellable     (AioTask        *task);

AIO_AVAILABLE_IN_1_0
gboolean      aio_task_cancel              (AioTask        *task,
                                            const char     *message);
AIO_AVAILABLE_IN_1_0
void          aio_task_bind_to_object      (AioTask        *task,
                                            gpointer        object);
AIO_AVAILABLE_IN_1_0
guint         aio_task_cancelling          (AioTask        *task);
AIO_AVAILABLE_IN_1_0
guint         aio_task_uncancel            (AioTask        *task);

AIO_AVAILABLE_IN_1_0
void          aio_task_return              (AioTask        *task);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_boolean      (AioTask        *task,
                                            gboolean        value);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_int64        (AioTask        *task,
                                            gint64          value);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_double       (AioTask        *task,
                                            gdouble         value);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_string       (AioTask        *task,
                                            const char     *value);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_object       (AioTask        *task,
                                            gpointer        object);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_pointer      (AioTask        *task,
                                            gpointer        pointer,
                                            GDestroyNotify  destroy);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_value        (AioTask        *task,
                                            const GValue   *value);
AIO_AVAILABLE_IN_1_0
void          aio_task_return_error        (AioTask        *task,
                                            GError         *error);

/* aio_await*() take @future: to await one you keep, such as a task,
 * pass AIO_FUTURE (g_object_ref (task)). */
AIO_AVAILABLE_IN_1_0
gboolean      aio_await                    (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gboolean      aio_await_boolean            (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gint64        aio_await_int64              (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gdouble       aio_await_double             (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
char         *aio_await_string             (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gpointer      aio_await_object             (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gpointer      aio_await_pointer            (AioFuture      *future,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gboolean      aio_await_value              (AioFuture      *future,
                                            GValue         *value,
                                            GError        **error);
AIO_AVAILABLE_IN_1_0
gboolean      aio_yield                    (GError        **error);
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_yield_future             (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AioTask, g_object_unref)

G_END_DECLS
