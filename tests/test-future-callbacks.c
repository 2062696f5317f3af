/* test-future-callbacks.c: AioFuture's done callbacks, completion from
 * other threads, and waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <aio-glib.h>

#include "aio-future-private.h"
#include "aio-loop-private.h"
#include "aio-test.h"

/* ---- helpers ------------------------------------------------------------- */

/* The context is pushed as the thread default (TEST_MAIN), so that futures
 * made without a loop (aio_future_new_for_int64() and friends) and GTasks
 * land on it too; except for the tests that involve other threads
 * (TEST_UNPUSHED): pushing a context acquires it for the whole test, which
 * would hide whatever happens when the loop's thread does not hold it. */

static void
iterate_once (Fixture *f)
{
  g_main_context_iteration (aio_loop_get_context (f->loop), FALSE);
}

typedef struct
{
  GString    *log;
  char        letter;
  guint      *destroyed;
} Step;

static void
step_free (gpointer data)
{
  Step *step = data;

  if (step->destroyed != NULL)
    (*step->destroyed)++;
  g_free (step);
}

static void
step_run (AioFuture *future,
          gpointer   user_data)
{
  Step *step = user_data;

  g_string_append_c (step->log, step->letter);
}

static guint
add_step (AioFuture *future,
          GString   *log,
          char       letter,
          guint     *destroyed)
{
  Step *step = g_new0 (Step, 1);

  step->log = log;
  step->letter = letter;
  step->destroyed = destroyed;
  return aio_future_add_done_callback (future, step_run, step, step_free);
}

static gboolean
future_has_callbacks (AioFuture *future)
{
  return future->callback0.func != NULL ||
         (future->callbacks != NULL && future->callbacks->len > 0);
}

/* ---- done callbacks ------------------------------------------------------ */

typedef struct
{
  guint      runs;
  guint      destroys;
  AioFuture *future;
  AioLoop   *loop;
  gboolean   in_call;
  gboolean   ran_in_call;
  GThread   *thread;
  gboolean   wrong_thread;
  gboolean   wrong_loop;
} Counter;

static void
counter_run (AioFuture *future,
             gpointer   user_data)
{
  Counter *c = user_data;

  c->runs++;
  if (c->in_call)
    c->ran_in_call = TRUE;
  if (c->future != NULL && future != c->future)
    g_error ("callback got the wrong future");
  if (c->thread != NULL && g_thread_self () != c->thread)
    c->wrong_thread = TRUE;
  if (c->loop != NULL && aio_loop_get_running () != c->loop)
    c->wrong_loop = TRUE;
}

static void
counter_destroy (gpointer user_data)
{
  ((Counter *) user_data)->destroys++;
}

static void
resolve_in_dispatch (gpointer user_data)
{
  Counter *c = user_data;

  c->in_call = TRUE;
  aio_future_resolve (c->future);
  c->in_call = FALSE;
}

static void
test_callbacks_not_synchronous (Fixture       *f,
                                gconstpointer  data)
{
  Counter c = { 0, };
  AioHandle *handle;

  g_test_summary ("Done callbacks never run inside the call that completed the "
                  "future, nor inside add_done_callback() on a done future "
                  "(asyncio schedules them with call_soon)");

  c.future = aio_future_new_for_loop (f->loop);
  c.loop = f->loop;
  c.thread = g_thread_self ();

  /* Resolved outside the loop: the callback waits for the next iteration. */
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  c.in_call = TRUE;
  aio_future_resolve (c.future);
  c.in_call = FALSE;
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_cmpuint (c.destroys, ==, 1);

  /* Added to a done future: queued, not called. */
  c.in_call = TRUE;
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  c.in_call = FALSE;
  g_assert_cmpuint (c.runs, ==, 1);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 2);
  g_assert_cmpuint (c.destroys, ==, 2);
  g_assert_false (c.ran_in_call);
  g_assert_false (c.wrong_thread);
  g_assert_false (c.wrong_loop);
  g_assert_finalize_object (c.future);

  /* Resolved from inside a callback of the loop: the callback runs on the
   * loop's next iteration (batch), not in the middle of the one under way;
   * with no budget each GMainContext iteration runs one batch. */
  _aio_loop_set_ready_budget (f->loop, 0);
  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  handle = aio_loop_call_soon (f->loop, resolve_in_dispatch, &c, NULL);
  iterate_once (f);
  g_assert_true (aio_future_is_resolved (c.future));
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_false (c.ran_in_call);
  aio_handle_unref (handle);
  g_assert_finalize_object (c.future);

  /* And for rejected and cancelled futures alike. */
  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  aio_future_reject_literal (c.future, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_nonnull (aio_future_get_error (c.future));
  g_assert_finalize_object (c.future);

  memset (&c, 0, sizeof c);
  c.future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (c.future, counter_run, &c, counter_destroy);
  aio_future_cancel (c.future, NULL);
  g_assert_cmpuint (c.runs, ==, 0);
  iterate_once (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_finalize_object (c.future);
}

static void
test_callbacks_order (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;

  g_test_summary ("Done callbacks run in the order they were added, those "
                  "added after completion included");

  for (char letter = 'a'; letter <= 'f'; letter++)
    add_step (future, log, letter, &destroyed);
  aio_future_resolve (future);
  for (char letter = 'g'; letter <= 'j'; letter++)
    add_step (future, log, letter, &destroyed);
  drain (f);
  g_assert_cmpstr (log->str, ==, "abcdefghij");
  g_assert_cmpuint (destroyed, ==, 10);

  /* A second batch after the first ran, in order again. */
  for (char letter = 'k'; letter <= 'm'; letter++)
    add_step (future, log, letter, &destroyed);
  drain (f);
  g_assert_cmpstr (log->str, ==, "abcdefghijklm");
  g_assert_cmpuint (destroyed, ==, 13);

  g_assert_finalize_object (future);
}

static void
test_callbacks_remove (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;
  guint a, b, c, d, e;

  g_test_summary ("remove_done_callback() by id (asyncio's "
                  "remove_done_callback) frees the data at once and keeps the "
                  "order of the others");

  a = add_step (future, log, 'a', &destroyed);
  b = add_step (future, log, 'b', &destroyed);
  c = add_step (future, log, 'c', &destroyed);
  d = add_step (future, log, 'd', &destroyed);
  g_assert_cmpuint (a, !=, 0);
  g_assert_cmpuint (a, !=, b);
  g_assert_cmpuint (b, !=, c);
  g_assert_cmpuint (c, !=, d);

  g_assert_true (aio_future_remove_done_callback (future, b));
  g_assert_cmpuint (destroyed, ==, 1);
  g_assert_false (aio_future_remove_done_callback (future, b));
  g_assert_true (aio_future_remove_done_callback (future, a));
  g_assert_cmpuint (destroyed, ==, 2);
  /* Added after the first one left: still last. */
  e = add_step (future, log, 'e', &destroyed);
  g_assert_cmpuint (e, !=, a);

  aio_future_resolve (future);
  /* Removing between completion and the run works too. */
  g_assert_true (aio_future_remove_done_callback (future, d));
  g_assert_cmpuint (destroyed, ==, 3);
  drain (f);
  g_assert_cmpstr (log->str, ==, "ce");
  g_assert_cmpuint (destroyed, ==, 5);

  /* Nothing is left to remove. */
  g_assert_false (aio_future_remove_done_callback (future, c));
  g_assert_false (aio_future_remove_done_callback (future, e));
  g_assert_false (aio_future_remove_done_callback (future, 12345));
  g_assert_cmpuint (destroyed, ==, 5);

  /* Removing every callback of a done future leaves nothing to run. */
  a = add_step (future, log, 'x', &destroyed);
  g_assert_true (aio_future_remove_done_callback (future, a));
  drain (f);
  g_assert_cmpstr (log->str, ==, "ce");
  g_assert_cmpuint (destroyed, ==, 6);

  g_assert_finalize_object (future);
}

typedef struct
{
  GString  *log;
  gboolean  adding;
  guint     depth;
  guint     destroyed;
} Nested;

static void
aio_test_count_nested (gpointer user_data)
{
  ((Nested *) user_data)->destroyed++;
}

static void
nested_run (AioFuture *future,
            gpointer   user_data)
{
  Nested *n = user_data;

  g_assert_false (n->adding);
  g_string_append_printf (n->log, "%u", n->depth);
  if (n->depth < 3)
    {
      n->depth++;
      n->adding = TRUE;
      aio_future_add_done_callback (future, nested_run, n, aio_test_count_nested);
      n->adding = FALSE;
      g_string_append_c (n->log, '.');
    }
}

static void
test_callbacks_nested (Fixture       *f,
                       gconstpointer  data)
{
  Nested n = { g_string_new (NULL), FALSE, 0, 0 };
  AioFuture *future = aio_future_new_for_loop (f->loop);
  guint destroyed = 0;

  g_test_summary ("A done callback that adds another callback to its (done) "
                  "future gets it run, after itself and not inside the add call");

  aio_future_add_done_callback (future, nested_run, &n, aio_test_count_nested);
  add_step (future, n.log, 'z', &destroyed);
  aio_future_resolve (future);
  drain (f);

  /* 0 adds 1 behind z; 1 adds 2; 2 adds 3. */
  g_assert_cmpstr (n.log->str, ==, "0.z1.2.3");
  g_assert_cmpuint (n.destroyed, ==, 4);
  g_assert_cmpuint (destroyed, ==, 1);

  g_string_free (n.log, TRUE);
  g_assert_finalize_object (future);
}

static void
test_callbacks_destroy_once (Fixture       *f,
                             gconstpointer  data)
{
  Counter ran = { 0, }, removed = { 0, }, dropped = { 0, };
  AioFuture *future;
  guint id;

  g_test_summary ("A callback's destroy notify runs exactly once: after it "
                  "ran, when it is removed, or when a pending future is finalized");

  future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (future, counter_run, &ran, counter_destroy);
  id = aio_future_add_done_callback (future, counter_run, &removed, counter_destroy);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  g_assert_true (aio_future_remove_done_callback (future, id));
  g_assert_cmpuint (removed.destroys, ==, 1);
  aio_future_resolve (future);
  drain (f);
  g_assert_cmpuint (ran.runs, ==, 1);
  g_assert_cmpuint (ran.destroys, ==, 1);
  g_assert_cmpuint (removed.runs, ==, 0);
  g_assert_cmpuint (dropped.runs, ==, 1);
  g_assert_finalize_object (future);
  g_assert_cmpuint (ran.destroys, ==, 1);
  g_assert_cmpuint (removed.destroys, ==, 1);
  g_assert_cmpuint (dropped.destroys, ==, 1);

  /* Finalized while pending: never run, freed once. */
  memset (&dropped, 0, sizeof dropped);
  future = aio_future_new_for_loop (f->loop);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
  g_assert_finalize_object (future);
  g_assert_cmpuint (dropped.runs, ==, 0);
  g_assert_cmpuint (dropped.destroys, ==, 2);
  drain (f);
  g_assert_cmpuint (dropped.destroys, ==, 2);

  /* Dropped by closing the loop while queued: freed once, with the future.
   * Uses a loop of its own, as the fixture's must stay open. */
  {
    AioLoop *loop = aio_loop_new ();

    memset (&dropped, 0, sizeof dropped);
    future = aio_future_new_for_loop (loop);
    aio_future_add_done_callback (future, counter_run, &dropped, counter_destroy);
    aio_future_resolve (future);
    aio_loop_close (loop);
    g_assert_cmpuint (dropped.runs, ==, 0);
    g_assert_finalize_object (future);
    g_assert_cmpuint (dropped.destroys, ==, 1);
    g_assert_finalize_object (loop);
  }
}

/* ---- completion from other threads --------------------------------------- */

#define N_THREADS 8
#define N_PER_THREAD 10000

typedef struct
{
  AioLoop     *loop;
  GThread     *loop_thread;
  AioFuture  **futures;
  guint8      *seen;
  guint        n_futures;
  guint        n_run;
  guint        wrong_thread;
  guint        wrong_loop;
  guint        duplicates;
  AioFuture   *all_done;
  gboolean     stop_when_done;
} Fanin;

typedef struct
{
  Fanin *fanin;
  guint  first;
  guint  count;
} Slice;

static gpointer
resolve_slice (gpointer user_data)
{
  Slice *slice = user_data;

  for (guint i = slice->first; i < slice->first + slice->count; i++)
    aio_future_resolve_int64 (slice->fanin->futures[i], i);
  return NULL;
}

static void
fanin_done (AioFuture *future,
            gpointer   user_data)
{
  Fanin *fanin = user_data;
  gint64 i = aio_future_get_int64 (future, NULL);

  if (g_thread_self () != fanin->loop_thread)
    fanin->wrong_thread++;
  if (aio_loop_get_running () != fanin->loop)
    fanin->wrong_loop++;
  if (i < 0 || i >= fanin->n_futures || fanin->futures[i] != future || fanin->seen[i]++)
    fanin->duplicates++;

  if (++fanin->n_run == fanin->n_futures)
    {
      if (fanin->stop_when_done)
        aio_loop_stop (fanin->loop);
      else
        aio_future_resolve (fanin->all_done);
    }
}

static void
run_fanin (Fixture  *f,
           gboolean  run_forever)
{
  g_autoptr(GError) error = NULL;
  Fanin fanin = { 0, };
  Slice slices[N_THREADS];
  GThread *threads[N_THREADS];
  gboolean ok;

  fanin.loop = f->loop;
  fanin.loop_thread = g_thread_self ();
  fanin.n_futures = N_THREADS * N_PER_THREAD;
  fanin.futures = g_new0 (AioFuture *, fanin.n_futures);
  fanin.seen = g_new0 (guint8, fanin.n_futures);
  fanin.stop_when_done = run_forever;
  fanin.all_done = aio_future_new_for_loop (f->loop);

  for (guint i = 0; i < fanin.n_futures; i++)
    {
      fanin.futures[i] = aio_future_new_for_loop (f->loop);
      aio_future_add_done_callback (fanin.futures[i], fanin_done, &fanin, NULL);
    }

  /* The workers are under way before the loop runs: completions race with
   * the loop starting up as well as with its iterations.  A worker must not
   * get in the way of the loop's thread taking its own context. */
  for (guint t = 0; t < N_THREADS; t++)
    {
      slices[t].fanin = &fanin;
      slices[t].first = t * N_PER_THREAD;
      slices[t].count = N_PER_THREAD;
      threads[t] = g_thread_new ("resolver", resolve_slice, &slices[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    while (!aio_future_is_done (fanin.futures[t * N_PER_THREAD + 10]))
      g_thread_yield ();

  if (run_forever)
    ok = aio_loop_run_forever (f->loop, &error);
  else
    ok = aio_loop_run_until_complete (f->loop, fanin.all_done, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  g_assert_cmpuint (fanin.n_run, ==, fanin.n_futures);
  g_assert_cmpuint (fanin.wrong_thread, ==, 0);
  g_assert_cmpuint (fanin.wrong_loop, ==, 0);
  g_assert_cmpuint (fanin.duplicates, ==, 0);

  for (guint i = 0; i < fanin.n_futures; i++)
    g_assert_finalize_object (fanin.futures[i]);
  g_assert_finalize_object (fanin.all_done);
  g_free (fanin.futures);
  g_free (fanin.seen);
}

static void
test_threads_run_until_complete (Fixture       *f,
                                 gconstpointer  data)
{
  g_test_summary ("Futures completed by 8 threads (10 000 each) run every done "
                  "callback once, in the loop's thread, under run_until_complete "
                  "(call_soon_threadsafe hand-over)");
  run_fanin (f, FALSE);
}

static void
test_threads_run_forever (Fixture       *f,
                          gconstpointer  data)
{
  g_test_summary ("Futures completed by 8 threads (10 000 each) run every done "
                  "callback once, in the loop's thread, under run_forever + stop");
  run_fanin (f, TRUE);
}

typedef struct
{
  AioFuture **futures;
  guint       n_futures;
  gint        go;
} Racer;

static gpointer
resolve_all (gpointer user_data)
{
  Racer *racer = user_data;

  while (!g_atomic_int_get (&racer->go))
    g_thread_yield ();
  for (guint i = 0; i < racer->n_futures; i++)
    aio_future_resolve (racer->futures[i]);
  return NULL;
}

static void
count_run (AioFuture *future,
           gpointer   user_data)
{
  (*(guint *) user_data)++;
}

static void
test_threads_add_while_completing (Fixture       *f,
                                   gconstpointer  data)
{
  GMainContext *context = aio_loop_get_context (f->loop);
  Racer racer = { NULL, 200000, FALSE };
  GThread *thread;
  guint runs = 0;

  g_test_summary ("add_done_callback() in the loop's thread, outside any "
                  "iteration, while another thread completes the same futures: "
                  "no callback is lost and no critical is raised");

  racer.futures = g_new (AioFuture *, racer.n_futures);
  for (guint i = 0; i < racer.n_futures; i++)
    racer.futures[i] = aio_future_new_for_loop (f->loop);

  thread = g_thread_new ("resolver", resolve_all, &racer);
  g_atomic_int_set (&racer.go, TRUE);
  /* From the far end, so that adding and completing cross: some futures
   * get their callback before completion, some after, some during. */
  for (guint i = racer.n_futures; i-- > 0;)
    aio_future_add_done_callback (racer.futures[i], count_run, &runs, NULL);
  g_thread_join (thread);

  for (guint i = 0; i < 100 && runs < racer.n_futures; i++)
    while (g_main_context_iteration (context, FALSE))
      ;
  g_assert_cmpuint (runs, ==, racer.n_futures);

  for (guint i = 0; i < racer.n_futures; i++)
    g_assert_finalize_object (racer.futures[i]);
  g_free (racer.futures);
}

static gpointer
resolve_one_later (gpointer user_data)
{
  g_usleep (G_USEC_PER_SEC / 50);
  aio_future_resolve_int64 (user_data, 99);
  return NULL;
}

static void
test_threads_wakes_loop (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Counter c = { 0, };
  GThread *thread;

  g_test_summary ("A future completed from another thread wakes a loop blocked "
                  "with nothing else to do, and its callback runs in the loop's thread");

  c.thread = g_thread_self ();
  c.loop = f->loop;
  aio_future_add_done_callback (future, counter_run, &c, counter_destroy);
  thread = g_thread_new ("resolver", resolve_one_later, future);
  g_assert_true (aio_loop_run_until_complete (f->loop, future, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 99);

  /* The callback was queued behind the completion; it runs next. */
  drain (f);
  g_assert_cmpuint (c.runs, ==, 1);
  g_assert_cmpuint (c.destroys, ==, 1);
  g_assert_false (c.wrong_thread);
  g_assert_false (c.wrong_loop);
  g_assert_finalize_object (future);
}

/* ---- GIO's async convention ---------------------------------------------- */

typedef struct
{
  gboolean      done;
  gboolean      ok;
  GError       *error;
  GAsyncResult *result;   /* weak */
} Wait;

static void
wait_ready (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Wait *w = user_data;

  g_assert_false (w->done);
  w->done = TRUE;
  w->ok = aio_future_wait_finish (AIO_FUTURE (source), result, &w->error);
  w->result = result;
  g_object_add_weak_pointer (G_OBJECT (result), (gpointer *) &w->result);
}

static void
wait_finish_cleanup (Fixture *f,
                     Wait    *w)
{
  /* The GTask goes once its callback returned. */
  drain (f);
  g_assert_null (w->result);
  g_clear_error (&w->error);
}

static void
test_wait_resolved (Fixture       *f,
                    gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("wait_async/wait_finish on a future that resolves later "
                  "reports success, as awaiting it in asyncio returns");

  aio_future_wait_async (future, NULL, wait_ready, &w);
  drain (f);
  g_assert_false (w.done);

  aio_future_resolve_int64 (future, 11);
  iterate_until (f, &w.done);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  g_assert_cmpint (aio_future_get_int64 (future, NULL), ==, 11);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  /* A future done before the wait began. */
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_int64 (12);
  aio_future_wait_async (future, NULL, wait_ready, &w);
  g_assert_false (w.done);
  iterate_until (f, &w.done);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);
}

static void
test_wait_rejected (Fixture       *f,
                    gconstpointer  data)
{
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("wait_finish on a rejected or cancelled future raises its "
                  "error, which counts as retrieved");

  aio_future_wait_async (future, NULL, wait_ready, &w);
  aio_future_reject_literal (future, G_FILE_ERROR, G_FILE_ERROR_PERM, "nope");
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_FILE_ERROR, G_FILE_ERROR_PERM);
  wait_finish_cleanup (f, &w);
  /* No "never retrieved" warning: wait_finish read it. */
  g_assert_finalize_object (future);

  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, NULL, wait_ready, &w);
  aio_future_cancel (future, "bye");
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (w.error->message, ==, "bye");
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);
}

static void
test_wait_cancellable (Fixture       *f,
                       gconstpointer  data)
{
  GCancellable *cancellable = g_cancellable_new ();
  AioFuture *future = aio_future_new_for_loop (f->loop);
  Wait w = { 0, };

  g_test_summary ("Cancelling the wait's own GCancellable ends the wait with "
                  "G_IO_ERROR_CANCELLED and leaves the future pending, its "
                  "done callback removed");

  aio_future_wait_async (future, cancellable, wait_ready, &w);
  drain (f);
  g_assert_false (w.done);
  g_assert_true (future_has_callbacks (future));

  g_cancellable_cancel (cancellable);
  iterate_until (f, &w.done);
  g_assert_false (w.ok);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (future_has_callbacks (future));
  wait_finish_cleanup (f, &w);

  /* The future goes on and completes normally; the finished wait does not
   * hear of it. */
  aio_future_resolve (future);
  drain (f);
  g_assert_true (aio_future_is_resolved (future));
  g_assert_finalize_object (future);

  /* Cancelled before the wait began: it fails at once, on the loop. */
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, cancellable, wait_ready, &w);
  g_assert_false (w.done);
  iterate_until (f, &w.done);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (aio_future_is_done (future));
  g_assert_false (future_has_callbacks (future));
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  /* Completed first, cancelled after: the wait reports the future. */
  g_object_unref (cancellable);
  cancellable = g_cancellable_new ();
  memset (&w, 0, sizeof w);
  future = aio_future_new_for_loop (f->loop);
  aio_future_wait_async (future, cancellable, wait_ready, &w);
  aio_future_resolve_boolean (future, TRUE);
  iterate_until (f, &w.done);
  g_cancellable_cancel (cancellable);
  drain (f);
  g_assert_true (w.ok);
  g_assert_no_error (w.error);
  wait_finish_cleanup (f, &w);
  g_assert_finalize_object (future);

  g_assert_finalize_object (cancellable);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_MAIN ("/aio/future/callbacks/not-synchronous", test_callbacks_not_synchronous);
  TEST_MAIN ("/aio/future/callbacks/order", test_callbacks_order);
  TEST_MAIN ("/aio/future/callbacks/remove", test_callbacks_remove);
  TEST_MAIN ("/aio/future/callbacks/nested", test_callbacks_nested);
  TEST_MAIN ("/aio/future/callbacks/destroy-once", test_callbacks_destroy_once);
  TEST_UNPUSHED ("/aio/future/threads/run-until-complete", test_threads_run_until_complete);
  TEST_UNPUSHED ("/aio/future/threads/run-forever", test_threads_run_forever);
  TEST_UNPUSHED ("/aio/future/threads/add-while-completing", test_threads_add_while_completing);
  TEST_UNPUSHED ("/aio/future/threads/wakes-loop", test_threads_wakes_loop);
  TEST_MAIN ("/aio/future/wait/resolved", test_wait_resolved);
  TEST_MAIN ("/aio/future/wait/rejected", test_wait_rejected);
  TEST_MAIN ("/aio/future/wait/cancellable", test_wait_cancellable);

  return g_test_run ();
}
