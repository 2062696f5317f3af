/* test-loop-common.c: what the AioLoop tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "test-loop-common.h"

void
never_called (gpointer user_data)
{
  g_error ("a callback that must not run ran (%p)", user_data);
}

void
schedule (AioLoop     *loop,
          AioCallback  callback,
          gpointer     user_data)
{
  aio_handle_unref (aio_loop_call_soon (loop, callback, user_data, NULL));
}

void
schedule_later (AioLoop     *loop,
                gdouble      delay,
                AioCallback  callback,
                gpointer     user_data)
{
  aio_handle_unref (aio_loop_call_later (loop, delay, callback, user_data, NULL));
}

static void
log_c (gpointer user_data)
{
  g_string_append_c (((Logger *) user_data)->log, 'c');
}

void
log_b_then_c (gpointer user_data)
{
  Logger *l = user_data;

  g_string_append_c (l->log, 'b');
  schedule (l->loop, log_c, l);
}
