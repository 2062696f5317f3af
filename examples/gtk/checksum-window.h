/* checksum-window.h: the window of the folder checksum example
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <aio-glib.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A window that checksums the files of a folder (SHA-256). */
GtkWidget  *checksum_window_new         (GtkApplication *app);

/* For tests, which drive the window as a person would. */
GtkEntry   *checksum_window_get_entry   (GtkWidget *window);
GtkButton  *checksum_window_get_start   (GtkWidget *window);
GtkButton  *checksum_window_get_cancel  (GtkWidget *window);
const char *checksum_window_get_status  (GtkWidget *window);
/* name -> hex digest of what finished so far (transfer none) */
GHashTable *checksum_window_get_results (GtkWidget *window);
/* The run under way, or NULL (transfer none). */
AioTask    *checksum_window_get_job     (GtkWidget *window);
void        checksum_window_set_limit   (GtkWidget *window,
                                         double     seconds);

G_END_DECLS
