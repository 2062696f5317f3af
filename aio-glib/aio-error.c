/* aio-error.c: the AIO_ERROR domain, and the library's gettext binding
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-error-private.h"

/**
 * aio_error_quark:
 *
 * Gets the error domain of aio-glib's own runtime failures. Use it
 * through %AIO_ERROR.
 *
 * Returns: the quark of the %AIO_ERROR domain
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (aio-error-quark, aio_error)

/* Messages are translated with _() in many files, and the first one may
 * come before anything else of the library has run: in
 * g_set_error_literal (error, AIO_ERROR, code, _("...")) the compiler may
 * evaluate _() before AIO_ERROR, and cancellation messages carry
 * G_IO_ERROR. So the domain is bound when the library is loaded. GLib
 * 2.74 does not install its G_DEFINE_CONSTRUCTOR, hence GCC's attribute,
 * which Clang has too. */
__attribute__((constructor)) static void
aio_bind_text_domain (void)
{
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
}

#ifdef __GLIBC__
/* glibc counts the changes that may change what gettext returns: catalogs
 * loaded, domains bound, setlocale(). */
extern int _nl_msg_cat_cntr;
#endif

/* _() for messages made at a high rate, such as the message of every
 * cancellation: a gettext lookup costs about 500 instructions, as much as
 * the rest of a cancellation.  The translation is looked up again whenever
 * glibc's catalog counter moved (elsewhere: every time).  Racing threads
 * may both look it up; either result is right. */
const char *
_aio_gettext_cached (AioCachedText *cache,
                     const char    *msgid)
{
#ifdef __GLIBC__
  gint stamp = g_atomic_int_get (&_nl_msg_cat_cntr) + 1;
  const char *text;

  if (g_atomic_int_get (&cache->stamp) == stamp &&
      (text = g_atomic_pointer_get (&cache->text)) != NULL)
    return text;

  text = g_dgettext (GETTEXT_PACKAGE, msgid);
  g_atomic_pointer_set (&cache->text, text);
  g_atomic_int_set (&cache->stamp, stamp);
  return text;
#else
  return g_dgettext (GETTEXT_PACKAGE, msgid);
#endif
}
