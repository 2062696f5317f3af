/* aio-condition.h: AioCondition, asyncio's Condition
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "aio-lock.h"
#include "aio-types.h"
#include "aio-version-macros.h"

G_BEGIN_DECLS

#define AIO_TYPE_CONDITION (aio_condition_get_type ())

AIO_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (AioCondition, aio_condition, AIO, CONDITION, GObject)

/**
 * AioConditionPredicate:
 * @user_data: the data given with the predicate
 *
 * The predicate of [method@Aio.Condition.wait_for]. It is called in the
 * loop's thread with the condition's lock held by the waiting task.
 *
 * Returns: %TRUE when the wait is over
 */
typedef gboolean (*AioConditionPredicate) (gpointer user_data);

AIO_AVAILABLE_IN_1_0
AioCondition *aio_condition_new         (AioLock               *lock);
AIO_AVAILABLE_IN_1_0
AioLock      *aio_condition_get_lock    (AioCondition          *condition);
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_condition_acquire     (AioCondition          *condition)
                                         G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void          aio_condition_release     (AioCondition          *condition);
AIO_AVAILABLE_IN_1_0
gboolean      aio_condition_is_locked   (AioCondition          *condition);
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_condition_wait        (AioCondition          *condition)
                                         G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
AioFuture    *aio_condition_wait_for    (AioCondition          *condition,
                                         AioConditionPredicate  predicate,
                                         gpointer               user_data,
                                         GDestroyNotify         destroy) G_GNUC_WARN_UNUSED_RESULT;
AIO_AVAILABLE_IN_1_0
void          aio_condition_notify      (AioCondition          *condition,
                                         guint                  n);
AIO_AVAILABLE_IN_1_0
void          aio_condition_notify_all  (AioCondition          *condition);

G_END_DECLS
