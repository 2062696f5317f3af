/* aio-watchdog.h: a hung test aborts instead of blocking `meson test`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Arms the watchdog: unless disarmed within @seconds, the process prints
 * "Bail out! watchdog: the test hung" and aborts.  Generous values, so
 * that the suite also passes under Valgrind. */
void aio_test_watchdog_arm    (guint seconds);
void aio_test_watchdog_disarm (void);

G_END_DECLS
