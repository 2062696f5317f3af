/* aio-queue.h: AioQueue, asyncio's Queue, LifoQueue and PriorityQueue
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

/**
 * AioQueueOrder:
 * @AIO_QUEUE_FIFO: first in, first out (asyncio's `Queue`)
 * @AIO_QUEUE_LIFO: last in, first out (asyncio's `LifoQueue`)
 * @AIO_QUEUE_PRIORITY: lowest first, by the queue's compare function or
 *   else by the integer priority given with each item; equal items come
 *   out in the order they went in (asyncio's `PriorityQueue`)
 *
 * The order in which an [class@Aio.Queue] gives its items out.
 *
 * Since: 1.0
 */
typedef enum
{
  AIO_QUEUE_FIFO,
  AIO_QUEUE_LIFO,
  AIO_QUEUE_PRIORITY,
} AioQueueOrder;

#define AIO_TYPE_QUEUE (aio_queue_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioQueue, aio_queue, AIO, QUEUE, GObject)

AIO_AVAILABLE_IN_1_0
AioQueue *aio_queue_new            (gint             maxsize,
                                    GDestroyNotify   item_free);
AIO_AVAILABLE_IN_1_0
AioQueue *aio_queue_new_lifo       (gint             maxsize,
                                    GDestroyNotify   item_free);
AIO_AVAILABLE_IN_1_0
AioQueue *aio_queue_new_priority   (gint             maxsize,
                                    GCompareDataFunc compare,
                                    gpointer         compare_data,
                                    GDestroyNotify   item_free);
AIO_AVAILABLE_IN_1_0
AioQueue *aio_queue_new_with_order (AioQueueOrder    order,
                                    gint             maxsize);

AIO_AVAILABLE_IN_1_0
AioQueueOrder  aio_queue_get_order      (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
gint           aio_queue_get_maxsize    (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
guint          aio_queue_get_size       (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
gboolean       aio_queue_is_empty       (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
gboolean       aio_queue_is_full        (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
gboolean       aio_queue_is_shut_down   (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
guint          aio_queue_get_unfinished (AioQueue *queue);

AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_put                      (AioQueue *queue,
                                               gpointer  item) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_put_with_priority        (AioQueue *queue,
                                               gpointer  item,
                                               gint      priority) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
gboolean   aio_queue_put_nowait               (AioQueue  *queue,
                                               gpointer   item,
                                               GError   **error);
AIO_AVAILABLE_IN_1_0
gboolean   aio_queue_put_nowait_with_priority (AioQueue  *queue,
                                               gpointer   item,
                                               gint       priority,
                                               GError   **error);
AIO_AVAILABLE_IN_1_0
void       aio_queue_put_threadsafe           (AioQueue *queue,
                                               gpointer  item);

AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_put_value               (AioQueue     *queue,
                                              const GValue *value) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_put_value_with_priority (AioQueue     *queue,
                                              const GValue *value,
                                              gint          priority) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
gboolean   aio_queue_put_value_nowait        (AioQueue      *queue,
                                              const GValue  *value,
                                              GError       **error);
AIO_AVAILABLE_IN_1_0
void       aio_queue_put_value_threadsafe    (AioQueue     *queue,
                                              const GValue *value);

AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_get              (AioQueue *queue) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
gpointer   aio_queue_get_nowait       (AioQueue  *queue,
                                       GError   **error);
AIO_AVAILABLE_IN_1_0
gboolean   aio_queue_get_value_nowait (AioQueue  *queue,
                                       GValue    *value,
                                       GError   **error);

AIO_AVAILABLE_IN_1_0
void       aio_queue_task_done (AioQueue *queue);
AIO_AVAILABLE_IN_1_0
AioFuture *aio_queue_join      (AioQueue *queue) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void       aio_queue_shutdown  (AioQueue *queue,
                                gboolean  immediate);

G_END_DECLS
