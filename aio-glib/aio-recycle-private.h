/* aio-recycle-private.h: when an object the library made may be reused
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The library keeps a few kinds of objects for reuse instead of
 * finalizing them (futures, in aio-future.c; the executor's GCancellables,
 * in aio-executor.c), because making and finalizing a GObject costs more
 * than the rest of their short lives.  Reuse is only safe when nothing of
 * anybody else's can still reach the object or be attached to it: the
 * next user would otherwise inherit a stranger's handler, weak pointer,
 * toggle reference or data.  These are the only places that decide it.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Whether @object, whose owner is about to drop what it believes is the
 * last reference, is known to nobody else: its reference is the only one,
 * and it has no qdata at all (GObject keeps weak references, toggle
 * references, closures' watches and object data there).  Reads no private
 * GObject names: an object that has any qdata is simply not reused. */
static inline gboolean
_aio_recycle_object_is_private (gpointer object)
{
  GObject *o = object;

  return g_atomic_int_get ((gint *) &o->ref_count) == 1 &&
         g_atomic_pointer_get (&o->qdata) == NULL;
}

/* Whether a GCancellable handed to user code may be handed to the next
 * user: private as above, never cancelled, and with no handler connected
 * (a "cancelled" handler the last user left behind would run when the
 * next user's work is cancelled). */
static inline gboolean
_aio_recycle_cancellable_ok (GCancellable *cancellable)
{
  static guint cancelled_signal;
  guint signal_id = (guint) g_atomic_int_get ((gint *) &cancelled_signal);

  if (signal_id == 0)
    {
      signal_id = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);
      g_atomic_int_set ((gint *) &cancelled_signal, (gint) signal_id);
    }

  return _aio_recycle_object_is_private (cancellable) &&
         !g_cancellable_is_cancelled (cancellable) &&
         !g_signal_has_handler_pending (cancellable, signal_id, 0, TRUE);
}

G_END_DECLS
