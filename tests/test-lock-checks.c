/* test-lock-checks.c: aio_lock_check_held(), the one rule for who may
 * release a lock, as a GError for the bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test runs its body in a fiber task on a fresh loop.
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"

static void
lock_holder (AioTask  *task,
             gpointer  user_data)
{
  g_assert_true (aio_await (aio_lock_acquire (user_data), NULL));
}

static void
test_check_held (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioTask *other;

  g_test_summary ("asyncio.Lock.release() of an unlocked lock raises RuntimeError: "
                  "aio_lock_check_held() gives the bindings that answer as a GError, "
                  "with no critical and no change to the lock");

  g_assert_false (aio_lock_check_held (lock, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, "not acquired"));
  g_clear_error (&error);
  g_assert_false (aio_lock_check_held (lock, NULL));

  g_assert_true (aio_await (aio_lock_acquire (lock), NULL));
  g_assert_true (aio_lock_check_held (lock, &error));
  g_assert_no_error (error);
  aio_lock_release (lock);
  g_assert_false (aio_lock_is_locked (lock));

  other = aio_create_task (lock_holder, lock, NULL);
  aio_task_set_name (other, "holder");
  g_assert_true (aio_await (g_object_ref ((AioFuture *) other), NULL));
  g_object_unref (other);

  g_assert_false (aio_lock_check_held (lock, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, "held by holder"));
  g_assert_true (aio_lock_is_locked (lock));

  g_assert_finalize_object (lock);
}

static void
test_check_held_condition (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioCondition *condition = aio_condition_new (lock);

  g_test_summary ("asyncio.Condition.notify() without the lock raises RuntimeError: "
                  "the bindings ask aio_lock_check_held() of the condition's lock, "
                  "the rule the condition enforces itself");

  g_assert_false (aio_lock_check_held (aio_condition_get_lock (condition), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_clear_error (&error);

  g_assert_true (aio_await (aio_condition_acquire (condition), NULL));
  g_assert_true (aio_lock_check_held (aio_condition_get_lock (condition), &error));
  g_assert_no_error (error);
  aio_condition_notify_all (condition);
  aio_condition_release (condition);

  g_assert_finalize_object (condition);
  g_assert_finalize_object (lock);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/lock/check-held", test_check_held);
  TEST ("/aio/lock/check-held/condition", test_check_held_condition);

  return g_test_run ();
}
