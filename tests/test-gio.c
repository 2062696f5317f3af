/* test-gio.c: GIO's _async/_finish pairs awaited from tasks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include <aio-glib.h>
#include <glib/gstdio.h>

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
  g_clear_object (&r->call);
  r->call = aio_gio_call_new ();
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

static void
test_cancel_task (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) task = NULL;
  Reader r;

  g_test_summary ("Task.cancel() of a task awaiting a GIO call: GIO sees CANCELLED, the "
                  "await returns only once it has, and the stream takes the next read");

  reader_init (&r);
  task = aio_create_task (reader_body, &r, NULL);
  wait_until_reading (&r);

  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_await (g_object_ref ((AioFuture *) task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r.checked);
  g_assert_error (r.await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  check_next_read (&r);
  reader_clear (&r);
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
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (r.far), "ping", 4,
                                            NULL, NULL, &error));
  g_assert_cmpint (g_input_stream_read (reader_in (&r), r.buf, sizeof r.buf, NULL, &error), ==, 4);
  g_assert_no_error (error);
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
  g_autoptr(GError) error = NULL;
  g_autoptr(AioTask) task = NULL;
  Reader r;

  g_test_summary ("A stepped task returns the GIO call as the future to wait for; "
                  "cancelling the task cancels the call in GIO before the next step");

  reader_init (&r);
  task = aio_create_stepped_task (reader_step, &r, NULL);
  wait_until_reading (&r);
  g_assert_true (aio_task_cancel (task, NULL));
  g_assert_false (aio_await (g_object_ref ((AioFuture *) task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (r.checked);
  g_assert_error (r.await_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  check_next_read (&r);
  reader_clear (&r);
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
  g_test_add_func ("/aio/gio/cancel/run-shutdown", test_cancel_run_shutdown);

  return g_test_run ();
}
