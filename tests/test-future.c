/* test-future.c: AioFuture's states, values, and errors never retrieved
 *
 * The done callbacks, completion from other threads and waits are in
 * test-future-callbacks.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <aio-glib.h>

#include "aio-test.h"

/* The context is pushed as the thread default (TEST_MAIN), so that futures
 * made without a loop (aio_future_new_for_int64() and friends) and GTasks
 * land on it too. */

/* ---- helpers ------------------------------------------------------------- */

static void
noop_callback (AioFuture *future,
               gpointer   user_data)
{
}

/* ---- states -------------------------------------------------------------- */

static void
test_state_resolve (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;

  g_test_summary ("A future starts pending (asyncio done() is False) and "
                  "set_result() moves it to resolved, read any number of times");

  future = aio_future_new_for_loop (f->loop);
  g_assert_true (aio_future_get_loop (future) == f->loop);
  g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_PENDING);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (aio_future_is_resolved (future));
  g_assert_false (aio_future_is_rejected (future));
  g_assert_false (aio_future_is_cancelled (future));
  g_assert_null (aio_future_get_error (future));

  aio_future_resolve (future);
  g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_RESOLVED);
  g_assert_true (aio_future_is_done (future));
  g_assert_true (aio_future_is_resolved (future));
  g_assert_false (aio_future_is_rejected (future));
  g_assert_false (aio_future_is_cancelled (future));
  g_assert_null (aio_future_get_error (future));

  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (aio_future_propagate (future, &error));
      g_assert_no_error (error);
    }

  g_assert_finalize_object (future);
}

static void
test_state_reject (Fixture       *f,
                   gconstpointer  data)
{
  AioFuture *future;
  const GError *stored;

  g_test_summary ("set_exception() moves a pending future to rejected; every "
                  "read gets its own copy of the same error");

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject (future, g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "no such thing"));
  g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_REJECTED);
  g_assert_true (aio_future_is_done (future));
  g_assert_false (aio_future_is_resolved (future));
  g_assert_true (aio_future_is_rejected (future));
  g_assert_false (aio_future_is_cancelled (future));

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (aio_future_propagate (future, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      g_assert_cmpstr (error->message, ==, "no such thing");
    }

  stored = aio_future_get_error (future);
  g_assert_error (stored, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (aio_future_get_error (future) == stored);

  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "too slow");
  g_assert_true (aio_future_is_rejected (future));
  g_assert_error (aio_future_get_error (future), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (aio_future_get_error (future)->message, ==, "too slow");
  g_assert_finalize_object (future);
}

static void
test_state_cancel (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;

  g_test_summary ("cancel(msg) moves a pending future to cancelled with "
                  "CancelledError(msg); cancel() on a done future returns False");

  future = aio_future_new_for_loop (f->loop);
  g_assert_true (aio_future_cancel (future, "stop it"));
  g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_CANCELLED);
  g_assert_true (aio_future_is_done (future));
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_false (aio_future_is_rejected (future));
  g_assert_false (aio_future_is_resolved (future));

  g_assert_false (aio_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "stop it");
  g_clear_error (&error);

  /* A second cancel changes nothing, message included. */
  g_assert_false (aio_future_cancel (future, "again"));
  g_assert_cmpstr (aio_future_get_error (future)->message, ==, "stop it");
  g_assert_finalize_object (future);

  /* Without a message, the error still says what happened. */
  future = aio_future_new_for_loop (f->loop);
  g_assert_true (aio_future_cancel (future, NULL));
  g_assert_error (aio_future_get_error (future), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (aio_future_get_error (future)->message);
  g_assert_cmpstr (aio_future_get_error (future)->message, !=, "");
  g_assert_finalize_object (future);

  /* Cancelling a resolved or rejected future returns FALSE, quietly. */
  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_int64 (future, 5);
  g_assert_false (aio_future_cancel (future, NULL));
  g_assert_true (aio_future_is_resolved (future));
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 5);
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_FAILED, "broken");
  g_assert_false (aio_future_cancel (future, NULL));
  g_assert_true (aio_future_is_rejected (future));
  g_assert_error (aio_future_get_error (future), G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_finalize_object (future);
}

static void
test_state_reject_cancelled (Fixture       *f,
                             gconstpointer  data)
{
  AioFuture *future;

  g_test_summary ("Rejecting with G_IO_ERROR_CANCELLED cancels the future, as "
                  "set_exception(CancelledError()) ends in cancelled() in asyncio");

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject (future, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "gone"));
  g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_CANCELLED);
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_false (aio_future_is_rejected (future));
  g_assert_cmpstr (aio_future_get_error (future)->message, ==, "gone");
  g_assert_false (aio_future_cancel (future, NULL));
  g_assert_finalize_object (future);

  future = aio_future_new_for_error (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x"));
  g_assert_true (aio_future_get_loop (future) == f->loop);
  g_assert_true (aio_future_is_cancelled (future));
  g_assert_finalize_object (future);

  future = aio_future_new_for_error (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x"));
  g_assert_true (aio_future_is_rejected (future));
  g_assert_nonnull (aio_future_get_error (future));
  g_assert_finalize_object (future);
}

typedef enum
{
  FIRST_RESOLVED,
  FIRST_REJECTED,
  FIRST_REJECTED_CANCELLED,
  N_FIRST,
} FirstOutcome;

static AioFuture *
make_done (AioLoop      *loop,
           FirstOutcome  first)
{
  AioFuture *future = aio_future_new_for_loop (loop);

  switch (first)
    {
    case FIRST_RESOLVED:
      aio_future_resolve_int64 (future, 42);
      break;
    case FIRST_REJECTED:
      aio_future_reject_literal (future, G_FILE_ERROR, G_FILE_ERROR_NOENT, "first");
      break;
    case FIRST_REJECTED_CANCELLED:
      aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_CANCELLED, "first");
      break;
    default:
      g_assert_not_reached ();
    }

  return future;
}

static void
check_first_outcome (AioFuture    *future,
                     FirstOutcome  first)
{
  g_autoptr(GError) error = NULL;

  switch (first)
    {
    case FIRST_RESOLVED:
      g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_RESOLVED);
      g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 42);
      g_assert_no_error (error);
      break;
    case FIRST_REJECTED:
      g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_REJECTED);
      g_assert_false (aio_future_propagate (future, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      g_assert_cmpstr (error->message, ==, "first");
      break;
    case FIRST_REJECTED_CANCELLED:
      g_assert_cmpint (aio_future_get_state (future), ==, AIO_FUTURE_CANCELLED);
      g_assert_false (aio_future_propagate (future, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "first");
      break;
    default:
      g_assert_not_reached ();
    }
}

#define EXPECT_ALREADY_DONE(...) EXPECT_CRITICAL ("*already done*", __VA_ARGS__)

static void
test_state_complete_twice (Fixture       *f,
                           gconstpointer  data)
{
  g_test_summary ("Completing a done future (asyncio InvalidStateError) is a "
                  "critical, frees what the late call passed in, and keeps the "
                  "first outcome");

  for (FirstOutcome first = 0; first < N_FIRST; first++)
    {
      AioFuture *future = make_done (f->loop, first);
      GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
      GValue value = G_VALUE_INIT;
      guint destroyed = 0;

      EXPECT_ALREADY_DONE (aio_future_resolve (future));
      EXPECT_ALREADY_DONE (aio_future_resolve_boolean (future, TRUE));
      EXPECT_ALREADY_DONE (aio_future_resolve_int64 (future, 7));
      EXPECT_ALREADY_DONE (aio_future_resolve_double (future, 0.5));
      EXPECT_ALREADY_DONE (aio_future_resolve_string (future, "late"));

      /* Taken, so freed (Valgrind checks). */
      EXPECT_ALREADY_DONE (aio_future_resolve_take_string (future, g_strdup ("late")));

      /* Not taken: the object keeps its single reference. */
      EXPECT_ALREADY_DONE (aio_future_resolve_object (future, object));
      EXPECT_ALREADY_DONE (aio_future_resolve_pointer (future, &destroyed, aio_test_count));
      g_assert_cmpuint (destroyed, ==, 1);

      g_value_init (&value, G_TYPE_STRING);
      g_value_set_static_string (&value, "late");
      EXPECT_ALREADY_DONE (aio_future_resolve_value (future, &value));
      g_value_unset (&value);

      /* The error is taken, so freed. */
      EXPECT_ALREADY_DONE (aio_future_reject (future,
                                              g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                                   "late")));
      EXPECT_ALREADY_DONE (aio_future_reject_literal (future, G_IO_ERROR,
                                                      G_IO_ERROR_CANCELLED, "late"));

      /* cancel() on a done future is no error: it returns FALSE. */
      g_assert_false (aio_future_cancel (future, "late"));

      check_first_outcome (future, first);
      g_assert_finalize_object (future);
      g_assert_finalize_object (object);
      g_assert_cmpuint (destroyed, ==, 1);
    }
}

static void
test_state_complete_after_cancel (Fixture       *f,
                                  gconstpointer  data)
{
  AioFuture *future;
  guint destroyed = 0;

  g_test_summary ("Work that completes a future after cancel() won the race is "
                  "dropped quietly (asyncio code checks cancelled() first): no "
                  "critical, the late value is freed, the future stays cancelled");

  future = aio_future_new_for_loop (f->loop);
  g_assert_true (aio_future_cancel (future, "first"));

  aio_future_resolve_pointer (future, &destroyed, aio_test_count);
  g_assert_cmpuint (destroyed, ==, 1);
  aio_future_resolve_take_string (future, g_strdup ("late"));
  aio_future_reject (future, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  aio_future_resolve_int64 (future, 3);

  g_assert_true (aio_future_is_cancelled (future));
  g_assert_error (aio_future_get_error (future), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (aio_future_get_error (future)->message, ==, "first");
  g_assert_finalize_object (future);
  g_assert_cmpuint (destroyed, ==, 1);
}

/* ---- values -------------------------------------------------------------- */

static void
test_value_scalars (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;

  g_test_summary ("result() of boolean, int64 and double futures, read twice "
                  "and through get_value()");

  future = aio_future_new_for_boolean (TRUE);
  g_assert_true (aio_future_get_loop (future) == f->loop);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_true (aio_future_get_boolean (future, &error));
      g_assert_no_error (error);
      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_no_error (error);
      g_assert_true (G_VALUE_HOLDS_BOOLEAN (&value));
      g_assert_true (g_value_get_boolean (&value));
      g_value_unset (&value);
    }
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_boolean (future, FALSE);
  g_assert_false (aio_future_get_boolean (future, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (future);

  future = aio_future_new_for_int64 (G_MININT64);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_cmpint (aio_future_get_int64 (future, &error), ==, G_MININT64);
      g_assert_no_error (error);
      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_INT64 (&value));
      g_assert_cmpint (g_value_get_int64 (&value), ==, G_MININT64);
      g_value_unset (&value);
    }
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_int64 (future, G_MAXINT64);
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, G_MAXINT64);
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, G_MAXINT64);
  g_assert_no_error (error);
  g_assert_finalize_object (future);

  future = aio_future_new_for_double (-2.25);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_cmpfloat (aio_future_get_double (future, &error), ==, -2.25);
      g_assert_no_error (error);
      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_DOUBLE (&value));
      g_assert_cmpfloat (g_value_get_double (&value), ==, -2.25);
      g_value_unset (&value);
    }
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_double (future, 1e300);
  g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 1e300);
  g_assert_no_error (error);
  g_assert_finalize_object (future);
}

static void
test_value_string (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;
  char *original;
  const char *stored;

  g_test_summary ("String futures: *_for_string copies, *_take_string takes; "
                  "the string is the future's and reads the same twice");

  original = g_strdup ("hello");
  future = aio_future_new_for_string (original);
  stored = aio_future_get_string (future, &error);
  g_assert_no_error (error);
  g_assert_true (stored != original);
  g_free (original);
  g_assert_cmpstr (stored, ==, "hello");
  g_assert_true (aio_future_get_string (future, &error) == stored);
  g_assert_true (aio_future_get_pointer (future, &error) == stored);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_STRING (&value));
      g_assert_cmpstr (g_value_get_string (&value), ==, "hello");
      g_value_unset (&value);
    }
  g_assert_finalize_object (future);

  original = g_strdup ("taken");
  future = aio_future_new_take_string (original);
  g_assert_true (aio_future_get_string (future, &error) == original);
  g_assert_true (aio_future_get_string (future, &error) == original);
  g_assert_no_error (error);
  g_assert_finalize_object (future);   /* frees @original; Valgrind checks */

  future = aio_future_new_for_loop (f->loop);
  original = g_strdup ("copied");
  aio_future_resolve_string (future, original);
  g_assert_true (aio_future_get_string (future, &error) != original);
  g_assert_cmpstr (aio_future_get_string (future, &error), ==, "copied");
  g_free (original);
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  original = g_strdup ("taken too");
  aio_future_resolve_take_string (future, original);
  g_assert_true (aio_future_get_string (future, &error) == original);
  g_assert_finalize_object (future);

  /* NULL is a fine string value. */
  future = aio_future_new_for_string (NULL);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_null (aio_future_get_string (future, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (future);
}

static void
test_value_object (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *weak = object;
  AioFuture *future;

  g_test_summary ("An object future holds one reference to its object, "
                  "returns it unchanged on every read, and drops it when finalized");

  g_object_add_weak_pointer (object, (gpointer *) &weak);

  future = aio_future_new_for_object (object);
  g_object_unref (object);
  g_assert_nonnull (weak);
  g_assert_true (aio_future_get_object (future, &error) == weak);
  g_assert_true (aio_future_get_object (future, &error) == weak);
  g_assert_true (aio_future_get_pointer (future, &error) == weak);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
      g_assert_true (g_value_get_object (&value) == weak);
      g_value_unset (&value);
    }
  g_assert_finalize_object (future);
  g_assert_null (weak);

  object = g_object_new (G_TYPE_OBJECT, NULL);
  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_object (future, object);
  g_assert_true (aio_future_get_object (future, &error) == object);
  g_assert_finalize_object (future);
  g_assert_finalize_object (object);

  future = aio_future_new_for_object (NULL);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_null (aio_future_get_object (future, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (future);
}

static void
test_value_pointer (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;
  AioFuture *future;

  g_test_summary ("A pointer future keeps its pointer across reads and calls "
                  "its destroy notify exactly once, when finalized");

  future = aio_future_new_for_pointer (&destroyed, aio_test_count);
  for (guint i = 0; i < 2; i++)
    {
      GValue value = G_VALUE_INIT;

      g_assert_true (aio_future_get_pointer (future, &error) == &destroyed);
      g_assert_no_error (error);
      g_assert_true (aio_future_get_value (future, &value, &error));
      g_assert_true (G_VALUE_HOLDS_POINTER (&value));
      g_assert_true (g_value_get_pointer (&value) == &destroyed);
      g_value_unset (&value);
    }
  g_assert_cmpuint (destroyed, ==, 0);
  g_assert_finalize_object (future);
  g_assert_cmpuint (destroyed, ==, 1);

  destroyed = 0;
  future = aio_future_new_for_loop (f->loop);
  aio_future_resolve_pointer (future, &destroyed, aio_test_count);
  /* Callbacks running and the loop iterating do not free the value. */
  aio_future_add_done_callback (future, noop_callback, NULL, NULL);
  drain (f);
  g_assert_cmpuint (destroyed, ==, 0);
  g_assert_true (aio_future_get_pointer (future, &error) == &destroyed);
  g_assert_finalize_object (future);
  g_assert_cmpuint (destroyed, ==, 1);

  /* No destroy notify: the pointer is just handed back. */
  future = aio_future_new_for_pointer (&destroyed, NULL);
  g_assert_true (aio_future_get_pointer (future, &error) == &destroyed);
  g_assert_finalize_object (future);
  g_assert_cmpuint (destroyed, ==, 1);
}

static void
test_value_gvalue (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GValue in = G_VALUE_INIT;
  AioFuture *future;

  g_test_summary ("A GValue future stores a copy of the value and hands out "
                  "a fresh copy on every read");

  g_value_init (&in, G_TYPE_STRV);
  g_value_take_boxed (&in, g_strsplit ("a b c", " ", -1));
  future = aio_future_new_for_value (&in);
  g_value_unset (&in);

  for (guint i = 0; i < 2; i++)
    {
      GValue out = G_VALUE_INIT;
      const char * const *strv;

      g_assert_true (aio_future_get_value (future, &out, &error));
      g_assert_no_error (error);
      g_assert_true (G_VALUE_HOLDS (&out, G_TYPE_STRV));
      strv = g_value_get_boxed (&out);
      g_assert_cmpstrv (strv, ((const char * const[]) { "a", "b", "c", NULL }));
      g_value_unset (&out);
    }
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  g_value_init (&in, G_TYPE_UINT);
  g_value_set_uint (&in, 17);
  aio_future_resolve_value (future, &in);
  g_value_set_uint (&in, 18);   /* the future has its own copy */
  for (guint i = 0; i < 2; i++)
    {
      GValue out = G_VALUE_INIT;

      g_assert_true (aio_future_get_value (future, &out, &error));
      g_assert_cmpuint (g_value_get_uint (&out), ==, 17);
      g_value_unset (&out);
    }
  g_assert_finalize_object (future);
}

static void
test_value_none (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  AioFuture *future;

  g_test_summary ("A future resolved with no value (set_result(None)) reads as "
                  "the zero of every type, and leaves a GValue unset");

  future = aio_future_new_resolved ();
  g_assert_true (aio_future_is_resolved (future));
  g_assert_false (aio_future_get_boolean (future, &error));
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0);
  g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 0.0);
  g_assert_null (aio_future_get_string (future, &error));
  g_assert_null (aio_future_get_object (future, &error));
  g_assert_null (aio_future_get_pointer (future, &error));
  g_assert_true (aio_future_get_value (future, &value, &error));
  g_assert_false (G_IS_VALUE (&value));
  g_assert_no_error (error);
  g_assert_finalize_object (future);
}

static void
check_invalid_state (GError *error)
{
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_error_free (error);
}

static void
test_value_pending (Fixture       *f,
                    gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  GValue value = G_VALUE_INIT;
  GError *error = NULL;

  g_test_summary ("Reading a pending future fails with AIO_ERROR_INVALID_STATE "
                  "(asyncio's InvalidStateError), whatever the getter");

  g_assert_false (aio_future_propagate (future, &error));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_false (aio_future_get_boolean (future, &error));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0);
  check_invalid_state (g_steal_pointer (&error));
  g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 0.0);
  check_invalid_state (g_steal_pointer (&error));
  g_assert_null (aio_future_get_string (future, &error));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_null (aio_future_get_object (future, &error));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_null (aio_future_get_pointer (future, &error));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_false (aio_future_get_value (future, &value, &error));
  g_assert_false (G_IS_VALUE (&value));
  check_invalid_state (g_steal_pointer (&error));
  g_assert_null (aio_future_get_error (future));

  /* Reading changed nothing. */
  g_assert_false (aio_future_is_done (future));
  aio_future_resolve_int64 (future, 1);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 1);
  g_assert_finalize_object (future);
}

#define EXPECT_MISMATCH(what, ...) EXPECT_CRITICAL ("*holds " what "*", __VA_ARGS__)

static void
test_value_type_mismatch (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;

  g_test_summary ("Reading a future with the getter of another type is a "
                  "programmer error: a critical, the zero value, and no GError");

  future = aio_future_new_for_string ("text");
  EXPECT_MISMATCH ("a string, not an int64",
                   g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0));
  EXPECT_MISMATCH ("a string, not a boolean",
                   g_assert_false (aio_future_get_boolean (future, &error)));
  EXPECT_MISMATCH ("a string, not an object",
                   g_assert_null (aio_future_get_object (future, &error)));
  g_assert_no_error (error);
  /* The value is intact. */
  g_assert_cmpstr (aio_future_get_string (future, &error), ==, "text");
  g_assert_finalize_object (future);

  future = aio_future_new_for_int64 (9);
  EXPECT_MISMATCH ("an int64, not a double",
                   g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 0.0));
  EXPECT_MISMATCH ("an int64, not a string",
                   g_assert_null (aio_future_get_string (future, &error)));
  EXPECT_MISMATCH ("an int64, not a pointer",
                   g_assert_null (aio_future_get_pointer (future, &error)));
  g_assert_no_error (error);
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 9);
  g_assert_finalize_object (future);

  future = aio_future_new_for_boolean (TRUE);
  EXPECT_MISMATCH ("a boolean, not an int64",
                   g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0));
  g_assert_no_error (error);
  g_assert_finalize_object (future);
}

static void
test_value_rejected_getters (Fixture       *f,
                             gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  GValue value = G_VALUE_INIT;
  GError *error = NULL;

  g_test_summary ("Every getter of a rejected future raises its error (as "
                  "result() re-raises the exception), which counts as retrieved");

  aio_future_reject_literal (future, G_FILE_ERROR, G_FILE_ERROR_ACCES, "denied");

  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
  g_clear_error (&error);
  g_assert_null (aio_future_get_string (future, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
  g_clear_error (&error);
  g_assert_false (aio_future_get_value (future, &value, &error));
  g_assert_false (G_IS_VALUE (&value));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
  g_clear_error (&error);

  /* No "never retrieved" warning (it would be fatal here). */
  g_assert_finalize_object (future);

  /* A getter called without a GError still counts. */
  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_FILE_ERROR, G_FILE_ERROR_ACCES, "denied");
  g_assert_false (aio_future_get_boolean (future, NULL));
  g_assert_finalize_object (future);
}

/* ---- "exception was never retrieved" ------------------------------------- */

static void
test_never_retrieved_warning (Fixture       *f,
                              gconstpointer  data)
{
  AioFuture *future;

  g_test_summary ("A rejected future finalized with nobody having read its "
                  "error warns, like asyncio's 'exception was never retrieved'");

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_FAILED, "lost error");
  g_test_expect_message ("Aio", G_LOG_LEVEL_WARNING, "*never retrieved*lost error*");
  g_assert_finalize_object (future);
  g_test_assert_expected_messages ();

  /* Done callbacks that ran do not count as reading it. */
  future = aio_future_new_for_error (g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "again"));
  aio_future_add_done_callback (future, noop_callback, NULL, NULL);
  drain (f);
  g_test_expect_message ("Aio", G_LOG_LEVEL_WARNING, "*never retrieved*again*");
  g_assert_finalize_object (future);
  g_test_assert_expected_messages ();
}

static void
test_never_retrieved_read (Fixture       *f,
                           gconstpointer  data)
{
  AioFuture *future;

  g_test_summary ("No 'never retrieved' warning once exception() (get_error) "
                  "or result() (propagate) read the error, nor for cancelled futures");

  /* GTest makes warnings fatal: an unexpected one fails the test. */
  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_FAILED, "seen");
  g_assert_nonnull (aio_future_get_error (future));
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_FAILED, "seen");
  g_assert_false (aio_future_propagate (future, NULL));
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_cancel (future, NULL);
  g_assert_finalize_object (future);

  future = aio_future_new_for_loop (f->loop);
  aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  g_assert_finalize_object (future);

  /* Nor for a pending future's error, as it has none. */
  future = aio_future_new_for_loop (f->loop);
  g_assert_finalize_object (future);
}

static void
test_state_g_object_new (Fixture       *f,
                         gconstpointer  data)
{
  AioFuture *future;

  g_test_summary ("A future made with g_object_new(), as a language binding's "
                  "default constructor makes it, belongs to the default loop like "
                  "one from aio_future_new() (asyncio: Future() uses the current "
                  "loop), and works; a task cannot be made that way");

  future = g_object_new (AIO_TYPE_FUTURE, NULL);
  g_assert_true (aio_future_get_loop (future) == f->loop);
  aio_future_resolve_int64 (future, 5);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 5);
  g_assert_finalize_object (future);

  EXPECT_CRITICAL ("*cannot be constructed with g_object_new*",
                   future = g_object_new (AIO_TYPE_TASK, NULL));
  g_assert_true (aio_future_get_loop (future) == f->loop);
  /* It never ran and never will; dropping it warns that it is pending. */
  g_test_expect_message ("Aio", G_LOG_LEVEL_WARNING, "*still pending*");
  g_object_unref (future);
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_MAIN ("/aio/future/state/resolve", test_state_resolve);
  TEST_MAIN ("/aio/future/state/g-object-new", test_state_g_object_new);
  TEST_MAIN ("/aio/future/state/reject", test_state_reject);
  TEST_MAIN ("/aio/future/state/cancel", test_state_cancel);
  TEST_MAIN ("/aio/future/state/reject-cancelled", test_state_reject_cancelled);
  TEST_MAIN ("/aio/future/state/complete-twice", test_state_complete_twice);
  TEST_MAIN ("/aio/future/state/complete-after-cancel", test_state_complete_after_cancel);
  TEST_MAIN ("/aio/future/value/scalars", test_value_scalars);
  TEST_MAIN ("/aio/future/value/string", test_value_string);
  TEST_MAIN ("/aio/future/value/object", test_value_object);
  TEST_MAIN ("/aio/future/value/pointer", test_value_pointer);
  TEST_MAIN ("/aio/future/value/gvalue", test_value_gvalue);
  TEST_MAIN ("/aio/future/value/none", test_value_none);
  TEST_MAIN ("/aio/future/value/pending", test_value_pending);
  TEST_MAIN ("/aio/future/value/type-mismatch", test_value_type_mismatch);
  TEST_MAIN ("/aio/future/value/rejected-getters", test_value_rejected_getters);
  TEST_MAIN ("/aio/future/never-retrieved/warning", test_never_retrieved_warning);
  TEST_MAIN ("/aio/future/never-retrieved/read", test_never_retrieved_read);

  return g_test_run ();
}
