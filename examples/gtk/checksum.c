/* checksum.c: a GTK 4 application that checksums a folder with tasks
 *
 * The window is in checksum-window.c. This is a plain GTK application:
 * g_application_run() iterates the default GMainContext, and aio-glib's
 * default loop runs the window's tasks there. No aio_run().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "checksum-window.h"

static void
on_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (checksum_window_new (GTK_APPLICATION (app))));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkApplication) app = NULL;

  app = gtk_application_new ("org.aioglib.Checksum", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
