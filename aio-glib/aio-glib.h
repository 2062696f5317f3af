/* aio-glib.h: asyncio's everyday API for GLib programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define AIO_INSIDE

#include <gio/gio.h>

#include "aio-version.h"
#include "aio-version-macros.h"
#include "aio-types.h"
#include "aio-enums.h"
#include "aio-error.h"
#include "aio-handle.h"
#include "aio-future.h"
#include "aio-loop.h"
#include "aio-sleep.h"
#include "aio-task.h"
#include "aio-run.h"
#include "aio-combinators.h"
#include "aio-executor.h"
#include "aio-queue.h"
#include "aio-event.h"
#include "aio-lock.h"
#include "aio-semaphore.h"
#include "aio-condition.h"
#include "aio-barrier.h"
#include "aio-task-group.h"
#include "aio-timeout.h"
#include "aio-gio.h"
#include "aio-socket.h"

#undef AIO_INSIDE
