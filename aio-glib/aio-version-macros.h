/* aio-version-macros.h: symbol visibility and availability
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AIO_INSIDE) && !defined(AIO_COMPILATION)
# error "Only <aio-glib.h> can be included directly."
#endif

#include <glib.h>

#ifndef _AIO_EXTERN
# define _AIO_EXTERN __attribute__((visibility("default"))) extern
#endif

#define AIO_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

#ifndef AIO_VERSION_MIN_REQUIRED
# define AIO_VERSION_MIN_REQUIRED AIO_VERSION_1_0
#endif

#ifndef AIO_VERSION_MAX_ALLOWED
# define AIO_VERSION_MAX_ALLOWED AIO_VERSION_1_0
#endif

#define AIO_AVAILABLE_IN_ALL _AIO_EXTERN
#define AIO_AVAILABLE_IN_1_0 _AIO_EXTERN

#define AIO_DEPRECATED _AIO_EXTERN G_DEPRECATED

/**
 * AIO_DEPRECATED_FOR:
 * @f: the symbol to use instead
 *
 * Marks a public symbol of aio-glib as deprecated in favour of @f, so
 * that the compiler warns where it is used.
 *
 * Since: 1.0
 */
#define AIO_DEPRECATED_FOR(f) _AIO_EXTERN G_DEPRECATED_FOR (f)
