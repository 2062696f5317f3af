/* aio-error-private.h: translations for messages made at a high rate
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* See aio-error.c.  Zero-initialized, static. */
typedef struct
{
  gint        stamp;
  const char *text;
} AioCachedText;

const char *_aio_gettext_cached (AioCachedText *cache,
                                 const char    *msgid);

/* _() for a literal message, remembered in a cache of its own. */
#define _AIO_CACHED_(msgid)                                     \
  ({ static AioCachedText _aio_cache;                           \
     _aio_gettext_cached (&_aio_cache, msgid); })

G_END_DECLS
