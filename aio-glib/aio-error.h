/* aio-error.h: the AIO_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib.h>

#include "aio-version-macros.h"

G_BEGIN_DECLS

/**
 * AIO_ERROR:
 *
 * The error domain of aio-glib's own runtime failures.
 *
 * Cancellation and timeouts use `G_IO_ERROR_CANCELLED` and
 * `G_IO_ERROR_TIMED_OUT` instead, so that callers test one code whether
 * the error came from GIO or from aio-glib.
 */
#define AIO_ERROR (aio_error_quark ())

/**
 * AioError:
 * @AIO_ERROR_FAILED: a failure with no more specific code
 * @AIO_ERROR_CLOSED: the loop was closed
 * @AIO_ERROR_RUNNING: the loop is already running
 * @AIO_ERROR_INVALID_STATE: the object is not in a state that allows this,
 *   such as reading the result of a pending future
 * @AIO_ERROR_NOT_IN_TASK: awaiting outside of a task
 * @AIO_ERROR_NO_STACK: no memory could be had for another fiber stack
 * @AIO_ERROR_STOPPED: the loop was stopped before the future completed
 * @AIO_ERROR_QUEUE_FULL: `aio_queue_put_nowait()` on a full queue
 *   (asyncio's `QueueFull`)
 * @AIO_ERROR_QUEUE_EMPTY: `aio_queue_get_nowait()` on an empty queue
 *   (asyncio's `QueueEmpty`)
 * @AIO_ERROR_QUEUE_SHUT_DOWN: the queue was shut down
 *   ([method@Aio.Queue.shutdown]; asyncio's `QueueShutDown`)
 * @AIO_ERROR_BROKEN_BARRIER: the barrier was aborted or reset while
 *   waiting, or is broken (asyncio's `BrokenBarrierError`)
 *
 * Error codes of the %AIO_ERROR domain. New codes are only ever added at
 * the end.
 */
typedef enum
{
  AIO_ERROR_FAILED = 0,
  AIO_ERROR_CLOSED,
  AIO_ERROR_RUNNING,
  AIO_ERROR_INVALID_STATE,
  AIO_ERROR_NOT_IN_TASK,
  AIO_ERROR_NO_STACK,
  AIO_ERROR_STOPPED,
  AIO_ERROR_QUEUE_FULL,
  AIO_ERROR_QUEUE_EMPTY,
  AIO_ERROR_QUEUE_SHUT_DOWN,
  AIO_ERROR_BROKEN_BARRIER,
} AioError;

AIO_AVAILABLE_IN_1_0
GQuark aio_error_quark (void);

G_END_DECLS
