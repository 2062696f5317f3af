/* test-loop-fairness.c: AioLoop's fair turns for every priority, its own
 * priority, and nested iterations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <aio-glib.h>
#include <glib-unix.h>

#include "aio-loop-private.h"
#include "aio-test.h"
#include "test-loop-common.h"

/* ---- fairness of back-to-back batches ------------------------------------ */

typedef struct
{
  AioLoop  *loop;
  gboolean  stop;
  guint64   spins;
  gint64    io_at;
  gint64    timer_at;
  gint64    idle_at;
  guint64   spins_at_io;
  guint64   spins_at_timer;
} Fair;

static void
spin_task (AioTask  *task,
           gpointer  user_data)
{
  Fair *fair = user_data;

  while (!fair->stop)
    {
      fair->spins++;
      g_assert_true (aio_yield (NULL));
    }
}

static void
fair_timer (gpointer user_data)
{
  Fair *fair = user_data;

  fair->timer_at = g_get_monotonic_time ();
  fair->spins_at_timer = fair->spins;
}

static gboolean
fair_io (gint         fd,
         GIOCondition condition,
         gpointer     user_data)
{
  Fair *fair = user_data;
  char byte;

  g_assert_cmpint (read (fd, &byte, 1), ==, 1);
  fair->io_at = g_get_monotonic_time ();
  fair->spins_at_io = fair->spins;
  /* Set from here rather than at the start, so that it cannot fall due
   * in the same iteration as the fd, whatever the machine's load. */
  aio_handle_unref (aio_loop_call_later (fair->loop, 0.005, fair_timer, fair, NULL));
  return G_SOURCE_REMOVE;
}

static void
fair_check (gpointer user_data)
{
  Fair *fair = user_data;

  if (fair->io_at != 0 && fair->timer_at != 0)
    fair->stop = TRUE;
  else
    aio_handle_unref (aio_loop_call_later (fair->loop, 0.001, fair_check, fair, NULL));
}

static void
test_fairness (Fixture       *f,
               gconstpointer  data)
{
  Fair fair = { f->loop, };
  int fds[2];
  AioTask *spinner;
  GSource *watch;

  g_test_summary ("Batches run back to back within a budget: a task that "
                  "yields forever still lets an fd watch of the same "
                  "priority and a timer run promptly");

  g_assert_no_errno (pipe (fds));
  spinner = aio_loop_create_task (f->loop, spin_task, &fair, NULL);

  watch = g_unix_fd_source_new (fds[0], G_IO_IN);
  g_source_set_callback (watch, G_SOURCE_FUNC (fair_io), &fair, NULL);
  g_source_attach (watch, fixture_context (f));

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  aio_handle_unref (aio_loop_call_later (f->loop, 0.001, fair_check, &fair, NULL));

  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));

  /* The fd and the timer ran while the spinner was spinning (it stops
   * only once both have run, so a starved watch or timer would keep it
   * spinning until the test's timeout), and the spinner went on between
   * the two.  No bound on how long they waited: that depends on the
   * machine's speed (under Valgrind a budget's batch is slow), not on
   * fairness. */
  g_assert_cmpint (fair.timer_at - fair.io_at, >=, 5000);
  g_assert_cmpuint (fair.spins_at_timer, >, fair.spins_at_io);

  g_source_destroy (watch);
  g_source_unref (watch);
  close (fds[0]);
  close (fds[1]);
  g_assert_finalize_object (spinner);
}

/* ---- fairness towards lower priorities ----------------------------------- */

typedef struct
{
  gboolean stop;
  guint    spins;
  guint    limit;
  guint    turns;
  guint    stop_after;
} Share;

static void
share_task (AioTask  *task,
            gpointer  user_data)
{
  Share *share = user_data;

  while (!share->stop && share->spins < share->limit)
    {
      share->spins++;
      g_assert_true (aio_yield (NULL));
    }
}

static gboolean
share_source (gpointer user_data)
{
  Share *share = user_data;

  if (++share->turns == share->stop_after)
    share->stop = TRUE;
  return G_SOURCE_CONTINUE;
}

static GSource *
share_attach (Fixture  *f,
              Share    *share,
              gint      priority)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, priority);
  g_source_set_callback (source, share_source, share, NULL);
  g_source_attach (source, fixture_context (f));
  return source;
}

static void
share_detach (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
test_fairness_lower_priorities_per_turn (Fixture       *f,
                                         gconstpointer  data)
{
  const gint priorities[] = {
    G_PRIORITY_DEFAULT + 1,       /* GDK's event flush */
    G_PRIORITY_HIGH_IDLE + 20,    /* GDK_PRIORITY_REDRAW: layout and paint */
    G_PRIORITY_DEFAULT_IDLE,
    G_PRIORITY_LOW,
  };

  g_test_summary ("A task that yields forever (asyncio's 'await sleep(0)' "
                  "loop) lets sources of every lower priority run: with no "
                  "budget, each batch of the tasks is followed by one turn of "
                  "the others, counted per task iteration, not per second");

  /* One batch per dispatch: the others get a turn after each. */
  _aio_loop_set_ready_budget (f->loop, 0);

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      Share share = { FALSE, 0, 1000, 0, 0 };
      GSource *other = share_attach (f, &share, priorities[i]);
      AioTask *spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);

      g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
      g_test_message ("priority %d: %u turns for %u task iterations",
                      priorities[i], share.turns, share.spins);
      g_assert_cmpuint (share.spins, ==, 1000);
      /* One turn after each batch, give or take the first and last. */
      g_assert_cmpuint (share.turns, >=, 999);
      g_assert_cmpuint (share.turns, <=, 1001);

      share_detach (other);
      g_assert_finalize_object (spinner);
    }
}

static void
test_fairness_lower_priorities_budget (Fixture       *f,
                                       gconstpointer  data)
{
  const gint priorities[] = { G_PRIORITY_HIGH_IDLE + 20, G_PRIORITY_DEFAULT_IDLE };

  g_test_summary ("With the default budget, tasks that yield forever still "
                  "let an idle and a GDK_PRIORITY_REDRAW source run, again "
                  "and again, while they keep most of the loop");

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      /* Ten turns of the other source stop the spinners, long before the
       * limit that only stops them if it never runs: each turn comes
       * after a budget of 1 ms, far fewer iterations than that even on a
       * fast machine. */
      Share share = { FALSE, 0, 20 * 1000 * 1000, 0, 10 };
      GSource *other = share_attach (f, &share, priorities[i]);
      AioTask *spinners[8];
      g_autoptr(AioFuture) all = NULL;

      for (guint k = 0; k < G_N_ELEMENTS (spinners); k++)
        spinners[k] = aio_loop_create_task (f->loop, share_task, &share, NULL);
      all = aio_gather (FALSE,
                        AIO_FUTURE (g_object_ref (spinners[0])), AIO_FUTURE (g_object_ref (spinners[1])),
                        AIO_FUTURE (g_object_ref (spinners[2])), AIO_FUTURE (g_object_ref (spinners[3])),
                        AIO_FUTURE (g_object_ref (spinners[4])), AIO_FUTURE (g_object_ref (spinners[5])),
                        AIO_FUTURE (g_object_ref (spinners[6])), AIO_FUTURE (g_object_ref (spinners[7])),
                        NULL);
      g_assert_true (aio_loop_run_until_complete (f->loop, all, NULL));
      g_test_message ("priority %d: %u turns for %u task iterations",
                      priorities[i], share.turns, share.spins);
      g_assert_true (share.stop);
      g_assert_cmpuint (share.turns, >=, 10);
      g_assert_cmpuint (share.spins, <, share.limit);

      share_detach (other);
      g_clear_pointer (&all, g_object_unref);
      for (guint k = 0; k < G_N_ELEMENTS (spinners); k++)
        g_assert_finalize_object (spinners[k]);
    }
}

static void
test_fairness_busy_default_source (Fixture       *f,
                                   gconstpointer  data)
{
  Share share = { FALSE, 0, 1000, 0, 0 };
  GSource *busy;
  AioTask *spinner;

  g_test_summary ("A source of the loop's priority that is always ready "
                  "does not starve tasks: they share the iterations");

  _aio_loop_set_ready_budget (f->loop, 0);
  busy = share_attach (f, &share, G_PRIORITY_DEFAULT);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);

  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
  g_assert_cmpuint (share.spins, ==, 1000);
  /* The same priority: both run in every iteration, and the busy source
   * alone in the iterations the tasks give away. */
  g_assert_cmpuint (share.turns, >=, 1000);
  g_assert_cmpuint (share.turns, <=, 2 * (1000 + 2));

  share_detach (busy);
  g_assert_finalize_object (spinner);
}

static void
test_fairness_no_others (Fixture       *f,
                         gconstpointer  data)
{
  Share share = { FALSE, 0, 100, 0, 0 };
  GMainContext *context = fixture_context (f);
  AioTask *spinner;
  guint iterations = 0;

  g_test_summary ("When nothing else is ready, giving the others a turn costs "
                  "no iteration: each iteration of the context still runs one "
                  "batch of the tasks");

  _aio_loop_set_ready_budget (f->loop, 0);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);
  while (!aio_future_is_done (AIO_FUTURE (spinner)))
    {
      g_main_context_iteration (context, FALSE);
      iterations++;
    }
  /* 101 steps of the task: 100 yields and the return. */
  g_assert_cmpuint (share.spins, ==, 100);
  g_assert_cmpuint (iterations, ==, 101);

  drain (f);
  g_assert_finalize_object (spinner);
}

typedef struct
{
  AioLoop *loop;
  GString *log;
  guint    ran;
  guint    index[200];
} Slow;

static void
slow_queued (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "queued ");
}

static void
slow_callback (gpointer user_data)
{
  guint *index = user_data;
  Slow *slow = G_STRUCT_MEMBER_P (index, -G_STRUCT_OFFSET (Slow, index[*index]));
  gint64 until = g_get_monotonic_time () + 20;

  /* Each callback takes 20 µs of the budget, whatever the machine: the
   * batch outlasts it. */
  while (g_get_monotonic_time () < until)
    ;
  g_assert_cmpuint (*index, ==, slow->ran);
  slow->ran++;
  if (*index == 0)
    {
      g_string_append (slow->log, "first ");
      schedule (slow->loop, slow_queued, slow);
    }
  else if (*index == G_N_ELEMENTS (slow->index) - 1)
    g_string_append (slow->log, "last ");
}

static gboolean
slow_idle (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "idle ");
  return G_SOURCE_REMOVE;
}

static void
slow_timer (gpointer user_data)
{
  Slow *slow = user_data;

  g_string_append (slow->log, "timer ");
}

static void
test_fairness_cut_batch (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Slow slow = { f->loop, log, 0, };
  AioHandle *timer;
  GSource *idle;

  g_test_summary ("A batch of slow callbacks that outlasts the budget is cut: "
                  "an idle runs in the middle of it, while the rest of the "
                  "batch keeps its order and runs before what it queued and "
                  "before the loop's timers");

  for (guint i = 0; i < G_N_ELEMENTS (slow.index); i++)
    {
      slow.index[i] = i;
      schedule (f->loop, slow_callback, &slow.index[i]);
    }
  timer = aio_loop_call_later (f->loop, 0, slow_timer, &slow, NULL);
  idle = g_idle_source_new ();
  g_source_set_priority (idle, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_callback (idle, slow_idle, &slow, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);

  while (strstr (log->str, "timer") == NULL || strstr (log->str, "queued") == NULL)
    g_main_context_iteration (fixture_context (f), TRUE);
  drain (f);

  g_assert_cmpuint (slow.ran, ==, G_N_ELEMENTS (slow.index));
  /* What the first callback queued and the timer come after the batch,
   * in either order: both were ready once it was over. */
  g_assert_true (g_str_has_prefix (log->str, "first idle last "));
  g_assert_cmpuint (log->len, ==, strlen ("first idle last queued timer "));
  aio_handle_unref (timer);
}

/* ---- the loop's priority --------------------------------------------------- */

static gboolean
log_idle (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 'i');
  return G_SOURCE_REMOVE;
}

static void
log_soon (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 's');
}

static void
log_timer (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 't');
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Runs one call_soon() callback, one due timer and one idle of @idle_priority,
 * one context iteration at a time, and returns the order, '|' between
 * iterations. */
static char *
priority_order (Fixture *f,
                gint     idle_priority)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Logger l = { f->loop, log, 0, 0 };
  GSource *idle = g_idle_source_new ();
  AioHandle *handle;

  g_source_set_priority (idle, idle_priority);
  g_source_set_callback (idle, log_idle, &l, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);
  schedule (f->loop, log_soon, &l);
  handle = aio_loop_call_later (f->loop, 0, log_timer, &l, NULL);

  /* Three letters, whatever number of '|'. */
  while (strchr (log->str, 'i') == NULL || strchr (log->str, 's') == NULL ||
         strchr (log->str, 't') == NULL)
    {
      if (g_main_context_iteration (fixture_context (f), FALSE))
        g_string_append_c (log, '|');
    }
  aio_handle_unref (handle);
  drain (f);
  return g_string_free (g_steal_pointer (&log), FALSE);
}

static void
test_priority (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *order = NULL;
  guint notified = 0;
  gint priority;

  g_test_summary ("A loop's sources have a priority, G_PRIORITY_DEFAULT unless "
                  "set, that orders its callbacks and timers against other "
                  "sources as any GSource's priority does");

  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_DEFAULT);
  g_signal_connect (f->loop, "notify::priority", G_CALLBACK (count_notify), &notified);

  /* Above an idle of the default idle priority, by default. */
  order = priority_order (f, G_PRIORITY_DEFAULT_IDLE);
  g_assert_cmpstr (order, ==, "st|i|");
  g_clear_pointer (&order, g_free);

  /* Below it once the loop's priority is lower. */
  aio_loop_set_priority (f->loop, G_PRIORITY_LOW);
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_LOW);
  g_assert_cmpuint (notified, ==, 1);
  order = priority_order (f, G_PRIORITY_DEFAULT_IDLE);
  g_assert_cmpstr (order, ==, "i|st|");
  g_clear_pointer (&order, g_free);

  /* Above G_PRIORITY_DEFAULT sources when higher, through the property. */
  g_object_set (f->loop, "priority", G_PRIORITY_HIGH, NULL);
  g_object_get (f->loop, "priority", &priority, NULL);
  g_assert_cmpint (priority, ==, G_PRIORITY_HIGH);
  g_assert_cmpuint (notified, ==, 2);
  order = priority_order (f, G_PRIORITY_DEFAULT);
  g_assert_cmpstr (order, ==, "st|i|");
  g_clear_pointer (&order, g_free);

  /* Setting the same priority again notifies nobody. */
  aio_loop_set_priority (f->loop, G_PRIORITY_HIGH);
  g_assert_cmpuint (notified, ==, 2);

  /* G_MAXINT is the loop's own, for the others' turn. */
  EXPECT_CRITICAL ("*priority < G_MAXINT*", aio_loop_set_priority (f->loop, G_MAXINT));
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_HIGH);

  /* A closed loop keeps and reports its priority. */
  aio_loop_close (f->loop);
  aio_loop_set_priority (f->loop, G_PRIORITY_DEFAULT);
  g_assert_cmpint (aio_loop_get_priority (f->loop), ==, G_PRIORITY_DEFAULT);
  g_assert_cmpuint (notified, ==, 3);
}

static void
test_priority_low_still_fair (Fixture       *f,
                              gconstpointer  data)
{
  Share share = { FALSE, 0, 1000, 0, 0 };
  GSource *other;
  AioTask *spinner;

  g_test_summary ("Below the others' priority, busy tasks still let lower "
                  "priorities have their turn");

  _aio_loop_set_ready_budget (f->loop, 0);
  aio_loop_set_priority (f->loop, G_PRIORITY_HIGH_IDLE + 30);
  other = share_attach (f, &share, G_PRIORITY_LOW);
  spinner = aio_loop_create_task (f->loop, share_task, &share, NULL);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (spinner), NULL));
  g_assert_cmpuint (share.spins, ==, 1000);
  g_assert_cmpuint (share.turns, >=, 999);

  share_detach (other);
  g_assert_finalize_object (spinner);
}

/* ---- a nested iteration inside a task -------------------------------------- */

typedef struct
{
  GString      *log;
  GMainContext *context;
} NestedIteration;

static gboolean
nested_log_idle (gpointer user_data)
{
  NestedIteration *n = user_data;

  g_string_append (n->log, "idle ");
  return G_SOURCE_REMOVE;
}

static void
nested_other (AioTask  *task,
              gpointer  user_data)
{
  NestedIteration *n = user_data;

  g_string_append (n->log, "other ");
}

static void
nested_sleeper (AioTask  *task,
                gpointer  user_data)
{
  NestedIteration *n = user_data;

  g_assert_true (aio_await (aio_sleep (0.001), NULL));
  g_string_append (n->log, "sleeper ");
}

static void
nested_iterating (AioTask  *task,
                  gpointer  user_data)
{
  NestedIteration *n = user_data;
  gint64 until = g_get_monotonic_time () + 20 * 1000;

  g_string_append (n->log, "begin ");
  /* GLib allows it: the other sources run; the loop's tasks do not. */
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (n->context, FALSE);
  g_string_append (n->log, "end ");
}

static void
test_nested_iteration (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  NestedIteration n = { log, fixture_context (f) };
  AioTask *sleeper, *iterating, *other;
  GSource *idle;

  g_test_summary ("A task that iterates the loop's context itself (GLib "
                  "allows it; asyncio forbids re-entering a running loop) "
                  "lets other sources run, GTK's and GIO's, but no other "
                  "task runs, nor one whose timer fell due, before it "
                  "returns: tasks only ever take turns");

  /* The sleeper starts its sleep. */
  sleeper = aio_loop_create_task (f->loop, nested_sleeper, &n, NULL);
  g_main_context_iteration (fixture_context (f), FALSE);

  idle = g_idle_source_new ();
  g_source_set_callback (idle, nested_log_idle, &n, NULL);
  g_source_attach (idle, fixture_context (f));
  g_source_unref (idle);

  iterating = aio_loop_create_task (f->loop, nested_iterating, &n, NULL);
  other = aio_loop_create_task (f->loop, nested_other, &n, NULL);
  /* The sleeper's timer is due at the next iteration, together with the
   * ready queue: GLib then flags the timer source ready before the nested
   * iterations begin, and does not ask it again in those. */
  g_usleep (2000);
  g_assert_true (aio_loop_run_until_complete (f->loop, AIO_FUTURE (sleeper), NULL));
  drain (f);

  g_assert_cmpstr (log->str, ==, "begin idle end other sleeper ");
  g_assert_finalize_object (sleeper);
  g_assert_finalize_object (iterating);
  g_assert_finalize_object (other);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_UNPUSHED ("/aio/loop/fairness/io-and-timers", test_fairness);
  TEST_UNPUSHED ("/aio/loop/fairness/lower-priorities/per-turn", test_fairness_lower_priorities_per_turn);
  TEST_UNPUSHED ("/aio/loop/fairness/lower-priorities/budget", test_fairness_lower_priorities_budget);
  TEST_UNPUSHED ("/aio/loop/fairness/busy-default-source", test_fairness_busy_default_source);
  TEST_UNPUSHED ("/aio/loop/fairness/no-others", test_fairness_no_others);
  TEST_UNPUSHED ("/aio/loop/fairness/cut-batch", test_fairness_cut_batch);
  TEST_UNPUSHED ("/aio/loop/priority", test_priority);
  TEST_UNPUSHED ("/aio/loop/priority/low-still-fair", test_priority_low_still_fair);
  TEST_UNPUSHED ("/aio/loop/iteration/nested-in-task", test_nested_iteration);

  return g_test_run ();
}
