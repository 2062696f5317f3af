/* aio-private.h: what every part of the library shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Macros for the library's own files; never installed.  Whatever belongs
 * to one type goes in that type's -private.h instead.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Thread-local storage for the library's per-thread state: the running
 * loop, task and executor, the pools.  These are read on every completion
 * and every switch, and the initial-exec model makes a read one
 * instruction instead of a call to __tls_get_addr(). */
#define AIO_TLS __thread __attribute__ ((tls_model ("initial-exec")))

G_END_DECLS
