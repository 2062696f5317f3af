/* test-gio.c: GIO's _async/_finish pairs awaited from tasks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE               /* pthread_getname_np() */

#include "config.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <aio-glib.h>
#include <glib/gstdio.h>

#include "aio-future-private.h"
#include "aio-test.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

/* ==== a socket pair with a read in flight ================================== */

/* A read on a socket nobody writes to is an operation that stays in flight
 * until it is cancelled: the deterministic way to cancel GIO mid-call. */
typedef struct
{
  GIOStream  *near;           /* we read from it */
  GIOStream  *far;            /* the peer, which writes */
  AioGioCall *call;           /* the last read started */
  GError     *await_error;    /* what the await of the read reported */
  gboolean    checked;        /* check_gio_cancelled() ran in the body */
  char        buf[64];
} Reader;

static void
reader_init (Reader *r)
{
  int fds[2];

  memset (r, 0, sizeof *r);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = g_socket_new_from_fd (fds[i], &error);

      g_assert_no_error (error);
      if (i == 0)
        r->near = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
      else
        r->far = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
    }
}

static void
reader_clear (Reader *r)
{
  g_clear_object (&r->call);
  g_clear_error (&r->await_error);
  g_assert_finalize_object (r->near);
  g_assert_finalize_object (r->far);
}

static GInputStream *
reader_in (Reader *r)
{
  return g_io_stream_get_input_stream (r->near);
}

/* Starts a read, keeping the call to look at it afterwards. */
static AioFuture *
start_read (Reader *r)
{
  /* Atomic: test_export_sync_cancel() waits for it in another thread. */
  AioGioCall *old = g_atomic_pointer_exchange (&r->call, aio_gio_call_new ());

  g_clear_object (&old);
  g_input_stream_read_async (reader_in (r), r->buf, sizeof r->buf, G_PRIORITY_DEFAULT,
                             AIO_GIO_CALL_ARGS (r->call));
  return g_object_ref ((AioFuture *) r->call);
}

/* Right after the await of a cancelled read returned: GIO has reported,
 * it reported G_IO_ERROR_CANCELLED, and the stream is free. */
static void
check_gio_cancelled (Reader *r)
{
  g_autoptr(GError) error = NULL;
  GAsyncResult *res = aio_gio_call_get_result (r->call);

  g_assert_true (aio_future_is_cancelled ((AioFuture *) r->call));
  g_assert_nonnull (res);
  g_assert_false (g_input_stream_has_pending (reader_in (r)));
  g_assert_cmpint (g_input_stream_read_finish (reader_in (r), res, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  r->checked = TRUE;
}

/* The peer writes; the next read gets it, with no "outstanding
 * operation" error. */
static void
check_next_read (Reader *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  GOutputStream *out = g_io_stream_get_output_stream (r->far);

  g_assert_true (g_output_stream_write_all (out, "ping", 4, NULL, NULL, &error));
  g_assert_no_error (error);

  res = aio_await_gio (start_read (r), &error);
  g_assert_no_error (error);
  g_assert_nonnull (res);
  g_assert_cmpint (g_input_stream_read_finish (reader_in (r), res, &error), ==, 4);
  g_assert_no_error (error);
  g_assert_cmpmem (r->buf, 4, "ping", 4);
}

/* The same outside a task, blocking. */
static void
check_next_read_sync (Reader *r)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (r->far), "ping", 4,
                                            NULL, NULL, &error));
  g_assert_cmpint (g_input_stream_read (reader_in (r), r->buf, sizeof r->buf, NULL, &error), ==, 4);
  g_assert_no_error (error);
}

/* A task that reads and is cancelled while it does. */
static void
reader_body (AioTask  *task,
             gpointer  user_data)
{
  Reader *r = user_data;
  GAsyncResult *res;

  res = aio_await_gio (start_read (r), &r->await_error);
  g_assert_null (res);
  check_gio_cancelled (r);
  aio_task_return_error (task, g_error_copy (r->await_error));
}

/* Lets @task start its read. */
static void
wait_until_reading (Reader *r)
{
  for (guint i = 0; i < 100 && r->call == NULL; i++)
    yield_n (1);
  g_assert_nonnull (r->call);
  g_assert_true (g_input_stream_has_pending (reader_in (r)));
}

/* ==== awaiting ============================================================== */

static char *
write_temp_file (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("aio-test-gio-XXXXXX", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_await_file (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autofree char *path = write_temp_file ("hello from a file");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_test_summary ("await of a GIO call: any _async/_finish pair is awaited in two lines, "
                  "the await giving the GAsyncResult for the _finish");

  res = aio_await_gio (AIO_GIO_START (g_file_load_contents_async, file), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_ASYNC_RESULT (res));
  g_assert_true (g_file_load_contents_finish (file, res, &contents, &length, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "hello from a file");

  g_unlink (path);
}

static void
test_await_error (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent/aio-test-gio");
  char *contents = NULL;

  g_test_summary ("A failed GIO call resolves the future all the same: the error comes "
                  "out of the _finish, as in GIO");

  res = aio_await_gio (AIO_GIO_START (g_file_load_contents_async, file), &error);
  g_assert_no_error (error);
  g_assert_false (g_file_load_contents_finish (file, res, &contents, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
test_await_concurrent (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func (g_object_unref);
  char *paths[3];
  GFile *files[3];
  AioFuture *all;

  g_test_summary ("asyncio.gather() over GIO calls: three file reads at once, each "
                  "result read from its own call");

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("file %u", i);

      paths[i] = write_temp_file (text);
      files[i] = g_file_new_for_path (paths[i]);
      g_ptr_array_add (calls, g_object_ref (AIO_GIO_START (g_file_load_contents_async, files[i])));
    }

  all = aio_gather (FALSE, g_object_ref (calls->pdata[0]), g_object_ref (calls->pdata[1]),
                    g_object_ref (calls->pdata[2]), NULL);
  g_assert_true (aio_await (all, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *contents = NULL;
      g_autofree char *expected = g_strdup_printf ("file %u", i);
      GAsyncResult *res = aio_future_get_async_result (calls->pdata[i], &error);

      g_assert_no_error (error);
      g_assert_true (g_file_load_contents_finish (files[i], res, &contents, NULL, NULL, &error));
      g_assert_cmpstr (contents, ==, expected);
      g_object_unref (files[i]);
      g_unlink (paths[i]);
      g_free (paths[i]);
    }
  /* AIO_GIO_START's own reference, which the array took a second one of. */
  for (guint i = 0; i < 3; i++)
    g_object_unref (calls->pdata[i]);
}

/* ==== each way of cancelling cancels the GIO call =========================== */

/* Cancels @task, which reads through @r, once it is reading: GIO sees
 * CANCELLED, the await of the task returns only once it has, and the
 * stream takes the next read. */
static void
check_cancel_reader (Reader  *r,
                     AioTask *task)
{
  g_autoptr(GError) error = NULL;

  wait_until_reading (r);
  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_await (g_object_ref ((AioFuture *) task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r->checked);
  g_assert_error (r->await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  check_next_read (r);
  reader_clear (r);
}

static void
test_cancel_task (Fixture *f)
{
  g_autoptr(AioTask) task = NULL;
  Reader r;

  g_test_summary ("Task.cancel() of a task awaiting a GIO call: GIO sees CANCELLED, the "
                  "await returns only once it has, and the stream takes the next read");

  reader_init (&r);
  task = aio_create_task (reader_body, &r, NULL);
  check_cancel_reader (&r, task);
}

static void
test_cancel_call_stays_pending (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  Reader r;

  g_test_summary ("Cancelling a GIO call cancels its GCancellable and leaves the call "
                  "pending until GIO reports");

  reader_init (&r);
  g_object_unref (start_read (&r));
  g_assert_true (aio_future_cancel ((AioFuture *) r.call, "stop reading"));
  g_assert_true (g_cancellable_is_cancelled (aio_gio_call_get_cancellable (r.call)));
  /* Asking twice is one request. */
  g_assert_true (aio_future_cancel ((AioFuture *) r.call, NULL));

  g_assert_null (aio_await_gio (g_object_ref ((AioFuture *) r.call), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "stop reading");
  check_gio_cancelled (&r);
  g_assert_false (aio_future_cancel ((AioFuture *) r.call, NULL));

  check_next_read (&r);
  reader_clear (&r);
}

static void
test_cancel_wait_for (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  Reader r;

  g_test_summary ("asyncio.wait_for() around a GIO call: at the deadline the call is "
                  "cancelled in GIO, and TimeoutError comes once GIO has reported");

  reader_init (&r);
  g_assert_null (aio_await_gio (aio_wait_for (start_read (&r), 0.01), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  check_gio_cancelled (&r);

  check_next_read (&r);
  reader_clear (&r);
}

static void
test_cancel_timeout_scope (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioTimeout *scope;
  Reader r;

  g_test_summary ("asyncio.timeout() around a GIO call: the await returns after GIO "
                  "reported the cancellation, so exiting the scope, which uncancels the "
                  "task, cannot take it back from GIO; the next read works");

  reader_init (&r);
  scope = aio_timeout_enter (0.01);
  g_assert_null (aio_await_gio (start_read (&r), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  check_gio_cancelled (&r);
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (aio_task_cancelling (aio_task_get_current ()), ==, 0);

  check_next_read (&r);
  reader_clear (&r);
}

static void
uncancelling_body (AioTask  *task,
                   gpointer  user_data)
{
  Reader *r = user_data;

  g_assert_null (aio_await_gio (start_read (r), &r->await_error));
  g_assert_error (r->await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (aio_task_uncancel (task), ==, 0);
  check_gio_cancelled (r);
  check_next_read (r);
  aio_task_return_int64 (task, 1);
}

static void
test_cancel_uncancel (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) task = NULL;
  Reader r;

  g_test_summary ("Task.uncancel() right after a cancelled GIO await: the call was "
                  "cancelled in GIO all the same and the task reads on");

  reader_init (&r);
  task = aio_create_task (uncancelling_body, &r, NULL);
  wait_until_reading (&r);
  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_cmpint (aio_await_int64 (g_object_ref ((AioFuture *) task), &error), ==, 1);
  g_assert_no_error (error);
  g_assert_true (r.checked);
  reader_clear (&r);
}

static void
failing_body (AioTask  *task,
              gpointer  user_data)
{
  Reader *r = user_data;

  wait_until_reading (r);
  aio_task_return_error (task, g_error_new_literal (TEST_ERROR, 1, "sibling failed"));
}

static void
test_cancel_task_group (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTaskGroup) group = aio_task_group_new ();
  Reader r;

  g_test_summary ("TaskGroup: a failing sibling cancels the task awaiting a GIO call, "
                  "which GIO sees; the group reports the sibling's error");

  reader_init (&r);
  aio_task_group_create_task (group, reader_body, &r, NULL);
  aio_task_group_create_task (group, failing_body, &r, NULL);
  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  g_assert_error (error, TEST_ERROR, 1);
  g_assert_true (r.checked);
  g_assert_error (r.await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  check_next_read (&r);
  reader_clear (&r);
}

static void
shutdown_main (AioTask  *task,
               gpointer  user_data)
{
  Reader *r = user_data;
  g_autoptr(AioTask) child = aio_create_task (reader_body, r, NULL);

  wait_until_reading (r);
}

static void
test_cancel_run_shutdown (void)
{
  g_autoptr(GError) error = NULL;
  Reader r;

  g_test_summary ("asyncio.run() cancels what is left when the main task returns: a task "
                  "awaiting a GIO call has its call cancelled in GIO, and run() returns "
                  "once GIO has reported");

  reader_init (&r);
  g_assert_true (aio_run (shutdown_main, &r, &error));
  g_assert_no_error (error);
  g_assert_true (r.checked);
  g_assert_error (r.await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Nothing is left in flight on the stream. */
  check_next_read_sync (&r);
  reader_clear (&r);
}

static AioFuture *
reader_step (AioTask   *task,
             AioFuture *completed,
             gpointer   user_data)
{
  Reader *r = user_data;

  if (completed == NULL)
    return start_read (r);

  g_assert_null (aio_future_get_async_result (completed, &r->await_error));
  check_gio_cancelled (r);
  return NULL;
}

static void
test_cancel_stepped (Fixture *f)
{
  g_autoptr(AioTask) task = NULL;
  Reader r;

  g_test_summary ("A stepped task returns the GIO call as the future to wait for; "
                  "cancelling the task cancels the call in GIO before the next step");

  reader_init (&r);
  task = aio_create_stepped_task (reader_step, &r, NULL);
  check_cancel_reader (&r, task);
}

static AioFuture *
load_step (AioTask   *task,
           AioFuture *completed,
           gpointer   user_data)
{
  GFile *file = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  GAsyncResult *res;

  if (completed == NULL)
    return AIO_GIO_START (g_file_load_contents_async, file);

  res = aio_future_get_async_result (completed, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_load_contents_finish (file, res, &contents, NULL, NULL, &error));
  aio_task_return_string (task, contents);
  return NULL;
}

static void
test_stepped (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_temp_file ("stepped");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *contents = NULL;

  g_test_summary ("A stepped task awaits a GIO call by returning AIO_GIO_START() and "
                  "reads the result in its next step");

  contents = aio_await_string ((AioFuture *) aio_create_stepped_task (load_step, file, NULL),
                               &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "stepped");
  g_unlink (path);
}

static void
other_reader_body (AioTask  *task,
                   gpointer  user_data)
{
  Reader *r = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;

  res = aio_await_gio (start_read (r), &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_input_stream_read_finish (reader_in (r), res, &error), ==, 4);
}

static void
test_cancel_is_per_call (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) other = NULL;
  Reader r1, r2;

  g_test_summary ("Each GIO call has its own cancellation: a deadline on one read leaves "
                  "another task's read on the same loop in flight");

  reader_init (&r1);
  reader_init (&r2);
  other = aio_create_task (other_reader_body, &r2, NULL);
  wait_until_reading (&r2);

  g_assert_null (aio_await_gio (aio_wait_for (start_read (&r1), 0.01), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  check_gio_cancelled (&r1);

  g_assert_false (aio_future_is_done ((AioFuture *) other));
  g_assert_false (g_cancellable_is_cancelled (aio_gio_call_get_cancellable (r2.call)));
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (r2.far), "pong", 4,
                                            NULL, NULL, &error));
  g_assert_true (aio_await (g_object_ref ((AioFuture *) other), &error));
  g_assert_no_error (error);

  reader_clear (&r1);
  reader_clear (&r2);
}

static void
test_cancel_lost_race (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  AioGioCall *call = aio_gio_call_new ();
  GTask *op;

  g_test_summary ("An operation that completes in spite of the cancellation (a GTask that "
                  "does not check its cancellable) resolves the call: its value wins, as a "
                  "coroutine's return value wins over a CancelledError it caught");

  op = g_task_new (NULL, aio_gio_call_get_cancellable (call), aio_gio_call_ready,
                   g_object_ref (call));
  g_task_set_check_cancellable (op, FALSE);
  g_assert_true (aio_future_cancel ((AioFuture *) call, NULL));
  yield_n (2);
  g_assert_false (aio_future_is_done ((AioFuture *) call));

  g_task_return_int (op, 7);
  g_object_unref (op);
  res = aio_await_gio ((AioFuture *) call, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_task_propagate_int (G_TASK (res), &error), ==, 7);
}

static void
test_not_a_result (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_summary ("aio_await_gio() of a future that holds no GAsyncResult is a "
                  "programmer error");

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*did not resolve with a GAsyncResult*");
  g_assert_null (aio_await_gio (aio_future_new_for_object (object),
                                &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
}


/* ==== exporting a task as a GIO pair ======================================== */

/* A library's operation, written with aio-glib: my_double_async() doubles
 * a number in a task, after a pause; my_read_async() reads from a Reader
 * in a task, and is what cancellation is tried on. */

static void
double_body (AioTask  *task,
             gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!aio_yield (&error))
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  aio_task_return_int64 (task, 2 * GPOINTER_TO_INT (user_data));
}

static void
my_double_async (GObject             *source,
                 gint                 n,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  aio_future_export ((AioFuture *) aio_create_task (double_body, GINT_TO_POINTER (n), NULL),
                     source, my_double_async, cancellable, callback, user_data);
}

static gint
my_double_finish (GObject       *source,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), -1);
  g_return_val_if_fail (g_async_result_is_tagged (result, my_double_async), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static void
my_read_body (AioTask  *task,
              gpointer  user_data)
{
  Reader *r = user_data;
  GError *error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  gssize n;

  res = aio_await_gio (start_read (r), &r->await_error);
  if (res == NULL)
    {
      check_gio_cancelled (r);
      aio_task_return_error (task, g_error_copy (r->await_error));
      return;
    }
  n = g_input_stream_read_finish (reader_in (r), res, &error);
  if (n < 0)
    aio_task_return_error (task, error);
  else
    aio_task_return_int64 (task, n);
}

static void
my_read_async (Reader              *r,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  aio_future_export ((AioFuture *) aio_create_task (my_read_body, r, NULL),
                     NULL, my_read_async, cancellable, callback, user_data);
}

static gssize
my_read_finish (GAsyncResult  *result,
                GError       **error)
{
  g_return_val_if_fail (g_async_result_is_tagged (result, my_read_async), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

static void
test_export_result (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GObject) source = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) got_source = NULL;

  g_test_summary ("A task exported as an _async/_finish pair: the result comes out of "
                  "g_task_propagate_*() with the source object and tag given");

  res = aio_await_gio (AIO_GIO_START (my_double_async, source, 21), &error);
  g_assert_no_error (error);
  g_assert_true (g_task_get_source_tag (G_TASK (res)) == my_double_async);
  got_source = g_async_result_get_source_object (res);
  g_assert_true (got_source == source);
  g_assert_cmpint (my_double_finish (source, res, &error), ==, 42);
  g_assert_no_error (error);
}

typedef struct
{
  AioValueType  kind;
} Outcome;

static void
outcome_body (AioTask  *task,
              gpointer  user_data)
{
  GValue value = G_VALUE_INIT;

  switch (GPOINTER_TO_INT (user_data))
    {
    case 0:
      break;
    case 1:
      aio_task_return_boolean (task, TRUE);
      break;
    case 2:
      aio_task_return_double (task, 2.5);
      break;
    case 3:
      aio_task_return_string (task, "text");
      break;
    case 4:
      aio_task_return_pointer (task, g_strdup ("owned"), g_free);
      break;
    case 5:
      g_value_init (&value, G_TYPE_UINT);
      g_value_set_uint (&value, 9);
      aio_task_return_value (task, &value);
      break;
    case 6:
      aio_task_return_error (task, g_error_new_literal (TEST_ERROR, 6, "failed"));
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
test_export_outcomes (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  GAsyncResult *res[7];

  g_test_summary ("Each kind of task outcome comes out of the GTask function that reads it");

  for (guint i = 0; i < G_N_ELEMENTS (res); i++)
    {
      AioGioCall *call = aio_gio_call_new ();

      aio_future_export ((AioFuture *) aio_create_task (outcome_body, GINT_TO_POINTER (i), NULL),
                         NULL, test_export_outcomes, AIO_GIO_CALL_ARGS (call));
      res[i] = aio_await_gio ((AioFuture *) call, &error);
      g_assert_no_error (error);
    }

  g_assert_true (g_task_propagate_boolean (G_TASK (res[0]), &error));
  g_assert_true (g_task_propagate_boolean (G_TASK (res[1]), &error));
  g_assert_true (g_task_propagate_value (G_TASK (res[2]), &value, &error));
  g_assert_cmpfloat (g_value_get_double (&value), ==, 2.5);
  g_value_unset (&value);
  {
    g_autofree char *text = g_task_propagate_pointer (G_TASK (res[3]), &error);
    g_autofree char *owned = g_task_propagate_pointer (G_TASK (res[4]), &error);

    g_assert_cmpstr (text, ==, "text");
    g_assert_cmpstr (owned, ==, "owned");
  }
  g_assert_true (g_task_propagate_value (G_TASK (res[5]), &value, &error));
  g_assert_cmpuint (g_value_get_uint (&value), ==, 9);
  g_value_unset (&value);
  g_assert_no_error (error);
  g_assert_false (g_task_propagate_boolean (G_TASK (res[6]), &error));
  g_assert_error (error, TEST_ERROR, 6);

  for (guint i = 0; i < G_N_ELEMENTS (res); i++)
    g_object_unref (res[i]);
}

static void
test_export_caller_cancels (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) res = NULL;
  AioFuture *call;
  Reader r;

  g_test_summary ("The caller's GCancellable cancels the exported task, whose own GIO "
                  "call is cancelled in turn; _finish reports CANCELLED");

  reader_init (&r);
  call = (AioFuture *) aio_gio_call_new ();
  my_read_async (&r, cancellable, aio_gio_call_ready, g_object_ref (call));
  for (guint i = 0; i < 100 && r.call == NULL; i++)
    yield_n (1);
  g_assert_nonnull (r.call);

  g_cancellable_cancel (cancellable);
  res = aio_await_gio (call, &error);
  g_assert_no_error (error);
  g_assert_cmpint (my_read_finish (res, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r.checked);

  check_next_read (&r);
  reader_clear (&r);
}

typedef struct
{
  GMainContext *context;
  GThread      *thread;
  gint          result;
  gboolean      called;
} CallerContext;

static void
double_ready_in_context (GObject      *source,
                         GAsyncResult *res,
                         gpointer      user_data)
{
  CallerContext *c = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_main_context_get_thread_default () == c->context);
  g_assert_true (g_main_context_is_owner (c->context));
  g_assert_true (g_thread_self () == c->thread);
  c->result = my_double_finish (source, res, &error);
  g_assert_no_error (error);
  c->called = TRUE;
}

static void
test_export_caller_context (Fixture *f)
{
  g_autoptr(GObject) source = g_object_new (G_TYPE_OBJECT, NULL);
  CallerContext c = { g_main_context_new (), g_thread_self (), 0, FALSE };
  AioTask *task;

  g_test_summary ("The exported pair's callback runs in the thread-default context of "
                  "its caller, as GIO requires, not in the loop that ran the task");

  task = aio_create_task (double_body, GINT_TO_POINTER (4), NULL);
  g_main_context_push_thread_default (c.context);
  aio_future_export (g_object_ref ((AioFuture *) task), source, my_double_async, NULL,
                     double_ready_in_context, &c);
  g_main_context_pop_thread_default (c.context);

  g_assert_true (aio_await ((AioFuture *) task, NULL));
  yield_n (3);
  g_assert_false (c.called);

  while (!c.called)
    g_main_context_iteration (c.context, TRUE);
  g_assert_cmpint (c.result, ==, 8);
  g_main_context_unref (c.context);
}


static AioFuture *
double_step (AioTask   *task,
             AioFuture *completed,
             gpointer   user_data)
{
  g_autoptr(GError) error = NULL;

  if (completed == NULL)
    return aio_yield_future ();
  aio_task_return_int64 (task, 2 * GPOINTER_TO_INT (user_data));
  return NULL;
}

static void
body_must_not_run (AioTask  *task,
                   gpointer  user_data)
{
  g_assert_not_reached ();
}

static void
test_export_stepped_and_precancelled (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  GAsyncResult *res;
  AioGioCall *call;

  g_test_summary ("A stepped task exports the same way; a caller's GCancellable that is "
                  "cancelled already cancels the task before its body runs");

  call = aio_gio_call_new ();
  aio_future_export ((AioFuture *) aio_create_stepped_task (double_step, GINT_TO_POINTER (5), NULL),
                     NULL, my_double_async, AIO_GIO_CALL_ARGS (call));
  res = aio_await_gio ((AioFuture *) call, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_task_propagate_int (G_TASK (res), &error), ==, 10);
  g_object_unref (res);

  g_cancellable_cancel (cancelled);
  call = aio_gio_call_new ();
  aio_future_export ((AioFuture *) aio_create_task (body_must_not_run, NULL, NULL),
                     NULL, my_double_async, cancelled, aio_gio_call_ready, g_object_ref (call));
  res = aio_await_gio ((AioFuture *) call, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_task_propagate_int (G_TASK (res), &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (res);
}

static gpointer
report_from_thread (gpointer user_data)
{
  AioGioCall *call = user_data;
  GMainContext *context = g_main_context_new ();
  GTask *op;

  /* GIO reports to this thread's context, not the call's loop. */
  g_main_context_push_thread_default (context);
  op = g_task_new (NULL, aio_gio_call_get_cancellable (call), aio_gio_call_ready,
                   g_object_ref (call));
  g_task_return_int (op, 11);
  g_object_unref (op);
  while (g_main_context_pending (context))
    g_main_context_iteration (context, FALSE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_call_from_thread (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  AioGioCall *call = aio_gio_call_new ();
  GThread *thread;

  g_test_summary ("GIO may report a call in another thread: the call completes through "
                  "its loop's inbox and the awaiting task resumes in the loop's thread");

  thread = g_thread_new ("reporter", report_from_thread, call);
  res = aio_await_gio (g_object_ref ((AioFuture *) call), &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_cmpint (g_task_propagate_int (G_TASK (res), &error), ==, 11);
  g_object_unref (call);
}

/* ---- the _sync variant, from plain threads ---- */

static void
store_result (GObject      *source,
              GAsyncResult *res,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

/* The usual _sync wrapper of a GIO library, around a pair whose body is
 * a task. */
static gint
my_double_sync (GObject       *source,
                gint           n,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_main_context_push_thread_default (context);
  my_double_async (source, n, cancellable, store_result, &res);
  while (res == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return my_double_finish (source, res, error);
}

static gssize
my_read_sync (Reader        *r,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_main_context_push_thread_default (context);
  my_read_async (r, cancellable, store_result, &res);
  while (res == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  return my_read_finish (res, error);
}

static gpointer
sync_calls_thread (gpointer user_data)
{
  GObject *source = user_data;
  guint before = 0;

  for (guint i = 0; i < 210; i++)
    {
      g_autoptr(GError) error = NULL;

      /* The first few calls may open what GLib opens once. */
      if (i == 10)
        before = aio_test_count_open_fds ();
      g_assert_cmpint (my_double_sync (source, i, NULL, &error), ==, 2 * i);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (aio_test_count_open_fds (), ==, before);
  return NULL;
}

static void
test_export_sync_thread (void)
{
  g_autoptr(GObject) source = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_summary ("The _sync variant of an exported pair works from a plain thread with "
                  "a context of its own: 200 calls leave no loop and no descriptor behind");

  aio_test_run_in_thread (sync_calls_thread, source);
}

typedef struct
{
  Reader       *r;
  GCancellable *cancellable;
  GError       *error;
  gssize        n;
} SyncRead;

static gpointer
sync_read_thread (gpointer user_data)
{
  SyncRead *s = user_data;

  s->n = my_read_sync (s->r, s->cancellable, &s->error);
  return NULL;
}

static void
test_export_sync_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  SyncRead s = { NULL, cancellable, NULL, 0 };
  GThread *thread;
  Reader r;

  g_test_summary ("Cancelling the caller's GCancellable from another thread stops a "
                  "_sync call whose task awaits GIO; the stream is free afterwards");

  reader_init (&r);
  s.r = &r;
  thread = g_thread_new ("sync-read", sync_read_thread, &s);
  while (!g_atomic_pointer_get (&r.call))
    g_usleep (1000);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);

  g_assert_cmpint (s.n, ==, -1);
  g_assert_error (s.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&s.error);
  g_assert_true (r.checked);

  check_next_read_sync (&r);
  reader_clear (&r);
}

/* ==== GTask's pool as an executor =========================================== */

typedef struct
{
  GMutex  mutex;
  GCond   cond;
  guint   started;
  guint   wanted;
  GThread *loop_thread;
} Rendezvous;

static void
rendezvous_job (AioFuture    *future,
                GCancellable *cancellable,
                gpointer      user_data)
{
  Rendezvous *r = user_data;
  char name[16] = "";

  g_assert_true (g_thread_self () != r->loop_thread);
  /* GLib's pool threads, GTask's among them, are named "pool-…". */
  g_assert_cmpint (pthread_getname_np (pthread_self (), name, sizeof name), ==, 0);
  g_assert_true (g_str_has_prefix (name, "pool"));

  /* Every job waits for the others: they run at once. */
  g_mutex_lock (&r->mutex);
  r->started++;
  g_cond_broadcast (&r->cond);
  while (r->started < r->wanted)
    g_cond_wait (&r->cond, &r->mutex);
  g_mutex_unlock (&r->mutex);

  aio_future_resolve_int64 (future, 5);
}

static void
test_gtask_executor (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioGTaskExecutor) executor = aio_gtask_executor_new ();
  Rendezvous r = { .wanted = 3, .loop_thread = g_thread_self () };
  AioFuture *jobs[3];

  g_test_summary ("loop.run_in_executor() with an executor on GTask's pool: jobs run at "
                  "once on GIO's worker threads and complete their futures");

  g_mutex_init (&r.mutex);
  g_cond_init (&r.cond);
  for (guint i = 0; i < 3; i++)
    jobs[i] = aio_run_in_executor (AIO_EXECUTOR (executor), rendezvous_job, &r, NULL);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (aio_await_int64 (jobs[i], &error), ==, 5);
      g_assert_no_error (error);
    }

  aio_executor_shutdown (AIO_EXECUTOR (executor), TRUE);
  g_assert_true (aio_executor_is_shutdown (AIO_EXECUTOR (executor)));
  g_assert_false (aio_await (aio_run_in_executor (AIO_EXECUTOR (executor), rendezvous_job,
                                                  &r, NULL), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_mutex_clear (&r.mutex);
  g_cond_clear (&r.cond);
}

static void
slow_job (AioFuture    *future,
          GCancellable *cancellable,
          gpointer      user_data)
{
  g_usleep (20000);
  g_atomic_int_inc ((gint *) user_data);
}

static void
test_gtask_executor_shutdown_waits (Fixture *f)
{
  g_autoptr(AioGTaskExecutor) executor = aio_gtask_executor_new ();
  AioFuture *jobs[4];
  gint done = 0;

  g_test_summary ("Executor.shutdown(wait=True) on GTask's pool returns once the jobs "
                  "submitted have run");

  for (guint i = 0; i < 4; i++)
    jobs[i] = aio_run_in_executor (AIO_EXECUTOR (executor), slow_job, &done, NULL);
  aio_executor_shutdown (AIO_EXECUTOR (executor), TRUE);
  g_assert_cmpint (g_atomic_int_get (&done), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_true (aio_await (jobs[i], NULL));
}


/* ==== typed helpers ========================================================= */

static void
test_typed_load_bytes (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_temp_file ("typed");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/aio-test-gio");
  g_autoptr(GBytes) bytes = NULL;

  g_test_summary ("aio_file_load_bytes(): the contents in one line, the error of the "
                  "_finish as the future's");

  bytes = aio_await_pointer (aio_file_load_bytes (file), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "typed", 5);

  g_assert_null (aio_await_pointer (aio_file_load_bytes (missing), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_unlink (path);
}

static void
test_typed_streams (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ping = g_bytes_new_static ("ping", 4);
  g_autoptr(GBytes) got = NULL;
  GInputStream *in;
  AioFuture *read;
  Reader r;

  g_test_summary ("aio_output_stream_write_all() and aio_input_stream_read_bytes(): a "
                  "round trip over a socket; a read cut by wait_for() is cancelled in GIO "
                  "and the next one works");

  reader_init (&r);
  in = reader_in (&r);

  g_assert_null (aio_await_pointer (aio_wait_for (aio_input_stream_read_bytes (in, 64), 0.01),
                                    &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_false (g_input_stream_has_pending (in));

  read = aio_input_stream_read_bytes (in, 64);
  g_assert_true (aio_future_cancel (read, "enough"));
  g_assert_null (aio_await_pointer (read, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "enough");
  g_clear_error (&error);
  g_assert_false (g_input_stream_has_pending (in));

  g_assert_true (aio_await (aio_output_stream_write_all (g_io_stream_get_output_stream (r.far),
                                                         ping), &error));
  g_assert_no_error (error);
  got = aio_await_pointer (aio_input_stream_read_bytes (in, 64), &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, ping));
  reader_clear (&r);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/gio/await/file", test_await_file);
  TEST ("/aio/gio/await/error", test_await_error);
  TEST ("/aio/gio/await/gather", test_await_concurrent);
  TEST ("/aio/gio/await/stepped", test_stepped);
  TEST ("/aio/gio/await/not-a-result", test_not_a_result);
  TEST ("/aio/gio/cancel/call-stays-pending", test_cancel_call_stays_pending);
  TEST ("/aio/gio/cancel/task", test_cancel_task);
  TEST ("/aio/gio/cancel/wait-for", test_cancel_wait_for);
  TEST ("/aio/gio/cancel/timeout-scope", test_cancel_timeout_scope);
  TEST ("/aio/gio/cancel/uncancel", test_cancel_uncancel);
  TEST ("/aio/gio/cancel/task-group", test_cancel_task_group);
  TEST ("/aio/gio/cancel/stepped", test_cancel_stepped);
  TEST ("/aio/gio/cancel/per-call", test_cancel_is_per_call);
  TEST ("/aio/gio/cancel/lost-race", test_cancel_lost_race);
  TEST_BARE ("/aio/gio/cancel/run-shutdown", test_cancel_run_shutdown);
  TEST ("/aio/gio/export/result", test_export_result);
  TEST ("/aio/gio/export/outcomes", test_export_outcomes);
  TEST ("/aio/gio/export/caller-cancels", test_export_caller_cancels);
  TEST ("/aio/gio/export/caller-context", test_export_caller_context);
  TEST ("/aio/gio/export/stepped-and-precancelled", test_export_stepped_and_precancelled);
  TEST ("/aio/gio/await/from-thread", test_call_from_thread);
  TEST_BARE ("/aio/gio/export/sync-thread", test_export_sync_thread);
  TEST_BARE ("/aio/gio/export/sync-cancel", test_export_sync_cancel);
  TEST ("/aio/gio/typed/load-bytes", test_typed_load_bytes);
  TEST ("/aio/gio/typed/streams", test_typed_streams);
  TEST ("/aio/gio/executor/gtask", test_gtask_executor);
  TEST ("/aio/gio/executor/gtask-shutdown", test_gtask_executor_shutdown_waits);

  return g_test_run ();
}
