/* aio-run.c: running loops: aio_run(), asyncio.run() for GLib programs,
 * and the loop's run_until_complete() and run_forever()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>

#include "aio-error.h"
#include "aio-executor.h"
#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-run.h"

/* ---- running a loop ------------------------------------------------------ */

static void
run_until_complete_done (AioFuture *future,
                         gpointer   user_data)
{
  gboolean *seen = user_data;

  *seen = TRUE;
}

/**
 * aio_loop_run_until_complete:
 * @loop: an [class@Aio.Loop]
 * @future: the future to wait for
 *
 * Runs @loop until @future is done (asyncio's `run_until_complete()`),
 * then reports how it ended; read its value with the getters of
 * [class@Aio.Future]. The done callbacks added to @future before this call
 * have run when it returns. Other tasks stay pending when this returns and
 * resume when the loop runs again.
 *
 * While it runs, the loop's context is the thread-default one.
 *
 * Returns: %TRUE if @future resolved; %FALSE with @error set if it was
 *   rejected or cancelled, if the loop is closed (`AIO_ERROR_CLOSED`) or
 *   already running (`AIO_ERROR_RUNNING`), or if [method@Aio.Loop.stop]
 *   stopped it first (`AIO_ERROR_STOPPED`)
 *
 * Since: 1.0
 */
gboolean
aio_loop_run_until_complete (AioLoop    *loop,
                             AioFuture  *future,
                             GError    **error)
{
  GMainContext *context;
  AioLoop *previous;
  gboolean pushed;
  gboolean seen = FALSE;
  guint callback_id;

  g_return_val_if_fail (AIO_IS_LOOP (loop), FALSE);
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (aio_future_get_loop (future) == loop, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_aio_loop_begin_run (loop, &pushed, &previous, error))
    return FALSE;
  context = aio_loop_get_context (loop);

  /* Wait for a done callback of our own rather than the future's state:
   * a future completed by another thread is done before its callbacks ran,
   * and asyncio returns only once the callbacks added before ours have. */
  _aio_ref (future);
  callback_id = aio_future_add_done_callback (future, run_until_complete_done, &seen, NULL);
  while (!seen && !_aio_loop_is_stopping (loop))
    g_main_context_iteration (context, TRUE);
  if (!seen)
    aio_future_remove_done_callback (future, callback_id);

  _aio_loop_end_run (loop, pushed, previous);

  if (_aio_future_state (future) == AIO_FUTURE_PENDING)
    {
      _aio_unref (future);
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_STOPPED,
                           _("The event loop stopped before the future completed"));
      return FALSE;
    }

  if (!aio_future_propagate (future, error))
    {
      _aio_unref (future);
      return FALSE;
    }

  _aio_unref (future);
  return TRUE;
}

/**
 * aio_loop_run_forever:
 * @loop: an [class@Aio.Loop]
 *
 * Runs @loop until [method@Aio.Loop.stop] is called (asyncio's
 * `run_forever()`). If stop was called before, the loop runs one
 * iteration without blocking and returns.
 *
 * Returns: %TRUE once stopped; %FALSE with @error set if the loop is
 *   closed or already running
 *
 * Since: 1.0
 */
gboolean
aio_loop_run_forever (AioLoop  *loop,
                      GError  **error)
{
  GMainContext *context;
  AioLoop *previous;
  gboolean pushed;

  g_return_val_if_fail (AIO_IS_LOOP (loop), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_aio_loop_begin_run (loop, &pushed, &previous, error))
    return FALSE;
  context = aio_loop_get_context (loop);

  do
    g_main_context_iteration (context, !_aio_loop_is_stopping (loop));
  while (!_aio_loop_is_stopping (loop));

  _aio_loop_end_run (loop, pushed, previous);
  return TRUE;
}

/* ---- aio_run() ----------------------------------------------------------- */

typedef struct
{
  AioFuture *all_done;
  guint      remaining;
} Shutdown;

static void
on_task_done_at_shutdown (AioFuture *future,
                          gpointer   user_data)
{
  Shutdown *shutdown = user_data;
  const GError *error = aio_future_get_error (future);

  /* asyncio reports the errors of tasks that failed while being shut
   * down, since nobody else will see them. */
  if (error != NULL && !_aio_error_is_cancelled (error))
    g_warning ("Unhandled error in task %s while aio_run() shut down: %s",
               aio_task_get_name (AIO_TASK (future)), error->message);

  if (--shutdown->remaining == 0)
    aio_future_resolve (shutdown->all_done);
}

/* Cancels every task still pending on @loop and runs the loop until they
 * are all done, as asyncio.run()'s _cancel_all_tasks() does. */
static void
cancel_all_tasks (AioLoop *loop)
{
  g_autoptr(GPtrArray) tasks = aio_loop_all_tasks (loop);
  Shutdown shutdown = { NULL, 0 };

  if (tasks->len == 0)
    return;

  shutdown.all_done = aio_future_new_for_loop (loop);
  shutdown.remaining = tasks->len;

  for (guint i = 0; i < tasks->len; i++)
    {
      AioTask *task = g_ptr_array_index (tasks, i);

      aio_task_cancel (task, NULL);
      aio_future_add_done_callback (AIO_FUTURE (task), on_task_done_at_shutdown, &shutdown, NULL);
    }

  aio_loop_run_until_complete (loop, shutdown.all_done, NULL);
  g_object_unref (shutdown.all_done);
}

/* Whether a GLib main loop runs on this thread: a source of some context
 * is being dispatched (a signal handler of a GTK application, say), or the
 * thread-default context is held by this thread, as g_application_run()
 * holds it even while it emits `activate` outside any dispatch. */
static gboolean
main_loop_is_running (void)
{
  GMainContext *context;
  gboolean owner;

  if (g_main_depth () > 0)
    return TRUE;

  context = g_main_context_ref_thread_default ();
  owner = g_main_context_is_owner (context);
  g_main_context_unref (context);
  return owner;
}

/**
 * aio_run_full: (skip)
 * @func: the body of the main task, run on a fiber
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the main task is over
 * @error: return location for an error
 *
 * Runs @func as the main task of a new loop and cleans up after it, as
 * `asyncio.run()` does:
 *
 * 1. refuses to run inside a running loop (`AIO_ERROR_RUNNING`): an
 *    aio-glib loop, or any GLib main loop running on this thread, such
 *    as `g_application_run()`'s, from whose callbacks it would block the
 *    application until done. There, create a task on the default loop
 *    instead ([method@Aio.Loop.create_task] on
 *    [func@Aio.Loop.get_default]), which that main loop runs;
 * 2. makes a new loop on a new `GMainContext`, the thread-default one
 *    while it runs;
 * 3. runs the main task until it is done;
 * 4. cancels every task still pending and waits for them;
 * 5. shuts down the loop's default executor, waiting for the jobs given
 *    to it;
 * 6. closes the loop.
 *
 * This is the same as:
 *
 * ```c
 * AioLoop *loop = aio_loop_new ();
 * AioTask *main_task = aio_loop_create_task (loop, func, user_data, destroy);
 * aio_loop_run_until_complete (loop, AIO_FUTURE (main_task), NULL);
 * // cancel and await aio_loop_all_tasks (loop)
 * aio_loop_shutdown_default_executor (loop);
 * aio_loop_close (loop);
 * ```
 *
 * Returns: (transfer full) (nullable): the main task, done, to read its
 *   outcome from, which the caller frees with `g_object_unref()`; %NULL
 *   with @error set if it could not run
 *
 * Since: 1.0
 */
AioTask *
aio_run_full (AioTaskFunc     func,
              gpointer        user_data,
              GDestroyNotify  destroy,
              GError        **error)
{
  AioLoop *loop;
  AioTask *main_task;

  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (aio_loop_get_running () != NULL)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("aio_run() cannot be called from a running event loop"));
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  /* asyncio.run() refuses inside a running loop; a GLib main loop is one
   * too, and running a new loop to completion from one of its callbacks
   * would freeze it (a GTK window stops painting) for the whole run. */
  if (main_loop_is_running ())
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("aio_run() cannot be called while a main loop is running "
                             "in this thread, as it would block that loop until done; "
                             "create a task on the default loop instead "
                             "(aio_loop_create_task() on aio_loop_get_default())"));
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  loop = aio_loop_new ();
  main_task = aio_loop_create_task (loop, func, user_data, destroy);

  /* The outcome is read by our caller; errors are not reported here. */
  aio_loop_run_until_complete (loop, AIO_FUTURE (main_task), NULL);

  cancel_all_tasks (loop);
  aio_loop_shutdown_default_executor (loop);
  aio_loop_close (loop);
  g_object_unref (loop);

  return main_task;
}

/**
 * aio_run: (skip)
 * @func: the body of the main task, run on a fiber
 * @user_data: data for @func
 * @error: return location for the main task's error
 *
 * Runs @func as the main task of a new loop, then cancels what is left,
 * shuts down the default executor and closes the loop: `asyncio.run()`.
 * See [func@Aio.run_full] for each step, and to read the main task's
 * value.
 *
 * Returns: %TRUE if the main task resolved; %FALSE with @error set if it
 *   failed, was cancelled, or could not run
 *
 * Since: 1.0
 */
gboolean
aio_run (AioTaskFunc   func,
         gpointer      user_data,
         GError      **error)
{
  g_autoptr(AioTask) main_task = NULL;

  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  main_task = aio_run_full (func, user_data, NULL, error);
  if (main_task == NULL)
    return FALSE;

  return aio_future_propagate (AIO_FUTURE (main_task), error);
}

/**
 * aio_run_main: (skip)
 * @func: the body of the main task, run on a fiber
 * @user_data: data for @func
 *
 * Runs @func with [func@Aio.run], for a program's `main()`:
 *
 * ```c
 * int
 * main (int argc, char **argv)
 * {
 *   return aio_run_main (main_task, NULL);
 * }
 * ```
 *
 * An error the main task ended with is printed on standard error, with
 * the program's name.
 *
 * Returns: `EXIT_SUCCESS` if the main task resolved (or the integer it
 *   resolved with, when it returned one with [method@Aio.Task.return_int64]),
 *   `EXIT_FAILURE` otherwise
 *
 * Since: 1.0
 */
int
aio_run_main (AioTaskFunc func,
              gpointer    user_data)
{
  g_autoptr(AioTask) main_task = NULL;
  g_autoptr(GError) error = NULL;
  const char *prgname;

  g_return_val_if_fail (func != NULL, EXIT_FAILURE);

  main_task = aio_run_full (func, user_data, NULL, &error);
  if (main_task != NULL && aio_future_propagate (AIO_FUTURE (main_task), &error))
    {
      AioFuture *future = AIO_FUTURE (main_task);

      if (future->value_type == AIO_VALUE_INT64)
        return (int) future->value.i;
      return EXIT_SUCCESS;
    }

  prgname = g_get_prgname ();
  fprintf (stderr, "%s: %s\n", prgname != NULL ? prgname : "aio", error->message);
  return EXIT_FAILURE;
}
