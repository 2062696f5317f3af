/* test-lock-checks.c: aio_lock_check_held() and
 * aio_semaphore_check_release(), the one rule for who may release a lock
 * and when a semaphore may be released, as a GError for the bindings
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

static void
test_check_release_bounded (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioSemaphore *semaphore = aio_bounded_semaphore_new (1);

  g_test_summary ("asyncio.BoundedSemaphore.release() beyond the initial value raises "
                  "ValueError: aio_semaphore_check_release() gives the bindings that "
                  "answer as a GError, with no critical and no change to the value");

  g_assert_false (aio_semaphore_check_release (semaphore, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, "released too many times"));
  g_clear_error (&error);
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 1);

  g_assert_true (aio_await (aio_semaphore_acquire (semaphore), NULL));
  g_assert_true (aio_semaphore_check_release (semaphore, &error));
  g_assert_no_error (error);
  aio_semaphore_release (semaphore);
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 1);

  g_assert_finalize_object (semaphore);
}

static void
test_check_release_unbounded (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioSemaphore *semaphore = aio_semaphore_new (1);

  g_test_summary ("asyncio.Semaphore.release() has no bound: aio_semaphore_check_release() "
                  "allows it, up to the G_MAXINT a gint holds");

  g_assert_true (aio_semaphore_check_release (semaphore, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (semaphore);

  semaphore = aio_semaphore_new (G_MAXINT);
  g_assert_false (aio_semaphore_check_release (semaphore, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, "G_MAXINT"));
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, G_MAXINT);
  g_assert_finalize_object (semaphore);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST ("/aio/lock/check-held", test_check_held);
  TEST ("/aio/lock/check-held/condition", test_check_held_condition);
  TEST ("/aio/semaphore/check-release/bounded", test_check_release_bounded);
  TEST ("/aio/semaphore/check-release/unbounded", test_check_release_unbounded);

  return g_test_run ();
}
