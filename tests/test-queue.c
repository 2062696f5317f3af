/* test-queue.c: AioQueue, in asyncio.Queue's terms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Environment:
 *   AIO_TEST_QUEUE_ITEMS   items moved by /aio/queue/stress (default
 *                          1000000, or 20000 under valgrind)
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <aio-glib.h>

#include "aio-loop-private.h"

#include "aio-test.h"

static void
finish_task (AioTask *task)
{
  g_autoptr(GError) error = NULL;

  if (!aio_await (g_object_ref ((AioFuture *) task), &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (task);
}

/* Items are strings; the queue frees them with this, which counts. */
static guint n_freed;

static void
counted_free (gpointer data)
{
  n_freed++;
  g_free (data);
}

static AioQueue *
counted_queue_new (gint maxsize)
{
  n_freed = 0;
  return aio_queue_new (maxsize, counted_free);
}

static void
put_string (AioQueue   *queue,
            const char *item)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (aio_queue_put_nowait (queue, g_strdup (item), &error));
  g_assert_no_error (error);
}

/* Takes the next item without waiting; the caller frees it. */
static char *
get_string (AioQueue *queue)
{
  g_autoptr(GError) error = NULL;
  char *item = aio_queue_get_nowait (queue, &error);

  g_assert_no_error (error);
  return item;
}

static void
assert_next (AioQueue   *queue,
             const char *expected)
{
  g_autofree char *item = get_string (queue);

  g_assert_cmpstr (item, ==, expected);
}

/* A task that gets one item and logs it ("name=item", or "name!" when
 * cancelled, "name#" when the queue was shut down). */
typedef struct
{
  AioQueue *queue;
  GString  *log;
  char      name;
  char     *item;      /* for putters */
} Worker;

static Worker *
worker_new (AioQueue   *queue,
            GString    *log,
            char        name,
            const char *item)
{
  Worker *worker = g_new0 (Worker, 1);

  worker->queue = queue;
  worker->log = log;
  worker->name = name;
  worker->item = g_strdup (item);
  return worker;
}

static void
worker_free (gpointer data)
{
  Worker *worker = data;

  g_free (worker->item);
  g_free (worker);
}

static void
log_error (Worker *worker,
           GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_string_append_printf (worker->log, "%c! ", worker->name);
  else if (g_error_matches (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN))
    g_string_append_printf (worker->log, "%c# ", worker->name);
  else
    g_assert_no_error (error);
}

static void
getter (AioTask  *task,
        gpointer  user_data)
{
  Worker *worker = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *item = aio_await_pointer (aio_queue_get (worker->queue), &error);

  if (error != NULL)
    log_error (worker, error);
  else
    g_string_append_printf (worker->log, "%c=%s ", worker->name, item);
}

static void
putter (AioTask  *task,
        gpointer  user_data)
{
  Worker *worker = user_data;
  g_autoptr(GError) error = NULL;

  if (aio_await (aio_queue_put (worker->queue, g_steal_pointer (&worker->item)), &error))
    g_string_append_printf (worker->log, "%c+ ", worker->name);
  else
    log_error (worker, error);
}

/* As getter(), through aio_wait_for(). */
static void
getter_wait_for (AioTask  *task,
                 gpointer  user_data)
{
  Worker *worker = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *item = aio_await_pointer (aio_wait_for (aio_queue_get (worker->queue), 10.0),
                                             &error);

  if (error != NULL)
    log_error (worker, error);
  else
    g_string_append_printf (worker->log, "%c=%s ", worker->name, item);
}

static AioTask *
spawn_getter (AioQueue *queue,
              GString  *log,
              char      name)
{
  return aio_create_task (getter, worker_new (queue, log, name, NULL), worker_free);
}

static AioTask *
spawn_putter (AioQueue   *queue,
              GString    *log,
              char        name,
              const char *item)
{
  return aio_create_task (putter, worker_new (queue, log, name, item), worker_free);
}

/* ==== ordering ============================================================ */

static void
test_fifo (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (3);
  char *item;

  g_test_summary ("asyncio.Queue(3): items come out first in, first out; qsize(), "
                  "empty(), full() and maxsize track them; put() and get() on a queue "
                  "with room or items complete at once");

  g_assert_cmpint (aio_queue_get_maxsize (queue), ==, 3);
  g_assert_cmpint (aio_queue_get_order (queue), ==, AIO_QUEUE_FIFO);
  g_assert_true (aio_queue_is_empty (queue));
  g_assert_false (aio_queue_is_full (queue));

  g_assert_true (aio_await (aio_queue_put (queue, g_strdup ("a")), &error));
  g_assert_true (aio_await (aio_queue_put (queue, g_strdup ("b")), &error));
  put_string (queue, "c");
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 3);
  g_assert_true (aio_queue_is_full (queue));
  g_assert_false (aio_queue_is_empty (queue));

  item = aio_await_pointer (aio_queue_get (queue), &error);
  g_assert_cmpstr (item, ==, "a");
  g_free (item);
  assert_next (queue, "b");
  put_string (queue, "d");   /* wraps around the ring */
  put_string (queue, "e");
  assert_next (queue, "c");
  assert_next (queue, "d");
  assert_next (queue, "e");
  g_assert_true (aio_queue_is_empty (queue));

  /* Many more than the initial capacity, wrapping and growing. */
  g_assert_finalize_object (queue);
  queue = aio_queue_new (0, NULL);
  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < 100; i++)
        g_assert_true (aio_queue_put_nowait (queue, GUINT_TO_POINTER (i + 1), NULL));
      for (guint i = 0; i < 50; i++)
        g_assert_cmpuint (GPOINTER_TO_UINT (aio_queue_get_nowait (queue, NULL)), ==, i + 1);
      for (guint i = 100; i < 150; i++)
        g_assert_true (aio_queue_put_nowait (queue, GUINT_TO_POINTER (i + 1), NULL));
      for (guint i = 50; i < 150; i++)
        g_assert_cmpuint (GPOINTER_TO_UINT (aio_queue_get_nowait (queue, NULL)), ==, i + 1);
    }
  g_assert_false (aio_queue_is_full (queue));
  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_lifo (Fixture *f)
{
  AioQueue *queue = aio_queue_new_lifo (0, g_free);

  g_test_summary ("asyncio.LifoQueue: the last item put comes out first");

  g_assert_cmpint (aio_queue_get_order (queue), ==, AIO_QUEUE_LIFO);
  put_string (queue, "a");
  put_string (queue, "b");
  put_string (queue, "c");
  assert_next (queue, "c");
  put_string (queue, "d");
  assert_next (queue, "d");
  assert_next (queue, "b");
  assert_next (queue, "a");
  g_assert_finalize_object (queue);
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  /* Compare the first letter only, so that ties are visible. */
  return ((const char *) a)[0] - ((const char *) b)[0];
}

static void
test_priority (Fixture *f)
{
  AioQueue *queue = aio_queue_new_priority (0, compare_strings, NULL, g_free);
  const char *items[] = { "d1", "b1", "e1", "a1", "b2", "c1", "a2", "b3" };
  const char *sorted[] = { "a1", "a2", "b1", "b2", "b3", "c1", "d1", "e1" };
  GRand *rand = g_rand_new_with_seed (42);
  gint last;

  g_test_summary ("asyncio.PriorityQueue: the lowest item comes out first, by a compare "
                  "function or by integer priorities; unlike heapq, equal items keep "
                  "the order they were put in");

  g_assert_cmpint (aio_queue_get_order (queue), ==, AIO_QUEUE_PRIORITY);
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    put_string (queue, items[i]);
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    assert_next (queue, sorted[i]);
  g_assert_finalize_object (queue);

  /* Integer priorities, many of them, interleaved with gets. */
  queue = aio_queue_new_priority (0, NULL, NULL, NULL);
  for (guint i = 0; i < 500; i++)
    {
      gint priority = g_rand_int_range (rand, -50, 50);

      g_assert_true (aio_queue_put_nowait_with_priority (queue, GINT_TO_POINTER (priority + 100),
                                                         priority, NULL));
    }
  last = G_MININT;
  for (guint i = 0; i < 250; i++)
    {
      gint item = GPOINTER_TO_INT (aio_queue_get_nowait (queue, NULL)) - 100;

      g_assert_cmpint (item, >=, last);
      last = item;
    }
  /* Ties are first in, first out, whatever the heap did. */
  g_assert_true (aio_queue_put_nowait_with_priority (queue, GINT_TO_POINTER (1), 100, NULL));
  g_assert_true (aio_await (aio_queue_put_with_priority (queue, GINT_TO_POINTER (2), 100), NULL));
  g_assert_true (aio_queue_put_nowait_with_priority (queue, GINT_TO_POINTER (3), 100, NULL));
  g_assert_true (aio_queue_put_nowait (queue, GINT_TO_POINTER (4), NULL));   /* priority 0 */
  last = G_MININT;
  for (guint i = 0; i < 251; i++)
    {
      gint item = GPOINTER_TO_INT (aio_queue_get_nowait (queue, NULL));

      if (item == 4)
        {
          g_assert_cmpint (last, <=, 0);
          last = 0;
          continue;
        }
      item -= 100;
      g_assert_cmpint (item, >=, last);
      last = item;
    }
  g_assert_cmpint (GPOINTER_TO_INT (aio_queue_get_nowait (queue, NULL)), ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (aio_queue_get_nowait (queue, NULL)), ==, 2);
  g_assert_cmpint (GPOINTER_TO_INT (aio_queue_get_nowait (queue, NULL)), ==, 3);
  g_assert_true (aio_queue_is_empty (queue));
  g_assert_finalize_object (queue);
  g_rand_free (rand);
}

static void
test_nowait (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (1);
  char *item = g_strdup ("b");

  g_test_summary ("asyncio.Queue: put_nowait() on a full queue raises QueueFull and "
                  "get_nowait() on an empty one QueueEmpty (here GErrors), changing "
                  "nothing; a NULL item is an item like any other");

  g_assert_null (aio_queue_get_nowait (queue, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_EMPTY);
  g_clear_error (&error);

  put_string (queue, "a");
  g_assert_false (aio_queue_put_nowait (queue, item, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_FULL);
  g_clear_error (&error);
  /* The item is still ours. */
  g_assert_cmpstr (item, ==, "b");
  g_free (item);
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  assert_next (queue, "a");
  g_assert_finalize_object (queue);

  queue = aio_queue_new (0, NULL);
  g_assert_true (aio_queue_put_nowait (queue, NULL, &error));
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  g_assert_null (aio_await_pointer (aio_queue_get (queue), &error));
  g_assert_no_error (error);
  g_assert_true (aio_queue_is_empty (queue));
  g_assert_finalize_object (queue);
}

/* ==== waiting and fairness ================================================ */

static void
test_getters_fifo (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (0);
  AioTask *tasks[3];

  g_test_summary ("asyncio.Queue: get() on an empty queue waits; waiting getters are "
                  "served first come, first served, one item each");

  for (guint i = 0; i < 3; i++)
    tasks[i] = spawn_getter (queue, log, 'a' + i);
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "");

  put_string (queue, "1");
  put_string (queue, "2");
  put_string (queue, "3");
  put_string (queue, "4");
  for (guint i = 0; i < 3; i++)
    finish_task (tasks[i]);
  g_assert_cmpstr (log->str, ==, "a=1 b=2 c=3 ");
  assert_next (queue, "4");

  g_assert_finalize_object (queue);
}

static void
test_putters_fifo (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (2);
  AioTask *tasks[3];

  g_test_summary ("asyncio.Queue(2): put() on a full queue waits; waiting putters are "
                  "served first come, first served as room appears, and the items keep "
                  "that order");

  put_string (queue, "x");
  put_string (queue, "y");
  for (guint i = 0; i < 3; i++)
    {
      char item[2] = { 'a' + i, 0 };

      tasks[i] = spawn_putter (queue, log, 'a' + i, item);
    }
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 2);

  assert_next (queue, "x");
  assert_next (queue, "y");
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "a+ b+ ");
  assert_next (queue, "a");
  for (guint i = 0; i < 3; i++)
    finish_task (tasks[i]);
  g_assert_cmpstr (log->str, ==, "a+ b+ c+ ");
  assert_next (queue, "b");
  assert_next (queue, "c");

  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_put_behind_woken (Fixture *f)
{
  AioQueue *queue = counted_queue_new (3);

  g_test_summary ("Puts keep their order: a put made while earlier waiting puts "
                  "were woken but have not run yet goes in behind them, even "
                  "though the queue has room for it too");

  put_string (queue, "1");
  put_string (queue, "2");
  put_string (queue, "3");
  aio_queue_put_threadsafe (queue, g_strdup ("4"));   /* from the loop's thread */
  aio_queue_put_threadsafe (queue, g_strdup ("5"));
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 3);

  /* Room for three: the two waiting puts are woken, one place is left. */
  assert_next (queue, "1");
  assert_next (queue, "2");
  assert_next (queue, "3");
  aio_queue_put_threadsafe (queue, g_strdup ("6"));
  yield_n (2);

  assert_next (queue, "4");
  assert_next (queue, "5");
  assert_next (queue, "6");
  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_nowait_steals (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (0);
  AioTask *a;

  g_test_summary ("asyncio.Queue: get_nowait() may take the item a woken getter was "
                  "about to take; that getter waits again, first in line, and gets the "
                  "next item");

  a = spawn_getter (queue, log, 'a');
  yield_n (2);
  put_string (queue, "1");    /* wakes a */
  assert_next (queue, "1");   /* and takes its item */
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "");
  put_string (queue, "2");
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a=2 ");

  g_assert_finalize_object (queue);
}

/* ==== cancellation at every point ========================================= */

static void
test_get_cancel_waiting (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioFuture *get;
  AioTask *a, *b;

  g_test_summary ("asyncio.Queue: a getter cancelled before an item came leaves the queue "
                  "at once and takes nothing; the next item goes to the next getter");

  get = aio_queue_get (queue);
  g_assert_true (aio_future_cancel (get, NULL));
  /* The queue let go of it at once. */
  g_assert_finalize_object (get);

  a = spawn_getter (queue, log, 'a');
  b = spawn_getter (queue, log, 'b');
  yield_n (2);
  g_assert_true (aio_task_cancel (a, NULL));
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "a! ");
  put_string (queue, "1");
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a! b=1 ");
  g_assert_true (aio_queue_is_empty (queue));
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 1);

  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_get_cancel_thread (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioFuture *get;

  g_test_summary ("Futures may be cancelled from any thread: a waiting get cancelled "
                  "from a worker thread is cancelled at once, leaves the queue once the "
                  "loop hears of it, and takes no item");

  get = aio_queue_get (queue);
  aio_test_cancel_in_thread (get, "from a thread");
  g_assert_true (aio_future_is_cancelled (get));

  /* An item put before the loop heard of it is not lost either. */
  put_string (queue, "1");
  yield_n (2);
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  g_assert_false (aio_await (g_object_ref (get), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "from a thread");
  g_assert_finalize_object (get);
  assert_next (queue, "1");

  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_get_cancel_hand_off (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (0);
  AioTask *a, *b;

  g_test_summary ("asyncio.Queue.get(): a getter cancelled after put_nowait() woke it, "
                  "before it ran, does not swallow the item: the wake-up passes to the "
                  "next getter, or the item stays in the queue");

  /* Another getter waits: it gets the item. */
  a = spawn_getter (queue, log, 'a');
  b = spawn_getter (queue, log, 'b');
  yield_n (2);
  put_string (queue, "1");                    /* wakes a ... */
  g_assert_true (aio_task_cancel (a, NULL));  /* ... cancelled before it runs */
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a! b=1 ");

  /* Nobody else waits: the item stays. */
  g_string_truncate (log, 0);
  a = spawn_getter (queue, log, 'a');
  yield_n (2);
  put_string (queue, "2");
  g_assert_true (aio_task_cancel (a, NULL));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a! ");
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  assert_next (queue, "2");

  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 0);
}

static void
test_get_cancel_after (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioFuture *get;
  char *item;

  g_test_summary ("asyncio.Queue.get(): cancelling a get that completed changes nothing; "
                  "its item is the getter's; an item nobody takes is freed with the "
                  "future");

  put_string (queue, "1");
  get = aio_queue_get (queue);
  g_assert_true (aio_future_is_resolved (get));
  g_assert_false (aio_future_cancel (get, NULL));
  item = aio_await_pointer (get, &error);
  g_assert_cmpstr (item, ==, "1");
  g_free (item);

  put_string (queue, "2");
  get = aio_queue_get (queue);
  g_assert_cmpstr (aio_future_get_pointer (get, NULL), ==, "2");
  g_assert_finalize_object (get);
  g_assert_cmpuint (n_freed, ==, 1);

  g_assert_finalize_object (queue);
}

static void
test_put_cancel (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (1);
  AioFuture *put;
  AioTask *a, *b, *c;

  g_test_summary ("asyncio.Queue.put(): a putter cancelled while the queue is full, or "
                  "after a get woke it but before it ran, puts nothing (its item is "
                  "freed) and the room goes to the next putter");

  put_string (queue, "x");

  /* Cancelled while waiting. */
  put = aio_queue_put (queue, g_strdup ("p"));
  g_assert_false (aio_future_is_done (put));
  g_assert_true (aio_future_cancel (put, NULL));
  g_assert_finalize_object (put);
  g_assert_cmpuint (n_freed, ==, 1);

  /* Cancelled at the hand-off. */
  a = spawn_putter (queue, log, 'a', "a");
  b = spawn_putter (queue, log, 'b', "b");
  c = spawn_putter (queue, log, 'c', "c");
  yield_n (2);
  assert_next (queue, "x");                   /* wakes a ... */
  g_assert_true (aio_task_cancel (a, NULL));  /* ... cancelled before it runs */
  yield_n (2);
  g_assert_cmpstr (log->str, ==, "a! b+ ");
  g_assert_cmpuint (n_freed, ==, 2);
  assert_next (queue, "b");
  finish_task (a);
  finish_task (b);
  finish_task (c);
  g_assert_cmpstr (log->str, ==, "a! b+ c+ ");
  assert_next (queue, "c");
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 3);

  g_assert_finalize_object (queue);
  g_assert_cmpuint (n_freed, ==, 2);
}

static void
test_get_timeout (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioTimeout *scope;
  char *item;

  g_test_summary ("asyncio.wait_for(queue.get(), t) and asyncio.timeout(t): a get on an "
                  "empty queue times out with TimeoutError, and the dead getter takes "
                  "no later item");

  for (guint i = 0; i < 3; i++)
    {
      g_assert_null (aio_await_pointer (aio_wait_for (aio_queue_get (queue), 0.001), &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_clear_error (&error);
    }

  scope = aio_timeout_enter (0.001);
  item = aio_await_pointer (aio_queue_get (queue), &error);
  g_assert_null (item);
  g_assert_false (aio_timeout_exit (scope, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* The dead getters took nothing: the next item is there for the taking. */
  put_string (queue, "1");
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  item = aio_await_pointer (aio_queue_get (queue), &error);
  g_assert_cmpstr (item, ==, "1");
  g_free (item);

  g_assert_finalize_object (queue);
}

/* ==== task_done / join ==================================================== */

static void
test_join (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioFuture *join, *join2;

  g_test_summary ("asyncio.Queue.join() blocks until task_done() was called for every "
                  "item put; task_done() once too often raises ValueError, here a "
                  "critical that changes nothing");

  join = aio_queue_join (queue);
  g_assert_true (aio_future_is_resolved (join));
  g_object_unref (join);

  put_string (queue, "1");
  put_string (queue, "2");
  put_string (queue, "3");
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 3);
  join = aio_queue_join (queue);
  join2 = aio_queue_join (queue);
  g_assert_true (aio_future_cancel (join2, NULL));
  g_assert_finalize_object (join2);

  for (guint i = 0; i < 3; i++)
    {
      g_free (get_string (queue));
      yield_n (1);
      g_assert_false (aio_future_is_done (join));
    }
  aio_queue_task_done (queue);
  aio_queue_task_done (queue);
  yield_n (1);
  g_assert_false (aio_future_is_done (join));
  aio_queue_task_done (queue);
  g_assert_true (aio_await (join, &error));
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 0);

  EXPECT_CRITICAL ("*called more times than*", aio_queue_task_done (queue));
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 0);

  g_assert_finalize_object (queue);
}

/* ==== shutdown ============================================================ */

static void
test_shutdown (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (2);
  AioTask *p, *g;
  char *item = g_strdup ("late");

  g_test_summary ("asyncio.Queue.shutdown() (3.13): puts raise QueueShutDown, waiting "
                  "putters too; gets return the remaining items, then raise "
                  "QueueShutDown, waiting getters too");

  put_string (queue, "1");
  put_string (queue, "2");
  p = spawn_putter (queue, log, 'p', "3");
  yield_n (2);

  aio_queue_shutdown (queue, FALSE);
  g_assert_true (aio_queue_is_shut_down (queue));
  finish_task (p);
  g_assert_cmpstr (log->str, ==, "p# ");
  g_assert_cmpuint (n_freed, ==, 1);

  g_assert_false (aio_queue_put_nowait (queue, item, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_free (item);
  g_assert_false (aio_await (aio_queue_put (queue, g_strdup ("x")), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_cmpuint (n_freed, ==, 2);

  item = aio_await_pointer (aio_queue_get (queue), &error);
  g_assert_cmpstr (item, ==, "1");
  g_free (item);
  assert_next (queue, "2");
  g_assert_null (aio_await_pointer (aio_queue_get (queue), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_null (aio_queue_get_nowait (queue, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_finalize_object (queue);

  /* Waiting getters of an empty queue fail at once. */
  g_string_truncate (log, 0);
  queue = counted_queue_new (0);
  g = spawn_getter (queue, log, 'g');
  yield_n (2);
  aio_queue_shutdown (queue, FALSE);
  finish_task (g);
  g_assert_cmpstr (log->str, ==, "g# ");
  g_assert_finalize_object (queue);

  /* Getters waiting behind a woken one, when the last item goes. */
  g_string_truncate (log, 0);
  queue = counted_queue_new (0);
  g = spawn_getter (queue, log, 'g');
  p = spawn_getter (queue, log, 'h');
  yield_n (2);
  put_string (queue, "1");          /* wakes g */
  aio_queue_shutdown (queue, FALSE);
  finish_task (g);
  finish_task (p);
  g_assert_cmpstr (log->str, ==, "g=1 h# ");
  g_assert_finalize_object (queue);
}

static void
test_shutdown_immediate (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (0);
  AioFuture *join;
  AioTask *g;

  g_test_summary ("asyncio.Queue.shutdown(immediate=True) (3.13): the items are dropped, "
                  "each counting as done for join(); gets raise QueueShutDown at once");

  put_string (queue, "1");
  put_string (queue, "2");
  put_string (queue, "3");
  g_free (get_string (queue));   /* taken, not done yet */
  join = aio_queue_join (queue);

  aio_queue_shutdown (queue, TRUE);
  g_assert_cmpuint (n_freed, ==, 2);
  g_assert_true (aio_queue_is_empty (queue));
  g_assert_cmpuint (aio_queue_get_unfinished (queue), ==, 1);
  yield_n (1);
  g_assert_false (aio_future_is_done (join));
  aio_queue_task_done (queue);
  g_assert_true (aio_await (join, &error));

  g = spawn_getter (queue, log, 'g');
  finish_task (g);
  g_assert_cmpstr (log->str, ==, "g# ");

  /* With nothing unfinished, join is released by the shutdown itself. */
  g_assert_finalize_object (queue);
  queue = counted_queue_new (0);
  put_string (queue, "1");
  join = aio_queue_join (queue);
  aio_queue_shutdown (queue, TRUE);
  g_assert_true (aio_await (join, &error));
  g_assert_cmpuint (n_freed, ==, 1);
  g_assert_finalize_object (queue);
}

/* ==== values, bad input, finalization ===================================== */

static void
test_values (Fixture *f)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  AioQueue *queue = aio_queue_new_with_order (AIO_QUEUE_PRIORITY, 0);
  AioFuture *get;

  g_test_summary ("The introspectable twins: GValue items, put with put_value*(), come "
                  "out of get() futures and get_value_nowait(); integer priorities order "
                  "them in a priority queue");

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "low");
  g_assert_true (aio_await (aio_queue_put_value_with_priority (queue, &value, 10), &error));
  g_value_set_string (&value, "high");
  g_assert_true (aio_await (aio_queue_put_value_with_priority (queue, &value, -10), &error));
  g_value_set_string (&value, "mid");
  g_assert_true (aio_queue_put_value_nowait (queue, &value, &error));

  get = aio_queue_get (queue);
  g_assert_true (aio_future_get_value (get, &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "high");
  g_value_unset (&out);
  g_object_unref (get);

  g_assert_true (aio_await_value (aio_queue_get (queue), &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "mid");
  g_value_unset (&out);

  g_assert_true (aio_queue_get_value_nowait (queue, &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "low");
  g_value_unset (&out);

  g_assert_false (aio_queue_get_value_nowait (queue, &out, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_EMPTY);
  g_clear_error (&error);

  /* A value left in the queue is freed with it. */
  g_assert_true (aio_await (aio_queue_put_value (queue, &value), &error));
  g_assert_finalize_object (queue);

  /* Full value queue: the copy is not leaked. */
  queue = aio_queue_new_with_order (AIO_QUEUE_LIFO, 1);
  g_assert_true (aio_queue_put_value_nowait (queue, &value, &error));
  g_assert_false (aio_queue_put_value_nowait (queue, &value, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_FULL);
  g_assert_finalize_object (queue);
}

static void
test_bad_input (Fixture *f)
{
  g_test_summary ("asyncio.Queue treats maxsize <= 0 as unbounded; here a negative "
                  "maxsize is a critical (0 is unbounded)");

  EXPECT_CRITICAL ("*maxsize >= 0*", g_assert_null (aio_queue_new (-1, NULL)));
  EXPECT_CRITICAL ("*maxsize >= 0*", g_assert_null (aio_queue_new_lifo (-1, NULL)));
  EXPECT_CRITICAL ("*maxsize >= 0*", g_assert_null (aio_queue_new_priority (-5, NULL, NULL, NULL)));
  EXPECT_CRITICAL ("*maxsize >= 0*", g_assert_null (aio_queue_new_with_order (AIO_QUEUE_FIFO, -1)));
}

static void
test_finalize (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = counted_queue_new (1);
  AioQueue *empty = counted_queue_new (0);
  AioFuture *put, *get, *join;

  g_test_summary ("Dropping the last reference to a queue shuts it down immediately: its "
                  "items are freed, and futures still waiting on it fail instead of "
                  "hanging");

  put_string (queue, "1");
  put = aio_queue_put (queue, g_strdup ("2"));
  join = aio_queue_join (queue);
  get = aio_queue_get (empty);
  g_assert_finalize_object (queue);
  g_assert_finalize_object (empty);
  g_assert_cmpuint (n_freed, ==, 1);

  g_assert_false (aio_await (put, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_cmpuint (n_freed, ==, 2);
  g_assert_false (aio_await (join, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_false (aio_await (get, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
}

/* ==== threads ============================================================= */

#define THREAD_ITEMS 20000

typedef struct
{
  AioQueue *queue;
  guint     n;
  gboolean  values;
} Feed;

static gpointer
feed_thread (gpointer data)
{
  Feed *feed = data;

  for (guint i = 0; i < feed->n; i++)
    {
      if (feed->values)
        {
          g_auto(GValue) value = G_VALUE_INIT;

          g_value_init (&value, G_TYPE_UINT);
          g_value_set_uint (&value, i + 1);
          aio_queue_put_value_threadsafe (feed->queue, &value);
        }
      else
        aio_queue_put_threadsafe (feed->queue, GUINT_TO_POINTER (i + 1));
      if (i % 1000 == 0)
        g_thread_yield ();
    }

  return NULL;
}

static void
feed_gtask (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  feed_thread (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
consume_in_order (AioQueue *queue,
                  guint     n,
                  gboolean  values)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      guint item;

      if (values)
        {
          g_auto(GValue) value = G_VALUE_INIT;

          g_assert_true (aio_await_value (aio_queue_get (queue), &value, &error));
          item = g_value_get_uint (&value);
        }
      else
        item = GPOINTER_TO_UINT (aio_await_pointer (aio_queue_get (queue), &error));
      g_assert_no_error (error);
      g_assert_cmpuint (item, ==, i + 1);
      g_assert_cmpuint (aio_queue_get_size (queue), <=, 16);
      aio_queue_task_done (queue);
    }
}

static void
test_threadsafe (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue = aio_queue_new (16, NULL);
  Feed feed = { queue, THREAD_ITEMS, FALSE };
  GThread *thread;
  GTask *task;

  g_test_summary ("asyncio's loop.call_soon_threadsafe(queue.put_nowait, x): a worker "
                  "GThread (and a GTask thread function) feed a bounded queue; the "
                  "consumer task wakes in the loop's thread and gets every item, in "
                  "order, the queue never holding more than maxsize");

  thread = g_thread_new ("feeder", feed_thread, &feed);
  consume_in_order (queue, THREAD_ITEMS, FALSE);
  g_thread_join (thread);
  g_assert_true (aio_queue_is_empty (queue));

  feed.values = TRUE;
  thread = g_thread_new ("feeder", feed_thread, &feed);
  consume_in_order (queue, THREAD_ITEMS, TRUE);
  g_thread_join (thread);

  feed.values = FALSE;
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, &feed, NULL);
  g_task_run_in_thread (task, feed_gtask);
  consume_in_order (queue, THREAD_ITEMS, FALSE);
  g_object_unref (task);
  g_assert_true (aio_await (aio_queue_join (queue), &error));

  g_assert_finalize_object (queue);
}

static void
test_threadsafe_full (Fixture *f)
{
  AioQueue *queue = counted_queue_new (1);

  g_test_summary ("put_threadsafe() on a full queue never blocks nor fails: the item "
                  "waits its turn behind the other puts; at shutdown it is freed, with "
                  "no 'error never retrieved' warning");

  put_string (queue, "1");
  aio_queue_put_threadsafe (queue, g_strdup ("2"));   /* from the loop's thread */
  aio_queue_put_threadsafe (queue, g_strdup ("3"));
  g_assert_cmpuint (aio_queue_get_size (queue), ==, 1);
  assert_next (queue, "1");
  yield_n (1);
  assert_next (queue, "2");
  yield_n (1);
  assert_next (queue, "3");

  put_string (queue, "4");
  aio_queue_put_threadsafe (queue, g_strdup ("5"));
  aio_queue_shutdown (queue, FALSE);
  g_assert_cmpuint (n_freed, ==, 1);
  aio_queue_put_threadsafe (queue, g_strdup ("6"));
  g_assert_cmpuint (n_freed, ==, 2);
  assert_next (queue, "4");

  g_assert_finalize_object (queue);
}

/* ==== many producers, many consumers ====================================== */

#define N_PRODUCERS 100
#define N_CONSUMERS 100
#define STRESS_MAXSIZE 64

typedef struct
{
  AioQueue *queue;
  guint     n_items;
  guint8   *counts;
  guint64   sum;
  guint     received;
} Stress;

typedef struct
{
  Stress *stress;
  guint   first;
  guint   last;
} Producer;

static void
stress_producer (AioTask  *task,
                 gpointer  user_data)
{
  Producer *producer = user_data;
  g_autoptr(GError) error = NULL;

  for (guint i = producer->first; i < producer->last; i++)
    if (!aio_await (aio_queue_put (producer->stress->queue, GUINT_TO_POINTER (i + 1)), &error))
      g_error ("put failed: %s", error->message);
}

static void
stress_consumer (AioTask  *task,
                 gpointer  user_data)
{
  Stress *stress = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint item = GPOINTER_TO_UINT (aio_await_pointer (aio_queue_get (stress->queue), &error));

      if (error != NULL)
        {
          g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN);
          return;
        }
      g_assert_cmpuint (item, >=, 1);
      g_assert_cmpuint (item, <=, stress->n_items);
      stress->counts[item - 1]++;
      stress->sum += item - 1;
      stress->received++;
      aio_queue_task_done (stress->queue);
    }
}

static guint
stress_items (void)
{
  const char *env = g_getenv ("AIO_TEST_QUEUE_ITEMS");

  if (env != NULL && *env != '\0')
    return (guint) g_ascii_strtoull (env, NULL, 10);
  return RUNNING_ON_VALGRIND ? 20000 : 1000000;
}

static void
test_stress (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  Stress stress = { 0, };
  Producer producers[N_PRODUCERS];
  AioTask *tasks[N_PRODUCERS + N_CONSUMERS];
  guint64 expected_sum;
  gint64 start, elapsed;

  g_test_summary ("asyncio.Queue under load: 100 producers and 100 consumers move the "
                  "items (1 000 000 by default) through a bounded queue; none is lost or "
                  "duplicated (per-item counts and checksum), join() returns once all "
                  "are done, and shutdown() ends the consumers");

  stress.n_items = stress_items ();
  stress.counts = g_new0 (guint8, stress.n_items);
  stress.queue = aio_queue_new (STRESS_MAXSIZE, NULL);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_CONSUMERS; i++)
    tasks[N_PRODUCERS + i] = aio_create_task (stress_consumer, &stress, NULL);
  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i].stress = &stress;
      producers[i].first = (guint) ((guint64) stress.n_items * i / N_PRODUCERS);
      producers[i].last = (guint) ((guint64) stress.n_items * (i + 1) / N_PRODUCERS);
      tasks[i] = aio_create_task (stress_producer, &producers[i], NULL);
    }

  for (guint i = 0; i < N_PRODUCERS; i++)
    finish_task (tasks[i]);
  g_assert_true (aio_await (aio_queue_join (stress.queue), &error));
  aio_queue_shutdown (stress.queue, FALSE);
  for (guint i = 0; i < N_CONSUMERS; i++)
    finish_task (tasks[N_PRODUCERS + i]);
  elapsed = g_get_monotonic_time () - start;

  g_test_message ("%u items, %d producers, %d consumers, maxsize %d: %.3f s (%.0f items/s)",
                  stress.n_items, N_PRODUCERS, N_CONSUMERS, STRESS_MAXSIZE,
                  elapsed / 1e6, stress.n_items / (elapsed / 1e6));

  expected_sum = (guint64) stress.n_items * (stress.n_items - 1) / 2;
  g_assert_cmpuint (stress.received, ==, stress.n_items);
  g_assert_cmpuint (stress.sum, ==, expected_sum);
  for (guint i = 0; i < stress.n_items; i++)
    if (stress.counts[i] != 1)
      g_error ("item %u was received %u times", i + 1, stress.counts[i]);
  g_assert_true (aio_queue_is_empty (stress.queue));
  g_assert_cmpuint (aio_queue_get_unfinished (stress.queue), ==, 0);

  g_assert_finalize_object (stress.queue);
  g_free (stress.counts);
}

static void
cancel_soon (gpointer data)
{
  aio_task_cancel (data, NULL);
}

static void
test_get_cancel_hand_off_wait_for (Fixture *f)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioQueue *queue = counted_queue_new (0);
  AioTask *a, *b;

  g_test_summary ("asyncio.wait_for(queue.get(), t): the hand-off rule holds through "
                  "the combinator: a task cancelled after put_nowait() woke its get "
                  "does not lose the item, and an item it does receive is its own, "
                  "freed once");

  a = aio_create_task (getter_wait_for, worker_new (queue, log, 'a', NULL), worker_free);
  b = aio_create_task (getter_wait_for, worker_new (queue, log, 'b', NULL), worker_free);
  yield_n (2);
  put_string (queue, "1");                    /* wakes a's get ... */
  g_assert_true (aio_task_cancel (a, NULL));  /* ... a is cancelled before it runs */
  finish_task (a);
  finish_task (b);
  g_assert_cmpstr (log->str, ==, "a! b=1 ");

  /* Cancelled in the same batch as its get completes, right after: the
   * wait_for completes in that same step, so a has its item already and
   * the cancel comes too late (asyncio: the task is done). */
  g_string_truncate (log, 0);
  a = aio_create_task (getter_wait_for, worker_new (queue, log, 'a', NULL), worker_free);
  yield_n (2);
  put_string (queue, "3");
  aio_handle_unref (aio_loop_call_soon (aio_loop_get_running (), cancel_soon,
                                        g_object_ref (a), g_object_unref));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a=3 ");
  g_assert_true (aio_queue_is_empty (queue));

  /* Nobody else waits: the item stays in the queue. */
  g_string_truncate (log, 0);
  a = aio_create_task (getter_wait_for, worker_new (queue, log, 'a', NULL), worker_free);
  yield_n (2);
  put_string (queue, "2");
  g_assert_true (aio_task_cancel (a, NULL));
  finish_task (a);
  g_assert_cmpstr (log->str, ==, "a! ");
  assert_next (queue, "2");

  g_assert_finalize_object (queue);
  /* b freed "1" itself (g_autofree), the queue freed nothing. */
  g_assert_cmpuint (n_freed, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  aio_test_set_watchdog (300);

  TEST ("/aio/queue/fifo", test_fifo);
  TEST ("/aio/queue/lifo", test_lifo);
  TEST ("/aio/queue/priority", test_priority);
  TEST ("/aio/queue/nowait", test_nowait);
  TEST ("/aio/queue/fairness/getters", test_getters_fifo);
  TEST ("/aio/queue/fairness/putters", test_putters_fifo);
  TEST ("/aio/queue/fairness/nowait-steals", test_nowait_steals);
  TEST ("/aio/queue/fairness/put-behind-woken", test_put_behind_woken);
  TEST ("/aio/queue/cancel/get-waiting", test_get_cancel_waiting);
  TEST ("/aio/queue/cancel/get-hand-off", test_get_cancel_hand_off);
  TEST ("/aio/queue/cancel/get-hand-off-wait-for", test_get_cancel_hand_off_wait_for);
  TEST ("/aio/queue/cancel/get-thread", test_get_cancel_thread);
  TEST ("/aio/queue/cancel/get-after", test_get_cancel_after);
  TEST ("/aio/queue/cancel/put", test_put_cancel);
  TEST ("/aio/queue/timeout", test_get_timeout);
  TEST ("/aio/queue/join", test_join);
  TEST ("/aio/queue/shutdown", test_shutdown);
  TEST ("/aio/queue/shutdown-immediate", test_shutdown_immediate);
  TEST ("/aio/queue/values", test_values);
  TEST ("/aio/queue/bad-input", test_bad_input);
  TEST ("/aio/queue/finalize", test_finalize);
  TEST ("/aio/queue/threads/feed", test_threadsafe);
  TEST ("/aio/queue/threads/full", test_threadsafe_full);
  TEST ("/aio/queue/stress", test_stress);

  return g_test_run ();
}
