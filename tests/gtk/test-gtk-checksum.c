/* test-gtk-checksum.c: drives the GTK checksum example under Xvfb
 *
 * Starts the example's window (examples/gtk/checksum-window.c) in a
 * GtkApplication run by g_application_run(), and clicks through it from
 * a task: Start on a folder of known files, whose checksums must match
 * GChecksum's; Start then Cancel; Start then close the window, which
 * must cancel the run. Renders the window to a PNG in the build folder
 * (AIO_GTK_SCREENSHOT, or checksum.png).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "aio-test.h"
#include "checksum-window.h"

typedef struct
{
  GtkApplication *app;
  GtkWidget      *window;
  char           *folder;
  GHashTable     *expected;   /* name -> SHA-256 */
  gboolean        passed;
} Drive;

static void
make_folder (Drive *d)
{
  g_autoptr(GError) error = NULL;

  d->folder = g_dir_make_tmp ("aio-gtk-checksum-XXXXXX", &error);
  g_assert_no_error (error);
  d->expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%02u.txt", i);
      g_autofree char *path = g_build_filename (d->folder, name, NULL);
      g_autoptr(GString) contents = g_string_new (NULL);

      /* Known contents of various sizes, up to a few buffers. */
      for (guint k = 0; k < i * i * 100; k++)
        g_string_append_printf (contents, "%u:%u\n", i, k);
      g_assert_true (g_file_set_contents (path, contents->str, contents->len, &error));
      g_assert_no_error (error);
      g_hash_table_insert (d->expected, g_strdup (name),
                           g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                        (const guchar *) contents->str,
                                                        contents->len));
    }
  /* A subfolder, which is not a file to hash. */
  {
    g_autofree char *sub = g_build_filename (d->folder, "subfolder", NULL);

    g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  }
}

static void
remove_folder (Drive *d)
{
  g_autoptr(GDir) dir = g_dir_open (d->folder, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (d->folder, name, NULL);

      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (d->folder), ==, 0);
}

static void
save_screenshot (GtkWidget *window)
{
  const char *path = g_getenv ("AIO_GTK_SCREENSHOT");
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path != NULL ? path : "checksum.png"));
  g_test_message ("screenshot of %dx%d in %s", width, height, path != NULL ? path : "checksum.png");
}

/* Waits, a frame at a time, until the run under way is over. */
static void
wait_run (Drive *d)
{
  AioTask *job = checksum_window_get_job (d->window);

  g_assert_nonnull (job);
  while (!aio_future_is_done (AIO_FUTURE (job)))
    g_assert_true (aio_await (aio_sleep (0.01), NULL));
  /* and its done callbacks have run */
  g_assert_true (aio_await (aio_sleep (0.01), NULL));
}

static void
drive (AioTask  *task,
       gpointer  user_data)
{
  Drive *d = user_data;
  GHashTable *results;
  GHashTableIter iter;
  gpointer name, digest;
  g_autoptr(AioTask) closed_job = NULL;

  /* Let the window map and paint. */
  g_assert_true (aio_await (aio_sleep (0.3), NULL));

  /* A run to the end: every file's checksum, as GChecksum has it. */
  gtk_editable_set_text (GTK_EDITABLE (checksum_window_get_entry (d->window)), d->folder);
  g_signal_emit_by_name (checksum_window_get_start (d->window), "clicked");
  wait_run (d);
  g_assert_cmpstr (checksum_window_get_status (d->window), ==, "Done: 12 files");
  results = checksum_window_get_results (d->window);
  g_assert_cmpuint (g_hash_table_size (results), ==, g_hash_table_size (d->expected));
  g_hash_table_iter_init (&iter, d->expected);
  while (g_hash_table_iter_next (&iter, &name, &digest))
    g_assert_cmpstr (g_hash_table_lookup (results, name), ==, digest);
  g_assert_true (aio_future_is_resolved (AIO_FUTURE (checksum_window_get_job (d->window))));

  /* Let it paint the results, then keep a picture of it. */
  g_assert_true (aio_await (aio_sleep (0.3), NULL));
  save_screenshot (d->window);

  /* Cancel stops a run at once. */
  g_signal_emit_by_name (checksum_window_get_start (d->window), "clicked");
  g_signal_emit_by_name (checksum_window_get_cancel (d->window), "clicked");
  wait_run (d);
  g_assert_cmpstr (checksum_window_get_status (d->window), ==, "Cancelled");
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (checksum_window_get_job (d->window))));
  g_assert_cmpuint (g_hash_table_size (checksum_window_get_results (d->window)), <, 12);

  /* So does the time limit (the smallest the window takes, 1 s, against
   * a folder that cannot be listed in time: none, here, so the run ends
   * before; the limit's path is what aio_wait_for's tests cover). */

  /* Closing the window cancels the run it started. */
  g_signal_emit_by_name (checksum_window_get_start (d->window), "clicked");
  closed_job = g_object_ref (checksum_window_get_job (d->window));
  gtk_window_destroy (GTK_WINDOW (d->window));
  d->window = NULL;
  while (!aio_future_is_done (AIO_FUTURE (closed_job)))
    g_assert_true (aio_await (aio_sleep (0.01), NULL));
  g_assert_true (aio_future_is_cancelled (AIO_FUTURE (closed_job)));
  g_assert_nonnull (strstr (aio_future_get_error (AIO_FUTURE (closed_job))->message,
                            "GtkApplicationWindow"));

  d->passed = TRUE;
  g_application_release (G_APPLICATION (d->app));
}

static void
on_activate (GApplication *app,
             Drive        *d)
{
  AioTask *task;

  d->window = checksum_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (d->window));
  /* The test's own task, on the default loop g_application_run() runs;
   * it keeps the application until it is over, the window or not. */
  g_application_hold (app);
  task = aio_loop_create_task (aio_loop_get_default (), drive, d, NULL);
  g_object_unref (task);
}

static void
test_checksum_window (void)
{
  Drive d = { 0, };
  char *argv[] = { (char *) "test-gtk-checksum", NULL };

  g_test_summary ("The GTK example started by g_application_run(): checksums of "
                  "a folder match GChecksum's, Cancel cancels the run, closing "
                  "the window cancels the run it started");

  make_folder (&d);
  d.app = gtk_application_new ("org.aioglib.ChecksumTest", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (d.app, "activate", G_CALLBACK (on_activate), &d);
  g_assert_cmpint (g_application_run (G_APPLICATION (d.app), 1, argv), ==, 0);
  g_assert_true (d.passed);

  g_object_unref (d.app);
  remove_folder (&d);
  g_free (d.folder);
  g_hash_table_unref (d.expected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TEST_BARE ("/aio/gtk/checksum/window", test_checksum_window);

  return g_test_run ();
}
