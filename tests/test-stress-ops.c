/* test-stress-ops.c: the operations of the stress test, one per primitive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each operation is a small state machine (see OpFunc in test-stress.h),
 * so that fiber and stepped workers run the same code.
 */

#include "config.h"

#include <aio-glib.h>

#include "aio-test.h"
#include "test-stress.h"

/* ---- children: tasks that workers start --------------------------------- */

typedef struct
{
  Stress   *s;
  guint     n_yields;
  gboolean  fail;
  gboolean  make_item;
  guint     step;
} Child;

static void
child_return (AioTask *task,
              Child   *c)
{
  if (c->fail)
    aio_task_return_error (task, g_error_new_literal (STRESS_ERROR, 1, "child failed"));
  else if (c->make_item)
    aio_task_return_pointer (task, item_new (c->s, ITEM_TASK), item_free);
}

static void
child_fiber (AioTask  *task,
             gpointer  user_data)
{
  Child *c = user_data;

  for (guint i = 0; i < c->n_yields; i++)
    if (!aio_yield (NULL))
      return;
  child_return (task, c);
}

static AioFuture *
child_step (AioTask   *task,
            AioFuture *completed,
            gpointer   user_data)
{
  Child *c = user_data;

  if (completed != NULL && !aio_future_is_resolved (completed))
    return NULL;
  if (c->step++ < c->n_yields)
    return aio_yield_future ();
  child_return (task, c);
  return NULL;
}

static Child *
child_new (Worker   *w,
           gboolean  make_item)
{
  Child *c = g_new0 (Child, 1);

  c->s = w->s;
  c->n_yields = g_rand_int_range (w->rand, 0, 4);
  c->fail = !make_item && g_rand_int_range (w->rand, 0, 4) == 0;
  c->make_item = make_item;
  w->s->n_children++;
  return c;
}

static AioTask *
child_spawn (Worker   *w,
             gboolean  make_item)
{
  Child *c = child_new (w, make_item);

  if (coin (w))
    return aio_create_stepped_task (child_step, c, g_free);
  return aio_create_task (child_fiber, c, g_free);
}

/* ==== the operations ====================================================== */

/* ---- queue ---------------------------------------------------------------- */

static AioFuture *
op_put (Worker       *w,
        const GError *error)
{
  Stress *s = w->s;
  AioFuture *put;

  switch (w->phase++)
    {
    case 0:
      w->item = item_new (s, ITEM_QUEUE);
      w->item_id = w->item->id;
      switch (g_rand_int_range (w->rand, 0, 4))
        {
        case 0:
          /* Marked first: a put that works hands the item over. */
          item_mark (w->item, LEDGER_CONFIRMED);
          if (!aio_queue_put_nowait (s->queue, w->item, NULL))
            {
              /* Still ours: the queue never had it. */
              g_atomic_int_and (&s->ledger[w->item_id].flags, ~LEDGER_CONFIRMED);
              item_free (w->item);
            }
          w->item = NULL;
          return NULL;

        case 1:
          /* From the loop's own thread, it goes straight in (or waits its
           * turn if the queue is full): it cannot fail. */
          item_mark (w->item, LEDGER_CONFIRMED);
          aio_queue_put_threadsafe (s->queue, g_steal_pointer (&w->item));
          return NULL;

        case 2:
          w->scope = aio_timeout_enter (short_timeout (w));
          return wait_kept (w, aio_queue_put (s->queue, g_steal_pointer (&w->item)));

        default:
          put = aio_queue_put (s->queue, g_steal_pointer (&w->item));
          return wait_kept (w, aio_wait_for (put, short_timeout (w)));
        }

    case 1:
      count_scoped_error (w, error);
      /* Told it went in: it must come out.  Told otherwise, the queue
       * freed it, and it must never come out.  (Either way it may be gone
       * by now: only its number is ours.) */
      if (error == NULL)
        ledger_mark (s, w->item_id, LEDGER_CONFIRMED);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static AioFuture *
op_get (Worker       *w,
        const GError *error)
{
  Stress *s = w->s;

  switch (w->phase++)
    {
    case 0:
      switch (g_rand_int_range (w->rand, 0, 3))
        {
        case 0:
          {
            gpointer item = aio_queue_get_nowait (s->queue, NULL);

            if (item != NULL)
              {
                receive (w, item);
                item_free (item);
              }
            return NULL;
          }

        case 1:
          w->scope = aio_timeout_enter (short_timeout (w));
          return wait_kept (w, aio_queue_get (s->queue));

        default:
          return wait_kept (w, aio_wait_for (aio_queue_get (s->queue), short_timeout (w)));
        }

    case 1:
      count_scoped_error (w, error);
      /* Only what the task was told: an item behind an error is lost, and
       * the ledger shows it. */
      if (error == NULL)
        receive (w, aio_future_get_pointer (w->fut, NULL));
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* Asks the thread to put an item with aio_queue_put_threadsafe(). */
static AioFuture *
op_thread_put (Worker       *w,
               const GError *error)
{
  g_async_queue_push (w->s->put_orders, GUINT_TO_POINTER (1));
  return NULL;
}

/* ---- lock and semaphores -------------------------------------------------- */

enum
{
  HOLD_LOCK,
  HOLD_SEMAPHORE,
  HOLD_BOUNDED,
};

static AioFuture *
hold_future (Worker *w)
{
  switch (g_rand_int_range (w->rand, 0, 3))
    {
    case 0:
      return aio_yield_future ();
    case 1:
      return aio_sleep (0);
    default:
      return aio_sleep (short_timeout (w) / 4);
    }
}

static AioFuture *
op_hold (Worker       *w,
         const GError *error)
{
  Stress *s = w->s;
  AioFuture *acquire;

  switch (w->phase++)
    {
    case 0:
      w->flags = g_rand_int_range (w->rand, HOLD_LOCK, HOLD_BOUNDED + 1);
      if (w->flags == HOLD_LOCK)
        acquire = aio_lock_acquire (s->lock);
      else
        acquire = aio_semaphore_acquire (w->flags == HOLD_SEMAPHORE ? s->semaphore : s->bounded);
      /* Plain acquisitions wait as long as it takes: a holder that is
       * never told it holds never releases, and the run hangs, which the
       * driver reports. */
      if (coin (w))
        acquire = aio_wait_for (acquire, short_timeout (w));
      return wait_kept (w, acquire);

    case 1:
      count_error (w, error);
      if (error != NULL)
        return NULL;
      switch (w->flags)
        {
        case HOLD_LOCK:
          s->n_lock++;
          if (s->lock_holders != 0)
            violation (s, "the lock is held by %u tasks already", s->lock_holders);
          if (aio_lock_get_owner (s->lock) != w->task)
            violation (s, "the lock is not held by worker %u, which was told so", w->number);
          s->lock_holders++;
          break;
        case HOLD_SEMAPHORE:
          s->n_sem++;
          if (s->sem_holders >= SEM_SLOTS)
            violation (s, "the semaphore is held %u times already", s->sem_holders);
          s->sem_holders++;
          break;
        default:
          s->n_sem++;
          if (s->bounded_holders >= BSEM_SLOTS)
            violation (s, "the bounded semaphore is held %u times already", s->bounded_holders);
          s->bounded_holders++;
          break;
        }
      return wait_kept (w, hold_future (w));

    case 2:
      /* Held, however the hold ended: give it back. */
      count_error (w, error);
      switch (w->flags)
        {
        case HOLD_LOCK:
          s->lock_holders--;
          aio_lock_release (s->lock);
          break;
        case HOLD_SEMAPHORE:
          s->sem_holders--;
          aio_semaphore_release (s->semaphore);
          break;
        default:
          s->bounded_holders--;
          aio_semaphore_release (s->bounded);
          break;
        }
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- condition ------------------------------------------------------------ */

static gboolean
have_tokens (gpointer user_data)
{
  Stress *s = user_data;

  return s->tokens > 0;
}

static AioFuture *
op_condition (Worker       *w,
              const GError *error)
{
  Stress *s = w->s;
  AioFuture *wait;

  switch (w->phase++)
    {
    case 0:
      w->flags = coin (w);    /* TRUE: consume */
      return wait_kept (w, aio_condition_acquire (s->condition));

    case 1:
      count_error (w, error);
      if (error != NULL)
        return NULL;
      if (!w->flags)
        {
          s->tokens++;
          s->tokens_made++;
          aio_condition_notify (s->condition, 1);
          aio_condition_release (s->condition);
          return NULL;
        }
      wait = aio_condition_wait_for (s->condition, have_tokens, s, NULL);
      return wait_kept (w, aio_wait_for (wait, short_timeout (w)));

    case 2:
      count_error (w, error);
      /* The lock is held again, whatever the wait ended with. */
      if (aio_lock_get_owner (aio_condition_get_lock (s->condition)) != w->task)
        {
          violation (s, "worker %u left a condition wait without its lock", w->number);
          return NULL;
        }
      if (error == NULL)
        {
          if (s->tokens == 0)
            violation (s, "a condition wait_for() returned with its predicate false");
          else
            {
              s->tokens--;
              s->tokens_taken++;
            }
        }
      aio_condition_release (s->condition);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- barrier and event ---------------------------------------------------- */

static void
count_index (Stress *s,
             gint64  index)
{
  if (index < 0 || index >= PARTIES)
    violation (s, "barrier index %" G_GINT64_FORMAT, index);
  else
    s->barrier_indices[index]++;
}

static AioFuture *
op_barrier (Worker       *w,
            const GError *error)
{
  Stress *s = w->s;
  AioFuture *wait;

  switch (w->phase++)
    {
    case 0:
      wait = aio_barrier_wait (s->barrier);
      if (coin (w))
        return wait_kept (w, aio_wait_for (wait, 4 * SHORT));
      /* A shield leaves the wait behind when it is cancelled (by the
       * timeout here): keep it, to withdraw it or read its index. */
      w->kept = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (w->kept, g_object_ref (wait));
      return wait_kept (w, aio_wait_for (aio_shield (wait), 4 * SHORT));

    case 1:
      count_error (w, error);
      if (w->kept != NULL)
        {
          wait = g_ptr_array_index (w->kept, 0);
          aio_future_cancel (wait, NULL);
          if (aio_future_is_resolved (wait))
            count_index (s, aio_future_get_int64 (wait, NULL));
          else
            (void) aio_future_get_error (wait);
          g_clear_pointer (&w->kept, g_ptr_array_unref);
        }
      else if (error == NULL)
        count_index (s, aio_future_get_int64 (w->fut, NULL));
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static AioFuture *
op_event (Worker       *w,
          const GError *error)
{
  Stress *s = w->s;

  switch (w->phase++)
    {
    case 0:
      switch (g_rand_int_range (w->rand, 0, 4))
        {
        case 0:
          aio_event_set (s->event);
          return NULL;
        case 1:
          aio_event_clear (s->event);
          return NULL;
        default:
          return wait_kept (w, aio_wait_for (aio_event_wait (s->event), short_timeout (w)));
        }

    case 1:
      count_error (w, error);
      if (error == NULL && !aio_future_get_boolean (w->fut, NULL))
        violation (s, "an event wait resolved with FALSE");
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- task group and child tasks ------------------------------------------ */

static AioFuture *
op_group (Worker       *w,
          const GError *error)
{
  Stress *s = w->s;

  switch (w->phase++)
    {
    case 0:
      {
        guint n = g_rand_int_range (w->rand, 1, 4);

        s->n_groups++;
        w->group = aio_task_group_new ();
        w->children = g_ptr_array_new_with_free_func (g_object_unref);
        for (guint i = 0; i < n; i++)
          {
            Child *c = child_new (w, FALSE);
            AioTask *task;

            if (coin (w))
              task = aio_task_group_create_stepped_task (w->group, child_step, c, g_free);
            else
              task = aio_task_group_create_task (w->group, child_fiber, c, g_free);
            g_ptr_array_add (w->children, g_object_ref (task));
            track (s, g_object_ref (task));
          }
        return wait_kept (w, aio_task_group_wait (w->group));
      }

    case 1:
      {
        gboolean failed = FALSE;

        count_error (w, error);
        for (guint i = 0; i < w->children->len; i++)
          {
            AioFuture *child = g_ptr_array_index (w->children, i);

            if (!aio_future_is_done (child))
              violation (s, "a task group's wait ended before its task");
            else if (aio_future_is_rejected (child))
              failed = TRUE;
          }
        /* Its outcome is the group's, not one lost to a cancellation. */
        if (error == NULL && failed)
          violation (s, "a task group with a failed task resolved");
        if (error != NULL && error->domain == STRESS_ERROR && !failed)
          violation (s, "a task group failed without a failed task");
        g_clear_pointer (&w->children, g_ptr_array_unref);
        g_clear_object (&w->group);
        return NULL;
      }

    default:
      g_assert_not_reached ();
    }
}

/* Awaits a child task that returns an item. */
static AioFuture *
op_child (Worker       *w,
          const GError *error)
{
  Stress *s = w->s;
  AioFuture *wait;

  switch (w->phase++)
    {
    case 0:
      w->child = child_spawn (w, TRUE);
      track (s, g_object_ref (w->child));
      wait = g_object_ref ((AioFuture *) w->child);
      if (coin (w))
        wait = aio_wait_for (wait, short_timeout (w));
      return wait_kept (w, wait);

    case 1:
      count_error (w, error);
      /* Whatever we were told, the child is done by now. */
      if (!aio_future_is_done ((AioFuture *) w->child))
        violation (s, "a task's await ended before the task");
      else if (aio_future_is_resolved ((AioFuture *) w->child))
        {
          Item *item = aio_future_get_pointer ((AioFuture *) w->child, NULL);

          item_mark (item, LEDGER_CONFIRMED);
          if (error == NULL)
            receive (w, item);
        }
      g_clear_object (&w->child);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- executor ------------------------------------------------------------- */

static void
job (AioFuture    *future,
     GCancellable *cancellable,
     gpointer      user_data)
{
  Stress *s = user_data;

  if (g_cancellable_is_cancelled (cancellable))
    return;

  /* Should the future be cancelled meanwhile, the item is freed in this
   * call, and the ledger learns why. */
  resolving = TRUE;
  aio_future_resolve_pointer (future, item_new (s, ITEM_EXECUTOR), item_free);
  resolving = FALSE;
}

static AioFuture *
run_job (Worker *w)
{
  w->s->n_jobs++;
  return aio_run_in_executor (w->s->executor, job, w->s, NULL);
}

static AioFuture *
op_job (Worker       *w,
        const GError *error)
{
  AioFuture *wait;

  switch (w->phase++)
    {
    case 0:
      wait = run_job (w);
      if (coin (w))
        wait = aio_wait_for (wait, short_timeout (w));
      return wait_kept (w, wait);

    case 1:
      count_error (w, error);
      if (error == NULL)
        receive (w, aio_future_get_pointer (w->fut, NULL));
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- combinators over futures the worker keeps ---------------------------- */

/* A get or an executor job, kept in w->kept. */
static AioFuture *
kept_source (Worker *w)
{
  AioFuture *future = g_rand_int_range (w->rand, 0, 3) == 0 ? run_job (w)
                                                               : aio_queue_get (w->s->queue);

  if (w->kept == NULL)
    w->kept = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (w->kept, g_object_ref (future));
  return future;
}

static AioFuture *
op_combinator (Worker       *w,
               const GError *error)
{
  AioFuture *first, *second, *wait;

  switch (w->phase++)
    {
    case 0:
      w->s->n_combinators++;
      first = kept_source (w);
      second = kept_source (w);
      switch (g_rand_int_range (w->rand, 0, 4))
        {
        case 0:
          g_object_unref (second);
          wait = aio_gather_array (w->kept, coin (w));
          g_object_unref (first);
          /* A gather of gets can wait for ever: bound it. */
          return wait_kept (w, aio_wait_for (wait, short_timeout (w)));

        case 1:
          wait = aio_wait (w->kept, short_timeout (w),
                           coin (w) ? AIO_WAIT_FIRST_COMPLETED : AIO_WAIT_ALL_COMPLETED);
          g_object_unref (first);
          g_object_unref (second);
          return wait_kept (w, wait);

        case 2:
          w->outputs = aio_as_completed (w->kept, short_timeout (w));
          g_object_unref (first);
          g_object_unref (second);
          return wait_kept (w, g_object_ref (g_ptr_array_index (w->outputs, 0)));

        default:
          /* aio_shield() consumes a reference: the one we were given. */
          g_object_unref (second);
          wait = aio_shield (first);
          return wait_kept (w, aio_wait_for (wait, short_timeout (w)));
        }

    case 1:
      count_error (w, error);
      G_GNUC_FALLTHROUGH;

    default:
      /* Again after each wait for a job's outcome on its way. */
      return settle_kept (w);
    }
}

/* ---- sleeping ------------------------------------------------------------- */

/* A sleep nobody else holds (the task sleeps on its own timer) or a yield,
 * without keeping it. */
static AioFuture *
op_sleep (Worker       *w,
          const GError *error)
{
  switch (w->phase++)
    {
    case 0:
      g_clear_object (&w->fut);
      if (coin (w))
        return aio_yield_future ();
      return aio_sleep (short_timeout (w) / 2);

    case 1:
      count_error (w, error);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- choosing ------------------------------------------------------------- */

const Op stress_ops[] = {
  { op_put,        9 },
  { op_get,        9 },
  { op_thread_put, 2 },
  { op_hold,       8 },
  { op_condition,  4 },
  { op_barrier,    2 },
  { op_event,      3 },
  { op_group,      1 },
  { op_child,      2 },
  { op_job,        3 },
  { op_combinator, 4 },
  { op_sleep,      3 },
};

const guint stress_n_ops = G_N_ELEMENTS (stress_ops);
