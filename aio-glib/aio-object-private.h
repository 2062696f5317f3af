/* aio-object-private.h: GObject reference counting for the hot paths
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* g_object_ref() and g_object_unref() check the instance's type (a call
 * into GType per reference) and look for toggle references on every
 * change; on a pingpong round trip that was a third of the instructions.
 * These two change the count themselves only where GObject would do
 * nothing else:
 *
 *  - a reference taken when there are already two or more, and a
 *    reference dropped when three or more are left, never cross the
 *    transitions GObject acts on: 1 <-> 2 is where a toggle reference's
 *    notification fires (PyGObject and GJS add toggle references from
 *    any thread, at any time), 1 -> 0 is dispose and finalize;
 *  - everything else goes through GObject.
 *
 * The count is changed by compare-and-swap from a value seen to be in
 * range, so a toggle reference added by another thread between the check
 * and the change cannot be missed: the change fails and is retried, or
 * goes to GObject, which does the transition and its notification under
 * its own rules.  Weak references and object data only matter at
 * dispose, which always goes through GObject.
 *
 * Internal code only, on objects it knows to be GObjects. */
static inline gpointer
_aio_ref (gpointer object)
{
  gint *count = (gint *) &((GObject *) object)->ref_count;
  gint old = g_atomic_int_get (count);

  while (old >= 2)
    {
      if (__atomic_compare_exchange_n (count, &old, old + 1, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return object;
    }
  return g_object_ref (object);
}

static inline void
_aio_unref (gpointer object)
{
  gint *count = (gint *) &((GObject *) object)->ref_count;
  gint old = g_atomic_int_get (count);

  while (old >= 3)
    {
      /* Release: what this thread did to the object happens before
       * whoever drops the last reference and finalizes it. */
      if (__atomic_compare_exchange_n (count, &old, old - 1, TRUE,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return;
    }
  g_object_unref (object);
}

/* g_clear_object() with _aio_unref(). */
#define _aio_clear_ref(pp)                        \
  G_STMT_START {                                  \
    gpointer _aio_old = *(pp);                    \
    *(pp) = NULL;                                 \
    if (_aio_old != NULL)                         \
      _aio_unref (_aio_old);                      \
  } G_STMT_END

G_END_DECLS
