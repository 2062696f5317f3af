/* test-stress.c: random operations on every primitive, then invariants
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A seeded run of random operations by fiber and stepped tasks on a queue
 * (put, get, put_threadsafe from the loop and from a thread), a lock, a
 * semaphore, a bounded semaphore, a condition, a barrier, an event and
 * task groups, through gather, wait, wait_for, shield and as_completed,
 * with executor jobs completing futures from worker threads, a timeout
 * scope, and tasks cancelled at random from the loop and from another
 * thread, through aio_task_cancel() and through their GCancellable.
 * Afterwards it checks that:
 *
 * - every item put is received exactly once, or is still queued; an item
 *   whose put was reported failed never shows up; an item an executor
 *   job or a task resolved its future with is received by whoever was
 *   told so, or was dropped because that future was cancelled first;
 * - no lock or semaphore is ever held by more tasks than it allows
 *   (checked at each acquisition) and none is left held;
 * - each barrier round gave out each index once (no party lost its pass);
 * - every task finished, and nothing leaked (the loop is finalized; ASan
 *   and Valgrind see the rest).
 *
 * The seed fixes every random choice: each task draws from a generator of
 * its own, seeded from the run's seed and its number.  Threads (the
 * executor's, the thread that puts, the thread that cancels) make the
 * interleaving vary from run to run all the same; a failure prints the
 * seed, and replaying it repeats the same script.  The run is bounded by
 * its number of operations, not by time, so it does the same work on a
 * slow machine.
 *
 * This file runs the workers, the chaos and the checks; the operations
 * the workers draw are in test-stress-ops.c, what both see in
 * test-stress.h.
 *
 * Environment:
 *   AIO_STRESS_SEED      the seed of the first run (default: random)
 *   AIO_STRESS_OPS       operations per run (default 200000; 100000 under
 *                        AddressSanitizer, 40000 under ThreadSanitizer,
 *                        5000 under Valgrind)
 *   AIO_STRESS_SECONDS   run again, with the next seeds, until this many
 *                        seconds have passed (default: one run)
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"
#include "test-stress.h"

/* Operations per run by default: a couple of seconds of a plain build;
 * fewer under the tools that slow everything down. */
#if defined(__SANITIZE_THREAD__)
#define DEFAULT_OPS      40000
#elif defined(__SANITIZE_ADDRESS__)
#define DEFAULT_OPS      100000
#else
#define DEFAULT_OPS      200000
#endif
#define VALGRIND_OPS     5000

/* The names of the ItemKinds, for messages. */
static const char *item_kind_names[] = { "queue", "thread", "executor", "task" };

__thread gboolean resolving;

void
violation (Stress     *s,
           const char *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (++s->n_violations <= 20)
    g_test_message ("violation (seed %u): %s", s->seed, message);
}

/* Any thread. */
Item *
item_new (Stress   *s,
          ItemKind  kind)
{
  Item *item = g_new0 (Item, 1);

  item->s = s;
  item->id = (guint) g_atomic_int_add (&s->n_items, 1);
  g_assert_cmpuint (item->id, <, s->ledger_size);
  g_atomic_int_set (&s->ledger[item->id].kind, kind);
  return item;
}

void
ledger_mark (Stress *s,
             guint   id,
             gint    flag)
{
  g_atomic_int_or (&s->ledger[id].flags, flag);
}

void
item_mark (Item *item,
           gint  flag)
{
  ledger_mark (item->s, item->id, flag);
}

/* Any thread: whoever frees an item (the queue, a future, a job whose
 * resolve came after the cancellation, the test) frees it here. */
void
item_free (gpointer data)
{
  Item *item = data;
  Record *record = &item->s->ledger[item->id];

  g_atomic_int_inc (&record->n_frees);
  if (resolving)
    g_atomic_int_or (&record->flags, LEDGER_REFUSED);
  g_free (item);
}

/* ---- workers -------------------------------------------------------------- */

gboolean
coin (Worker *w)
{
  return g_rand_boolean (w->rand);
}

gdouble
short_timeout (Worker *w)
{
  return g_rand_double_range (w->rand, 0, SHORT);
}

/* Waits for @future, keeping a reference to read its outcome. */
AioFuture *
wait_kept (Worker    *w,
           AioFuture *future)
{
  g_clear_object (&w->fut);
  w->fut = g_object_ref (future);
  return future;
}

/* Loop thread: counts @item received by @w; an item received by two
 * workers, or twice, is a violation. */
void
receive (Worker   *w,
         gpointer  data)
{
  Item *item = data;
  Record *record;
  gint kind;

  if (item == NULL)
    {
      violation (w->s, "worker %u got a NULL item", w->number);
      return;
    }

  record = &w->s->ledger[item->id];
  if (!g_atomic_int_compare_and_exchange (&record->received_by, 0, (gint) w->number + 1))
    {
      violation (w->s, "item %u received by workers %d and %u", item->id,
                 g_atomic_int_get (&record->received_by) - 1, w->number);
      return;
    }
  kind = g_atomic_int_get (&record->kind);
  w->s->n_received[kind]++;
}

/* What an error that ended a wait says about the task: a cancellation
 * counts, whoever asked for it. */
void
count_error (Worker       *w,
             const GError *error)
{
  if (error == NULL)
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    w->s->n_cancelled_waits++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    w->s->n_timeouts++;
}

/* The same once the wait ended, leaving the timeout scope the wait was
 * made in, if it was: the scope's outcome is the one that counts. */
void
count_scoped_error (Worker       *w,
                    const GError *error)
{
  g_autoptr(GError) copy = NULL;

  if (w->scope == NULL)
    {
      count_error (w, error);
      return;
    }
  copy = error != NULL ? g_error_copy (error) : NULL;
  aio_timeout_exit (g_steal_pointer (&w->scope), &copy);
  count_error (w, copy);
}

/* Settles the futures a combinator operation kept, as its documentation
 * says to: cancels those still pending (a get, or an executor job, ends
 * at once), and takes the items of those that resolved.  A job may have
 * claimed its future in its thread and not published the outcome yet:
 * the cancellation fails and the future is still pending for a moment;
 * that one is returned, to wait for, and settling goes on after. */
AioFuture *
settle_kept (Worker *w)
{
  while (w->kept != NULL && w->kept->len > 0)
    {
      AioFuture *future = g_ptr_array_index (w->kept, w->kept->len - 1);

      aio_future_cancel (future, NULL);
      if (!aio_future_is_done (future))
        return wait_kept (w, g_object_ref (future));
      if (aio_future_is_resolved (future))
        receive (w, aio_future_get_pointer (future, NULL));
      else
        (void) aio_future_get_error (future);
      g_ptr_array_remove_index (w->kept, w->kept->len - 1);
    }
  g_clear_pointer (&w->kept, g_ptr_array_unref);

  /* as_completed()'s outputs we did not await: nobody will read them. */
  if (w->outputs != NULL)
    {
      for (guint i = 0; i < w->outputs->len; i++)
        {
          AioFuture *output = g_ptr_array_index (w->outputs, i);

          aio_future_cancel (output, NULL);
          (void) aio_future_get_error (output);
        }
      g_clear_pointer (&w->outputs, g_ptr_array_unref);
    }
  return NULL;
}

static void task_done (AioFuture *future,
                       gpointer   user_data);

/* Keeps @task (transfer full) until the end, and among the live ones
 * until it is done. */
AioTask *
track (Stress  *s,
       AioTask *task)
{
  g_ptr_array_add (s->tasks, task);
  g_ptr_array_add (s->live, task);
  aio_future_add_done_callback ((AioFuture *) task, task_done, s, NULL);
  return task;
}

/* ---- choosing ------------------------------------------------------------- */

static OpFunc
pick_op (Worker *w)
{
  guint total = 0, r;

  for (guint i = 0; i < stress_n_ops; i++)
    total += stress_ops[i].weight;
  r = g_rand_int_range (w->rand, 0, total);
  for (guint i = 0; i < stress_n_ops; i++)
    {
      if (r < stress_ops[i].weight)
        return stress_ops[i].func;
      r -= stress_ops[i].weight;
    }
  g_assert_not_reached ();
}

/* Starts the next operation, if the worker is to go on. */
static gboolean
worker_next (Worker *w)
{
  if (w->stop || w->quota == 0 || aio_task_cancelling (w->task) > 0)
    return FALSE;

  w->quota--;
  w->s->ops_done++;
  w->op = pick_op (w);
  w->phase = 0;
  return TRUE;
}

/* An operation is over: a worker that was cancelled stops. */
static void
worker_end_op (Worker *w)
{
  g_assert_null (w->scope);
  g_assert_null (w->kept);
  g_clear_object (&w->fut);
  if (aio_task_cancelling (w->task) > 0)
    w->stop = TRUE;
}

static void
worker_fiber (AioTask  *task,
              gpointer  user_data)
{
  Worker *w = user_data;

  while (worker_next (w))
    {
      GError *error = NULL;
      AioFuture *next;

      while ((next = w->op (w, error)) != NULL)
        {
          g_clear_error (&error);
          aio_await (next, &error);
        }
      g_clear_error (&error);
      worker_end_op (w);
    }
}

static AioFuture *
worker_step (AioTask   *task,
             AioFuture *completed,
             gpointer   user_data)
{
  Worker *w = user_data;
  g_autoptr(GError) error = NULL;
  AioFuture *next;

  if (completed == NULL)
    {
      if (!worker_next (w))
        return NULL;
    }
  else
    /* The future we returned, or, for a cancellation that came while we
     * yielded or slept, a cancelled one in its place. */
    aio_future_propagate (completed, &error);

  for (;;)
    {
      next = w->op (w, error);
      g_clear_error (&error);
      if (next != NULL)
        return next;
      worker_end_op (w);
      if (!worker_next (w))
        return NULL;
    }
}

static void
worker_free (gpointer data)
{
  Worker *w = data;
  Stress *s = w->s;

  /* What it did not do goes to the next worker. */
  s->unassigned += w->quota;
  s->live_workers--;
  aio_event_set (s->worker_gone);

  g_assert_null (w->fut);
  g_assert_null (w->child);
  g_assert_null (w->group);
  g_rand_free (w->rand);
  g_free (w);
}

static void
worker_spawn (Stress *s)
{
  Worker *w = g_new0 (Worker, 1);
  AioTask *task;

  w->s = s;
  w->number = s->next_worker++;
  w->stepped = w->number % 2 == 1;
  w->rand = g_rand_new_with_seed (s->seed ^ (w->number * 2654435761u));
  w->quota = (guint) g_rand_int_range (s->rand, 1, OPS_PER_WORKER + 1);
  w->quota = MIN (w->quota, s->unassigned);
  s->unassigned -= w->quota;
  s->live_workers++;

  if (w->stepped)
    task = aio_create_stepped_task (worker_step, w, worker_free);
  else
    task = aio_create_task (worker_fiber, w, worker_free);
  w->task = track (s, task);
}

/* ---- tasks finishing, and the chaos that cancels them --------------------- */

static void
task_done (AioFuture *future,
           gpointer   user_data)
{
  Stress *s = user_data;
  const GError *error = aio_future_get_error (future);

  g_ptr_array_remove_fast (s->live, future);
  s->n_finished++;

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      error->domain != STRESS_ERROR)
    violation (s, "a task failed with %s", error->message);
}

typedef struct
{
  AioTask      *task;          /* borrowed: s->tasks holds it */
  GCancellable *cancellable;   /* borrowed, or NULL for aio_task_cancel() */
} CancelOrder;

static gpointer
canceller_thread (gpointer data)
{
  Stress *s = data;

  for (;;)
    {
      CancelOrder *order = g_async_queue_pop (s->cancel_orders);

      if (order->task == NULL)
        {
          g_free (order);
          return NULL;
        }
      if (order->cancellable != NULL)
        g_cancellable_cancel (order->cancellable);
      else if (aio_task_cancel (order->task, "from a thread"))
        g_atomic_int_inc (&s->n_thread_cancels);
      g_free (order);
    }
}

static gpointer
putter_thread (gpointer data)
{
  Stress *s = data;

  while (g_async_queue_pop (s->put_orders) != GUINT_TO_POINTER (2))
    {
      Item *item = item_new (s, ITEM_THREAD);

      /* It goes in, if not at once then when there is room. */
      item_mark (item, LEDGER_CONFIRMED);
      aio_queue_put_threadsafe (s->queue, item);
    }
  return NULL;
}

/* Cancels a live task now and then, in one of four ways. */
static void
chaos (AioTask  *task,
       gpointer  user_data)
{
  Stress *s = user_data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (s->seed ^ 0x5bd1e995u);

  while (!s->winding_down)
    {
      /* One cancellation every CANCEL_EVERY operations, on average: a
       * count of operations, not a time, so that the run does the same
       * on any machine. */
      guint at = s->ops_done + g_rand_int_range (rand, 1, 2 * CANCEL_EVERY);
      AioTask *victim;
      CancelOrder *order;

      while (s->ops_done < at && !s->winding_down)
        if (!aio_yield (NULL))
          return;   /* the driver gave up on a stuck run */
      if (s->live->len <= 1)    /* ourselves */
        continue;
      victim = g_ptr_array_index (s->live, g_rand_int_range (rand, 0, s->live->len));
      if (victim == task)
        continue;

      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
          s->n_loop_cancels++;
          aio_task_cancel (victim, "from the loop");
          break;
        case 1:
          s->n_loop_cancels++;
          g_cancellable_cancel (aio_task_get_cancellable (victim));
          break;
        default:
          s->n_thread_cancel_orders++;
          order = g_new0 (CancelOrder, 1);
          order->task = victim;
          if (g_rand_boolean (rand))
            order->cancellable = aio_task_get_cancellable (victim);
          g_async_queue_push (s->cancel_orders, order);
          break;
        }
    }
}

/* ==== a run ================================================================ */

static void
stress_setup (Stress *s,
              guint   seed,
              guint   n_ops)
{
  s->seed = seed;
  s->n_ops = n_ops;
  s->rand = g_rand_new_with_seed (seed);

  s->queue = aio_queue_new (QUEUE_MAX, item_free);
  s->lock = aio_lock_new ();
  s->semaphore = aio_semaphore_new (SEM_SLOTS);
  s->bounded = aio_bounded_semaphore_new (BSEM_SLOTS);
  s->condition = aio_condition_new (NULL);
  s->barrier = aio_barrier_new (PARTIES);
  s->event = aio_event_new ();
  s->executor = AIO_EXECUTOR (aio_thread_pool_executor_new (3));
  s->worker_gone = aio_event_new ();

  /* At most two items an operation, and one the thread puts for it. */
  s->ledger_size = 3 * n_ops + 16;
  s->ledger = g_new0 (Record, s->ledger_size);
  s->barrier_indices = g_new0 (guint, PARTIES);

  s->tasks = g_ptr_array_new_with_free_func (g_object_unref);
  s->live = g_ptr_array_new ();
  s->unassigned = n_ops;

  s->cancel_orders = g_async_queue_new ();
  s->put_orders = g_async_queue_new ();
  s->canceller = g_thread_new ("stress-canceller", canceller_thread, s);
  s->putter = g_thread_new ("stress-putter", putter_thread, s);
}

/* Waits until every worker is gone.  A worker that never ends (a lock
 * held by a task that was told it did not get it) is reported. */
static void
stress_drive (Stress *s)
{
  gdouble limit = RUNNING_ON_VALGRIND ? 600.0 : 60.0;

  for (;;)
    {
      g_autoptr(GError) error = NULL;

      while (s->live_workers < N_WORKERS && s->unassigned > 0)
        worker_spawn (s);
      if (s->live_workers == 0)
        break;

      aio_event_clear (s->worker_gone);
      if (!aio_await (aio_wait_for (aio_event_wait (s->worker_gone), limit), &error))
        {
          violation (s, "no task finished for %.0f s: %u workers are stuck (%s)",
                     limit, s->live_workers, error->message);
          for (guint i = 0; i < s->live->len; i++)
            aio_task_cancel (g_ptr_array_index (s->live, i), "stuck");
          limit = 5.0;
        }
    }
}

/* Whether every item whose put was confirmed came out: received, or
 * drained at the end. */
static gboolean
all_puts_accounted (Stress *s)
{
  gint n_items = g_atomic_int_get (&s->n_items);

  for (gint id = 0; id < n_items; id++)
    {
      Record *record = &s->ledger[id];
      gint kind = g_atomic_int_get (&record->kind);
      gint flags = g_atomic_int_get (&record->flags);

      if ((kind == ITEM_QUEUE || kind == ITEM_THREAD) &&
          (flags & LEDGER_CONFIRMED) != 0 && (flags & LEDGER_LEFTOVER) == 0 &&
          g_atomic_int_get (&record->received_by) == 0)
        return FALSE;
    }
  return TRUE;
}

/* Takes the items still queued, and those of puts that wait for room (the
 * thread's and the loop's aio_queue_put_threadsafe()), as they go in. */
static void
stress_drain (Stress *s)
{
  for (guint round = 0; round < 10000; round++)
    {
      gpointer item;

      while ((item = aio_queue_get_nowait (s->queue, NULL)) != NULL)
        {
          item_mark (item, LEDGER_LEFTOVER);
          s->n_leftover++;
          item_free (item);
        }
      if (all_puts_accounted (s))
        return;
      g_assert_true (aio_yield (NULL));
    }
  violation (s, "items put are neither received nor queued");
}

static void
stress_check (Stress *s)
{
  gint n_items = g_atomic_int_get (&s->n_items);

  for (gint id = 0; id < n_items; id++)
    {
      Record *record = &s->ledger[id];
      gint kind = g_atomic_int_get (&record->kind);
      gint flags = g_atomic_int_get (&record->flags);
      gboolean received = g_atomic_int_get (&record->received_by) != 0;
      gboolean leftover = (flags & LEDGER_LEFTOVER) != 0;
      gboolean confirmed = (flags & LEDGER_CONFIRMED) != 0;
      gint n_frees = g_atomic_int_get (&record->n_frees);

      if (n_frees != 1)
        violation (s, "%s item %d was freed %d times", item_kind_names[kind], id, n_frees);
      if (received && leftover)
        violation (s, "%s item %d was received and is still queued", item_kind_names[kind], id);

      switch (kind)
        {
        case ITEM_QUEUE:
        case ITEM_THREAD:
          if (confirmed && !received && !leftover)
            violation (s, "%s item %d was put, and lost", item_kind_names[kind], id);
          if (!confirmed && (received || leftover))
            violation (s, "%s item %d went in, but its put was told it failed",
                       item_kind_names[kind], id);
          break;

        case ITEM_EXECUTOR:
          if (flags & LEDGER_REFUSED)
            s->n_refused++;
          if (!received && !(flags & LEDGER_REFUSED))
            violation (s, "executor item %d resolved its future, and was lost", id);
          break;

        case ITEM_TASK:
          if (confirmed && !received)
            violation (s, "task item %d was its task's result, and was lost", id);
          break;

        default:
          g_assert_not_reached ();
        }
    }

  if (s->lock_holders != 0 || aio_lock_is_locked (s->lock))
    violation (s, "the lock is left held (%u holders counted)", s->lock_holders);
  if (s->sem_holders != 0 || aio_semaphore_get_value (s->semaphore) != SEM_SLOTS)
    violation (s, "the semaphore is left held: value %d of %d",
               aio_semaphore_get_value (s->semaphore), SEM_SLOTS);
  if (s->bounded_holders != 0 || aio_semaphore_get_value (s->bounded) != BSEM_SLOTS)
    violation (s, "the bounded semaphore is left held: value %d of %d",
               aio_semaphore_get_value (s->bounded), BSEM_SLOTS);
  if (aio_condition_is_locked (s->condition))
    violation (s, "the condition's lock is left held");
  if (s->tokens_made != s->tokens_taken + s->tokens)
    violation (s, "condition tokens: %u made, %u taken, %u left",
               s->tokens_made, s->tokens_taken, s->tokens);

  s->n_rounds = s->barrier_indices[0];
  for (guint i = 1; i < PARTIES; i++)
    if (s->barrier_indices[i] != s->n_rounds)
      violation (s, "barrier: index 0 given %u times, index %u %u times",
                 s->n_rounds, i, s->barrier_indices[i]);
  if (aio_barrier_get_n_waiting (s->barrier) != 0)
    violation (s, "%u parties left waiting at the barrier", aio_barrier_get_n_waiting (s->barrier));

}

/* Every task finished; then they go, with the results they still hold. */
static void
stress_check_tasks (Stress *s)
{
  if (s->n_finished != s->tasks->len)
    violation (s, "%u of %u tasks finished", s->n_finished, s->tasks->len);
  for (guint i = 0; i < s->tasks->len; i++)
    if (!aio_future_is_done (g_ptr_array_index (s->tasks, i)))
      violation (s, "task %s never finished", aio_task_get_name (g_ptr_array_index (s->tasks, i)));

  g_clear_pointer (&s->tasks, g_ptr_array_unref);
  g_clear_pointer (&s->live, g_ptr_array_unref);
}

static void
stress_report (Stress *s)
{
  guint n_moved = 0;

  for (guint i = 0; i < N_ITEM_KINDS; i++)
    n_moved += s->n_received[i];

  g_test_message ("stress: seed %u: %u operations by %u workers and %u child tasks; "
                  "%u items moved (%u queue, %u thread, %u executor, %u task), "
                  "%u left queued, %u dropped by cancelled jobs",
                  s->seed, s->ops_done, s->next_worker, s->n_children, n_moved,
                  s->n_received[ITEM_QUEUE], s->n_received[ITEM_THREAD],
                  s->n_received[ITEM_EXECUTOR], s->n_received[ITEM_TASK],
                  s->n_leftover, s->n_refused);
  g_test_message ("stress: seed %u: cancellations: %u from the loop, %u handed to a thread "
                  "(%d taken), %u waits ended cancelled, %u timed out; %u lock and %u "
                  "semaphore acquisitions, %u condition tokens, %u barrier rounds, "
                  "%u task groups, %u executor jobs, %u combinators",
                  s->seed, s->n_loop_cancels, s->n_thread_cancel_orders,
                  g_atomic_int_get (&s->n_thread_cancels), s->n_cancelled_waits,
                  s->n_timeouts, s->n_lock, s->n_sem, s->tokens_made, s->n_rounds,
                  s->n_groups, s->n_jobs, s->n_combinators);
}

static void
stress_teardown (Stress *s)
{
  g_assert_finalize_object (s->queue);
  g_assert_finalize_object (s->lock);
  g_assert_finalize_object (s->semaphore);
  g_assert_finalize_object (s->bounded);
  g_assert_finalize_object (s->condition);
  g_assert_finalize_object (s->barrier);
  g_assert_finalize_object (s->event);
  g_assert_finalize_object (s->worker_gone);
  g_clear_pointer (&s->ledger, g_free);
  g_clear_pointer (&s->barrier_indices, g_free);
  g_clear_pointer (&s->rand, g_rand_free);
  g_async_queue_unref (s->cancel_orders);
  g_async_queue_unref (s->put_orders);
}

/* Across the runs of a long run. */
static guint64 total_ops;
static guint64 total_moved;

static void
stress_run (guint seed,
            guint n_ops)
{
  Stress s = { 0, };
  CancelOrder *stop;
  AioTask *chaos_task;
  guint n_violations;

  stress_setup (&s, seed, n_ops);

  chaos_task = aio_create_task (chaos, &s, NULL);
  track (&s, chaos_task);
  stress_drive (&s);
  s.winding_down = TRUE;
  aio_await (g_object_ref ((AioFuture *) chaos_task), NULL);

  /* The threads' last orders, then the executor's last jobs. */
  stop = g_new0 (CancelOrder, 1);
  g_async_queue_push (s.cancel_orders, stop);
  g_async_queue_push (s.put_orders, GUINT_TO_POINTER (2));
  g_thread_join (s.canceller);
  g_thread_join (s.putter);
  aio_executor_shutdown (s.executor, TRUE);
  g_clear_object (&s.executor);
  stress_drain (&s);
  /* The cancellations the thread sent last, on tasks long done. */
  yield_n (2);

  stress_check_tasks (&s);
  stress_check (&s);
  stress_report (&s);
  total_ops += s.ops_done;
  for (guint i = 0; i < N_ITEM_KINDS; i++)
    total_moved += s.n_received[i];
  n_violations = s.n_violations;
  if (n_violations > 0)
    g_test_message ("stress: seed %u failed; replay it with AIO_STRESS_SEED=%u AIO_STRESS_OPS=%u",
                    seed, seed, n_ops);
  stress_teardown (&s);
  g_assert_cmpuint (n_violations, ==, 0);
}

static guint
env_uint (const char *name,
          guint       fallback)
{
  const char *value = g_getenv (name);

  return value != NULL && *value != '\0' ? (guint) g_ascii_strtoull (value, NULL, 10) : fallback;
}

static void
test_stress (Fixture *f)
{
  guint seed = env_uint ("AIO_STRESS_SEED", g_random_int ());
  guint n_ops = env_uint ("AIO_STRESS_OPS", RUNNING_ON_VALGRIND ? VALGRIND_OPS : DEFAULT_OPS);
  guint seconds = env_uint ("AIO_STRESS_SECONDS", 0);
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  guint n_runs = 0;

  g_test_summary ("Random operations by fiber and stepped tasks on every primitive and "
                  "combinator, with cancellations from the loop and from a thread and "
                  "completions from worker threads; afterwards nothing is lost, "
                  "over-held or left held, and every task finished");

  do
    {
      g_test_message ("stress: seed %u, %u operations", seed, n_ops);
      stress_run (seed, n_ops);
      seed++;
      n_runs++;
    }
  while (g_get_monotonic_time () < end);

  g_test_message ("stress: %u run%s (seeds %u to %u), %" G_GUINT64_FORMAT " operations, "
                  "%" G_GUINT64_FORMAT " items moved, nothing lost",
                  n_runs, n_runs == 1 ? "" : "s", seed - n_runs, seed - 1, total_ops, total_moved);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* A long run asks for longer. */
  aio_test_set_watchdog (env_uint ("AIO_STRESS_SECONDS", 0) + (RUNNING_ON_VALGRIND ? 1200 : 300));

  TEST ("/aio/stress", test_stress);

  return g_test_run ();
}
