/* aio-task-private.h: what the library knows of a task beyond its API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-task.h"

G_BEGIN_DECLS

/* Loop thread.  Whether @task was asked to stop and its body has not
 * seen it yet: the cancellation comes at its next wait (what it waited
 * for had completed before the request, and the body got that outcome). */
gboolean _aio_task_cancel_is_pending (AioTask *task);

/* Waits for @future (taking it) from the running task's fiber body (see
 * aio-await.c).  Returns it, done and resolved, or NULL with @error set:
 * when called from anywhere else, when the task was cancelled meanwhile,
 * or when @future was not resolved. */
AioFuture *_aio_task_await             (AioFuture  *future,
                                        GError    **error);

G_END_DECLS
