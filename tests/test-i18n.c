/* test-i18n.c: aio-glib's messages reach the user translated
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test asks for German and binds the aio-glib domain to the catalogs
 * of the build tree (AIO_TEST_LOCALEDIR, set by tests/meson.build to
 * <builddir>/po), then makes the library fail in a few ways and compares
 * the messages with the German of po/de.po. Without that catalog every
 * message stays English and every test but /aio/i18n/bound fails.
 */

#include "config.h"

#include <locale.h>

#include <glib/gi18n-lib.h>

#include <aio-glib.h>

#include "aio-test.h"

#ifndef AIO_TEST_LOCALEDIR
# error "tests/meson.build passes AIO_TEST_LOCALEDIR, the build tree's po directory"
#endif

#define TEST_ERROR (g_quark_from_static_string ("test-i18n-error"))

/* What the library had bound its domain to before main() ran. */
static char *loaded_dir;
static char *loaded_codeset;

/* The locale German was selected in, or NULL if none could be set. */
static const char *german_locale;

/* gettext only reads LANGUAGE while LC_MESSAGES is not "C" or "POSIX".
 * glibc counts C.UTF-8 as a locale of its own, and Debian's libc-bin
 * (which every system has) ships it, so a fresh machine needs no
 * generated locale; de_DE.UTF-8 serves where C.UTF-8 is missing. */
static void
select_german (void)
{
  static const char *const candidates[] = { "C.UTF-8", "de_DE.UTF-8" };

  g_setenv ("LANGUAGE", "de", TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      if (setlocale (LC_ALL, candidates[i]) != NULL)
        {
          german_locale = candidates[i];
          return;
        }
    }
}

static gboolean
need_german (void)
{
  if (german_locale != NULL)
    return TRUE;

  g_test_skip ("neither C.UTF-8 nor de_DE.UTF-8 is available");
  return FALSE;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_bound (void)
{
  g_test_summary ("Loading the library binds the aio-glib domain to the installed "
                  "catalogs, in UTF-8 whatever the locale's own charset");

  g_assert_cmpstr (loaded_dir, ==, LOCALEDIR);
  g_assert_cmpstr (loaded_codeset, ==, "UTF-8");
}

static void
test_loop_closed (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("AIO_ERROR_CLOSED from running a closed loop is in German");

  if (!need_german ())
    return;

  aio_loop_close (f->loop);
  g_assert_false (aio_loop_run_forever (f->loop, &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_CLOSED);
  g_assert_cmpstr (error->message, ==, "Die Ereignisschleife ist geschlossen");
}

static void
run_body_never (AioTask  *task,
                gpointer  user_data)
{
  g_error ("a refused aio_run() ran its main task");
}

static void
test_run_in_main_loop (void)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("aio_run()'s refusal inside a running main loop, which says "
                  "what to do instead, is in German");

  if (!need_german ())
    return;

  /* As g_application_run() holds the default context. */
  g_assert_true (g_main_context_acquire (NULL));
  g_assert_false (aio_run (run_body_never, NULL, &error));
  g_main_context_release (NULL);
  g_assert_error (error, AIO_ERROR, AIO_ERROR_RUNNING);
  g_assert_cmpstr (error->message, ==,
                   "aio_run() kann nicht aufgerufen werden, während in diesem Thread eine "
                   "Hauptschleife läuft, da es diese bis zum Ende blockieren würde; erstellen "
                   "Sie stattdessen einen Task in der Standard-Ereignisschleife "
                   "(aio_loop_create_task() mit aio_loop_get_default())");
}

static void
test_bound_object_gone (Fixture       *f,
                        gconstpointer  data)
{
  AioLoop *loop = f->loop;
  AioTask *task;
  GObject *object;

  g_test_summary ("The cancellation of a task whose object went away is in German");

  if (!need_german ())
    return;

  object = g_object_new (G_TYPE_OBJECT, NULL);
  task = aio_loop_create_task (loop, aio_test_sleep_long, NULL, NULL);
  aio_task_bind_to_object (task, object);
  aio_handle_unref (aio_loop_call_later (loop, 0.001, g_object_unref, object, NULL));
  g_assert_false (aio_loop_run_until_complete (loop, AIO_FUTURE (task), NULL));
  g_assert_cmpstr (aio_future_get_error (AIO_FUTURE (task))->message, ==,
                   "Das GObject, an das der Task gebunden war, ist verschwunden");
  g_object_unref (task);
}

static void
test_queue_full (void)
{
  g_autoptr(GError) error = NULL;
  AioQueue *queue;

  g_test_summary ("AIO_ERROR_QUEUE_FULL, raised without a running loop, is in German");

  if (!need_german ())
    return;

  queue = aio_queue_new (1, NULL);
  g_assert_true (aio_queue_put_nowait (queue, GINT_TO_POINTER (1), NULL));
  g_assert_false (aio_queue_put_nowait (queue, GINT_TO_POINTER (2), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_QUEUE_FULL);
  g_assert_cmpstr (error->message, ==, "Die Warteschlange ist voll");
  g_assert_finalize_object (queue);
}

static void
test_not_in_task (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("AIO_ERROR_NOT_IN_TASK keeps the function name untranslated");

  if (!need_german ())
    return;

  g_assert_false (aio_await (aio_future_new_for_loop (f->loop), &error));
  g_assert_error (error, AIO_ERROR, AIO_ERROR_NOT_IN_TASK);
  g_assert_cmpstr (error->message, ==,
                   "aio_await() kann nur im Rumpf eines Tasks aufgerufen werden");
}

static void
timed_out_body (AioTask  *task,
                gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (aio_await (aio_wait_for (aio_sleep (60.0), 0.001), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* Not ASCII: the UTF-8 of the catalog arrives unchanged. */
  g_assert_cmpstr (error->message, ==, "Der Vorgang hat das Zeitlimit überschritten");
}

static void
test_timed_out (void)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("G_IO_ERROR_TIMED_OUT from aio_wait_for() is in German, umlaut "
                  "included, though no AIO_ERROR was ever raised on the way");

  if (!need_german ())
    return;

  g_assert_true (aio_run (timed_out_body, NULL, &error));
  g_assert_no_error (error);
}

static void
failing_child (AioTask  *task,
               gpointer  user_data)
{
  const char *name = user_data;

  /* Every child yields once first, so that all of them fail in the same
   * iteration, before the group's cancellation can reach the others. */
  g_assert_true (aio_yield (NULL));
  aio_task_return_error (task, g_error_new (TEST_ERROR, 1, "%s", name));
}

static void
group_body (AioTask  *task,
            gpointer  user_data)
{
  const char *const *names = user_data;
  g_autoptr(GError) error = NULL;
  AioTaskGroup *group = aio_task_group_new ();

  for (gsize i = 0; names[i] != NULL; i++)
    aio_task_group_create_task (group, failing_child, (gpointer) names[i], NULL);

  g_assert_false (aio_await (aio_task_group_wait (group), &error));
  aio_task_return_error (task, g_steal_pointer (&error));
  g_assert_finalize_object (group);
}

static char *
group_message (const char *const *names)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (aio_run (group_body, (gpointer) names, &error));
  g_assert_error (error, TEST_ERROR, 1);
  return g_strdup (error->message);
}

static void
test_plural (void)
{
  static const char *const two[] = { "a", "b", NULL };
  static const char *const three[] = { "a", "b", "c", NULL };
  g_autofree char *one_more = NULL;
  g_autofree char *two_more = NULL;

  g_test_summary ("A task group's summary of its failures takes the German singular "
                  "and plural forms");

  if (!need_german ())
    return;

  one_more = group_message (two);
  g_assert_cmpstr (one_more, ==, "a (und 1 weiterer Fehler: b)");
  two_more = group_message (three);
  g_assert_cmpstr (two_more, ==, "a (und 2 weitere Fehler: b; c)");
}

static void
cancelled_body (AioTask  *task,
                gpointer  user_data)
{
  g_assert_false (aio_await (aio_sleep (60.0), NULL));
}

/* The message of a task cancelled without one. */
static char *
cancelled_message (AioLoop *loop)
{
  g_autoptr(GError) error = NULL;
  AioTask *task = aio_loop_create_task (loop, cancelled_body, NULL, NULL);

  AioFuture *yield = aio_loop_sleep (loop, 0);

  /* The task is asleep on its own timer when it is cancelled. */
  g_assert_true (aio_loop_run_until_complete (loop, yield, NULL));
  g_object_unref (yield);
  aio_task_cancel (task, NULL);
  g_assert_false (aio_loop_run_until_complete (loop, AIO_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (task);
  return g_strdup (error->message);
}

static void
test_cancelled_locale_change (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *german = NULL;
  g_autofree char *english = NULL;
  g_autofree char *again = NULL;

  g_test_summary ("The default cancellation message, looked up once and "
                  "remembered for speed, follows a change of locale");

  if (!need_german ())
    return;

  german = cancelled_message (f->loop);
  g_assert_cmpstr (german, ==, "Der Task wurde abgebrochen");

  /* In the "C" locale gettext ignores LANGUAGE. */
  g_assert_nonnull (setlocale (LC_ALL, "C"));
  english = cancelled_message (f->loop);
  g_assert_cmpstr (english, ==, "The task was cancelled");

  g_assert_nonnull (setlocale (LC_ALL, german_locale));
  again = cancelled_message (f->loop);
  g_assert_cmpstr (again, ==, "Der Task wurde abgebrochen");
}

int
main (int   argc,
      char *argv[])
{
  /* Before anything in the test can call into the library: the binding
   * must come from the library being loaded, not from its first use. */
  loaded_dir = g_strdup (bindtextdomain (GETTEXT_PACKAGE, NULL));
  loaded_codeset = g_strdup (bind_textdomain_codeset (GETTEXT_PACKAGE, NULL));

  g_test_init (&argc, &argv, NULL);

  select_german ();
  bindtextdomain (GETTEXT_PACKAGE, AIO_TEST_LOCALEDIR);
  if (german_locale != NULL)
    g_test_message ("German via LANGUAGE=de in %s, catalogs in %s",
                    german_locale, AIO_TEST_LOCALEDIR);

  TEST_BARE ("/aio/i18n/bound", test_bound);
  TEST_UNPUSHED ("/aio/i18n/loop-closed", test_loop_closed);
  TEST_BARE ("/aio/i18n/run-in-main-loop", test_run_in_main_loop);
  TEST_UNPUSHED ("/aio/i18n/bound-object-gone", test_bound_object_gone);
  TEST_BARE ("/aio/i18n/queue-full", test_queue_full);
  TEST_UNPUSHED ("/aio/i18n/not-in-task", test_not_in_task);
  TEST_BARE ("/aio/i18n/timed-out", test_timed_out);
  TEST_BARE ("/aio/i18n/plural", test_plural);
  TEST_UNPUSHED ("/aio/i18n/cancelled-locale-change", test_cancelled_locale_change);

  return g_test_run ();
}
