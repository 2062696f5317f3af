/* test-loop-common.h: what the AioLoop tests share
 *
 * The tests of AioLoop are test-loop.c (which loop, running, stopping,
 * closing, threads, being driven by others), test-loop-schedule.c
 * (call_soon, timers, handles, sleeps) and test-loop-fairness.c (turns
 * for every priority, the loop's own priority, nested iterations).  Their
 * loop's context is not pushed as the thread default (TEST_UNPUSHED):
 * run_until_complete() and run_forever() push it while they run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <aio-glib.h>

G_BEGIN_DECLS

/* An AioCallback that fails the test if it runs. */
void never_called   (gpointer     user_data);

/* call_soon() and call_later() whose handles nobody keeps. */
void schedule       (AioLoop     *loop,
                     AioCallback  callback,
                     gpointer     user_data);
void schedule_later (AioLoop     *loop,
                     gdouble      delay,
                     AioCallback  callback,
                     gpointer     user_data);

/* Callbacks that log letters, in the order they ran. */
typedef struct
{
  AioLoop *loop;
  GString *log;
  guint    requeues;
  char     letter;
} Logger;

/* Logs 'b', and queues log_c(). */
void log_b_then_c   (gpointer     user_data);

G_END_DECLS
