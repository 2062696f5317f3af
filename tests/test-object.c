/* test-object.c: the library's own reference counting (aio-object-private.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-object.h>

#include "aio-object-private.h"
#include "aio-recycle-private.h"
#include "aio-test.h"

/* What the toggle notifications said last: TRUE when the toggle reference
 * was left alone (PyGObject then holds its wrapper weakly), FALSE when
 * somebody else took a reference again. */
typedef struct
{
  gint last;        /* -1 before any */
  gint n_true;
  gint n_false;
} Toggles;

static void
toggle_notify (gpointer  data,
               GObject  *object,
               gboolean  is_last_ref)
{
  Toggles *t = data;

  t->last = is_last_ref;
  if (is_last_ref)
    t->n_true++;
  else
    t->n_false++;
}

static void
test_toggle_notifications (void)
{
  Toggles t = { -1, 0, 0 };
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_summary ("With a toggle reference as the only other reference, "
                  "_aio_ref() and _aio_unref() fire its notifications as "
                  "g_object_ref() and g_object_unref() do: the 1 <-> 2 "
                  "transitions always go through GObject, whatever the "
                  "object's data looked like a moment before");

  g_object_add_toggle_ref (object, toggle_notify, &t);
  g_object_unref (object);
  g_assert_cmpint (t.last, ==, TRUE);

  for (guint i = 0; i < 100; i++)
    {
      _aio_ref (object);
      g_assert_cmpint (t.last, ==, FALSE);
      _aio_ref (object);
      _aio_unref (object);
      g_assert_cmpint (t.last, ==, FALSE);
      _aio_unref (object);
      g_assert_cmpint (t.last, ==, TRUE);
    }
  g_assert_cmpint (t.n_true, ==, 101);
  g_assert_cmpint (t.n_false, ==, 100);

  g_object_remove_toggle_ref (object, toggle_notify, &t);
}

/* /aio/object/recycle/cancellable */

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
}

static void
test_recycle_cancellable (void)
{
  GCancellable *cancellable = g_cancellable_new ();
  GCancellable *other = g_cancellable_new ();
  gulong handler;
  gpointer weak = cancellable;

  g_test_summary ("A GCancellable that was handed to user code is reused only "
                  "when nothing of theirs can still be attached: no other "
                  "reference, no handler (even blocked), no weak pointer or "
                  "data, never cancelled");

  g_assert_true (_aio_recycle_cancellable_ok (cancellable));

  handler = g_signal_connect (cancellable, "cancelled", G_CALLBACK (on_cancelled), NULL);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));
  g_signal_handler_block (cancellable, handler);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));
  g_signal_handler_disconnect (cancellable, handler);
  g_assert_true (_aio_recycle_cancellable_ok (cancellable));

  /* A handler on another GCancellable is not this one's. */
  handler = g_signal_connect (other, "cancelled", G_CALLBACK (on_cancelled), NULL);
  g_assert_true (_aio_recycle_cancellable_ok (cancellable));
  g_signal_handler_disconnect (other, handler);

  g_object_ref (cancellable);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));
  g_object_unref (cancellable);

  /* (Once it had qdata it is not reused again: GLib may keep the emptied
   * list, and any qdata at all is enough to refuse.) */

  g_object_add_weak_pointer (G_OBJECT (cancellable), &weak);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));
  g_object_remove_weak_pointer (G_OBJECT (cancellable), &weak);

  g_object_set_data (G_OBJECT (cancellable), "user-data", cancellable);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));
  g_object_set_data (G_OBJECT (cancellable), "user-data", NULL);

  g_cancellable_cancel (cancellable);
  g_assert_false (_aio_recycle_cancellable_ok (cancellable));

  g_object_unref (cancellable);
  g_object_unref (other);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST_BARE ("/aio/object/toggle-notifications", test_toggle_notifications);
  TEST_BARE ("/aio/object/recycle/cancellable", test_recycle_cancellable);

  return g_test_run ();
}
