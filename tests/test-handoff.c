/* test-handoff.c: cancellation never loses what a completed future carries
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A future a task waits for may complete before the task resumes: a get
 * that found an item, a lock granted at once, a barrier that let its
 * round go, a task group that finished.  A cancellation that comes in
 * between must not take the outcome away from the task, or the item is
 * lost and the lock held for ever by a task that was told it failed
 * (issue 12).  The task gets the future, with its outcome, and the
 * cancellation at its next wait (DESIGN.md, "GIO both ways").
 *
 * Each case below is run in a fiber task and in a stepped task, the kind
 * language bindings use:
 *
 * - AT_ONCE: the future is done when the task gets it.  The stepped task
 *   returns it from a step and is cancelled before its next step runs;
 *   the fiber task cancels itself first, then awaits it (awaiting a done
 *   future does not suspend, as in asyncio).
 * - BY_MAIN: the task waits for a pending future; the test completes it
 *   (its callbacks are queued for the loop's next round) and cancels the
 *   task before that round.
 *
 * Either way the body must get the very future, with its outcome, and be
 * cancelled at the long sleep it waits for next.
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-test.h"

#define LONG_SLEEP 3600.0

/* ---- items ---------------------------------------------------------------- */

/* A queue item: an id, and a counter of the items freed. */
typedef struct
{
  guint  id;
  guint *n_freed;
} Item;

static Item *
item_new (guint  id,
          guint *n_freed)
{
  Item *item = g_new0 (Item, 1);

  item->id = id;
  item->n_freed = n_freed;
  return item;
}

static void
item_free (gpointer data)
{
  Item *item = data;

  (*item->n_freed)++;
  g_free (item);
}

static guint
item_id (gpointer data)
{
  return data != NULL ? ((Item *) data)->id : 0;
}

/* ---- cases ---------------------------------------------------------------- */

typedef enum
{
  AT_ONCE,
  BY_MAIN,
} Mode;

typedef struct _Ctx Ctx;

typedef struct
{
  const char *name;
  Mode        mode;
  /* In the test's main task: sets the scene. */
  void       (*start)    (Ctx *ctx);
  /* In the task under test: the future it waits for. */
  AioFuture *(*make)     (Ctx *ctx);
  /* BY_MAIN, in the main task: completes what the task waits for. */
  void       (*complete) (Ctx *ctx);
  /* In the task under test, with the future it got back: checks the
   * outcome, and uses it (takes the item, releases the lock...). */
  void       (*check)    (Ctx *ctx,
                          AioFuture *future);
  /* In the main task, once the task under test is over: nothing lost. */
  void       (*finish)   (Ctx *ctx);
} Case;

struct _Ctx
{
  Fixture      *f;
  const Case   *c;
  gboolean      stepped;

  AioQueue     *queue;
  AioLock      *lock;
  AioSemaphore *semaphore;
  AioCondition *condition;
  AioBarrier   *barrier;
  AioEvent     *event;
  AioTaskGroup *group;
  AioTask      *other;       /* a task the case uses */
  AioFuture    *mine;        /* a future the main task keeps */
  guint         n_freed;

  /* The task under test. */
  AioTask      *task;
  AioFuture    *awaited;     /* what it waits for (a reference) */
  guint         step;
  gboolean      got_outcome;
  gboolean      lost;        /* it got a cancellation in place of it */
  gboolean      cancelled_next;
};

/* ---- the task under test -------------------------------------------------- */

static void
ctx_got (Ctx       *ctx,
         AioFuture *future)
{
  ctx->got_outcome = TRUE;
  ctx->c->check (ctx, future);
}

static void
handoff_fiber (AioTask  *task,
               gpointer  user_data)
{
  Ctx *ctx = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (ctx->c->mode == AT_ONCE)
    g_assert_true (aio_task_cancel (task, "hand-off"));

  ctx->awaited = ctx->c->make (ctx);
  ok = aio_await (g_object_ref (ctx->awaited), &error);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* A cancellation in place of the outcome (no case ends cancelled). */
      ctx->lost = TRUE;
      return;
    }
  g_clear_error (&error);
  ctx_got (ctx, ctx->awaited);

  if (!aio_await (aio_sleep (LONG_SLEEP), &error))
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "hand-off");
      ctx->cancelled_next = TRUE;
    }
}

static AioFuture *
handoff_step (AioTask   *task,
              AioFuture *completed,
              gpointer   user_data)
{
  Ctx *ctx = user_data;
  g_autoptr(GError) error = NULL;

  switch (ctx->step++)
    {
    case 0:
      ctx->awaited = ctx->c->make (ctx);
      return g_object_ref (ctx->awaited);

    case 1:
      if (completed != ctx->awaited || aio_future_is_cancelled (completed))
        {
          /* A cancellation in place of the outcome: a fresh cancelled
           * future, or the combinator we waited for cancelled. */
          g_assert_true (aio_future_is_cancelled (completed));
          ctx->lost = TRUE;
          return NULL;
        }
      ctx_got (ctx, completed);
      return aio_sleep (LONG_SLEEP);

    case 2:
      g_assert_false (aio_future_propagate (completed, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "hand-off");
      ctx->cancelled_next = TRUE;
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

/* ---- the test's main task ------------------------------------------------- */

static const Case *current_case;
static gboolean    current_stepped;

static void
handoff_main (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  Ctx ctx = { 0, };

  ctx.f = f;
  ctx.c = current_case;
  ctx.stepped = current_stepped;

  g_test_summary ("Cancelling a task whose awaited future completed before it "
                  "resumed loses nothing the future carries: the body gets its "
                  "outcome, and the cancellation at its next wait");

  if (ctx.c->start != NULL)
    ctx.c->start (&ctx);

  if (ctx.stepped)
    ctx.task = aio_create_stepped_task (handoff_step, &ctx, NULL);
  else
    ctx.task = aio_create_task (handoff_fiber, &ctx, NULL);

  /* The task runs up to its wait.  A stepped task waiting for a future
   * that is done already is resumed on the loop's next round, after we
   * resume here. */
  yield_n (1);
  g_assert_nonnull (ctx.awaited);

  if (ctx.c->mode == BY_MAIN)
    {
      g_assert_false (aio_future_is_done (ctx.awaited));
      ctx.c->complete (&ctx);
    }

  if (ctx.c->mode == BY_MAIN || ctx.stepped)
    {
      /* What the task waits for is done (or, for a combinator, what that
       * waits for is), and the task has not resumed yet: the moment. */
      g_assert_false (ctx.got_outcome || ctx.lost);
      g_assert_true (aio_task_cancel (ctx.task, "hand-off"));
    }

  g_assert_false (aio_await (g_object_ref ((AioFuture *) ctx.task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_assert_false (ctx.lost);
  g_assert_true (ctx.got_outcome);
  g_assert_true (ctx.cancelled_next);

  if (ctx.c->finish != NULL)
    ctx.c->finish (&ctx);

  /* We resumed inside the dispatch of the task's callbacks, which holds
   * it until it returns. */
  yield_n (1);
  g_clear_object (&ctx.awaited);
  g_assert_finalize_object (ctx.task);
  g_clear_object (&ctx.mine);
  g_clear_object (&ctx.other);
  if (ctx.queue != NULL)
    g_assert_finalize_object (ctx.queue);
  if (ctx.lock != NULL)
    g_assert_finalize_object (ctx.lock);
  if (ctx.semaphore != NULL)
    g_assert_finalize_object (ctx.semaphore);
  if (ctx.condition != NULL)
    g_assert_finalize_object (ctx.condition);
  if (ctx.barrier != NULL)
    g_assert_finalize_object (ctx.barrier);
  if (ctx.event != NULL)
    g_assert_finalize_object (ctx.event);
  if (ctx.group != NULL)
    g_assert_finalize_object (ctx.group);
}

/* ==== the cases ============================================================ */

/* ---- queue ---------------------------------------------------------------- */

static void
queue_start (Ctx *ctx)
{
  ctx->queue = aio_queue_new (1, item_free);
}

static void
queue_start_with_item (Ctx *ctx)
{
  queue_start (ctx);
  g_assert_true (aio_queue_put_nowait (ctx->queue, item_new (1, &ctx->n_freed), NULL));
}

static AioFuture *
queue_get_make (Ctx *ctx)
{
  return aio_queue_get (ctx->queue);
}

static void
queue_get_check (Ctx       *ctx,
                 AioFuture *future)
{
  g_assert_cmpuint (item_id (aio_future_get_pointer (future, NULL)), ==, 1);
}

static void
queue_get_finish (Ctx *ctx)
{
  /* Received, and freed with the future that carried it; nothing else
   * took it or dropped it. */
  g_assert_cmpuint (aio_queue_get_size (ctx->queue), ==, 0);
  g_clear_object (&ctx->awaited);
  g_assert_cmpuint (ctx->n_freed, ==, 1);
}

static AioFuture *
queue_put_make (Ctx *ctx)
{
  return aio_queue_put (ctx->queue, item_new (2, &ctx->n_freed));
}

static void
queue_put_check (Ctx       *ctx,
                 AioFuture *future)
{
  /* Told it went in: the producer will not put it again. */
  g_assert_true (aio_future_is_resolved (future));
}

static void
queue_put_finish (Ctx *ctx)
{
  gpointer item;

  g_assert_cmpuint (aio_queue_get_size (ctx->queue), ==, 1);
  item = aio_queue_get_nowait (ctx->queue, NULL);
  g_assert_cmpuint (item_id (item), ==, 2);
  item_free (item);
}

/* Through wait_for(): done at once, as the get it wraps. */
static AioFuture *
queue_get_wait_for_make (Ctx *ctx)
{
  return aio_wait_for (aio_queue_get (ctx->queue), 60.0);
}

/* A gather of two gets that found their items: the gather is pending
 * until their callbacks run. */
static void
queue_start_with_two_items (Ctx *ctx)
{
  ctx->queue = aio_queue_new (0, item_free);
  g_assert_true (aio_queue_put_nowait (ctx->queue, item_new (1, &ctx->n_freed), NULL));
  g_assert_true (aio_queue_put_nowait (ctx->queue, item_new (2, &ctx->n_freed), NULL));
}

static AioFuture *
gather_make (Ctx *ctx)
{
  /* In this order: C does not say in which it evaluates arguments. */
  AioFuture *first = aio_queue_get (ctx->queue);
  AioFuture *second = aio_queue_get (ctx->queue);

  return aio_gather (FALSE, first, second, NULL);
}

static void
gather_check (Ctx       *ctx,
              AioFuture *future)
{
  GPtrArray *children = aio_future_get_futures (future, NULL);

  g_assert_nonnull (children);
  g_assert_cmpuint (children->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpuint (item_id (aio_future_get_pointer (children->pdata[i], NULL)), ==, i + 1);
}

static void
gather_finish (Ctx *ctx)
{
  g_assert_cmpuint (aio_queue_get_size (ctx->queue), ==, 0);
  g_clear_object (&ctx->awaited);
  g_assert_cmpuint (ctx->n_freed, ==, 2);
}

/* ---- lock ----------------------------------------------------------------- */

static void
lock_start (Ctx *ctx)
{
  ctx->lock = aio_lock_new ();
}

static AioFuture *
lock_make (Ctx *ctx)
{
  return aio_lock_acquire (ctx->lock);
}

static void
lock_check (Ctx       *ctx,
            AioFuture *future)
{
  g_assert_true (aio_future_get_boolean (future, NULL));
  g_assert_true (aio_lock_get_owner (ctx->lock) == aio_task_get_current ());
  aio_lock_release (ctx->lock);
}

static void
lock_finish (Ctx *ctx)
{
  /* A task told it failed would never have released it. */
  g_assert_false (aio_lock_is_locked (ctx->lock));
}

static AioFuture *
lock_wait_for_make (Ctx *ctx)
{
  return aio_wait_for (aio_lock_acquire (ctx->lock), 60.0);
}

/* ---- semaphores ----------------------------------------------------------- */

static void
semaphore_start (Ctx *ctx)
{
  ctx->semaphore = aio_semaphore_new (1);
}

static void
bounded_semaphore_start (Ctx *ctx)
{
  ctx->semaphore = aio_bounded_semaphore_new (1);
}

static AioFuture *
semaphore_make (Ctx *ctx)
{
  return aio_semaphore_acquire (ctx->semaphore);
}

static void
semaphore_check (Ctx       *ctx,
                 AioFuture *future)
{
  g_assert_true (aio_future_get_boolean (future, NULL));
  g_assert_cmpint (aio_semaphore_get_value (ctx->semaphore), ==, 0);
  aio_semaphore_release (ctx->semaphore);
}

static void
semaphore_finish (Ctx *ctx)
{
  g_assert_cmpint (aio_semaphore_get_value (ctx->semaphore), ==, 1);
}

/* ---- condition ------------------------------------------------------------ */

static gboolean
always (gpointer user_data)
{
  return TRUE;
}

static void
condition_start (Ctx *ctx)
{
  ctx->condition = aio_condition_new (NULL);
}

static AioFuture *
condition_make (Ctx *ctx)
{
  AioFuture *acquired = aio_condition_acquire (ctx->condition);

  /* Free: granted at once, to the task under test. */
  g_assert_true (aio_future_is_resolved (acquired));
  g_object_unref (acquired);
  return aio_condition_wait_for (ctx->condition, always, NULL, NULL);
}

static void
condition_check (Ctx       *ctx,
                 AioFuture *future)
{
  g_assert_true (aio_future_get_boolean (future, NULL));
  aio_condition_release (ctx->condition);
}

static void
condition_finish (Ctx *ctx)
{
  g_assert_false (aio_condition_is_locked (ctx->condition));
}

/* ---- barrier -------------------------------------------------------------- */

static void
barrier_start (Ctx *ctx)
{
  ctx->barrier = aio_barrier_new (2);
}

/* The main task arrives first; the task under test completes the round. */
static void
barrier_start_main_first (Ctx *ctx)
{
  barrier_start (ctx);
  ctx->mine = aio_barrier_wait (ctx->barrier);
}

static AioFuture *
barrier_make (Ctx *ctx)
{
  return aio_barrier_wait (ctx->barrier);
}

static void
barrier_check_second (Ctx       *ctx,
                      AioFuture *future)
{
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 1);
}

static void
barrier_check_first (Ctx       *ctx,
                     AioFuture *future)
{
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 0);
}

static void
barrier_complete (Ctx *ctx)
{
  ctx->mine = aio_barrier_wait (ctx->barrier);
}

static void
barrier_finish (Ctx *ctx)
{
  g_autoptr(GError) error = NULL;
  gint64 mine = aio_await_int64 (g_steal_pointer (&ctx->mine), &error);

  g_assert_no_error (error);
  /* Both passed, each with its own index: nobody was told the round it
   * made went without it. */
  g_assert_cmpint (mine, ==, ctx->c->check == barrier_check_second ? 0 : 1);
  g_assert_cmpuint (aio_barrier_get_n_waiting (ctx->barrier), ==, 0);
}

static AioFuture *
barrier_wait_for_make (Ctx *ctx)
{
  return aio_wait_for (aio_barrier_wait (ctx->barrier), 60.0);
}

static AioFuture *
barrier_shield_make (Ctx *ctx)
{
  return aio_shield (aio_barrier_wait (ctx->barrier));
}

/* ---- event ---------------------------------------------------------------- */

static void
event_start (Ctx *ctx)
{
  ctx->event = aio_event_new ();
  aio_event_set (ctx->event);
}

static AioFuture *
event_make (Ctx *ctx)
{
  return aio_event_wait (ctx->event);
}

static void
event_check (Ctx       *ctx,
             AioFuture *future)
{
  g_assert_true (aio_future_get_boolean (future, NULL));
}

/* ---- task group ----------------------------------------------------------- */

static void
failing_child (AioTask  *task,
               gpointer  user_data)
{
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone"));
}

static void
group_start (Ctx *ctx)
{
  ctx->group = aio_task_group_new ();
  aio_task_group_create_task (ctx->group, failing_child, NULL, NULL);
  /* The child runs and fails: the group is finished but for its wait. */
  while (aio_task_group_get_n_pending (ctx->group) > 0)
    yield_n (1);
}

static AioFuture *
group_make (Ctx *ctx)
{
  return aio_task_group_wait (ctx->group);
}

static void
group_check (Ctx       *ctx,
             AioFuture *future)
{
  /* The child's failure, which nothing else reports. */
  g_assert_error (aio_future_get_error (future), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* ---- a task's result ------------------------------------------------------ */

/* A stepped task that waits until the test returns a value for it. */
static AioFuture *
never_step (AioTask   *task,
            AioFuture *completed,
            gpointer   user_data)
{
  return completed == NULL ? aio_future_new () : NULL;
}

static AioFuture *
task_make (Ctx *ctx)
{
  ctx->other = aio_create_stepped_task (never_step, NULL, NULL);
  return g_object_ref ((AioFuture *) ctx->other);
}

static void
task_complete (Ctx *ctx)
{
  /* From outside its step, a stepped task ends at once. */
  aio_task_return_pointer (ctx->other, item_new (3, &ctx->n_freed), item_free);
}

static void
task_check (Ctx       *ctx,
            AioFuture *future)
{
  g_assert_cmpuint (item_id (aio_future_get_pointer (future, NULL)), ==, 3);
}

static void
task_finish (Ctx *ctx)
{
  g_clear_object (&ctx->awaited);
  g_clear_object (&ctx->other);
  g_assert_cmpuint (ctx->n_freed, ==, 1);
}

/* ---- the table ------------------------------------------------------------ */

static const Case cases[] = {
  { "queue-get", AT_ONCE, queue_start_with_item, queue_get_make, NULL,
    queue_get_check, queue_get_finish },
  { "queue-put", AT_ONCE, queue_start, queue_put_make, NULL,
    queue_put_check, queue_put_finish },
  { "queue-get-wait-for", AT_ONCE, queue_start_with_item, queue_get_wait_for_make, NULL,
    queue_get_check, queue_get_finish },
  { "gather", AT_ONCE, queue_start_with_two_items, gather_make, NULL,
    gather_check, gather_finish },
  { "lock", AT_ONCE, lock_start, lock_make, NULL,
    lock_check, lock_finish },
  { "lock-wait-for", AT_ONCE, lock_start, lock_wait_for_make, NULL,
    lock_check, lock_finish },
  { "semaphore", AT_ONCE, semaphore_start, semaphore_make, NULL,
    semaphore_check, semaphore_finish },
  { "bounded-semaphore", AT_ONCE, bounded_semaphore_start, semaphore_make, NULL,
    semaphore_check, semaphore_finish },
  { "condition-wait-for", AT_ONCE, condition_start, condition_make, NULL,
    condition_check, condition_finish },
  { "barrier", AT_ONCE, barrier_start_main_first, barrier_make, NULL,
    barrier_check_second, barrier_finish },
  { "barrier-wait-for", BY_MAIN, barrier_start, barrier_wait_for_make, barrier_complete,
    barrier_check_first, barrier_finish },
  { "barrier-shield", BY_MAIN, barrier_start, barrier_shield_make, barrier_complete,
    barrier_check_first, barrier_finish },
  { "event", AT_ONCE, event_start, event_make, NULL,
    event_check, NULL },
  { "task-group", AT_ONCE, group_start, group_make, NULL,
    group_check, NULL },
  { "task", BY_MAIN, NULL, task_make, task_complete,
    task_check, task_finish },
};

/* ==== a timeout scope ===================================================== */

/* The task under test waits at a barrier inside a timeout scope; the
 * scope's deadline fires after the round let it go, before it resumes. */
typedef struct
{
  AioBarrier *barrier;
  AioFuture  *wait;       /* the task's, a reference */
  AioTimeout *scope;
  gint64      index;
  gboolean    resumed;
  gboolean    exit_ok;
  GError     *error;
  guint       step;
  AioFuture  *mine;       /* the test's own wait at the barrier */
  gboolean    expired;    /* the deadline had fired when the body resumed */
} ScopeCtx;

/* A loop timer due just before the scope's deadline: it lets the task's
 * barrier wait go, and the deadline fires in the same dispatch of the
 * loop's timers, before the task's wake-up (queued on the ready queue)
 * runs -- whatever the machine's speed. */
static void
scope_release_barrier (gpointer user_data)
{
  ScopeCtx *ctx = user_data;

  g_assert_false (aio_timeout_expired (ctx->scope));
  ctx->mine = aio_barrier_wait (ctx->barrier);
}

static void
scope_fiber (AioTask  *task,
             gpointer  user_data)
{
  ScopeCtx *ctx = user_data;

  ctx->scope = aio_timeout_enter (LONG_SLEEP);
  ctx->wait = aio_barrier_wait (ctx->barrier);
  ctx->index = aio_await_int64 (g_object_ref (ctx->wait), &ctx->error);
  ctx->resumed = TRUE;
  ctx->expired = aio_timeout_expired (ctx->scope);
  ctx->exit_ok = aio_timeout_exit (g_steal_pointer (&ctx->scope), &ctx->error);
}

static AioFuture *
scope_step (AioTask   *task,
            AioFuture *completed,
            gpointer   user_data)
{
  ScopeCtx *ctx = user_data;

  switch (ctx->step++)
    {
    case 0:
      ctx->scope = aio_timeout_enter (LONG_SLEEP);
      ctx->wait = aio_barrier_wait (ctx->barrier);
      return g_object_ref (ctx->wait);

    case 1:
      ctx->resumed = TRUE;
      ctx->expired = aio_timeout_expired (ctx->scope);
      if (completed == ctx->wait)
        ctx->index = aio_future_get_int64 (completed, &ctx->error);
      else
        aio_future_propagate (completed, &ctx->error);
      ctx->exit_ok = aio_timeout_exit (g_steal_pointer (&ctx->scope), &ctx->error);
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

static void
scope_main (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  ScopeCtx ctx = { 0, };
  AioFuture *mine;
  AioTask *task;
  gdouble now;

  g_test_summary ("A timeout scope whose deadline fires after the future the body "
                  "waited for completed, before the body resumed, never reached the "
                  "body: the body has the outcome, and leaving the scope reports "
                  "success, not a timeout that would have the body drop what it got");

  ctx.barrier = aio_barrier_new (2);
  if (current_stepped)
    task = aio_create_stepped_task (scope_step, &ctx, NULL);
  else
    task = aio_create_task (scope_fiber, &ctx, NULL);
  yield_n (1);
  g_assert_nonnull (ctx.scope);
  g_assert_false (aio_future_is_done (ctx.wait));

  /* Both due at once: the release first (the earlier deadline), then the
   * scope's deadline, in one dispatch of the loop's timers; the task's
   * wake-up runs after both. */
  now = aio_loop_time (f->loop);
  aio_handle_unref (aio_loop_call_at (f->loop, now - 2.0, scope_release_barrier, &ctx, NULL));
  aio_timeout_reschedule (ctx.scope, now - 1.0);
  mine = NULL;

  g_assert_true (aio_await (g_object_ref ((AioFuture *) task), &error));
  g_assert_true (ctx.expired);
  mine = ctx.mine;
  g_assert_nonnull (mine);
  g_assert_true (ctx.resumed);
  g_assert_no_error (ctx.error);
  g_assert_cmpint (ctx.index, ==, 0);
  g_assert_true (ctx.exit_ok);
  g_assert_cmpuint (aio_task_cancelling (task), ==, 0);
  g_assert_cmpint (aio_await_int64 (mine, &error), ==, 1);

  yield_n (1);
  g_clear_object (&ctx.wait);
  g_assert_finalize_object (task);
  g_assert_finalize_object (ctx.barrier);
}

typedef struct
{
  const Case *c;
  gboolean    stepped;
} Registration;

static void
run_case (Fixture       *f,
          gconstpointer  data)
{
  const Registration *r = data;

  current_case = r->c;
  current_stepped = r->stepped;
  aio_test_run_fiber_test (f, (gconstpointer) handoff_main);
}

static void
run_scope_case (Fixture       *f,
                gconstpointer  data)
{
  const Registration *r = data;

  current_stepped = r->stepped;
  aio_test_run_fiber_test (f, (gconstpointer) scope_main);
}

int
main (int    argc,
      char **argv)
{
  static Registration registrations[G_N_ELEMENTS (cases) * 2];

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint stepped = 0; stepped < 2; stepped++)
      {
        Registration *r = &registrations[2 * i + stepped];
        g_autofree char *path = NULL;

        r->c = &cases[i];
        r->stepped = stepped;
        path = g_strdup_printf ("/aio/handoff/%s/%s", cases[i].name,
                                stepped ? "stepped" : "fiber");
        g_test_add (path, Fixture, r, aio_test_fixture_setup, run_case,
                    aio_test_fixture_teardown);
      }

  for (guint stepped = 0; stepped < 2; stepped++)
    {
      static Registration scope_registrations[2];
      g_autofree char *path = g_strdup_printf ("/aio/handoff/timeout-scope/%s",
                                               stepped ? "stepped" : "fiber");

      scope_registrations[stepped].stepped = stepped;
      g_test_add (path, Fixture, &scope_registrations[stepped], aio_test_fixture_setup,
                  run_scope_case, aio_test_fixture_teardown);
    }

  return g_test_run ();
}
