/* aio-task-group.h: AioTaskGroup, asyncio's TaskGroup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "aio-task.h"
#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_TASK_GROUP (aio_task_group_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioTaskGroup, aio_task_group, AIO, TASK_GROUP, GObject)

AIO_AVAILABLE_IN_1_0
AioTaskGroup *aio_task_group_new                  (void);
AIO_AVAILABLE_IN_1_0
AioTask      *aio_task_group_create_task          (AioTaskGroup   *group,
                                                   AioTaskFunc     func,
                                                   gpointer        user_data,
                                                   GDestroyNotify  destroy);
AIO_AVAILABLE_IN_1_0
AioTask      *aio_task_group_create_stepped_task  (AioTaskGroup   *group,
                                                   AioStepFunc     func,
                                                   gpointer        user_data,
                                                   GDestroyNotify  destroy);
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_task_group_wait                 (AioTaskGroup   *group) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
guint         aio_task_group_get_n_pending        (AioTaskGroup   *group);
AIO_AVAILABLE_IN_1_0
gboolean      aio_task_group_is_aborting          (AioTaskGroup   *group);
AIO_AVAILABLE_IN_1_0
void          aio_task_group_bind_to_object       (AioTaskGroup   *group,
                                                   gpointer        object);

G_END_DECLS
