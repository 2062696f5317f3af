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
 * These two do the same for the common case and defer to GObject for the
 * rest:
 *
 *  - an object whose qdata is empty (no data, no weak or toggle
 *    references: GObject keeps all of them there, and keeps flags in the
 *    low bits of the same pointer) only has its count changed, exactly
 *    as g_object_ref() and g_object_unref() would change it;
 *  - the last reference (dispose and finalize) and any object that has
 *    qdata go through GObject.
 *
 * Internal code only, on objects it knows to be GObjects. */
static inline gpointer
_aio_ref (gpointer object)
{
  GObject *o = object;

  if (G_LIKELY (g_atomic_pointer_get (&o->qdata) == NULL))
    {
      g_atomic_int_inc ((gint *) &o->ref_count);
      return object;
    }
  return g_object_ref (object);
}

static inline void
_aio_unref (gpointer object)
{
  GObject *o = object;

  if (G_LIKELY (g_atomic_pointer_get (&o->qdata) == NULL))
    {
      gint old = g_atomic_int_get ((gint *) &o->ref_count);

      while (old > 1)
        {
          if (__atomic_compare_exchange_n ((gint *) &o->ref_count, &old, old - 1,
                                           FALSE, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST))
            return;
        }
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
