/* aio-future-value.c: what a future holds, how it gets it and how it is
 * read: the typed resolve, new_for and get forms of AioFuture
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A future's outcome is written once, by whoever claims it (see
 * aio-future.c), and read any number of times after.  This file knows
 * the kinds of value (AioValueType): how to store one, copy one into
 * another future, and hand one to a getter; aio-future.c knows the rest
 * of a future's life (claiming, publishing, callbacks, pools), and so
 * also how a value is freed and whether a future resolved, which its
 * finalize, its recycling and aio_future_wait_finish() need. */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-future-private.h"

/* ---- values -------------------------------------------------------------- */

GValue *
_aio_value_copy (const GValue *value)
{
  GValue *copy = g_new0 (GValue, 1);

  g_value_init (copy, G_VALUE_TYPE (value));
  g_value_copy (value, copy);
  return copy;
}

void
_aio_future_copy_outcome (AioFuture *self,
                          AioFuture *source)
{
  g_assert (_aio_future_state (source) != AIO_FUTURE_PENDING);

  if (source->error != NULL)
    {
      source->error_retrieved = TRUE;
      self->error = g_error_copy (source->error);
      return;
    }

  self->value_type = source->value_type;
  switch ((AioValueType) source->value_type)
    {
    case AIO_VALUE_STRING:
      self->value.p = g_strdup (source->value.p);
      break;

    case AIO_VALUE_OBJECT:
      self->value.p = source->value.p != NULL ? g_object_ref (source->value.p) : NULL;
      break;

    case AIO_VALUE_POINTER:
      /* A bare pointer cannot be copied: the copy borrows it and keeps the
       * source alive for as long as it lives. */
      self->value.p = source->value.p;
      self->value_destroy = NULL;
      g_object_set_data_full (G_OBJECT (self), "aio-outcome-owner",
                              g_object_ref (source), g_object_unref);
      break;

    case AIO_VALUE_VALUE:
      self->value.p = _aio_value_copy (source->value.p);
      break;

    case AIO_VALUE_NONE:
    case AIO_VALUE_BOOLEAN:
    case AIO_VALUE_INT64:
    case AIO_VALUE_DOUBLE:
    default:
      self->value = source->value;
      break;
    }
}

/* ---- resolving ----------------------------------------------------------- */

/* Resolves @future with @value, of @type, which it takes: should @future
 * be done already, @value is freed (with @destroy, for a pointer).  @func
 * names the caller in the critical. */
G_ALWAYS_INLINE static inline void
aio_future_resolve_with (AioFuture      *future,
                         const char     *func,
                         AioValueType    type,
                         AioValue        value,
                         GDestroyNotify  destroy)
{
  if (!_aio_future_claim_or_warn (future, func))
    {
      _aio_value_free (type, value, destroy);
      return;
    }
  _aio_future_store_value (future, type, value, destroy);
  _aio_future_publish (future, AIO_FUTURE_RESOLVED);
}

/**
 * aio_future_resolve:
 * @future: a pending [class@Aio.Future]
 *
 * Resolves @future with no value (asyncio's `set_result(None)`).
 *
 * Completing a future that is done already is a programmer error. This may
 * be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve (AioFuture *future)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_NONE, (AioValue) { .p = NULL }, NULL);
}

/**
 * aio_future_resolve_boolean:
 * @future: a pending [class@Aio.Future]
 * @value: the value
 *
 * Resolves @future with @value. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_boolean (AioFuture *future,
                            gboolean   value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_BOOLEAN, (AioValue) { .b = !!value }, NULL);
}

/**
 * aio_future_resolve_int64:
 * @future: a pending [class@Aio.Future]
 * @value: the value
 *
 * Resolves @future with @value. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_int64 (AioFuture *future,
                          gint64     value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_INT64, (AioValue) { .i = value }, NULL);
}

/**
 * aio_future_resolve_double:
 * @future: a pending [class@Aio.Future]
 * @value: the value
 *
 * Resolves @future with @value. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_double (AioFuture *future,
                           gdouble    value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_DOUBLE, (AioValue) { .d = value }, NULL);
}

/**
 * aio_future_resolve_string:
 * @future: a pending [class@Aio.Future]
 * @value: (nullable): the value, copied
 *
 * Resolves @future with a copy of @value. This may be called from any
 * thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_string (AioFuture  *future,
                           const char *value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_take_string (future, g_strdup (value));
}

/**
 * aio_future_resolve_take_string: (skip)
 * @future: a pending [class@Aio.Future]
 * @value: (transfer full) (nullable): the value, which the future takes
 *
 * Resolves @future with @value, taking ownership of it. This may be called
 * from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_take_string (AioFuture *future,
                                char      *value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_STRING, (AioValue) { .p = value }, NULL);
}

/**
 * aio_future_resolve_object:
 * @future: a pending [class@Aio.Future]
 * @object: (type GObject) (nullable): the value; the future takes a reference
 *
 * Resolves @future with @object. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_object (AioFuture *future,
                           gpointer   object)
{
  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_OBJECT,
                           (AioValue) { .p = object != NULL ? g_object_ref (object) : NULL }, NULL);
}

/**
 * aio_future_resolve_pointer: (skip)
 * @future: a pending [class@Aio.Future]
 * @pointer: (nullable): the value
 * @destroy: (nullable): frees @pointer when @future is finalized
 *
 * Resolves @future with @pointer. This may be called from any thread.
 * Should @future be done already, @pointer is freed with @destroy.
 *
 * Since: 1.0
 */
void
aio_future_resolve_pointer (AioFuture      *future,
                            gpointer        pointer,
                            GDestroyNotify  destroy)
{
  g_return_if_fail (AIO_IS_FUTURE (future));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_POINTER, (AioValue) { .p = pointer }, destroy);
}

/**
 * aio_future_resolve_value:
 * @future: a pending [class@Aio.Future]
 * @value: the value, copied
 *
 * Resolves @future with a copy of @value. This may be called from any
 * thread.
 *
 * Since: 1.0
 */
void
aio_future_resolve_value (AioFuture    *future,
                          const GValue *value)
{
  g_return_if_fail (AIO_IS_FUTURE (future));
  g_return_if_fail (G_IS_VALUE (value));

  aio_future_resolve_with (future, G_STRFUNC, AIO_VALUE_VALUE, (AioValue) { .p = _aio_value_copy (value) }, NULL);
}

/* ---- futures made done --------------------------------------------------- */

/* A new future on the running or default loop, resolved with @value (see
 * aio_future_resolve_with()). */
static AioFuture *
aio_future_new_resolved_with (AioValueType   type,
                              AioValue       value,
                              GDestroyNotify destroy)
{
  AioFuture *self = _aio_future_new (AIO_TYPE_FUTURE, NULL);

  aio_future_resolve_with (self, G_STRFUNC, type, value, destroy);
  return self;
}

/**
 * aio_future_new_resolved:
 *
 * Creates a future that is already resolved, with no value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_resolved (void)
{
  return aio_future_new_resolved_with (AIO_VALUE_NONE, (AioValue) { .p = NULL }, NULL);
}

/**
 * aio_future_new_for_boolean:
 * @value: the value
 *
 * Creates a future already resolved with @value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_boolean (gboolean value)
{
  return aio_future_new_resolved_with (AIO_VALUE_BOOLEAN, (AioValue) { .b = !!value }, NULL);
}

/**
 * aio_future_new_for_int64:
 * @value: the value
 *
 * Creates a future already resolved with @value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_int64 (gint64 value)
{
  return aio_future_new_resolved_with (AIO_VALUE_INT64, (AioValue) { .i = value }, NULL);
}

/**
 * aio_future_new_for_double:
 * @value: the value
 *
 * Creates a future already resolved with @value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_double (gdouble value)
{
  return aio_future_new_resolved_with (AIO_VALUE_DOUBLE, (AioValue) { .d = value }, NULL);
}

/**
 * aio_future_new_for_string:
 * @value: (nullable): the value, copied
 *
 * Creates a future already resolved with a copy of @value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_string (const char *value)
{
  return aio_future_new_take_string (g_strdup (value));
}

/**
 * aio_future_new_take_string: (skip)
 * @value: (transfer full) (nullable): the value, which the future takes
 *
 * Creates a future already resolved with @value, taking ownership of it.
 *
 * Returns: (transfer full): a new resolved future
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_take_string (char *value)
{
  return aio_future_new_resolved_with (AIO_VALUE_STRING, (AioValue) { .p = value }, NULL);
}

/**
 * aio_future_new_for_object:
 * @object: (type GObject) (nullable): the value; the future takes a reference
 *
 * Creates a future already resolved with @object.
 *
 * Returns: (transfer full): a new resolved future
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_object (gpointer object)
{
  g_return_val_if_fail (object == NULL || G_IS_OBJECT (object), NULL);

  return aio_future_new_resolved_with (AIO_VALUE_OBJECT,
                                       (AioValue) { .p = object != NULL ? g_object_ref (object) : NULL },
                                       NULL);
}

/**
 * aio_future_new_for_pointer: (skip)
 * @pointer: (nullable): the value
 * @destroy: (nullable): frees @pointer when the future is finalized
 *
 * Creates a future already resolved with @pointer.
 *
 * Returns: (transfer full): a new resolved future
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_pointer (gpointer       pointer,
                            GDestroyNotify destroy)
{
  return aio_future_new_resolved_with (AIO_VALUE_POINTER, (AioValue) { .p = pointer }, destroy);
}

/**
 * aio_future_new_for_value:
 * @value: the value, copied
 *
 * Creates a future already resolved with a copy of @value.
 *
 * Returns: (transfer full): a new resolved future; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_value (const GValue *value)
{
  g_return_val_if_fail (G_IS_VALUE (value), NULL);

  return aio_future_new_resolved_with (AIO_VALUE_VALUE, (AioValue) { .p = _aio_value_copy (value) }, NULL);
}

/**
 * aio_future_new_for_error:
 * @error: (transfer full): the error, which the future takes
 *
 * Creates a future already rejected with @error. An error of
 * `G_IO_ERROR_CANCELLED` makes a cancelled future.
 *
 * Returns: (transfer full): a new rejected future
 *
 * Since: 1.0
 */
AioFuture *
aio_future_new_for_error (GError *error)
{
  AioFuture *self;

  g_return_val_if_fail (error != NULL, NULL);

  self = _aio_future_new (AIO_TYPE_FUTURE, NULL);
  aio_future_reject (self, error);
  return self;
}

/* ---- reading the outcome ------------------------------------------------- */

static gboolean
aio_future_check_type (AioFuture    *self,
                       AioValueType  wanted,
                       const char   *func)
{
  static const char * const names[] = {
    "no value", "a boolean", "an int64", "a double", "a string",
    "an object", "a pointer", "a GValue",
  };

  if (self->value_type == wanted || self->value_type == AIO_VALUE_NONE)
    return TRUE;

  g_critical ("%s: the future %p holds %s, not %s",
              func, self, names[self->value_type], names[wanted]);
  return FALSE;
}

const AioValue *
_aio_future_read_value (AioFuture     *future,
                        AioValueType   type,
                        const char    *func,
                        GError       **error)
{
  /* Static: every byte zero, whichever member is read. */
  static const AioValue none;

  if (!_aio_future_check_resolved (future, error) ||
      !aio_future_check_type (future, type, func) ||
      future->value_type != type)
    return &none;
  return &future->value;
}

/**
 * aio_future_get_boolean:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the boolean @future resolved with. The value stays in the future
 * and can be read again.
 *
 * Returns: the value, or %FALSE with @error set when @future is not
 *   resolved
 *
 * Since: 1.0
 */
gboolean
aio_future_get_boolean (AioFuture  *future,
                        GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _aio_future_read_value (future, AIO_VALUE_BOOLEAN, G_STRFUNC, error)->b;
}

/**
 * aio_future_get_int64:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the integer @future resolved with. The value stays in the future
 * and can be read again.
 *
 * Returns: the value, or 0 with @error set when @future is not resolved
 *
 * Since: 1.0
 */
gint64
aio_future_get_int64 (AioFuture  *future,
                      GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  return _aio_future_read_value (future, AIO_VALUE_INT64, G_STRFUNC, error)->i;
}

/**
 * aio_future_get_double:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the double @future resolved with. The value stays in the future
 * and can be read again.
 *
 * Returns: the value, or 0 with @error set when @future is not resolved
 *
 * Since: 1.0
 */
gdouble
aio_future_get_double (AioFuture  *future,
                       GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), 0.0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0.0);

  return _aio_future_read_value (future, AIO_VALUE_DOUBLE, G_STRFUNC, error)->d;
}

/**
 * aio_future_get_string:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the string @future resolved with. The string belongs to the future
 * and lives as long as it does.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL with @error set
 *   when @future is not resolved
 *
 * Since: 1.0
 */
const char *
aio_future_get_string (AioFuture  *future,
                       GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return _aio_future_read_value (future, AIO_VALUE_STRING, G_STRFUNC, error)->p;
}

/**
 * aio_future_get_object:
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the object @future resolved with.
 *
 * Returns: (transfer none) (type GObject) (nullable): the value, or %NULL
 *   with @error set when @future is not resolved; it belongs to @future,
 *   which keeps its reference: take one of your own with `g_object_ref()` to
 *   keep it longer
 *
 * Since: 1.0
 */
gpointer
aio_future_get_object (AioFuture  *future,
                       GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return _aio_future_read_value (future, AIO_VALUE_OBJECT, G_STRFUNC, error)->p;
}

/**
 * aio_future_get_pointer: (skip)
 * @future: an [class@Aio.Future]
 * @error: return location for the future's error
 *
 * Gets the pointer @future resolved with. Strings and objects are
 * pointers too. The value belongs to the future.
 *
 * Returns: (transfer none) (nullable): the value, or %NULL with @error set
 *   when @future is not resolved
 *
 * Since: 1.0
 */
gpointer
aio_future_get_pointer (AioFuture  *future,
                        GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_aio_future_check_resolved (future, error))
    return NULL;

  switch ((AioValueType) future->value_type)
    {
    case AIO_VALUE_POINTER:
    case AIO_VALUE_STRING:
    case AIO_VALUE_OBJECT:
      return future->value.p;
    case AIO_VALUE_NONE:
      return NULL;
    default:
      aio_future_check_type (future, AIO_VALUE_POINTER, G_STRFUNC);
      return NULL;
    }
}

/**
 * aio_future_get_value:
 * @future: an [class@Aio.Future]
 * @value: (out caller-allocates): an uninitialized `GValue` to fill
 * @error: return location for the future's error
 *
 * Copies the value @future resolved with into @value, whatever its type:
 * booleans, integers (`gint64`), doubles, strings, objects, pointers and
 * `GValue`s. A future resolved with no value leaves @value uninitialized.
 * This is how language bindings read any future.
 *
 * Returns: %TRUE if @future is resolved; %FALSE with @error set otherwise
 *
 * Since: 1.0
 */
gboolean
aio_future_get_value (AioFuture  *future,
                      GValue     *value,
                      GError    **error)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_aio_future_check_resolved (future, error))
    return FALSE;

  switch ((AioValueType) future->value_type)
    {
    case AIO_VALUE_BOOLEAN:
      g_value_init (value, G_TYPE_BOOLEAN);
      g_value_set_boolean (value, future->value.b);
      break;
    case AIO_VALUE_INT64:
      g_value_init (value, G_TYPE_INT64);
      g_value_set_int64 (value, future->value.i);
      break;
    case AIO_VALUE_DOUBLE:
      g_value_init (value, G_TYPE_DOUBLE);
      g_value_set_double (value, future->value.d);
      break;
    case AIO_VALUE_STRING:
      g_value_init (value, G_TYPE_STRING);
      g_value_set_string (value, future->value.p);
      break;
    case AIO_VALUE_OBJECT:
      g_value_init (value, future->value.p != NULL ? G_OBJECT_TYPE (future->value.p) : G_TYPE_OBJECT);
      g_value_set_object (value, future->value.p);
      break;
    case AIO_VALUE_POINTER:
      g_value_init (value, G_TYPE_POINTER);
      g_value_set_pointer (value, future->value.p);
      break;
    case AIO_VALUE_VALUE:
      g_value_init (value, G_VALUE_TYPE (future->value.p));
      g_value_copy (future->value.p, value);
      break;
    case AIO_VALUE_NONE:
    default:
      break;
    }

  return TRUE;
}

/**
 * aio_future_get_error:
 * @future: an [class@Aio.Future]
 *
 * Gets the error of a rejected or cancelled future (asyncio's
 * `exception()`), and marks it retrieved, so that no warning is logged
 * for it.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL when @future is
 *   pending or resolved; it belongs to @future: do not free it (copy it with
 *   `g_error_copy()` to keep it)
 *
 * Since: 1.0
 */
const GError *
aio_future_get_error (AioFuture *future)
{
  g_return_val_if_fail (AIO_IS_FUTURE (future), NULL);

  if (_aio_future_state (future) == AIO_FUTURE_PENDING)
    return NULL;

  future->error_retrieved = TRUE;
  return future->error;
}

/* What aio_await_pointer() takes from @future, resolved: its pointer, string
 * or object, which the caller then owns and frees as the future would
 * have.  A pointer outcome copied by a combinator is borrowed from the
 * future it came from, which the copy keeps alive as its
 * "aio-outcome-owner" (_aio_future_copy_outcome()): it is taken from every
 * link of that chain, so that exactly one party, the caller, frees it. */
gpointer
_aio_future_take_pointer (AioFuture *future)
{
  gpointer value;

  switch ((AioValueType) future->value_type)
    {
    case AIO_VALUE_POINTER:
      value = future->value.p;
      for (AioFuture *owner = future; owner != NULL;
           owner = ((GObject *) owner)->qdata == NULL ? NULL :
                   g_object_get_data ((GObject *) owner, "aio-outcome-owner"))
        {
          owner->value.p = NULL;
          owner->value_destroy = NULL;
        }
      return value;

    case AIO_VALUE_STRING:
    case AIO_VALUE_OBJECT:
      future->value_destroy = NULL;
      return g_steal_pointer (&future->value.p);

    default:
      return aio_future_get_pointer (future, NULL);
    }
}
