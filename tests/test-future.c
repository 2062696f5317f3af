/* test-future.c: AioFuture's states, values, done callbacks and waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-test.h"

/* ---- helpers ------------------------------------------------------------- */

/* The context is pushed as the thread default (TEST_MAIN), so that futures
 * made without a loop (aio_future_new_for_int64() and friends) and GTasks
 * land on it too; except for the tests that involve other threads
 * (TEST_UNPUSHED): pushing a context acquires it for the whole test, which
 * would hide whatever happens when the loop's thread does not hold it. */

static void
iterate_once (Fixture *f)
{
  g_main_context_iteration (aio_loop_get_context (f->loop), FALSE);
}

static void
noop_callback (AioFuture *future,
               gpointer   user_data)
{
}

typedef struct
{
  GString    *log;
  char        letter;
  guint      *destroyed;
} Step;

static void
step_free (gpointer data)
{
  Step *step = data;

  if (step->destroyed != NULL)
    (*step->destroyed)++;
  g_free (step);
}

static void
step_run (AioFuture *future,
          gpointer   user_data)
{
  Step *step = user_data;

  g_string_append_c (step->log, step->letter);
}

static guint
add_step (AioFuture *future,
          GString   *log,
          char       letter,
          guint     *destroyed)
{
  Step *step = g_new0 (Step, 1);

  step->log = log;
  step->letter = letter;
  step->destroyed = destroyed;
  return aio_future_add_done_callback (future, step_run, step, step_free);
}

static gboolean
future_has_callbacks (AioFuture *future)
{
  return future->callback0.func != NULL ||
         (future->callbacks != NULL && future->callbacks->len > 0);
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

#define EXPECT_ALREADY_DONE() \
  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*already done*")

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

      EXPECT_ALREADY_DONE ();
      aio_future_resolve (future);
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_resolve_boolean (future, TRUE);
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_resolve_int64 (future, 7);
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_resolve_double (future, 0.5);
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_resolve_string (future, "late");
      g_test_assert_expected_messages ();

      /* Taken, so freed (Valgrind checks). */
      EXPECT_ALREADY_DONE ();
      aio_future_resolve_take_string (future, g_strdup ("late"));
      g_test_assert_expected_messages ();

      /* Not taken: the object keeps its single reference. */
      EXPECT_ALREADY_DONE ();
      aio_future_resolve_object (future, object);
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_resolve_pointer (future, &destroyed, aio_test_count);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (destroyed, ==, 1);

      g_value_init (&value, G_TYPE_STRING);
      g_value_set_static_string (&value, "late");
      EXPECT_ALREADY_DONE ();
      aio_future_resolve_value (future, &value);
      g_test_assert_expected_messages ();
      g_value_unset (&value);

      /* The error is taken, so freed. */
      EXPECT_ALREADY_DONE ();
      aio_future_reject (future, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
      g_test_assert_expected_messages ();

      EXPECT_ALREADY_DONE ();
      aio_future_reject_literal (future, G_IO_ERROR, G_IO_ERROR_CANCELLED, "late");
      g_test_assert_expected_messages ();

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

#define EXPECT_MISMATCH(what) \
  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*holds " what "*")

static void
test_value_type_mismatch (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future;

  g_test_summary ("Reading a future with the getter of another type is a "
                  "programmer error: a critical, the zero value, and no GError");

  future = aio_future_new_for_string ("text");
  EXPECT_MISMATCH ("a string, not an int64");
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0);
  g_test_assert_expected_messages ();
  EXPECT_MISMATCH ("a string, not a boolean");
  g_assert_false (aio_future_get_boolean (future, &error));
  g_test_assert_expected_messages ();
  EXPECT_MISMATCH ("a string, not an object");
  g_assert_null (aio_future_get_object (future, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  /* The value is intact. */
  g_assert_cmpstr (aio_future_get_string (future, &error), ==, "text");
  g_assert_finalize_object (future);

  future = aio_future_new_for_int64 (9);
  EXPECT_MISMATCH ("an int64, not a double");
  g_assert_cmpfloat (aio_future_get_double (future, &error), ==, 0.0);
  g_test_assert_expected_messages ();
  EXPECT_MISMATCH ("an int64, not a string");
  g_assert_null (aio_future_get_string (future, &error));
  g_test_assert_expected_messages ();
  EXPECT_MISMATCH ("an int64, not a pointer");
  g_assert_null (aio_future_get_pointer (future, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 9);
  g_assert_finalize_object (future);

  future = aio_future_new_for_boolean (TRUE);
  EXPECT_MISMATCH ("a boolean, not an int64");
  g_assert_cmpint (aio_future_get_int64 (future, &error), ==, 0);
  g_test_assert_expected_messages ();
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

/* ---- done callbacks ------------------------------------------------------ */

typedef struct
{
  guint      runs;
  guint      destroys;
  AioFuture *future;
  AioLoop   *loop;
  gboolean   in_call;
  gboolean   ran_in_call;
  GThread   *thread;
  gboolean   wrong_thread;
  gboolean   wrong_loop;
} Counter;

static void
counter_run (AioFuture *future,
             gpointer   user_data)
{
  Counter *c = user_data;

  c->runs++;
  if (c->in_call)
    c->ran_in_call = TRUE;
  if (c->future != NULL && future != c->future)
    g_error ("callback got the wrong future");
  if (c->thread != NULL && g_thread_self () != c->thread)
    c->wrong_thread = TRUE;
  if (c->loop != NULL && aio_loop_get_running () != c->loop)
    c->wrong_loop = TRUE;
}

static void
counter_destroy (gpointer user_data)
{
  ((Counter *) user_data)->destroys++;
}

static void
resolve_in_dispatch (gpointer user_data)
{
  Counter *c = user_data;

  c->in_call = TRUE;
  aio_future_resolve (c->future);
  c->in_call = FALSE;
}

static void
test_callbacks_not_synchronous (Fixture       *f,
                                gconstpointer  data)
{
  Counter c = { 0, };
  AioHandle *handle;

  g_test_summary ("Done callbacks never run inside the call that completed the "
                  "future, nor inside add_done_callback() on a done future "
                  "(asyncio schedules them with call_soon)");

  c.future = aio_future_new_for_loop (f->loop);
  c.loop = f->loop;
  c.thread = g_thread_self ();

  /* Resolved outside the loop: the callback waits for the next iteration. */
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  c.in_call = TRUE;
  aio_future_resolve (c.future);
  c.in_call = FALSE;
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_cmpuint (c.destroys, ==, 1);

  /* Added to a done future: queued, not called. */
  c.in_call = TRUE;
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  c.in_call = FALSE;
  g_assert_cmpuint (c.runs, ==, 1);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 2);
  g_assert_cmpuint (c.destroys, ==, 2);
  g_assert_false (c.ran_in_call);
  g_assert_false (c.wrong_thread);
  g_assert_false (c.wrong_loop);
  g_assert_finalize_object (c.future);

  /* Resolved from inside a callback of the loop: the callback runs on the
   * loop's next iteration (batch), not in the middle of the one under way;
   * with no budget each GMainContext iteration runs one batch. */
  _aio_loop_set_ready_budget (f->loop, 0);
  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  handle = aio_loop_call_soon (f->loop, resolve_in_dispatch, &c, NULL);
  iterate_once (f);
  g_assert_true (aio_future_is_resolved (c.future));
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_false (c.ran_in_call);
  aio_handle_unref (handle);
  g_assert_finalize_object (c.future);

  /* And for rejected and cancelled futures alike. */
  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  aio_future_reject_literal (c.future, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_nonnull (aio_future_get_error (c.future));
  g_assert_finalize_object (c.future);

  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  aio_future_cancel (c.future, NULL);
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_finalize_object (c.future);
}

static void
test_callbacks_order (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;

  g_test_summary ("Done callbacks run in the order they were added, those "
                  "added after completion included");

  for (char letter = 'a'; letter <= 'f'; letter++)
    add_step (future, log, letter, &destroyed);
  aio_future_resolve (future);
  for (char letter = 'g'; letter <= 'j'; letter++)
    add_step (future, log, letter, &destroyed);
  drain (f);
  g_assert_cmpstr (log->str, ==, "abcdefghij");
  g_assert_cmpuint (destroyed, ==, 10);

  /* A second batch after the first ran, in order again. */
  for (char letter = 'k'; letter <= 'm'; letter++)
    add_step (future, log, letter, &destroyed);
  drain (f);
  g_assert_cmpstr (log->str, ==, "abcdefghijklm");
  g_assert_cmpuint (destroyed, ==, 13);

  g_assert_finalize_object (future);
}

static void
test_callbacks_remove (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;
  guint a, b, c, d, e;

  g_test_summary ("remove_done_callback() by id (asyncio's "
                  "remove_done_callback) frees the data at once and keeps the "
                  "order of the others");

  a = add_step (future, log, 'a', &destroyed);
  b = add_step (future, log, 'b', &destroyed);
  c = add_step (future, log, 'c', &destroyed);
  d = add_step (future, log, 'd', &destroyed);
  g_assert_cmpuint (a, !=, 0);
  g_assert_cmpuint (a, !=, b);
  g_assert_cmpuint (b, !=, c);
  g_assert_cmpuint (c, !=, d);

  g_assert_true (aio_future_remove_done_callback (future, b));
  g_assert_cmpuint (destroyed, ==, 1);
  g_assert_false (aio_future_remove_done_callback (future, b));
  g_assert_true (aio_future_remove_done_callback (future, a));
  g_assert_cmpuint (destroyed, ==, 2);
  /* Added after the first one left: still last. */
  e = add_step (future, log, 'e', &destroyed);
  g_assert_cmpuint (e, !=, a);

  aio_future_resolve (future);
  /* Removing between completion and the run works too. */
  g_assert_true (aio_future_remove_done_callback (future, d));
  g_assert_cmpuint (destroyed, ==, 3);
  drain (f);
  g_assert_cmpstr (log->str, ==, "ce");
  g_assert_cmpuint (destroyed, ==, 5);

  /* Nothing is left to remove. */
  g_assert_false (aio_future_remove_done_callback (future, c));
  g_assert_false (aio_future_remove_done_callback (future, e));
  g_assert_false (aio_future_remove_done_callback (future, 12345));
  g_assert_cmpuint (destroyed, ==, 5);

  /* Removing every callback of a done future leaves nothing to run. */
  a = add_step (future, log, 'x', &destroyed);
  g_assert_true (aio_future_remove_done_callback (future, a));
  drain (f);
  g_assert_cmpstr (log->str, ==, "ce");
  g_assert_cmpuint (destroyed, ==, 6);

  g_assert_finalize_object (future);
}

typedef struct
{
  GString  *log;
  gboolean  adding;
  guint     depth;
  guint     destroyed;
} Nested;

static void
aio_test_count_nested (gpointer user_data)
{
  ((Nested *) user_data)->destroyed++;
}

static void
nested_run (AioFuture *future,
            gpointer   user_data)
{
  Nested *n = user_data;

  g_assert_false (n->adding);
  g_string_append_printf (n->log, "%u", n->depth);
  if (n->depth < 3)
    {
      n->depth++;
      n->adding = TRUE;
      aio_future_add_done_callback (future, nested_run, n, aio_test_count_nested);
      n->adding = FALSE;
      g_string_append_c (n->log, '.');
    }
}

static void
test_callbacks_nested (Fixture       *f,
                       gconstpointer  data)
{
  Nested n = { g_string_new (NULL), FALSE, 0, 0 };
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;

  g_test_summary ("A done callback that adds another callback to its (done) "
                  "future gets it run, after itself and not inside the add call");

  aio_future_add_done_callback (future, nested_run, &n, aio_test_count_nested);
  add_step (future, n.log, 'z', &destroyed);
  aio_future_resolve (future);
  drain (f);

  /* 0 adds 1 behind z; 1 adds 2; 2 adds 3. */
  g_assert_cmpstr (n.log->str, ==, "0.z1.2.3");
  g_assert_cmpuint (n.destroyed, ==, 4);
  g_assert_cmpuint (destroyed, ==, 1);

  g_string_free (n.log, TRUE);
  g_assert_finalize_object (future);
}

static void
test_callbacks_destroy_once (Fixture       *f,
                             gconstpointer  data)
{
  Counter ran = { 0, }, removed = { 0, }, dropped = { 0, };
  AioFuture *future;
  guint id;

  g_test_summary ("A callback's destroy notify runs exactly once: after it "
                  "ran, when it is removed, or when a pending future is finalized");

  future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (future, counter_run, &ran, counter_destroy);
  id = aio_future_add_done_callback (future, counter_run, &removed, counter_destroy);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  g_assert_true (aio_future_remove_done_callback (future, id));
  g_assert_cmpuint (removed.destroys, ==, 1);
  aio_future_resolve (future);
  drain (f);
  g_assert_cmpuint (ran.runs, ==, 1);
  g_assert_cmpuint (ran.destroys, ==, 1);
  g_assert_cmpuint (removed.runs, ==, 0);
  g_assert_cmpuint (dropped.runs, ==, 1);
  g_assert_finalize_object (future);
  g_assert_cmpuint (ran.destroys, ==, 1);
  g_assert_cmpuint (removed.destroys, ==, 1);
  g_assert_cmpuint (dropped.destroys, ==, 1);

  /* Finalized while pending: never run, freed once. */
  memset (&dropped, 0, sizeof dropped);
  future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  g_assert_finalize_object (future);
  g_assert_cmpuint (dropped.runs, ==, 0);
  g_assert_cmpuint (dropped.destroys, ==, 2);
  drain (f);
  g_assert_cmpuint (dropped.destroys, ==, 2);

  /* Dropped by closing the loop while queued: freed once, with the future.
   * Uses a loop of its own, as the fixture's must stay open. */
  {
    AioLoop *loop = aio_loop_new ();

    memset (&dropped, 0, sizeof dropped);
    future = aio_future_new_for_loop (loop);
    aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
    aio_future_resolve (future);
    aio_loop_close (loop);
    g_assert_cmpuint (dropped.runs, ==, 0);
    g_assert_finalize_object (future);
    g_assert_cmpuint (dropped.destroys, ==, 1);
    g_assert_finalize_object (loop);
  }
}

/* ---- completion from other threads --------------------------------------- */

#define N_THREADS 8
#define N_PER_THREAD 10000

typedef struct
{
  AioLoop     *loop;
  GThread     *loop_thread;
  AioFuture  **futures;
  guint8      *seen;
  guint        n_futures;
  guint        n_run;
  guint        wrong_thread;
  guint        wrong_loop;
  guint        duplicates;
  AioFuture   *all_done;
  gboolean     stop_when_done;
} Fanin;

typedef struct
{
  Fanin *fanin;
  guint  first;
  guint  count;
} Slice;

static gpointer
resolve_slice (gpointer user_data)
{
  Slice *slice = user_data;

  for (guint i = slice->first; i < slice->first + slice->count; i++)
    aio_future_resolve_int64 (slice->fanin->futures[i], i);
  return NULL;
}

static void
fanin_done (AioFuture *future,
            gpointer   user_data)
{
  Fanin *fanin = user_data;
  gint64 i = aio_future_get_int64 (future, NULL);

  if (g_thread_self () != fanin->loop_thread)
    fanin->wrong_thread++;
  if (aio_loop_get_running () != fanin->loop)
    fanin->wrong_loop++;
  if (i < 0 || i >= fanin->n_futures || fanin->futures[i] != future || fanin->seen[i]++)
    fanin->duplicates++;

  if (++fanin->n_run == fanin->n_futures)
    {
      if (fanin->stop_when_done)
        aio_loop_stop (fanin->loop);
      else
        aio_future_resolve (fanin->all_done);
    }
}

static void
run_fanin (Fixture  *f,
           gboolean  run_forever)
{
  g_autoptr(GError) error = NULL;
  Fanin fanin = { 0, };
  Slice slices[N_THREADS];
  GThread *threads[N_THREADS];
  gboolean ok;

  fanin.loop = f->loop;
  fanin.loop_thread = g_thread_self ();
  fanin.n_futures = N_THREADS * N_PER_THREAD;
  fanin.futures = g_new0 (AioFuture *, fanin.n_futures);
  fanin.seen = g_new0 (guint8, fanin.n_futures);
  fanin.stop_when_done = run_forever;
  fanin.all_done = aio_future_new_for_loop (f->loop);

  for (guint i = 0; i < fanin.n_futures; i++)
    {
      fanin.futures[i] = aio_future_new_for_loop (f->loop);
      aio_future_add_done_callback (fanin.futures[i], fanin_done, &fanin, NULL);
    }

  /* The workers are under way before the loop runs: completions race with
   * the loop starting up as well as with its iterations.  A worker must not
   * get in the way of the loop's thread taking its own context. */
  for (guint t = 0; t < N_THREADS; t++)
    {
      slices[t].fanin = &fanin;
      slices[t].first = t * N_PER_THREAD;
      slices[t].count = N_PER_THREAD;
      threads[t] = g_thread_new ("resolver", resolve_slice, &slices[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    while (!aio_future_is_done (fanin.futures[t * N_PER_THREAD + 10]))
      g_thread_yield ();

  if (run_forever)
    ok = aio_loop_run_forever (f->loop, &error);
  else
    ok = aio_loop_run_until_complete (f->loop, fanin.all_done, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  g_assert_cmpuint (fanin.n_run, ==, fanin.n_futures);
  g_assert_cmpuint (fanin.wrong_thread, ==, 0);
  g_assert_cmpuint (fanin.wrong_loop, ==, 0);
  g_assert_cmpuint (fanin.duplicates, ==, 0);

  for (guint i = 0; i < fanin.n_futures; i++)
    g_assert_finalize_object (fanin.futures[i]);
  g_assert_finalize_object (fanin.all_done);
  g_free (fanin.futures);
  g_free (fanin.seen);
}

static void
test_threads_run_until_complete (Fixture       *f,
                                 gconstpointer  data)
{
  g_test_summary ("Futures completed by 8 threads (10 000 each) run every done "
                  "callback once, in the loop's thread, under run_until_complete "
                  "(call_soon_threadsafe hand-over)");
  run_fanin (f, FALSE);
}

static void
test_threads_run_forever (Fixture       *f,
                          gconstpointer  data)
{
  g_test_summary ("Futures completed by 8 threads (10 000 each) run every done "
                  "callback once, in the loop's thread, under run_forever + stop");
  run_fanin (f, TRUE);
}

typedef struct
{
  AioFuture **futures;
  guint       n_futures;
  gint        go;
} Racer;

static gpointer
resolve_all (gpointer user_data)
{
  Racer *racer = user_data;

  while (!g_atomic_int_get (&racer->go))
    g_thread_yield ();
  for (guint i = 0; i < racer->n_futures; i++)
    aio_future_resolve (racer->futures[i]);
  return NULL;
}

static void
count_run (AioFuture *future,
           gpointer   user_data)
{
  (*(guint *) user_data)++;
}

static void
test_threads_add_while_completing (Fixture       *f,
                                   gconstpointer  data)
{
  GMainContext *context = aio_loop_get_context (f->loop);
  Racer racer = { NULL, 200000, FALSE };
  GThread *thread;
  guint runs = 0;

  g_test_summary ("add_done_callback() in the loop's thread, outside any "
                  "iteration, while another thread completes the same futures: "
                  "no callback is lost and no critical is raised");

  racer.futures = g_new (AioFuture *, racer.n_futures);
  for (guint i = 0; i < racer.n_futures; i++)
    racer.futures[i] = aio_future_new_for_loop (f->loop);

  thread = g_thread_new ("resolver", resolve_all, &racer);
  g_atomic_int_set (&racer.go, TRUE);
  /* From the far end, so that adding and completing cross: some futures
   * get their callback before completion, some after, some during. */
  for (guint i = racer.n_futures; i-- > 0;)
    aio_future_add_done_callback (racer.futures[i], count_run, &runs, NULL);
  g_thread_join (thread);

  for (guint i = 0; i < 100 && runs < racer.n_futures; i++)
    while (g_main_context_iteration (context, FALSE))
      ;
  g_assert_cmpuint (runs, ==, racer.n_futures);

  for (guint i = 0; i < racer.n_futures; i++)
    g_assert_finalize_object (racer.futures[i]);
  g_free (racer.futures);
}

static gpointer
resolve_one_later (gpointer user_data)
{
  g_usleep (G_USEC_PER_SEC / 50);
  aio_future_resolve_int64 (user_data, 99);
  return NULL;
}

static void
test_threads_wakes_loop (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Counter c = { 0, };
  GThread *thread;

  g_test_summary ("A future completed from another thread wakes a loop blocked "
                  "with nothing else to do, and its callback runs in the loop's thread");

  c.thread = g_thread_self ();
  c.loop = f->loop;
  aio_future_add_done_callback (future, counter_run, &c, counter_destroy);
  thread = g_thread_new ("resolver", resolve_one_later, future);
  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 99);

  /* The callback was queued behind the completion; it runs next. */
  drain (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_cmpuint (c.destroys, ==, 1);
  g_assert_false (c.wrong_thread);
  g_assert_false (c.wrong_loop);
  g_assert_finalize_object (future);
}

/* ---- GIO's async convention ---------------------------------------------- */

typedef struct
{
  gboolean      done;
  gboolean      ok;
  GError       *error;
  GAsyncResult *result;   /* weak */
} Wait;

static void
wait_ready (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Wait *w = user_data;

  g_assert_false (w->done);
  w->done = TRUE;
  w->ok = aio_future_wait_finish (AIO_FUTURE (source), result, &w->error);
  w->result = result;
  g_object_add_weak_pointer (G_OBJECT (result), (gpointer *) &w->result);
}

static void
wait_finish_cleanup (Fixture *f,
                     Wait    *w)
{
  /* The GTask goes once its callback returned. */
  drain (f);
  g_assert_null (w->result);
  g_clear_error (&w->error);
}

static void
test_wait_resolved (Fixture       *f,
                    gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("wait_async/wait_finish on a future that resolves later "
                  "reports success, as awaiting it in asyncio returns");

  aio_future_wait_async (future, NULL, wait_ready, &w);
  drain (f);
  g_assert_false (w.done);

  aio_future_resolve_int64 (future, 11);
  iterate_until (f, &w.done);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 11);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  /* A future done before the wait began. */
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_int64 (12);
  aio_future_wait_async (future, NULL, wait_ready, &w);
  g_assert_false (w.done);
  iterate_until (f, &w.done);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);
}

static void
test_wait_rejected (Fixture       *f,
                    gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("wait_finish on a rejected or cancelled future raises its "
                  "error, which counts as retrieved");

  aio_future_wait_async (future, NULL, wait_ready, &w);
  aio_future_reject_literal (future, G_FILE_ERROR, G_FILE_ERROR_PERM, "nope");
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_FILE_ERROR, G_FILE_ERROR_PERM);
  wait_finish_cleanup (f, &w);
  /* No "never retrieved" warning: wait_finish read it. */
  g_assert_finalize_object (future);

  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, NULL, wait_ready, &w);
  aio_future_cancel (future, "bye");
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (w.error->message, ==, "bye");
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);
}

static void
test_wait_cancellable (Fixture       *f,
                       gconstpointer  data)
{
  GCancellable *cancellable = g_cancellable_new ();
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("Cancelling the wait's own GCancellable ends the wait with "
                  "G_IO_ERROR_CANCELLED and leaves the future pending, its "
                  "done callback removed");

  aio_future_wait_async (future, cancellable, wait_ready, &w);
  drain (f);
  g_assert_false (w.done);
  g_assert_true (future_has_callbacks (future));

  g_cancellable_cancel (cancellable);
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (future_has_callbacks (future));
  wait_finish_cleanup (f, &w);

  /* The future goes on and completes normally; the finished wait does not
   * hear of it. */
  aio_future_resolve (future);
  drain (f);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_finalize_object (future);

  /* Cancelled before the wait began: it fails at once, on the loop. */
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, cancellable, wait_ready, &w);
  g_assert_false (w.done);
  iterate_until (f, &w.done);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (future_has_callbacks (future));
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  /* Completed first, cancelled after: the wait reports the future. */
  g_object_unref (cancellable);
  cancellable = g_cancellable_new ();
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, cancellable, wait_ready, &w);
  aio_future_resolve_boolean (future, TRUE);
  iterate_until (f, &w.done);
  g_cancellable_cancel (cancellable);
  drain (f);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  g_assert_finalize_object (cancellable);
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

  g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, "*cannot be constructed with g_object_new*");
  future = g_object_new (AIO_TYPE_TASK, NULL);
  g_test_assert_expected_messages ();
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
  TEST_MAIN ("/aio/future/callbacks/not-synchronous", test_callbacks_not_synchronous);
  TEST_MAIN ("/aio/future/callbacks/order", test_callbacks_order);
  TEST_MAIN ("/aio/future/callbacks/remove", test_callbacks_remove);
  TEST_MAIN ("/aio/future/callbacks/nested", test_callbacks_nested);
  TEST_MAIN ("/aio/future/callbacks/destroy-once", test_callbacks_destroy_once);
  TEST_UNPUSHED ("/aio/future/threads/run-until-complete", test_threads_run_until_complete);
  TEST_UNPUSHED ("/aio/future/threads/run-forever", test_threads_run_forever);
  TEST_UNPUSHED ("/aio/future/threads/add-while-completing", test_threads_add_while_completing);
  TEST_UNPUSHED ("/aio/future/threads/wakes-loop", test_threads_wakes_loop);
  TEST_MAIN ("/aio/future/wait/resolved", test_wait_resolved);
  TEST_MAIN ("/aio/future/wait/rejected", test_wait_rejected);
  TEST_MAIN ("/aio/future/wait/cancellable", test_wait_cancellable);

  return g_test_run ();
}
