/* aio-await.c: what a fiber body calls to wait: aio_await() and its typed
 * forms, and aio_yield()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The suspension itself, and how a cancellation reaches the body, are the
 * task's (_aio_task_await() in aio-task.c); this file is what a body
 * sees of it: taking the future, reading its value for the caller and
 * dropping it. */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-future-private.h"
#include "aio-task-private.h"

/* The typed forms of aio_await(): the value @future resolved with, of
 * @type, as the getters read it (with a copy of a string and a reference
 * on an object, for the caller); all zeroes when the await failed. */
G_ALWAYS_INLINE static inline AioValue
aio_await_typed (AioFuture     *future,
                 AioValueType   type,
                 const char    *func,
                 GError       **error)
{
  static const AioValue none;
  AioValue value = none;

  if ((future = _aio_task_await (future, error)) == NULL)
    return value;

  value = *_aio_future_read_value (future, type, func, NULL);
  if (type == AIO_VALUE_STRING)
    value.p = g_strdup (value.p);
  else if (type == AIO_VALUE_OBJECT && value.p != NULL)
    g_object_ref (value.p);
  _aio_future_unref (future);
  return value;
}

/**
 * aio_await: (skip)
 * @future: (transfer full): the future to wait for
 * @error: return location for the future's error
 *
 * Suspends the calling task until @future is done, letting the loop run
 * everything else meanwhile, and reports how it ended (asyncio's
 * `await`). Takes ownership of @future, so calls nest:
 * `aio_await (aio_sleep (1.0), &error)` leaks nothing. To await a future
 * you keep using afterwards — a task you created and still read, say —
 * pass a new reference: `aio_await (AIO_FUTURE (g_object_ref (task)),
 * &error)`, and unref your own when done with it.
 *
 * A future that is done already does not suspend the task. If the task is
 * cancelled while it waits, the future is cancelled and this returns
 * `G_IO_ERROR_CANCELLED`. Outside of a fiber task's body this fails with
 * `AIO_ERROR_NOT_IN_TASK`; it never runs a nested main loop.
 *
 * Returns: %TRUE if @future resolved; %FALSE with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
aio_await (AioFuture  *future,
           GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  future = _aio_task_await (future, error);
  if (future == NULL)
    return FALSE;

  _aio_future_unref (future);
  return TRUE;
}

/**
 * aio_await_boolean: (skip)
 * @future: (transfer full): the future to wait for, which this takes
 *   (for a future you keep, pass a new reference: `g_object_ref (future)`)
 * @error: return location for the future's error
 *
 * Like `aio_await()`, returning the boolean @future resolved with.
 *
 * Returns: the value, or %FALSE with @error set
 *
 * Since: 1.0
 */
gboolean
aio_await_boolean (AioFuture  *future,
                   GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return aio_await_typed (future, AIO_VALUE_BOOLEAN, G_STRFUNC, error).b;
}

/**
 * aio_await_int64: (skip)
 * @future: (transfer full): the future to wait for, which this takes
 *   (for a future you keep, pass a new reference: `g_object_ref (future)`)
 * @error: return location for the future's error
 *
 * Like `aio_await()`, returning the integer @future resolved with.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
gint64
aio_await_int64 (AioFuture  *future,
                 GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  return aio_await_typed (future, AIO_VALUE_INT64, G_STRFUNC, error).i;
}

/**
 * aio_await_double: (skip)
 * @future: (transfer full): the future to wait for, which this takes
 *   (for a future you keep, pass a new reference: `g_object_ref (future)`)
 * @error: return location for the future's error
 *
 * Like `aio_await()`, returning the double @future resolved with.
 *
 * Returns: the value, or 0 with @error set
 *
 * Since: 1.0
 */
gdouble
aio_await_double (AioFuture  *future,
                  GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), 0.0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0.0);

  return aio_await_typed (future, AIO_VALUE_DOUBLE, G_STRFUNC, error).d;
}

/**
 * aio_await_string: (skip)
 * @future: (transfer full): the future to wait for, which this takes
 *   (for a future you keep, pass a new reference: `g_object_ref (future)`)
 * @error: return location for the future's error
 *
 * Like `aio_await()`, returning a copy of the string @future resolved
 * with.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set;
 *   the caller's, to free with `g_free()`
 *
 * Since: 1.0
 */
char *
aio_await_string (AioFuture  *future,
                  GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return aio_await_typed (future, AIO_VALUE_STRING, G_STRFUNC, error).p;
}

/**
 * aio_await_object: (skip)
 * @future: (transfer full): the future to wait for
 * @error: return location for the future's error
 *
 * Like `aio_await()`, returning a reference to the object @future
 * resolved with.
 *
 * Returns: (transfer full) (type GObject) (nullable): the value, or %NULL
 *   with @error set
 *
 * Since: 1.0
 */
gpointer
aio_await_object (AioFuture  *future,
                  GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return aio_await_typed (future, AIO_VALUE_OBJECT, G_STRFUNC, error).p;
}

/**
 * aio_await_pointer: (skip)
 * @future: (transfer full): the future to wait for
 * @error: return location for the future's error
 *
 * Like `aio_await()`, taking the pointer @future resolved with: the
 * caller now owns it (and frees it as the destroy notify given with it
 * would), and other readers of @future see %NULL from then on. Strings
 * and objects are taken the same way.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 *
 * Since: 1.0
 */
gpointer
aio_await_pointer (AioFuture  *future,
                   GError    **error)
{
  gpointer value;

  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((future = _aio_task_await (future, error)) == NULL)
    return NULL;

  value = _aio_future_take_pointer (future);
  _aio_future_unref (future);
  return value;
}

/**
 * aio_await_value: (skip)
 * @future: (transfer full): the future to wait for
 * @value: (out caller-allocates): an uninitialized `GValue` for the result
 * @error: return location for the future's error
 *
 * Like `aio_await()`, copying the value @future resolved with into
 * @value, as [method@Aio.Future.get_value] does.
 *
 * Returns: %TRUE if @future resolved; %FALSE with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
aio_await_value (AioFuture  *future,
                 GValue     *value,
                 GError    **error)
{
  gboolean ok;

  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if ((future = _aio_task_await (future, error)) == NULL)
    return FALSE;
  ok = aio_future_get_value (future, value, error);
  _aio_future_unref (future);
  return ok;
}

/**
 * aio_yield: (skip)
 * @error: return location for an error
 *
 * Lets the loop run everything else that is ready, then resumes the
 * calling task: asyncio's `await asyncio.sleep(0)`.
 *
 * Returns: %TRUE, or %FALSE with @error set if the task was cancelled
 *   meanwhile or this is not called from a task
 *
 * Since: 1.0
 */
gboolean
aio_yield (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (aio_task_get_current () == NULL)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK,
                           _("aio_yield() can only be called from the body of a task"));
      return FALSE;
    }

  return aio_await (aio_yield_future (), error);
}
