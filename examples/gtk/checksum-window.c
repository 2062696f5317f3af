/* checksum-window.c: a GTK 4 window that checksums a folder with tasks
 *
 * Start walks the folder with GIO from a task (g_file_enumerate_children
 * and next_files, awaited with AIO_GIO_START), hashes each file on the
 * default executor (aio_run_in_executor: reading and hashing would block
 * the window), and shows every result as it arrives, with a progress bar.
 * Cancel cancels the run at whichever await it stands; a time limit
 * (aio_wait_for) stops it too. Each run is a task bound to the window
 * (aio_task_bind_to_object): closing the window cancels it.
 *
 * Everything runs on the default GMainContext, which g_application_run()
 * iterates: there is no aio_run() here, only tasks created on the default
 * loop from signal handlers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "checksum-window.h"

typedef struct
{
  /* The widgets, valid until the window is destroyed (@gone). */
  GtkWidget  *window;
  GtkWidget  *entry;
  GtkWidget  *limit;
  GtkWidget  *start;
  GtkWidget  *cancel;
  GtkWidget  *progress;
  GtkWidget  *status;
  GtkWidget  *results;

  gboolean    gone;
  GHashTable *sums;     /* name -> hex digest */
  AioTask    *job;      /* owned; the run under way */
} Checksum;

static Checksum *
checksum_ref (Checksum *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
checksum_clear (Checksum *self)
{
  g_hash_table_unref (self->sums);
  g_clear_object (&self->job);
}

static void
checksum_unref (gpointer self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) checksum_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Checksum, checksum_unref)

static Checksum *
checksum_of (GtkWidget *window)
{
  return g_object_get_data (G_OBJECT (window), "checksum");
}

/* ---- on a worker thread: read and hash one file -------------------------- */

static void
hash_file (AioFuture    *future,
           GCancellable *cancellable,
           gpointer      user_data)
{
  GFile *file = user_data;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  guchar buffer[64 * 1024];
  gssize n;

  /* Blocking calls are fine here: this is not the window's thread. No
   * widget may be touched from it. */
  in = g_file_read (file, cancellable, &error);
  while (in != NULL &&
         (n = g_input_stream_read (G_INPUT_STREAM (in), buffer, sizeof buffer,
                                   cancellable, &error)) > 0)
    g_checksum_update (sum, buffer, n);

  if (error != NULL)
    aio_future_reject (future, g_steal_pointer (&error));
  else
    aio_future_resolve_string (future, g_checksum_get_string (sum));
}

/* ---- in tasks, on the window's thread ------------------------------------ */

static void
add_result (Checksum   *self,
            const char *name,
            const char *digest)
{
  g_autofree char *line = g_strdup_printf ("%.16s…  %s", digest, name);
  GtkWidget *label = gtk_label_new (line);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_list_box_append (GTK_LIST_BOX (self->results), label);
  g_hash_table_insert (self->sums, g_strdup (name), g_strdup (digest));
}

/* Whether the window went away: then the task was cancelled, and must
 * not touch a widget even when what it awaited completed anyway. */
static gboolean
window_gone (AioTask  *task,
             Checksum *self)
{
  if (!self->gone)
    return FALSE;
  aio_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    "The window was closed"));
  return TRUE;
}

/* Walks the folder, then hashes its files one by one. */
static void
scan_folder (AioTask  *task,
             gpointer  user_data)
{
  Checksum *self = user_data;
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GFileEnumerator) enumerator = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  if (window_gone (task, self))
    return;
  folder = g_file_new_for_path (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  res = aio_await_gio (AIO_GIO_START (g_file_enumerate_children_async, folder,
                                      G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                      G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, G_PRIORITY_DEFAULT),
                       &error);
  if (res == NULL ||
      (enumerator = g_file_enumerate_children_finish (folder, res, &error)) == NULL)
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (;;)
    {
      g_autoptr(GAsyncResult) next = NULL;
      GList *infos;

      next = aio_await_gio (AIO_GIO_START (g_file_enumerator_next_files_async, enumerator,
                                           32, G_PRIORITY_DEFAULT),
                            &error);
      if (next == NULL)
        {
          aio_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      infos = g_file_enumerator_next_files_finish (enumerator, next, &error);
      if (infos == NULL)
        break;
      for (GList *l = infos; l != NULL; l = l->next)
        if (g_file_info_get_file_type (l->data) == G_FILE_TYPE_REGULAR)
          g_ptr_array_add (files, g_file_enumerator_get_child (enumerator, l->data));
      g_list_free_full (infos, g_object_unref);
    }
  if (error != NULL)
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < files->len; i++)
    {
      GFile *file = g_ptr_array_index (files, i);
      g_autofree char *digest = NULL;
      g_autofree char *name = g_file_get_basename (file);
      g_autofree char *text = NULL;

      digest = aio_await_string (aio_run_in_executor (NULL, hash_file, g_object_ref (file),
                                                      g_object_unref),
                                 &error);
      if (digest == NULL)
        {
          aio_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      if (window_gone (task, self))
        return;
      add_result (self, name, digest);
      text = g_strdup_printf ("%u of %u files", i + 1, files->len);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (i + 1.0) / files->len);
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
    }

  aio_task_return_int64 (task, files->len);
}

static void
set_running (Checksum *self,
             gboolean  running)
{
  gtk_widget_set_sensitive (self->start, !running);
  gtk_widget_set_sensitive (self->cancel, running);
}

/* One run: the scan under a time limit, and what became of it. */
static void
run_job (AioTask  *task,
         gpointer  user_data)
{
  g_autoptr(Checksum) self = checksum_ref (user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  double limit = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->limit));
  AioTask *scan;
  gint64 n;

  scan = aio_loop_create_task (aio_loop_get_default (), scan_folder, self, NULL);
  aio_task_bind_to_object (scan, self->window);
  n = aio_await_int64 (aio_wait_for (AIO_FUTURE (scan), limit), &error);

  /* The window went away: it cancelled this run, and there is nothing
   * left to show anything in. */
  if (self->gone)
    {
      aio_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (error == NULL)
    status = g_strdup_printf ("Done: %" G_GINT64_FORMAT " files", n);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    status = g_strdup_printf ("Stopped at the time limit (%g s)", limit);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    status = g_strdup ("Cancelled");
  else
    status = g_strdup_printf ("Failed: %s", error->message);
  gtk_label_set_text (GTK_LABEL (self->status), status);
  set_running (self, FALSE);

  /* A cancelled run ends cancelled, as a task that lets CancelledError
   * out does. */
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    aio_task_return_error (task, g_steal_pointer (&error));
}

/* A run cancelled before it began never runs its body (as an asyncio
 * task cancelled before its first step): say so from here. */
static void
on_job_done (AioFuture *job,
             gpointer   user_data)
{
  Checksum *self = user_data;

  if (self->gone || !aio_future_is_cancelled (job))
    return;
  gtk_label_set_text (GTK_LABEL (self->status), "Cancelled");
  set_running (self, FALSE);
}

static void
on_start (GtkButton *button,
          Checksum  *self)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (self->results)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->results), row);
  g_hash_table_remove_all (self->sums);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), NULL);
  gtk_label_set_text (GTK_LABEL (self->status), "Working…");
  set_running (self, TRUE);

  g_clear_object (&self->job);
  self->job = aio_loop_create_task (aio_loop_get_default (), run_job,
                                    checksum_ref (self), checksum_unref);
  aio_future_add_done_callback (AIO_FUTURE (self->job), on_job_done,
                                checksum_ref (self), checksum_unref);
  /* Closing the window cancels the run. */
  aio_task_bind_to_object (self->job, self->window);
}

static void
on_cancel (GtkButton *button,
           Checksum  *self)
{
  if (self->job != NULL)
    aio_task_cancel (self->job, "the Cancel button");
}

static void
on_destroy (GtkWidget *window,
            Checksum  *self)
{
  self->gone = TRUE;
}

GtkWidget *
checksum_window_new (GtkApplication *app)
{
  Checksum *self = g_atomic_rc_box_new0 (Checksum);
  GtkWidget *box, *row, *scrolled;

  self->sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  self->window = gtk_application_window_new (app);
  gtk_window_set_title (GTK_WINDOW (self->window), "Folder checksums");
  gtk_window_set_default_size (GTK_WINDOW (self->window), 480, 360);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), "Folder");
  gtk_editable_set_text (GTK_EDITABLE (self->entry), g_get_home_dir ());
  gtk_widget_set_hexpand (self->entry, TRUE);
  gtk_box_append (GTK_BOX (row), self->entry);
  gtk_box_append (GTK_BOX (row), gtk_label_new ("Limit (s)"));
  self->limit = gtk_spin_button_new_with_range (1, 3600, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->limit), 30);
  gtk_box_append (GTK_BOX (row), self->limit);
  gtk_box_append (GTK_BOX (box), row);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->start = gtk_button_new_with_label ("Start");
  self->cancel = gtk_button_new_with_label ("Cancel");
  gtk_widget_set_sensitive (self->cancel, FALSE);
  gtk_box_append (GTK_BOX (row), self->start);
  gtk_box_append (GTK_BOX (row), self->cancel);
  self->status = gtk_label_new ("Pick a folder and press Start");
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  gtk_widget_set_hexpand (self->status, TRUE);
  gtk_box_append (GTK_BOX (row), self->status);
  gtk_box_append (GTK_BOX (box), row);

  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_box_append (GTK_BOX (box), self->progress);

  self->results = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->results), GTK_SELECTION_NONE);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->results);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), scrolled);

  gtk_window_set_child (GTK_WINDOW (self->window), box);

  g_signal_connect (self->start, "clicked", G_CALLBACK (on_start), self);
  g_signal_connect (self->cancel, "clicked", G_CALLBACK (on_cancel), self);
  g_signal_connect (self->window, "destroy", G_CALLBACK (on_destroy), self);
  g_object_set_data_full (G_OBJECT (self->window), "checksum", self, checksum_unref);

  return self->window;
}

GtkEntry *
checksum_window_get_entry (GtkWidget *window)
{
  return GTK_ENTRY (checksum_of (window)->entry);
}

GtkButton *
checksum_window_get_start (GtkWidget *window)
{
  return GTK_BUTTON (checksum_of (window)->start);
}

GtkButton *
checksum_window_get_cancel (GtkWidget *window)
{
  return GTK_BUTTON (checksum_of (window)->cancel);
}

const char *
checksum_window_get_status (GtkWidget *window)
{
  return gtk_label_get_text (GTK_LABEL (checksum_of (window)->status));
}

GHashTable *
checksum_window_get_results (GtkWidget *window)
{
  return checksum_of (window)->sums;
}

AioTask *
checksum_window_get_job (GtkWidget *window)
{
  return checksum_of (window)->job;
}

void
checksum_window_set_limit (GtkWidget *window,
                           double     seconds)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (checksum_of (window)->limit), seconds);
}
