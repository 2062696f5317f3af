/* test-task-common.h: what the AioTask tests (test-task-*.c) share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The AioTask tests check AioTask against asyncio's Task semantics.  Every
 * test names, in its g_test_summary(), the asyncio behaviour it checks.
 * Each one runs on a fresh loop (the harness's fixture, aio-test.h) and
 * drives that loop itself, from outside any task; it records the order of
 * events in the event log where order matters, and proves that it cleaned
 * up: tasks and futures are finalized, destroy notifies ran exactly once,
 * and the loop itself is finalized after aio_loop_close() (every future
 * holds its loop, so a leaked future or task fails the teardown).
 */

#pragma once

#include <aio-glib.h>

#include "aio-test.h"

G_BEGIN_DECLS

/* Long enough that a body still waiting when it should have been cancelled
 * shows up as a failure, short enough to stay under the watchdog. */
#define LONG_SLEEP 30.0

/* Registers @func (a GTestFixtureFunc on a Fixture) as /aio/task/@path:
 * it runs on the main thread, between the harness's setup and teardown,
 * with the event log emptied. */
#define TASK_TEST(path, func) \
  g_test_add ("/aio/task/" path, Fixture, NULL, task_test_setup, func, \
              aio_test_fixture_teardown)

/* g_test_init() with what every task test binary wants. */
void task_test_init  (int    *argc,
                      char ***argv);
void task_test_setup (Fixture       *f,
                      gconstpointer  data);

/* ---- the event log ------------------------------------------------------- */

/* Appends one event, space-separated from the ones before. */
void        log_event (const char *format,
                       ...) G_GNUC_PRINTF (1, 2);
const char *log_str   (void);
void        log_reset (void);

/* ---- the loop ------------------------------------------------------------ */

/* Runs the loop until @future is done; returns its outcome. */
gboolean run       (Fixture  *f,
                    gpointer  future,
                    GError  **error);
/* Runs the loop for @seconds.  With 0, every task that is ready takes
 * exactly one step: the sleep's wakeup is queued behind them. */
void     run_sleep (Fixture  *f,
                    gdouble   seconds);

/* ---- bodies -------------------------------------------------------------- */

/* What a body sees and does, shared with the test that runs it.  It lives
 * on the test's stack: the task's destroy notify only counts. */
typedef struct
{
  Fixture      *f;
  const char   *tag;          /* in the event log */
  const char   *message;      /* for aio_task_cancel() */
  guint         kind;
  guint         runs;         /* times the body or a step was entered */
  guint         destroyed;    /* times the destroy notify ran */
  guint         freed;        /* Counted values freed */
  guint         state;        /* stepped bodies */
  AioTask      *task;         /* another task the body acts on (borrowed) */
  AioFuture    *future;       /* owned by the test; bodies await a ref */
  AioFuture    *sleep;        /* a ref on what the body waits for */
  AioFuture    *expected;     /* stepped bodies: the future returned last */
  GObject      *object;
  gpointer      pointer;
  GError       *error;        /* what the body's await reported */
  GCancellable *cancellable;
  GThread      *thread;
  GThread      *seen_in;
  gint64        value;
  gboolean      flag;
} Body;

void     body_init      (Body        *b,
                         Fixture     *f,
                         const char  *tag);
void     body_clear     (Body        *b);
/* A task on @b whose destroy notify counts in b->destroyed. */
AioTask *create_task    (Fixture     *f,
                         AioTaskFunc  func,
                         Body        *b);
AioTask *create_stepped (Fixture     *f,
                         AioStepFunc  func,
                         Body        *b);

/* The fiber form (@func) or the stepped form (@step) of one body, as
 * @stepped says: the tests that check both run once with each. */
AioTask *create_either  (Fixture     *f,
                         gboolean     stepped,
                         AioTaskFunc  func,
                         AioStepFunc  step,
                         Body        *b);
/* A task on @c that cancels @target with @message (cancel_body()). */
AioTask *create_canceller (Fixture    *f,
                           Body       *c,
                           AioTask    *target,
                           const char *message);

/* Asserts that @error is a cancellation that carries @message (any
 * message if NULL). */
void assert_cancelled (const GError *error,
                       const char   *message);
/* Runs the loop until @future is done, and asserts that it ended
 * cancelled with @message (any message if NULL). */
void run_cancelled    (Fixture      *f,
                       gpointer      future,
                       const char   *message);

/* A heap value whose destroy notify counts. */
typedef struct
{
  guint *freed;
} Counted;

Counted *counted_new  (guint    *freed);
void     counted_free (gpointer  data);

/* Logs "<tag>" and returns. */
void       log_body  (AioTask   *task,
                      gpointer   user_data);
AioFuture *log_step  (AioTask   *task,
                      AioFuture *completed,
                      gpointer   user_data);

/* Waits on a long sleep, keeping a ref on it in b->sleep, and records what
 * the await reported in b->error; then just returns. */
void       wait_long_body   (AioTask   *task,
                             gpointer   user_data);

/* Waits on b->future (owned by the test) and records the outcome. */
void       wait_future_body (AioTask   *task,
                             gpointer   user_data);
AioFuture *wait_future_step (AioTask   *task,
                             AioFuture *completed,
                             gpointer   user_data);

/* Cancels b->task with b->message. */
void       cancel_body      (AioTask   *task,
                             gpointer   user_data);

/* ---- results ------------------------------------------------------------- */

/* What return_body() returns, by b->kind. */
typedef enum
{
  RETURN_BOOLEAN,
  RETURN_INT64,
  RETURN_DOUBLE,
  RETURN_STRING,
  RETURN_OBJECT,
  RETURN_POINTER,
  RETURN_VALUE,
  N_RETURNS
} ReturnKind;

#define INT64_RESULT G_GINT64_CONSTANT (-1234567890123)

/* Returns a value of the type b->kind says (b->object for RETURN_OBJECT, a
 * Counted in b->pointer for RETURN_POINTER). */
void return_body       (AioTask  *task,
                        gpointer  user_data);
/* Returns the G_IO_ERROR b->kind with b->message; logs "returned end". */
void return_error_body (AioTask  *task,
                        gpointer  user_data);

G_END_DECLS
