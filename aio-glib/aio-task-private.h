/* aio-task-private.h: AioTask internals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "aio-task.h"

G_BEGIN_DECLS

G_END_DECLS
