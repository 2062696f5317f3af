/* aio-test.h: the harness of the tests whose bodies run on a fiber
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <aio-glib.h>

G_BEGIN_DECLS

/* Each test gets a fresh loop whose context is the thread default, so
 * that primitives and futures made without a loop land on it. */
typedef struct
{
  AioLoop *loop;
} Fixture;

typedef void (*FiberTest) (Fixture *f);

/* Fails the test (aborts with a TAP "Bail out!") if one test runs longer
 * than @seconds; the default is 120. */
void aio_test_set_watchdog (guint seconds);

/* Iterates the fixture's context until nothing is pending. */
void aio_test_drain        (Fixture *f);

/* Lets the other ready tasks run @n times. */
void aio_test_yield_n      (guint n);

void aio_test_fixture_setup    (Fixture *f, gconstpointer data);
void aio_test_fixture_teardown (Fixture *f, gconstpointer data);
void aio_test_run_fiber_test   (Fixture *f, gconstpointer data);

/* Registers @func to run as the body of a task on a fresh loop; teardown
 * checks that no task is left and that the loop is finalized. */
#define TEST(path, func) \
  g_test_add (path, Fixture, (gconstpointer) (func), aio_test_fixture_setup, \
              aio_test_run_fiber_test, aio_test_fixture_teardown)

#define drain(f)   aio_test_drain (f)
#define yield_n(n) aio_test_yield_n (n)

G_END_DECLS
