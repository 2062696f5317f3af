/* test-combinators.c: gather, wait, wait_for, shield and as_completed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include <aio-glib.h>

#include "aio-future-private.h"
#include "aio-test.h"

/* Warnings are fatal under g_test_init(): a "never retrieved" warning from
 * a future finalized here fails the test, which is how the tests below
 * prove that combinators mark their children's errors as read. */

static GQuark test_error_quark (void);
G_DEFINE_QUARK (test-combinators-error-quark, test_error)
#define TEST_ERROR (test_error_quark ())

/* ---- helpers ------------------------------------------------------------- */

typedef enum
{
  DO_RESOLVE,
  DO_REJECT,
  DO_CANCEL,
} Action;

typedef struct
{
  AioFuture *future;
  Action     action;
  gint64     value;
  GString   *log;
} Completion;

static void
completion_fire (gpointer data)
{
  Completion *completion = data;

  if (completion->log != NULL)
    g_string_append_printf (completion->log, "%" G_GINT64_FORMAT ";", completion->value);

  switch (completion->action)
    {
    case DO_RESOLVE:
      aio_future_resolve_int64 (completion->future, completion->value);
      break;
    case DO_REJECT:
      aio_future_reject (completion->future,
                         g_error_new (TEST_ERROR, (gint) completion->value,
                                      "failure %" G_GINT64_FORMAT, completion->value));
      break;
    case DO_CANCEL:
      aio_future_cancel (completion->future, "cancelled by the test");
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
completion_free (gpointer data)
{
  Completion *completion = data;

  g_object_unref (completion->future);
  g_free (completion);
}

/* Completes @future from a call_later() callback after @delay seconds;
 * appends "@value;" to @log (when given) as it does. */
static void
complete_later (AioLoop   *loop,
                gdouble    delay,
                AioFuture *future,
                Action     action,
                gint64     value,
                GString   *log)
{
  Completion *completion = g_new0 (Completion, 1);

  completion->future = g_object_ref (future);
  completion->action = action;
  completion->value = value;
  completion->log = log;
  aio_handle_unref (aio_loop_call_later (loop, delay, completion_fire, completion,
                                         completion_free));
}

static AioFuture *
new_future (AioLoop *loop)
{
  return aio_future_new_for_loop (loop);
}

static void
run_until_done (AioLoop   *loop,
                AioFuture *future)
{
  /* The outcome is checked by the caller; this only drives the loop. */
  g_autoptr(GError) error = NULL;

  aio_loop_run_until_complete (loop, future, &error);
  g_assert_true (aio_future_is_done (future));
}

/* Runs the loop until what is queued now has run: callbacks of futures
 * completed by now, and the callbacks those queue. */
static void
run_a_little (AioLoop *loop)
{
  for (guint i = 0; i < 3; i++)
    {
      AioFuture *tick = aio_loop_sleep (loop, 0);

      run_until_done (loop, tick);
      g_assert_finalize_object (tick);
    }
}

/* Lets what completing @outer queued run, then proves that @outer and
 * the @inner future it was made of are gone. */
static void
finalize_pair (AioLoop   *loop,
               AioFuture *outer,
               AioFuture *inner)
{
  run_a_little (loop);
  g_assert_finalize_object (outer);
  g_assert_finalize_object (inner);
}

/* @n new futures of @loop, in an array that owns them. */
static GPtrArray *
new_futures (AioLoop *loop,
             guint    n)
{
  GPtrArray *futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (futures, new_future (loop));
  return futures;
}

/* The same for a wait over @futures: proves that it and each of them,
 * the last first, are gone. */
static void
finalize_all (AioLoop   *loop,
              AioFuture *wait,
              GPtrArray *futures)
{
  run_a_little (loop);
  g_assert_finalize_object (wait);
  while (futures->len > 0)
    g_assert_finalize_object (g_ptr_array_steal_index (futures, futures->len - 1));
}

/* A future whose cancellation takes a while, like a task that cleans up
 * before it stops: cancel() only asks, and the future is cancelled (or,
 * with @resolve_instead, resolved with 42) SLOW_DELAY seconds later. */
#define SLOW_DELAY 0.05

typedef struct
{
  AioFuture  parent_instance;
  GString   *log;               /* borrowed */
  AioFuture *watcher;           /* borrowed: its state is logged */
  gboolean   resolve_instead;
  gboolean   cancel_requested;
} SlowFuture;

typedef struct
{
  AioFutureClass parent_class;
} SlowFutureClass;

static GType slow_future_get_type (void);
G_DEFINE_FINAL_TYPE (SlowFuture, slow_future, AIO_TYPE_FUTURE)

static const char *
watcher_state (SlowFuture *self)
{
  if (self->watcher == NULL)
    return "?";
  return aio_future_is_done (self->watcher) ? "done" : "pending";
}

static void
slow_future_finish (gpointer data)
{
  SlowFuture *self = data;

  g_string_append_printf (self->log, "finish:%s;", watcher_state (self));
  if (self->resolve_instead)
    aio_future_resolve_int64 ((AioFuture *) self, 42);
  else
    aio_future_reject ((AioFuture *) self,
                       g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "slowly cancelled"));
}

static gboolean
slow_future_cancel (AioFuture  *future,
                    const char *message)
{
  SlowFuture *self = (SlowFuture *) future;

  if (aio_future_is_done (future))
    return FALSE;
  if (self->cancel_requested)
    return TRUE;

  self->cancel_requested = TRUE;
  g_string_append_printf (self->log, "cancel:%s;", watcher_state (self));
  aio_handle_unref (aio_loop_call_later (aio_future_get_loop (future), SLOW_DELAY,
                                         slow_future_finish, g_object_ref (self),
                                         g_object_unref));
  return TRUE;
}

static void
slow_future_class_init (SlowFutureClass *klass)
{
  AIO_FUTURE_CLASS (klass)->cancel = slow_future_cancel;
}

static void
slow_future_init (SlowFuture *self)
{
}

static AioFuture *
slow_future_new (AioLoop  *loop,
                 GString  *log,
                 gboolean  resolve_instead)
{
  SlowFuture *self = g_object_new (slow_future_get_type (), NULL);

  _aio_future_set_loop ((AioFuture *) self, loop);
  self->log = log;
  self->resolve_instead = resolve_instead;
  return (AioFuture *) self;
}

/* wait_for (@inner, 0.02) of a slow future, which logs the wait_for's
 * state when it is asked to cancel and when it finishes. */
static AioFuture *
wait_for_slow (AioFuture *inner)
{
  AioFuture *outer = aio_wait_for (g_object_ref (inner), 0.02);

  ((SlowFuture *) inner)->watcher = outer;
  return outer;
}

static gint64
child_int64 (GPtrArray *array,
             guint      i)
{
  g_autoptr(GError) error = NULL;
  gint64 value = aio_future_get_int64 (g_ptr_array_index (array, i), &error);

  g_assert_no_error (error);
  return value;
}

/* ---- gather -------------------------------------------------------------- */

static void
test_gather_order (Fixture       *fixture,
                   gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *a = new_future (loop), *b = new_future (loop), *c = new_future (loop);
  AioFuture *all;
  GPtrArray *children;

  g_test_summary ("gather() returns the results in the order of the awaitables given, "
                  "not the order in which they completed");

  /* Complete them in reverse.  (Here and below, timers are added in the
   * order they fire: however slowly the test runs, a later call_later()
   * with a longer delay cannot fire first.) */
  complete_later (loop, 0.01, c, DO_RESOLVE, 3, log);
  complete_later (loop, 0.02, b, DO_RESOLVE, 2, log);
  complete_later (loop, 0.03, a, DO_RESOLVE, 1, log);

  all = aio_gather (FALSE, g_object_ref (a), g_object_ref (b), g_object_ref (c), NULL);
  g_assert_false (aio_future_is_done (all));

  run_until_done (loop, all);
  g_assert_cmpstr (log->str, ==, "3;2;1;");
  g_assert_true (aio_future_is_resolved (all));

  children = aio_future_get_futures (all, &error);
  g_assert_no_error (error);
  g_assert_nonnull (children);
  g_assert_cmpuint (children->len, ==, 3);
  g_assert_true (g_ptr_array_index (children, 0) == a);
  g_assert_true (g_ptr_array_index (children, 1) == b);
  g_assert_true (g_ptr_array_index (children, 2) == c);
  g_assert_cmpint (child_int64 (children, 0), ==, 1);
  g_assert_cmpint (child_int64 (children, 1), ==, 2);
  g_assert_cmpint (child_int64 (children, 2), ==, 3);

  finalize_pair (loop, all, a);
  g_assert_finalize_object (b);
  g_assert_finalize_object (c);
}

static void
test_gather_first_error (Fixture       *fixture,
                         gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  AioFuture *children[3];
  AioFuture *a = new_future (loop), *b = new_future (loop), *c = new_future (loop);
  AioFuture *all;

  g_test_summary ("gather(return_exceptions=False): the first exception is propagated to "
                  "the gather at once; the other awaitables are not cancelled and go on");

  complete_later (loop, 0.01, a, DO_RESOLVE, 1, NULL);
  complete_later (loop, 0.02, b, DO_REJECT, 2, NULL);

  children[0] = g_object_ref (a);
  children[1] = g_object_ref (b);
  children[2] = g_object_ref (c);
  all = aio_gatherv (children, G_N_ELEMENTS (children), FALSE);

  run_until_done (loop, all);
  g_assert_true (aio_future_is_rejected (all));
  g_assert_false (aio_future_propagate (all, &error));
  g_assert_error (error, TEST_ERROR, 2);

  /* c goes on: it was not cancelled, and it still completes. */
  g_assert_false (aio_future_is_done (c));
  aio_future_resolve_int64 (c, 3);
  run_a_little (loop);
  g_assert_true (aio_future_is_resolved (c));

  g_assert_finalize_object (all);
  g_assert_finalize_object (a);
  g_assert_finalize_object (b);
  g_assert_finalize_object (c);
}

static void
test_gather_late_errors_retrieved (Fixture       *fixture,
                                   gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  AioFuture *a = new_future (loop), *b = new_future (loop);
  AioFuture *all;

  g_test_summary ("gather() retrieves the exceptions of all its children, even those that "
                  "fail after the gather has failed: no 'exception was never retrieved'");

  all = aio_gather (FALSE, g_object_ref (a), g_object_ref (b), NULL);
  complete_later (loop, 0.01, a, DO_REJECT, 1, NULL);
  run_until_done (loop, all);
  g_assert_true (aio_future_is_rejected (all));

  /* b fails later; nobody reads its error but the gather. */
  complete_later (loop, 0.01, b, DO_REJECT, 2, NULL);
  while (!aio_future_is_done (b))
    run_a_little (loop);
  run_a_little (loop);

  g_assert_finalize_object (all);
  g_assert_finalize_object (a);  /* a warning here would fail the test */
  g_assert_finalize_object (b);
}

static void
test_gather_return_exceptions (Fixture       *fixture,
                               gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) input = g_ptr_array_new_with_free_func (g_object_unref);
  AioFuture *a = new_future (loop), *b = new_future (loop), *c = new_future (loop);
  AioFuture *all;
  GPtrArray *children;

  g_test_summary ("gather(return_exceptions=True): exceptions are treated the same as "
                  "successful results; the gather waits for all and does not fail");

  g_ptr_array_add (input, a);
  g_ptr_array_add (input, b);
  g_ptr_array_add (input, c);
  complete_later (loop, 0.01, a, DO_REJECT, 1, NULL);
  complete_later (loop, 0.02, b, DO_RESOLVE, 2, NULL);
  complete_later (loop, 0.03, c, DO_CANCEL, 0, NULL);

  /* The array form borrows the array and the futures. */
  all = aio_gather_array (input, TRUE);
  g_clear_pointer (&input, g_ptr_array_unref);

  run_until_done (loop, all);
  g_assert_true (aio_future_is_resolved (all));
  g_assert_true (aio_future_is_done (a));
  g_assert_true (aio_future_is_done (b));
  g_assert_true (aio_future_is_done (c));

  children = aio_future_get_futures (all, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (children->len, ==, 3);
  g_assert_true (aio_future_is_rejected (g_ptr_array_index (children, 0)));
  g_assert_cmpint (child_int64 (children, 1), ==, 2);
  g_assert_true (aio_future_is_cancelled (g_ptr_array_index (children, 2)));

  /* a's error is left unread: the gather counts it as retrieved, so
   * finalizing a must not warn. */
  run_a_little (loop);
  g_assert_finalize_object (all);
}

static void
test_gather_cancel (Fixture       *fixture,
                    gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;

  g_test_summary ("If gather() itself is cancelled, the cancellation is propagated to all "
                  "submitted awaitables that have not completed yet, and the gather is "
                  "cancelled, with or without return_exceptions");

  for (guint return_exceptions = 0; return_exceptions <= 1; return_exceptions++)
    {
      AioFuture *a = new_future (loop), *b = new_future (loop);
      AioFuture *all;

      aio_future_resolve_int64 (a, 1);
      all = aio_gather (return_exceptions, g_object_ref (a), g_object_ref (b), NULL);
      run_a_little (loop);
      g_assert_false (aio_future_is_done (all));

      g_assert_true (aio_future_cancel (all, "stop"));
      g_assert_true (aio_future_is_cancelled (b));
      g_assert_true (aio_future_is_resolved (a));

      run_until_done (loop, all);
      g_assert_true (aio_future_is_cancelled (all));
      g_assert_false (aio_future_propagate (all, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "stop");
      g_clear_error (&error);

      /* Done: cancelling again changes nothing. */
      g_assert_false (aio_future_cancel (all, NULL));

      finalize_pair (loop, all, a);
      g_assert_finalize_object (b);
    }
}

static void
test_gather_cancel_waits (Fixture       *fixture,
                          gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  AioFuture *slow = slow_future_new (loop, log, FALSE);
  AioFuture *all;

  g_test_summary ("A cancelled gather() is done only once its children have finished "
                  "handling their cancellation");

  all = aio_gather (TRUE, g_object_ref (slow), NULL);
  ((SlowFuture *) slow)->watcher = all;

  g_assert_true (aio_future_cancel (all, NULL));
  g_assert_false (aio_future_is_done (all));
  run_until_done (loop, all);
  g_assert_cmpstr (log->str, ==, "cancel:pending;finish:pending;");
  g_assert_true (aio_future_is_cancelled (all));
  g_assert_true (aio_future_is_cancelled (slow));

  finalize_pair (loop, all, slow);
}

static void
test_gather_child_cancelled (Fixture       *fixture,
                             gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  AioFuture *a = new_future (loop), *b = new_future (loop);
  AioFuture *all;

  g_test_summary ("If a child of gather() is cancelled, it is treated as if it raised "
                  "CancelledError: the gather fails, but the gather is not cancelled, "
                  "and the other children are not cancelled");

  all = aio_gather (FALSE, g_object_ref (a), g_object_ref (b), NULL);
  complete_later (loop, 0.01, a, DO_CANCEL, 0, NULL);

  run_until_done (loop, all);
  g_assert_false (aio_future_is_cancelled (all));
  g_assert_true (aio_future_is_rejected (all));
  g_assert_false (aio_future_propagate (all, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_assert_false (aio_future_is_done (b));
  aio_future_resolve (b);

  finalize_pair (loop, all, a);
  g_assert_finalize_object (b);
}

typedef struct
{
  GString   *log;
  AioFuture *all;
  AioFuture *finished;
} EmptyData;

static void
empty_gather_done (AioFuture *future,
                   gpointer   user_data)
{
  EmptyData *data = user_data;

  g_string_append (data->log, "done;");
  aio_future_resolve (data->finished);
}

static void
make_empty_gather (gpointer user_data)
{
  EmptyData *data = user_data;

  data->all = aio_gatherv (NULL, 0, FALSE);
  g_assert_true (aio_future_get_loop (data->all) == aio_loop_get_running ());
  g_assert_true (aio_future_is_resolved (data->all));
  aio_future_add_done_callback (data->all, empty_gather_done, data, NULL);
  g_string_append (data->log, "made;");
}

static void
test_gather_empty (Fixture       *fixture,
                   gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  EmptyData empty = { log, NULL, new_future (loop) };
  GPtrArray *children;

  g_test_summary ("gather() of nothing is done at once, with an empty list; its "
                  "callbacks still run on a later iteration");

  aio_handle_unref (aio_loop_call_soon (loop, make_empty_gather, &empty, NULL));
  run_until_done (loop, empty.finished);
  g_assert_cmpstr (log->str, ==, "made;done;");

  children = aio_future_get_futures (empty.all, &error);
  g_assert_no_error (error);
  g_assert_nonnull (children);
  g_assert_cmpuint (children->len, ==, 0);

  /* The GPtrArray form with no futures. */
  {
    g_autoptr(GPtrArray) none = g_ptr_array_new ();

    g_object_unref (empty.all);
    empty.all = aio_gather_array (none, TRUE);
    g_assert_true (aio_future_is_resolved (empty.all));
  }

  run_a_little (loop);
  g_assert_finalize_object (empty.all);
  g_assert_finalize_object (empty.finished);
}

static void
test_gather_bad_input (Fixture       *fixture,
                       gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  AioLoop *other = aio_loop_new ();
  AioFuture *futures[2] = { new_future (loop), NULL };

  g_test_summary ("Programmer errors in gather() are criticals that change nothing");

  EXPECT_CRITICAL ("*aio_gatherv*assertion*futures != NULL*",
                   g_assert_null (aio_gatherv (NULL, 2, FALSE)));

  EXPECT_CRITICAL ("*aio_gatherv*assertion*AIO_IS_FUTURE*",
                   g_assert_null (aio_gatherv (futures, 2, FALSE)));

  EXPECT_CRITICAL ("*aio_gather_array*assertion*futures != NULL*",
                   g_assert_null (aio_gather_array (NULL, FALSE)));

  futures[1] = aio_future_new_for_loop (other);
  EXPECT_CRITICAL ("*aio_gather*different loops*",
                   g_assert_null (aio_gather (FALSE, futures[0], futures[1], NULL)));

  g_assert_finalize_object (futures[0]);
  g_assert_finalize_object (futures[1]);
  aio_loop_close (other);
  g_assert_finalize_object (other);
}

/* ---- wait ---------------------------------------------------------------- */

/* The wait tests run without a timeout and with one that never expires,
 * which must be disarmed when the wait returns. */
static const gdouble no_timeout = AIO_TIMEOUT_NONE;
static const gdouble long_timeout = 10.0;

static GPtrArray *
done_futures (AioFuture *wait)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *done;

  g_assert_true (aio_future_is_resolved (wait));
  done = aio_future_get_futures (wait, &error);
  g_assert_no_error (error);
  g_assert_nonnull (done);
  return done;
}

static void
test_wait_all_completed (Fixture       *fixture,
                         gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  gdouble timeout = *(const gdouble *) data;
  g_autoptr(GPtrArray) futures = NULL;
  AioFuture *wait;
  GPtrArray *done;

  g_test_summary ("wait(ALL_COMPLETED) returns when all futures finish or are cancelled, "
                  "with all of them done, and does not consume them");

  futures = new_futures (loop, 3);
  complete_later (loop, 0.01, futures->pdata[1], DO_REJECT, 2, NULL);
  complete_later (loop, 0.02, futures->pdata[0], DO_RESOLVE, 1, NULL);
  complete_later (loop, 0.03, futures->pdata[2], DO_CANCEL, 3, NULL);

  wait = aio_wait (futures, timeout, AIO_WAIT_ALL_COMPLETED);
  run_until_done (loop, wait);
  done = done_futures (wait);
  g_assert_cmpuint (done->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_true (g_ptr_array_index (done, i) == futures->pdata[i]);

  /* The futures are the caller's: their errors are for us to read. */
  g_assert_nonnull (aio_future_get_error (futures->pdata[1]));

  finalize_all (loop, wait, futures);
}

static void
test_wait_first_completed (Fixture       *fixture,
                           gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  gdouble timeout = *(const gdouble *) data;
  g_autoptr(GPtrArray) futures = NULL;
  AioFuture *wait;
  GPtrArray *done;

  g_test_summary ("wait(FIRST_COMPLETED) returns when any future finishes; the others "
                  "stay pending and are not cancelled");

  futures = new_futures (loop, 3);
  complete_later (loop, 0.01, futures->pdata[1], DO_RESOLVE, 1, NULL);

  wait = aio_wait (futures, timeout, AIO_WAIT_FIRST_COMPLETED);
  run_until_done (loop, wait);
  done = done_futures (wait);
  g_assert_cmpuint (done->len, ==, 1);
  g_assert_true (g_ptr_array_index (done, 0) == futures->pdata[1]);
  g_assert_false (aio_future_is_done (futures->pdata[0]));
  g_assert_false (aio_future_is_done (futures->pdata[2]));

  /* The wait let go of them: completing them now reaches nobody. */
  aio_future_resolve (futures->pdata[0]);
  aio_future_resolve (futures->pdata[2]);

  finalize_all (loop, wait, futures);
}

static void
test_wait_first_exception (Fixture       *fixture,
                           gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  gdouble timeout = *(const gdouble *) data;
  g_autoptr(GPtrArray) futures = NULL;
  AioFuture *wait;
  GPtrArray *done;

  g_test_summary ("wait(FIRST_EXCEPTION) returns when any future raises, with the futures "
                  "done by then; a cancelled future is no exception; with no exception it "
                  "is ALL_COMPLETED");

  futures = new_futures (loop, 4);
  complete_later (loop, 0.01, futures->pdata[0], DO_RESOLVE, 1, NULL);
  complete_later (loop, 0.02, futures->pdata[3], DO_CANCEL, 0, NULL);
  complete_later (loop, 0.03, futures->pdata[2], DO_REJECT, 3, NULL);

  wait = aio_wait (futures, timeout, AIO_WAIT_FIRST_EXCEPTION);
  run_until_done (loop, wait);
  done = done_futures (wait);
  g_assert_cmpuint (done->len, ==, 3);
  g_assert_true (g_ptr_array_index (done, 0) == futures->pdata[0]);
  g_assert_true (g_ptr_array_index (done, 1) == futures->pdata[2]);
  g_assert_true (g_ptr_array_index (done, 2) == futures->pdata[3]);
  g_assert_false (aio_future_is_done (futures->pdata[1]));
  g_assert_nonnull (aio_future_get_error (futures->pdata[2]));
  g_assert_finalize_object (wait);

  /* No exception at all: waits for every future. */
  {
    g_autoptr(GPtrArray) ok = g_ptr_array_new_with_free_func (g_object_unref);

    g_ptr_array_add (ok, g_object_ref (futures->pdata[0]));
    g_ptr_array_add (ok, g_object_ref (futures->pdata[1]));
    complete_later (loop, 0.01, futures->pdata[1], DO_RESOLVE, 2, NULL);
    wait = aio_wait (ok, timeout, AIO_WAIT_FIRST_EXCEPTION);
    run_until_done (loop, wait);
    g_assert_cmpuint (done_futures (wait)->len, ==, 2);
    g_assert_true (aio_future_is_resolved (futures->pdata[1]));
  }

  finalize_all (loop, wait, futures);
}

static void
test_wait_timeout (Fixture       *fixture,
                   gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  static const AioWaitMode modes[] = {
    AIO_WAIT_ALL_COMPLETED, AIO_WAIT_FIRST_COMPLETED, AIO_WAIT_FIRST_EXCEPTION,
  };

  g_test_summary ("wait(timeout=...) does not raise on timeout: it returns the futures "
                  "done by then, and the pending ones stay pending, not cancelled");

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(GPtrArray) futures = NULL;
      AioFuture *wait;
      GPtrArray *done;
      gdouble start;

      futures = new_futures (loop, 3);
      /* ALL_COMPLETED sees one done before the timeout; the others none. */
      if (modes[m] == AIO_WAIT_ALL_COMPLETED)
        complete_later (loop, 0.01, futures->pdata[2], DO_RESOLVE, 1, NULL);

      start = aio_loop_time (loop);
      wait = aio_wait (futures, 0.05, modes[m]);
      run_until_done (loop, wait);
      g_assert_cmpfloat (aio_loop_time (loop) - start, >=, 0.05);

      done = done_futures (wait);
      if (modes[m] == AIO_WAIT_ALL_COMPLETED)
        {
          g_assert_cmpuint (done->len, ==, 1);
          g_assert_true (g_ptr_array_index (done, 0) == futures->pdata[2]);
        }
      else
        g_assert_cmpuint (done->len, ==, 0);

      for (guint i = 0; i < 2; i++)
        {
          g_assert_false (aio_future_is_done (futures->pdata[i]));
          aio_future_resolve (futures->pdata[i]);
        }

      finalize_all (loop, wait, futures);
    }
}

static void
test_wait_cancel (Fixture       *fixture,
                  gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  AioFuture *wait;

  g_test_summary ("Cancelling wait() cancels the waiting, not the futures waited for");

  g_ptr_array_add (futures, new_future (loop));
  wait = aio_wait (futures, 10.0, AIO_WAIT_ALL_COMPLETED);
  g_assert_true (aio_future_cancel (wait, NULL));
  g_assert_true (aio_future_is_cancelled (wait));
  g_assert_false (aio_future_is_done (futures->pdata[0]));
  g_assert_false (aio_future_cancel (wait, NULL));

  aio_future_resolve (futures->pdata[0]);
  run_a_little (loop);
  g_assert_true (aio_future_is_cancelled (wait));
  g_assert_finalize_object (wait);
  g_assert_finalize_object (g_ptr_array_steal_index (futures, 0));
}

static void
test_wait_bad_input (Fixture       *fixture,
                     gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) empty = g_ptr_array_new ();
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  g_test_summary ("wait() of no futures (asyncio: ValueError), of NULL, or with a negative "
                  "or NaN timeout is a programmer error");

  g_ptr_array_add (futures, new_future (loop));

  EXPECT_CRITICAL ("*aio_wait*assertion*futures->len > 0*",
                   g_assert_null (aio_wait (empty, AIO_TIMEOUT_NONE, AIO_WAIT_ALL_COMPLETED)));

  EXPECT_CRITICAL ("*aio_wait*assertion*futures != NULL*",
                   g_assert_null (aio_wait (NULL, AIO_TIMEOUT_NONE, AIO_WAIT_ALL_COMPLETED)));

  EXPECT_CRITICAL ("*aio_wait*assertion*timeout*",
                   g_assert_null (aio_wait (futures, -1.0, AIO_WAIT_ALL_COMPLETED)));

  EXPECT_CRITICAL ("*aio_wait*assertion*timeout*",
                   g_assert_null (aio_wait (futures, NAN, AIO_WAIT_ALL_COMPLETED)));

  EXPECT_CRITICAL ("*aio_wait*assertion*return_when*",
                   g_assert_null (aio_wait (futures, AIO_TIMEOUT_NONE, (AioWaitMode) 42)));

  g_ptr_array_add (futures, NULL);
  EXPECT_CRITICAL ("*aio_wait*assertion*AIO_IS_FUTURE*",
                   g_assert_null (aio_wait (futures, AIO_TIMEOUT_NONE, AIO_WAIT_ALL_COMPLETED)));
  g_ptr_array_steal_index (futures, 1);

  g_assert_finalize_object (g_ptr_array_steal_index (futures, 0));
}

/* ---- wait_for ------------------------------------------------------------ */

static void
test_wait_for_success (Fixture       *fixture,
                       gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  static const gdouble timeouts[] = { 10.0, AIO_TIMEOUT_NONE, INFINITY };

  g_test_summary ("wait_for() returns the result of the future when it completes before "
                  "the timeout (None: no timeout), and passes its exception on");

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      AioFuture *inner = new_future (loop);
      AioFuture *outer;
      gdouble start = aio_loop_time (loop);

      complete_later (loop, 0.01, inner, DO_RESOLVE, 7, NULL);
      outer = aio_wait_for (g_object_ref (inner), timeouts[i]);
      run_until_done (loop, outer);
      g_assert_cmpint (aio_future_get_int64 (outer, &error), ==, 7);
      g_assert_no_error (error);
      g_assert_cmpfloat (aio_loop_time (loop) - start, <, 5.0);

      run_a_little (loop);
      g_assert_finalize_object (outer);  /* its timer is disarmed by now */
      g_assert_finalize_object (inner);
    }

  {
    AioFuture *inner = new_future (loop);
    AioFuture *outer;

    complete_later (loop, 0.01, inner, DO_REJECT, 5, NULL);
    outer = aio_wait_for (g_object_ref (inner), 10.0);
    run_until_done (loop, outer);
    g_assert_true (aio_future_is_rejected (outer));
    g_assert_false (aio_future_propagate (outer, &error));
    g_assert_error (error, TEST_ERROR, 5);
    g_clear_error (&error);

    finalize_pair (loop, outer, inner);
  }
}

static void
test_wait_for_timeout (Fixture       *fixture,
                       gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *inner = slow_future_new (loop, log, FALSE);
  AioFuture *outer;

  g_test_summary ("wait_for(): if a timeout occurs, it cancels the task, waits for it to "
                  "be actually cancelled, and raises TimeoutError");

  outer = wait_for_slow (inner);

  run_until_done (loop, outer);
  /* Cancelled at the timeout, and the outer future stayed pending until
   * the inner one had finished being cancelled. */
  g_assert_cmpstr (log->str, ==, "cancel:pending;finish:pending;");
  g_assert_true (aio_future_is_cancelled (inner));
  g_assert_true (aio_future_is_rejected (outer));
  g_assert_false (aio_future_propagate (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

  finalize_pair (loop, outer, inner);
}

static void
test_wait_for_timeout_value_wins (Fixture       *fixture,
                                  gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *inner = slow_future_new (loop, log, TRUE);
  AioFuture *outer;

  g_test_summary ("wait_for() (3.12): a future that completes with a result in spite of "
                  "the cancellation at the timeout gives that result, not TimeoutError");

  outer = wait_for_slow (inner);

  run_until_done (loop, outer);
  g_assert_cmpstr (log->str, ==, "cancel:pending;finish:pending;");
  g_assert_cmpint (aio_future_get_int64 (outer, &error), ==, 42);
  g_assert_no_error (error);

  finalize_pair (loop, outer, inner);
}

static void
test_wait_for_timeout_zero (Fixture       *fixture,
                            gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  AioFuture *inner, *outer;

  g_test_summary ("wait_for(timeout=0): a future that is done gives its outcome; one that "
                  "is not is cancelled and the wait times out");

  inner = new_future (loop);
  aio_future_resolve_int64 (inner, 3);
  outer = aio_wait_for (g_object_ref (inner), 0);
  run_until_done (loop, outer);
  g_assert_cmpint (aio_future_get_int64 (outer, &error), ==, 3);
  g_assert_no_error (error);
  finalize_pair (loop, outer, inner);

  inner = new_future (loop);
  aio_future_reject_literal (inner, TEST_ERROR, 4, "four");
  outer = aio_wait_for (g_object_ref (inner), 0);
  run_until_done (loop, outer);
  g_assert_false (aio_future_propagate (outer, &error));
  g_assert_error (error, TEST_ERROR, 4);
  g_clear_error (&error);
  finalize_pair (loop, outer, inner);

  inner = new_future (loop);
  outer = aio_wait_for (g_object_ref (inner), 0);
  g_assert_true (aio_future_is_cancelled (inner));
  run_until_done (loop, outer);
  g_assert_false (aio_future_propagate (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  finalize_pair (loop, outer, inner);
}

static void
test_wait_for_cancel (Fixture       *fixture,
                      gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioFuture *inner = slow_future_new (loop, log, FALSE);
  AioFuture *outer;

  g_test_summary ("Cancelling wait_for() cancels the future it waits for; wait_for() is "
                  "cancelled once that future is, and does not time out");

  outer = wait_for_slow (inner);

  g_assert_true (aio_future_cancel (outer, "enough"));
  g_assert_false (aio_future_is_done (outer));
  run_until_done (loop, outer);

  /* The timeout passed while the inner future was being cancelled: the
   * cancellation asked of wait_for still wins. */
  g_assert_cmpstr (log->str, ==, "cancel:pending;finish:pending;");
  g_assert_true (aio_future_is_cancelled (inner));
  g_assert_true (aio_future_is_cancelled (outer));
  g_assert_false (aio_future_propagate (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  finalize_pair (loop, outer, inner);
}

static void
test_wait_for_bad_input (Fixture       *fixture,
                         gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  AioFuture *inner = new_future (loop);

  g_test_summary ("wait_for() of NULL or with a negative or NaN timeout is a programmer "
                  "error");

  EXPECT_CRITICAL ("*aio_wait_for*assertion*AIO_IS_FUTURE*",
                   g_assert_null (aio_wait_for (NULL, 1.0)));

  EXPECT_CRITICAL ("*aio_wait_for*assertion*timeout*", g_assert_null (aio_wait_for (inner, -0.5)));

  EXPECT_CRITICAL ("*aio_wait_for*assertion*timeout*", g_assert_null (aio_wait_for (inner, NAN)));

  g_assert_finalize_object (inner);
}

/* ---- shield -------------------------------------------------------------- */

static void
test_shield_outer_cancelled (Fixture       *fixture,
                             gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  AioFuture *inner = new_future (loop);
  AioFuture *outer;

  g_test_summary ("shield(): cancelling the outer future does not cancel the one it "
                  "protects, which goes on and completes");

  outer = aio_shield (g_object_ref (inner));
  g_assert_true (outer != inner);
  complete_later (loop, 0.01, inner, DO_RESOLVE, 9, NULL);

  g_assert_true (aio_future_cancel (outer, NULL));
  g_assert_true (aio_future_is_cancelled (outer));
  g_assert_false (aio_future_is_done (inner));

  run_until_done (loop, inner);
  g_assert_cmpint (aio_future_get_int64 (inner, &error), ==, 9);
  g_assert_no_error (error);
  g_assert_true (aio_future_is_cancelled (outer));

  finalize_pair (loop, outer, inner);
}

static void
test_shield_outer_cancelled_inner_fails (Fixture       *fixture,
                                         gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  AioFuture *inner = new_future (loop);
  AioFuture *outer;

  g_test_summary ("shield(): once the outer future is cancelled, the inner future's "
                  "exception still counts as retrieved");

  outer = aio_shield (g_object_ref (inner));
  g_assert_true (aio_future_cancel (outer, NULL));
  complete_later (loop, 0.01, inner, DO_REJECT, 1, NULL);
  while (!aio_future_is_done (inner))
    run_a_little (loop);
  run_a_little (loop);

  g_assert_finalize_object (outer);
  g_assert_finalize_object (inner);  /* a warning here would fail the test */
}

static void
test_shield_mirror (Fixture       *fixture,
                    gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GError) error = NULL;
  AioFuture *inner, *outer;

  g_test_summary ("shield() gives the outcome of the future it protects; if that future "
                  "is cancelled, so is the outer one; a done future is returned as is");

  inner = new_future (loop);
  outer = aio_shield (g_object_ref (inner));
  complete_later (loop, 0.01, inner, DO_RESOLVE, 5, NULL);
  run_until_done (loop, outer);
  g_assert_cmpint (aio_future_get_int64 (outer, &error), ==, 5);
  g_assert_no_error (error);
  finalize_pair (loop, outer, inner);

  inner = new_future (loop);
  outer = aio_shield (g_object_ref (inner));
  complete_later (loop, 0.01, inner, DO_CANCEL, 0, NULL);
  run_until_done (loop, outer);
  g_assert_true (aio_future_is_cancelled (outer));
  finalize_pair (loop, outer, inner);

  inner = new_future (loop);
  aio_future_resolve (inner);
  outer = aio_shield (g_object_ref (inner));
  g_assert_true (outer == inner);
  g_object_unref (outer);
  run_a_little (loop);
  g_assert_finalize_object (inner);
}

/* ---- as_completed -------------------------------------------------------- */

static void
test_as_completed_order (Fixture       *fixture,
                         gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) futures = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("as_completed() gives the outcomes in the order the futures complete, "
                  "exceptions included");

  futures = new_futures (loop, 4);
  complete_later (loop, 0.01, futures->pdata[1], DO_RESOLVE, 1, NULL);
  complete_later (loop, 0.02, futures->pdata[3], DO_REJECT, 2, NULL);
  complete_later (loop, 0.03, futures->pdata[2], DO_RESOLVE, 3, NULL);
  complete_later (loop, 0.04, futures->pdata[0], DO_RESOLVE, 4, NULL);

  results = aio_as_completed (futures, AIO_TIMEOUT_NONE);
  g_assert_cmpuint (results->len, ==, 4);

  run_until_done (loop, results->pdata[0]);
  g_assert_cmpint (aio_future_get_int64 (results->pdata[0], &error), ==, 1);
  g_assert_no_error (error);

  run_until_done (loop, results->pdata[1]);
  g_assert_false (aio_future_propagate (results->pdata[1], &error));
  g_assert_error (error, TEST_ERROR, 2);
  g_clear_error (&error);

  run_until_done (loop, results->pdata[2]);
  g_assert_cmpint (aio_future_get_int64 (results->pdata[2], &error), ==, 3);
  run_until_done (loop, results->pdata[3]);
  g_assert_cmpint (aio_future_get_int64 (results->pdata[3], &error), ==, 4);
  g_assert_no_error (error);

  run_a_little (loop);
  while (results->len > 0)
    g_assert_finalize_object (g_ptr_array_steal_index (results, results->len - 1));
  while (futures->len > 0)
    g_assert_finalize_object (g_ptr_array_steal_index (futures, futures->len - 1));
}

static void
test_as_completed_timeout (Fixture       *fixture,
                           gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) futures = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  gdouble start;

  g_test_summary ("as_completed(timeout=...): the results not there at the timeout raise "
                  "TimeoutError; the futures themselves are not cancelled");

  futures = new_futures (loop, 3);
  complete_later (loop, 0.01, futures->pdata[2], DO_RESOLVE, 1, NULL);

  start = aio_loop_time (loop);
  results = aio_as_completed (futures, 0.05);
  g_assert_cmpuint (results->len, ==, 3);

  run_until_done (loop, results->pdata[0]);
  g_assert_cmpint (aio_future_get_int64 (results->pdata[0], &error), ==, 1);
  g_assert_no_error (error);
  /* The next result waits for the timeout, never less (a slow machine
   * may reach it in the same turn as the first result). */
  if (aio_future_is_done (results->pdata[1]))
    g_assert_cmpfloat (aio_loop_time (loop), >=, start + 0.05);

  run_until_done (loop, results->pdata[1]);
  for (guint i = 1; i < 3; i++)
    {
      g_assert_false (aio_future_propagate (results->pdata[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_clear_error (&error);
    }
  g_assert_false (aio_future_is_done (futures->pdata[0]));
  g_assert_false (aio_future_is_done (futures->pdata[1]));
  aio_future_resolve (futures->pdata[0]);
  aio_future_resolve (futures->pdata[1]);

  run_a_little (loop);
  while (results->len > 0)
    g_assert_finalize_object (g_ptr_array_steal_index (results, results->len - 1));
  while (futures->len > 0)
    g_assert_finalize_object (g_ptr_array_steal_index (futures, futures->len - 1));
}

static void
test_as_completed_caller_frees_array (Fixture       *fixture,
                                      gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  GPtrArray *results;
  AioFuture *first;

  g_test_summary ("The array as_completed() returns is the caller's: freeing it (as "
                  "language bindings do, with g_ptr_array_free()) loses no result");

  g_ptr_array_add (futures, new_future (loop));
  complete_later (loop, 0.01, futures->pdata[0], DO_RESOLVE, 6, NULL);

  results = aio_as_completed (futures, AIO_TIMEOUT_NONE);
  first = g_object_ref (results->pdata[0]);
  g_ptr_array_free (results, TRUE);

  run_until_done (loop, first);
  g_assert_cmpint (aio_future_get_int64 (first, &error), ==, 6);
  g_assert_no_error (error);

  run_a_little (loop);
  g_assert_finalize_object (first);
  g_assert_finalize_object (g_ptr_array_steal_index (futures, 0));
}

static void
test_as_completed_bad_input (Fixture       *fixture,
                             gconstpointer  data)
{
  AioLoop *loop = fixture->loop;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *result;

  g_test_summary ("as_completed() of NULL or with a negative or NaN timeout is a "
                  "programmer error; of nothing, it gives nothing");

  EXPECT_CRITICAL ("*aio_as_completed*assertion*futures != NULL*",
                   g_assert_null (aio_as_completed (NULL, AIO_TIMEOUT_NONE)));

  EXPECT_CRITICAL ("*aio_as_completed*assertion*timeout*",
                   g_assert_null (aio_as_completed (futures, -1.0)));

  EXPECT_CRITICAL ("*aio_as_completed*assertion*timeout*",
                   g_assert_null (aio_as_completed (futures, NAN)));

  result = aio_as_completed (futures, 1.0);
  g_assert_nonnull (result);
  g_assert_cmpuint (result->len, ==, 0);
  g_ptr_array_unref (result);

  (void) loop;
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST_UNPUSHED ("/aio/gather/order", test_gather_order);
  TEST_UNPUSHED ("/aio/gather/first-error", test_gather_first_error);
  TEST_UNPUSHED ("/aio/gather/late-errors-retrieved", test_gather_late_errors_retrieved);
  TEST_UNPUSHED ("/aio/gather/return-exceptions", test_gather_return_exceptions);
  TEST_UNPUSHED ("/aio/gather/cancel", test_gather_cancel);
  TEST_UNPUSHED ("/aio/gather/cancel-waits-for-children", test_gather_cancel_waits);
  TEST_UNPUSHED ("/aio/gather/child-cancelled", test_gather_child_cancelled);
  TEST_UNPUSHED ("/aio/gather/empty", test_gather_empty);
  TEST_UNPUSHED ("/aio/gather/bad-input", test_gather_bad_input);

  TEST_UNPUSHED_DATA ("/aio/wait/all-completed", &no_timeout, test_wait_all_completed);
  TEST_UNPUSHED_DATA ("/aio/wait/all-completed-with-timeout", &long_timeout, test_wait_all_completed);
  TEST_UNPUSHED_DATA ("/aio/wait/first-completed", &no_timeout, test_wait_first_completed);
  TEST_UNPUSHED_DATA ("/aio/wait/first-completed-with-timeout", &long_timeout, test_wait_first_completed);
  TEST_UNPUSHED_DATA ("/aio/wait/first-exception", &no_timeout, test_wait_first_exception);
  TEST_UNPUSHED_DATA ("/aio/wait/first-exception-with-timeout", &long_timeout, test_wait_first_exception);
  TEST_UNPUSHED ("/aio/wait/timeout-expires", test_wait_timeout);
  TEST_UNPUSHED ("/aio/wait/cancel", test_wait_cancel);
  TEST_UNPUSHED ("/aio/wait/bad-input", test_wait_bad_input);

  TEST_UNPUSHED ("/aio/wait-for/success", test_wait_for_success);
  TEST_UNPUSHED ("/aio/wait-for/timeout", test_wait_for_timeout);
  TEST_UNPUSHED ("/aio/wait-for/timeout-value-wins", test_wait_for_timeout_value_wins);
  TEST_UNPUSHED ("/aio/wait-for/timeout-zero", test_wait_for_timeout_zero);
  TEST_UNPUSHED ("/aio/wait-for/cancel", test_wait_for_cancel);
  TEST_UNPUSHED ("/aio/wait-for/bad-input", test_wait_for_bad_input);

  TEST_UNPUSHED ("/aio/shield/outer-cancelled", test_shield_outer_cancelled);
  TEST_UNPUSHED ("/aio/shield/outer-cancelled-inner-fails", test_shield_outer_cancelled_inner_fails);
  TEST_UNPUSHED ("/aio/shield/mirror", test_shield_mirror);

  TEST_UNPUSHED ("/aio/as-completed/order", test_as_completed_order);
  TEST_UNPUSHED ("/aio/as-completed/timeout", test_as_completed_timeout);
  TEST_UNPUSHED ("/aio/as-completed/caller-frees-array", test_as_completed_caller_frees_array);
  TEST_UNPUSHED ("/aio/as-completed/bad-input", test_as_completed_bad_input);

  return g_test_run ();
}
