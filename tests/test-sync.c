/* test-sync.c: AioEvent, AioLock, AioSemaphore, AioCondition, AioBarrier
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test runs its body in a fiber task on a fresh loop, and names the
 * asyncio behaviour it checks.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-loop-private.h"

#include "aio-test.h"

/* Awaits @task, keeping the caller's reference. */
static gboolean
await_task (AioTask  *task,
            GError  **error)
{
  return aio_await (g_object_ref ((AioFuture *) task), error);
}

/* Waits for @task to be over, and drops it.  A task whose body saw its
 * cancellation and returned is cancelled: that is fine here. */
static void
finish_task (AioTask *task)
{
  g_autoptr(GError) error = NULL;

  if (!await_task (task, &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (task);
}

/* A task that logs what happened to it. */
typedef struct
{
  gpointer  primitive;
  GString  *log;
  char      name;
  gint64    result;
} Worker;

static Worker *
worker_new (gpointer  primitive,
            GString  *log,
            char      name)
{
  Worker *worker = g_new0 (Worker, 1);

  worker->primitive = primitive;
  worker->log = log;
  worker->name = name;
  return worker;
}

/* ==== AioEvent ============================================================ */

static void
event_waiter (AioTask  *task,
              gpointer  user_data)
{
  Worker *worker = user_data;
  g_autoptr(GError) error = NULL;

  if (aio_await_boolean (aio_event_wait (worker->primitive), &error))
    g_string_append_c (worker->log, worker->name);
  else
    g_string_append_printf (worker->log, "%c!", worker->name);
}

static void
test_event_set (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioEvent *event = aio_event_new ();
  AioTask *tasks[3];
  AioFuture *wait;

  g_test_summary ("asyncio.Event: wait() blocks until set(); set() wakes every waiter, "
                  "in order; wait() on a set event returns at once; clear() makes "
                  "waits block again");

  for (guint i = 0; i < 3; i++)
    tasks[i] = aio_create_task (event_waiter, worker_new (event, log, 'a' + i), g_free);
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_false (aio_event_is_set (event));

  aio_event_set (event);
  aio_event_set (event);
  g_assert_true (aio_event_is_set (event));
  for (guint i = 0; i < 3; i++)
    finish_task (tasks[i]);
  g_assert_cmpstr (log->str, ==, "abc");

  wait = aio_event_wait (event);
  g_assert_true (aio_future_is_resolved (wait));
  g_assert_true (aio_await_boolean (wait, &error));

  aio_event_clear (event);
  g_assert_false (aio_event_is_set (event));
  wait = aio_event_wait (event);
  g_assert_false (aio_future_is_done (wait));
  yield_n (1);
  g_assert_false (aio_future_is_done (wait));
  aio_event_set (event);
  g_assert_true (aio_await_boolean (wait, &error));

  g_assert_finalize_object (event);
}

static void
test_event_cancel (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioEvent *event = aio_event_new ();
  AioFuture *wait;
  AioTask *a, *b;

  g_test_summary ("asyncio.Event: a cancelled wait() leaves the event's waiters at once "
                  "and never completes; the other waiters are still woken");

  /* A bare wait cancelled: the event lets go of it at once. */
  wait = aio_event_wait (event);
  g_assert_true (aio_future_cancel (wait, NULL));
  g_assert_true (aio_future_is_cancelled (wait));
  g_assert_finalize_object (wait);

  /* A waiting task cancelled. */
  a = aio_create_task (event_waiter, worker_new (event, log, 'a'), g_free);
  b = aio_create_task (event_waiter, worker_new (event, log, 'b'), g_free);
  yield_n (2);
  g_assert_true (aio_task_cancel (a, NULL));
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "a!");
  aio_event_set (event);
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a!b");

  /* Cancelling after the wait completed changes nothing. */
  wait = aio_event_wait (event);
  g_assert_false (aio_future_cancel (wait, NULL));
  g_assert_true (aio_future_is_resolved (wait));
  g_object_unref (wait);

  g_assert_finalize_object (event);
}

static void
test_event_wait_for (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioEvent *event = aio_event_new ();

  g_test_summary ("asyncio.wait_for(event.wait(), t): times out with TimeoutError while "
                  "the event stays unset, and the timed-out wait leaves the event");

  g_assert_false (aio_await (aio_wait_for (aio_event_wait (event), 0.01), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  aio_event_set (event);
  g_assert_true (aio_await (aio_wait_for (aio_event_wait (event), 0.01), &error));
  g_assert_no_error (error);

  g_assert_finalize_object (event);
}

/* ==== AioLock ============================================================= */

static void
lock_worker (AioTask  *task,
             gpointer  user_data)
{
  Worker *worker = user_data;
  AioLock *lock = worker->primitive;
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_lock_acquire (lock), &error))
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_true (aio_lock_get_owner (lock) != task);
      g_string_append_printf (worker->log, "%c!", worker->name);
      return;
    }

  g_assert_true (aio_lock_is_locked (lock));
  g_assert_true (aio_lock_get_owner (lock) == task);
  g_string_append_c (worker->log, worker->name);
  /* Hold it across an await: nobody else may get in meanwhile. */
  g_assert_true (aio_yield (NULL));
  g_assert_true (aio_lock_get_owner (lock) == task);
  aio_lock_release (lock);
}

static void
test_lock_fifo (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioTask *tasks[5];

  g_test_summary ("asyncio.Lock: acquire() on a free lock succeeds at once; waiters get "
                  "the lock first come, first served, one at a time");

  g_assert_false (aio_lock_is_locked (lock));
  g_assert_true (aio_await_boolean (aio_lock_acquire (lock), &error));
  g_assert_true (aio_lock_is_locked (lock));
  g_assert_true (aio_lock_get_owner (lock) == aio_task_get_current ());

  for (guint i = 0; i < 5; i++)
    tasks[i] = aio_create_task (lock_worker, worker_new (lock, log, 'a' + i), g_free);
  yield_n (3);
  g_assert_cmpstr (log->str, ==, "");

  aio_lock_release (lock);
  for (guint i = 0; i < 5; i++)
    finish_task (tasks[i]);
  g_assert_cmpstr (log->str, ==, "abcde");
  g_assert_false (aio_lock_is_locked (lock));
  g_assert_null (aio_lock_get_owner (lock));

  g_assert_finalize_object (lock);
}

static void
test_lock_cancel_waiting (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioTask *a, *b, *c;

  g_test_summary ("asyncio.Lock: a waiter cancelled before its turn leaves the queue "
                  "without ever holding the lock; the lock goes to the next waiter");

  g_assert_true (aio_await (aio_lock_acquire (lock), &error));
  a = aio_create_task (lock_worker, worker_new (lock, log, 'a'), g_free);
  b = aio_create_task (lock_worker, worker_new (lock, log, 'b'), g_free);
  c = aio_create_task (lock_worker, worker_new (lock, log, 'c'), g_free);
  yield_n (2);

  g_assert_true (aio_task_cancel (b, NULL));
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "b!");

  aio_lock_release (lock);
  finish_task (a);
  finish_task (b);
  finish_task (c);
  g_assert_cmpstr (log->str, ==, "b!ac");
  g_assert_false (aio_lock_is_locked (lock));

  g_assert_finalize_object (lock);
}

static void
test_lock_cancel_hand_off (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioFuture *acquire;
  AioTask *a, *b;

  g_test_summary ("asyncio.Lock (bpo-27585): a waiter cancelled after release() woke it, "
                  "before it ran, does not get the lock; the next waiter does, and a "
                  "lock with no other waiter stays free");

  /* With a second waiter: the lock goes to it. */
  g_assert_true (aio_await (aio_lock_acquire (lock), &error));
  a = aio_create_task (lock_worker, worker_new (lock, log, 'a'), g_free);
  b = aio_create_task (lock_worker, worker_new (lock, log, 'b'), g_free);
  yield_n (2);
  aio_lock_release (lock);          /* wakes a ... */
  g_assert_true (aio_task_cancel (a, NULL));   /* ... which is cancelled before it runs */
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a!b");
  g_assert_false (aio_lock_is_locked (lock));

  /* Alone: the lock stays free, and is not held by the cancelled task. */
  g_string_truncate (log, 0);
  g_assert_true (aio_await (aio_lock_acquire (lock), &error));
  a = aio_create_task (lock_worker, worker_new (lock, log, 'a'), g_free);
  yield_n (2);
  aio_lock_release (lock);
  g_assert_true (aio_task_cancel (a, NULL));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a!");
  g_assert_false (aio_lock_is_locked (lock));
  acquire = aio_lock_acquire (lock);
  g_assert_true (aio_future_is_resolved (acquire));
  g_object_unref (acquire);
  aio_lock_release (lock);

  /* Cancelling an acquisition that succeeded changes nothing. */
  acquire = aio_lock_acquire (lock);
  g_assert_false (aio_future_cancel (acquire, NULL));
  g_assert_true (aio_lock_is_locked (lock));
  g_object_unref (acquire);
  aio_lock_release (lock);

  g_assert_finalize_object (lock);
}

static void
lock_holder (AioTask  *task,
             gpointer  user_data)
{
  AioLock *lock = user_data;

  g_assert_true (aio_await (aio_lock_acquire (lock), NULL));
}

static void
test_lock_timeout (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioTimeout *scope;

  g_test_summary ("asyncio.wait_for(lock.acquire(), t) and asyncio.timeout(): an "
                  "acquisition that times out leaves the queue and never holds the lock");

  g_assert_true (aio_await (aio_lock_acquire (lock), &error));
  g_assert_false (aio_await (aio_wait_for (aio_lock_acquire (lock), 0.01), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  scope = aio_timeout_enter (0.01);
  g_assert_false (aio_await (aio_lock_acquire (lock), &error));
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  g_assert_true (aio_lock_get_owner (lock) == aio_task_get_current ());
  aio_lock_release (lock);
  g_assert_false (aio_lock_is_locked (lock));

  g_assert_finalize_object (lock);
}

static void
test_lock_misuse (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioTask *other;

  g_test_summary ("asyncio.Lock.release() of an unlocked lock raises RuntimeError: here a "
                  "critical that changes nothing; so is releasing a lock another task holds");

  EXPECT_CRITICAL ("*is not acquired*", aio_lock_release (lock));
  g_assert_false (aio_lock_is_locked (lock));

  other = aio_create_task (lock_holder, lock, NULL);
  finish_task (other);
  g_assert_true (aio_lock_is_locked (lock));

  EXPECT_CRITICAL ("*is held by*", aio_lock_release (lock));
  g_assert_true (aio_lock_is_locked (lock));

  g_assert_finalize_object (lock);
}

/* ==== AioSemaphore ======================================================== */

static void
semaphore_worker (AioTask  *task,
                  gpointer  user_data)
{
  Worker *worker = user_data;
  AioSemaphore *semaphore = worker->primitive;
  g_autoptr(GError) error = NULL;

  if (!aio_await (aio_semaphore_acquire (semaphore), &error))
    {
      g_string_append_printf (worker->log, "%c!", worker->name);
      return;
    }
  g_string_append_c (worker->log, worker->name);
  g_assert_true (aio_yield (NULL));
  g_string_append_c (worker->log, g_ascii_toupper (worker->name));
  aio_semaphore_release (semaphore);
}

static void
test_semaphore_slots (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioSemaphore *semaphore = aio_semaphore_new (2);
  AioTask *tasks[5];

  g_test_summary ("asyncio.Semaphore(2): two holders at a time, waiters served first "
                  "come first served; locked() when no slot is free");

  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 2);
  g_assert_false (aio_semaphore_is_locked (semaphore));
  g_assert_false (aio_semaphore_is_bounded (semaphore));

  for (guint i = 0; i < 5; i++)
    tasks[i] = aio_create_task (semaphore_worker, worker_new (semaphore, log, 'a' + i), g_free);
  for (guint i = 0; i < 5; i++)
    finish_task (tasks[i]);

  /* a and b hold the two slots; each release lets the next one in. */
  g_assert_cmpstr (log->str, ==, "abABcdCDeE");
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 2);

  g_assert_finalize_object (semaphore);
}

static void
test_semaphore_cancel_hand_off (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioSemaphore *semaphore = aio_semaphore_new (0);
  AioFuture *acquire;
  AioTask *a, *b;

  g_test_summary ("asyncio.Semaphore (gh-90155): a waiter cancelled after release() woke "
                  "it does not take the slot; the slot goes to the next waiter; a "
                  "cancelled waiter leaves at once");

  g_assert_true (aio_semaphore_is_locked (semaphore));
  a = aio_create_task (semaphore_worker, worker_new (semaphore, log, 'a'), g_free);
  b = aio_create_task (semaphore_worker, worker_new (semaphore, log, 'b'), g_free);
  yield_n (2);

  aio_semaphore_release (semaphore);   /* wakes a ... */
  g_assert_true (aio_task_cancel (a, NULL));   /* ... cancelled before it runs */
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a!bB");
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 1);

  /* Waiting acquisition cancelled: it leaves, and the value is unchanged. */
  acquire = aio_semaphore_acquire (semaphore);
  g_assert_true (aio_future_is_resolved (acquire));
  g_object_unref (acquire);
  acquire = aio_semaphore_acquire (semaphore);
  g_assert_false (aio_future_is_done (acquire));
  g_assert_true (aio_future_cancel (acquire, NULL));
  g_assert_finalize_object (acquire);
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 0);
  aio_semaphore_release (semaphore);
  g_assert_false (aio_semaphore_is_locked (semaphore));

  g_assert_finalize_object (semaphore);
}

static void
test_semaphore_bounded (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioSemaphore *semaphore;

  g_test_summary ("asyncio.BoundedSemaphore: release() beyond the initial value raises "
                  "ValueError, here a critical that changes nothing; a negative initial "
                  "value raises ValueError, here a critical");

  EXPECT_CRITICAL ("*value >= 0*", g_assert_null (aio_semaphore_new (-1)));
  EXPECT_CRITICAL ("*value >= 0*", g_assert_null (aio_bounded_semaphore_new (-3)));

  semaphore = aio_bounded_semaphore_new (1);
  g_assert_true (aio_semaphore_is_bounded (semaphore));
  g_assert_true (aio_await (aio_semaphore_acquire (semaphore), &error));
  aio_semaphore_release (semaphore);
  EXPECT_CRITICAL ("*released too many times*", aio_semaphore_release (semaphore));
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 1);
  g_assert_finalize_object (semaphore);

  /* An unbounded one may go beyond. */
  semaphore = aio_semaphore_new (0);
  aio_semaphore_release (semaphore);
  aio_semaphore_release (semaphore);
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, 2);
  g_assert_finalize_object (semaphore);
}

static void
test_semaphore_overflow (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioSemaphore *semaphore;

  g_test_summary ("asyncio's Semaphore has no upper bound, a gint has: a release "
                  "beyond G_MAXINT free slots is a critical that leaves the semaphore "
                  "as it was, rather than wrapping its value to G_MININT and hanging "
                  "the next acquire for ever");

  semaphore = aio_semaphore_new (G_MAXINT);
  EXPECT_CRITICAL ("*G_MAXINT*overflow*", aio_semaphore_release (semaphore));
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, G_MAXINT);
  g_assert_false (aio_semaphore_is_locked (semaphore));

  /* Still usable: acquire goes through at once, and the slot comes back. */
  g_assert_true (aio_await (aio_semaphore_acquire (semaphore), &error));
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, G_MAXINT - 1);
  aio_semaphore_release (semaphore);
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, G_MAXINT);
  g_assert_finalize_object (semaphore);

  /* Reached by releases as well. */
  semaphore = aio_semaphore_new (G_MAXINT - 1);
  aio_semaphore_release (semaphore);
  EXPECT_CRITICAL ("*G_MAXINT*overflow*", aio_semaphore_release (semaphore));
  g_assert_cmpint (aio_semaphore_get_value (semaphore), ==, G_MAXINT);
  g_assert_true (aio_await (aio_semaphore_acquire (semaphore), &error));
  g_assert_finalize_object (semaphore);
}

/* ==== AioCondition ======================================================== */

typedef struct
{
  AioCondition *condition;
  GString      *log;
  char          name;
  guint        *counter;
  guint         until;
} CondWorker;

static void
condition_waiter (AioTask  *task,
                  gpointer  user_data)
{
  CondWorker *worker = user_data;
  AioCondition *condition = worker->condition;
  AioLock *lock = aio_condition_get_lock (condition);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  ok = aio_await (aio_condition_wait (condition), &error);
  /* However the wait ended, the lock is ours again. */
  g_assert_true (aio_lock_get_owner (lock) == task);
  if (ok)
    g_string_append_c (worker->log, worker->name);
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_string_append_printf (worker->log, "%c!", worker->name);
    }
  aio_condition_release (condition);
}

static gboolean
counter_reached (gpointer user_data)
{
  CondWorker *worker = user_data;

  g_string_append_c (worker->log, '?');
  return *worker->counter >= worker->until;
}

static void
condition_predicate_waiter (AioTask  *task,
                            gpointer  user_data)
{
  CondWorker *worker = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (aio_await (aio_condition_acquire (worker->condition), &error));
  g_assert_true (aio_await_boolean (aio_condition_wait_for (worker->condition, counter_reached,
                                                            worker, NULL),
                                    &error));
  g_assert_cmpuint (*worker->counter, >=, worker->until);
  g_string_append_c (worker->log, worker->name);
  aio_condition_release (worker->condition);
}

static CondWorker *
cond_worker_new (AioCondition *condition,
                 GString      *log,
                 char          name)
{
  CondWorker *worker = g_new0 (CondWorker, 1);

  worker->condition = condition;
  worker->log = log;
  worker->name = name;
  return worker;
}

static void
test_condition_notify (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioCondition *condition = aio_condition_new (NULL);
  AioTask *tasks[3];

  g_test_summary ("asyncio.Condition: wait() releases the lock and blocks until notified, "
                  "then reacquires the lock; notify(n) wakes n waiters, oldest first; "
                  "notify_all() wakes the rest");

  for (guint i = 0; i < 3; i++)
    tasks[i] = aio_create_task (condition_waiter, cond_worker_new (condition, log, 'a' + i),
                                g_free);
  yield_n (3);
  /* All three wait, none holds the lock. */
  g_assert_false (aio_condition_is_locked (condition));

  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  aio_condition_notify (condition, 1);
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "");   /* woken, but the lock is still ours */
  aio_condition_release (condition);
  yield_n (3);
  g_assert_cmpstr (log->str, ==, "a");

  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  aio_condition_notify_all (condition);
  aio_condition_release (condition);
  for (guint i = 0; i < 3; i++)
    finish_task (tasks[i]);
  g_assert_cmpstr (log->str, ==, "abc");

  /* Notifying nobody is fine. */
  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  aio_condition_notify (condition, 5);
  aio_condition_release (condition);

  g_assert_finalize_object (condition);
}

static void
test_condition_wait_for (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioLock *lock = aio_lock_new ();
  AioCondition *condition = aio_condition_new (lock);
  CondWorker *worker = cond_worker_new (condition, log, 'w');
  guint counter = 0;
  AioTask *task;

  g_test_summary ("asyncio.Condition.wait_for(predicate): the predicate is checked first "
                  "and after each notification, with the lock held; the wait ends once "
                  "it holds");

  g_assert_true (aio_condition_get_lock (condition) == lock);
  worker->counter = &counter;
  worker->until = 3;
  task = aio_create_task (condition_predicate_waiter, worker, g_free);
  yield_n (3);
  g_assert_cmpstr (log->str, ==, "?");

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (aio_await (aio_condition_acquire (condition), &error));
      counter++;
      aio_condition_notify_all (condition);
      aio_condition_release (condition);
      yield_n (3);
    }
  finish_task (task);
  g_assert_cmpstr (log->str, ==, "????w");

  /* A predicate that holds at once: no waiting at all. */
  worker = cond_worker_new (condition, log, 'x');
  worker->counter = &counter;
  worker->until = 1;
  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  g_assert_true (aio_await_boolean (aio_condition_wait_for (condition, counter_reached,
                                                            worker, g_free),
                                    &error));
  aio_condition_release (condition);

  g_assert_finalize_object (condition);
  g_assert_finalize_object (lock);
}

static void
test_condition_cancel (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioCondition *condition = aio_condition_new (NULL);
  AioTask *a, *b;

  g_test_summary ("asyncio.Condition: a cancelled wait() reacquires the lock before it "
                  "raises CancelledError; a waiter cancelled after it was notified passes "
                  "the notification on (Python 3.13), so none is lost");

  /* Cancelled while waiting: it completes only once it holds the lock. */
  a = aio_create_task (condition_waiter, cond_worker_new (condition, log, 'a'), g_free);
  yield_n (3);
  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  g_assert_true (aio_task_cancel (a, NULL));
  yield_n (3);
  g_assert_cmpstr (log->str, ==, "");   /* it needs the lock, which we hold */
  aio_condition_release (condition);
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a!");

  /* Cancelled after notify(1): b gets the notification instead. */
  g_string_truncate (log, 0);
  a = aio_create_task (condition_waiter, cond_worker_new (condition, log, 'a'), g_free);
  b = aio_create_task (condition_waiter, cond_worker_new (condition, log, 'b'), g_free);
  yield_n (3);
  g_assert_true (aio_await (aio_condition_acquire (condition), &error));
  aio_condition_notify (condition, 1);
  g_assert_true (aio_task_cancel (a, NULL));
  aio_condition_release (condition);
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a!b");
  g_assert_false (aio_condition_is_locked (condition));

  g_assert_finalize_object (condition);
}

static void
test_condition_misuse (Fixture *f)
{
  AioCondition *condition = aio_condition_new (NULL);

  g_test_summary ("asyncio.Condition: wait() and notify() without the lock raise "
                  "RuntimeError; here criticals that change nothing");

  EXPECT_CRITICAL ("*is not held*", g_assert_null (aio_condition_wait (condition)));

  EXPECT_CRITICAL ("*is not held*", aio_condition_notify (condition, 1));

  EXPECT_CRITICAL ("*is not held*", aio_condition_notify_all (condition));

  g_assert_finalize_object (condition);
}

/* ==== AioBarrier ========================================================== */

static void
barrier_worker (AioTask  *task,
                gpointer  user_data)
{
  Worker *worker = user_data;
  g_autoptr(GError) error = NULL;

  worker->result = aio_await_int64 (aio_barrier_wait (worker->primitive), &error);
  if (error != NULL)
    {
      gboolean broken = g_error_matches (error, AIO_ERROR, AIO_ERROR_BROKEN_BARRIER);

      g_string_append_printf (worker->log, "%c%s", worker->name, broken ? "#" : "!");
      worker->result = -1;
      return;
    }
  g_string_append_c (worker->log, worker->name);
}

static void
test_barrier_rounds (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioBarrier *barrier = aio_barrier_new (3);
  Worker *workers[3];
  AioTask *tasks[3];

  g_test_summary ("asyncio.Barrier(3): wait() blocks until three tasks wait, then all "
                  "return, each with a distinct index in 0..2; the barrier is reusable");

  g_assert_cmpuint (aio_barrier_get_parties (barrier), ==, 3);

  for (guint round = 0; round < 3; round++)
    {
      guint seen = 0;

      g_string_truncate (log, 0);
      for (guint i = 0; i < 3; i++)
        {
          workers[i] = worker_new (barrier, log, 'a' + i);
          tasks[i] = aio_create_task (barrier_worker, workers[i], NULL);
          if (i < 2)
            {
              yield_n (2);
              g_assert_cmpuint (aio_barrier_get_n_waiting (barrier), ==, i + 1);
              g_assert_cmpstr (log->str, ==, "");
            }
        }
      for (guint i = 0; i < 3; i++)
        {
          finish_task (tasks[i]);
          g_assert_cmpint (workers[i]->result, >=, 0);
          g_assert_cmpint (workers[i]->result, <, 3);
          seen |= 1u << workers[i]->result;
          g_free (workers[i]);
        }
      g_assert_cmpuint (seen, ==, 7);
      g_assert_cmpuint (aio_barrier_get_n_waiting (barrier), ==, 0);
      g_assert_cmpuint (strlen (log->str), ==, 3);
    }

  g_assert_finalize_object (barrier);
}

static void
test_barrier_cancel (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioBarrier *barrier = aio_barrier_new (2);
  AioTask *a, *b, *c;

  g_test_summary ("asyncio.Barrier: a cancelled wait() leaves the barrier, which then "
                  "waits for one more party");

  a = aio_create_task (barrier_worker, worker_new (barrier, log, 'a'), g_free);
  yield_n (2);
  g_assert_cmpuint (aio_barrier_get_n_waiting (barrier), ==, 1);
  g_assert_true (aio_task_cancel (a, NULL));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a!");
  g_assert_cmpuint (aio_barrier_get_n_waiting (barrier), ==, 0);

  b = aio_create_task (barrier_worker, worker_new (barrier, log, 'b'), g_free);
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "a!");
  c = aio_create_task (barrier_worker, worker_new (barrier, log, 'c'), g_free);
  finish_task (b);
  finish_task (c);
  /* The last party to arrive goes on without waiting, as asyncio's
   * releasing task does; the others resume after it. */
  g_assert_cmpstr (log->str, ==, "a!cb");

  g_assert_finalize_object (barrier);
}

static void
test_barrier_reset_abort (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioBarrier *barrier;
  AioTask *a, *b;

  g_test_summary ("asyncio.Barrier: reset() sends waiting tasks away with "
                  "BrokenBarrierError; abort() breaks the barrier for waiting and later "
                  "tasks until reset(); parties < 1 raises ValueError, here a critical");

  EXPECT_CRITICAL ("*parties >= 1*", g_assert_null (aio_barrier_new (0)));

  barrier = aio_barrier_new (3);
  a = aio_create_task (barrier_worker, worker_new (barrier, log, 'a'), g_free);
  b = aio_create_task (barrier_worker, worker_new (barrier, log, 'b'), g_free);
  yield_n (2);
  aio_barrier_reset (barrier);
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a#b#");
  g_assert_false (aio_barrier_is_broken (barrier));

  g_string_truncate (log, 0);
  a = aio_create_task (barrier_worker, worker_new (barrier, log, 'a'), g_free);
  yield_n (2);
  aio_barrier_abort (barrier);
  g_assert_true (aio_barrier_is_broken (barrier));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a#");
  g_assert_cmpint (aio_await_int64 (aio_barrier_wait (barrier), &error), ==, 0);
  g_assert_error (error, AIO_ERROR, AIO_ERROR_BROKEN_BARRIER);
  g_clear_error (&error);

  aio_barrier_reset (barrier);
  g_assert_false (aio_barrier_is_broken (barrier));
  g_assert_finalize_object (barrier);

  /* A single party passes at once. */
  barrier = aio_barrier_new (1);
  g_assert_cmpint (aio_await_int64 (aio_barrier_wait (barrier), &error), ==, 0);
  g_assert_no_error (error);
  g_assert_finalize_object (barrier);
}

/* ==== dropping a primitive ================================================ */

static void
test_destroyed_while_waiting (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioEvent *event = aio_event_new ();
  AioSemaphore *semaphore = aio_semaphore_new (0);
  AioBarrier *barrier = aio_barrier_new (2);
  AioFuture *waits[3];

  g_test_summary ("A primitive dropped while futures wait on it fails them instead of "
                  "leaving them pending for ever (asyncio relies on the garbage "
                  "collector, which never frees a primitive a task waits on)");

  waits[0] = aio_event_wait (event);
  waits[1] = aio_semaphore_acquire (semaphore);
  waits[2] = aio_barrier_wait (barrier);
  g_assert_finalize_object (event);
  g_assert_finalize_object (semaphore);
  g_assert_finalize_object (barrier);

  g_assert_false (aio_await (waits[0], &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_false (aio_await (waits[1], &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_false (aio_await (waits[2], &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_BROKEN_BARRIER);
}

/* The rules for who may release a lock and how far a semaphore may be
 * released, as a GError for the bindings, which raise their own errors
 * from it instead of repeating the rule (see Aio.py and aio.js). */

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

  TEST ("/aio/event/set", test_event_set);
  TEST ("/aio/event/cancel", test_event_cancel);
  TEST ("/aio/event/wait-for", test_event_wait_for);
  TEST ("/aio/lock/fifo", test_lock_fifo);
  TEST ("/aio/lock/cancel/waiting", test_lock_cancel_waiting);
  TEST ("/aio/lock/cancel/hand-off", test_lock_cancel_hand_off);
  TEST ("/aio/lock/timeout", test_lock_timeout);
  TEST ("/aio/lock/misuse", test_lock_misuse);
  TEST ("/aio/lock/check-held", test_check_held);
  TEST ("/aio/semaphore/slots", test_semaphore_slots);
  TEST ("/aio/semaphore/cancel/hand-off", test_semaphore_cancel_hand_off);
  TEST ("/aio/semaphore/bounded", test_semaphore_bounded);
  TEST ("/aio/semaphore/overflow", test_semaphore_overflow);
  TEST ("/aio/semaphore/check-release/bounded", test_check_release_bounded);
  TEST ("/aio/semaphore/check-release/unbounded", test_check_release_unbounded);
  TEST ("/aio/condition/notify", test_condition_notify);
  TEST ("/aio/condition/wait-for", test_condition_wait_for);
  TEST ("/aio/condition/cancel", test_condition_cancel);
  TEST ("/aio/condition/misuse", test_condition_misuse);
  TEST ("/aio/lock/check-held/condition", test_check_held_condition);
  TEST ("/aio/barrier/rounds", test_barrier_rounds);
  TEST ("/aio/barrier/cancel", test_barrier_cancel);
  TEST ("/aio/barrier/reset-abort", test_barrier_reset_abort);
  TEST ("/aio/sync/destroyed-while-waiting", test_destroyed_while_waiting);

  return g_test_run ();
}
