/* aio-test.h: the harness of the C tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <aio-glib.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

G_BEGIN_DECLS

/* Each test runs under a watchdog and ends with no loop running.  Most
 * also get a fresh loop on a context of its own.  TEST() and
 * TEST_MAIN() push that context as the thread default, so that primitives
 * and futures made without a loop land on it; TEST_UNPUSHED() leaves it
 * alone, for the tests of what happens when the loop's thread does not
 * hold its context (run_until_complete() and run_forever() push it while
 * they run). */
typedef struct
{
  /* Owned; NULL for TEST_BARE(), and a test that let go of the loop
   * itself sets NULL. */
  AioLoop  *loop;
  /* The thread the test runs in, the loop's. */
  GThread  *loop_thread;
  /* Whether the loop's context is the thread default during the test. */
  gboolean  pushed;
} Fixture;

typedef void (*FiberTest) (Fixture *f);

/* Fails the test (aborts with a TAP "Bail out!") if one test runs longer
 * than @seconds; the default is 120. */
void aio_test_set_watchdog (guint seconds);

/* Iterates the fixture's context until nothing is pending (bounded, so
 * that a callback that keeps requeueing itself fails the test). */
void aio_test_drain        (Fixture *f);

/* Iterates the fixture's context, blocking, until *@flag is set. */
void aio_test_iterate_until (Fixture        *f,
                             const gboolean *flag);

/* Lets the other ready tasks run @n times. */
void aio_test_yield_n      (guint n);

void aio_test_fixture_setup          (Fixture *f, gconstpointer data);
void aio_test_fixture_setup_unpushed (Fixture *f, gconstpointer data);
void aio_test_fixture_setup_bare     (Fixture *f, gconstpointer data);
/* Proves the test cleaned up: unless the test closed the loop, nothing is
 * left for it to run and no task is left; then the loop is closed and
 * finalized (futures, tasks and primitives hold their loop, so this
 * proves none leaked), and no loop is left running. */
void aio_test_fixture_teardown       (Fixture *f, gconstpointer data);
void aio_test_run_fiber_test         (Fixture *f, gconstpointer data);
void aio_test_run_bare_test          (Fixture *f, gconstpointer data);

/* Registers @func to run as the body of a task on a fresh loop; the loop
 * is drained once the task is done. */
#define TEST(path, func) \
  g_test_add (path, Fixture, (gconstpointer) (func), aio_test_fixture_setup, \
              aio_test_run_fiber_test, aio_test_fixture_teardown)

/* Registers @func, a `void (*) (Fixture *f, gconstpointer data)`, to run
 * on the main thread with a fresh loop whose context is pushed. */
#define TEST_MAIN(path, func) TEST_MAIN_DATA (path, NULL, func)
#define TEST_MAIN_DATA(path, data, func) \
  g_test_add (path, Fixture, data, aio_test_fixture_setup, func, aio_test_fixture_teardown)

/* The same with a loop whose context is not pushed. */
#define TEST_UNPUSHED(path, func) TEST_UNPUSHED_DATA (path, NULL, func)
#define TEST_UNPUSHED_DATA(path, data, func) \
  g_test_add (path, Fixture, data, aio_test_fixture_setup_unpushed, func, \
              aio_test_fixture_teardown)

/* Registers @func, a `void (*) (void)` as for g_test_add_func(), to run
 * without a loop of the harness's: for the tests of what lies below the
 * loop (fibers, objects) and of what makes loops itself (aio_run()). */
#define TEST_BARE(path, func) \
  g_test_add (path, Fixture, (gconstpointer) (func), aio_test_fixture_setup_bare, \
              aio_test_run_bare_test, aio_test_fixture_teardown)
/* The same for a `void (*) (Fixture *f, gconstpointer data)` given @data. */
#define TEST_BARE_DATA(path, data, func) \
  g_test_add (path, Fixture, data, aio_test_fixture_setup_bare, func, aio_test_fixture_teardown)

#define drain(f)                 aio_test_drain (f)
#define iterate_until(f, flag)   aio_test_iterate_until (f, flag)
#define yield_n(n)               aio_test_yield_n (n)
#define fixture_context(f)       aio_loop_get_context ((f)->loop)

/* Runs the statement given after @pattern and asserts that it logged one
 * critical of the library matching @pattern (a g_pattern_match_simple()
 * glob).  Variadic, so that a statement with commas of its own (another
 * macro's expansion) passes through. */
#define EXPECT_CRITICAL(pattern, ...)                                 \
  G_STMT_START {                                                      \
    g_test_expect_message ("Aio", G_LOG_LEVEL_CRITICAL, pattern);     \
    __VA_ARGS__;                                                      \
    g_test_assert_expected_messages ();                               \
  } G_STMT_END

/* Callbacks and notifies that count (a guint) or set a flag (a gboolean)
 * at @user_data. */
void     aio_test_count          (gpointer user_data);
void     aio_test_set_flag       (gpointer user_data);

/* A task body that sleeps for a minute, unless cancelled first: it
 * returns the error that woke it. */
void     aio_test_sleep_long     (AioTask  *task,
                                  gpointer  user_data);

/* Runs @func (@data) on a new thread and joins it; returns its result. */
gpointer aio_test_run_in_thread    (GThreadFunc  func,
                                    gpointer     data);
/* Cancels @future with @message from another thread, which must
 * succeed. */
void     aio_test_cancel_in_thread (AioFuture   *future,
                                    const char  *message);

/* How many file descriptors the process has open. */
guint    aio_test_count_open_fds (void);

/* How many fiber stacks are live, guarded and slab ones together. */
guint    aio_test_live_stacks    (void);
/* For the tests that crash on purpose (in a subprocess). */
void     aio_test_no_core_dumps  (void);

G_END_DECLS
