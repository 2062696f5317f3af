/* aio-task-bind.c: tasks that end with the object they work for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-future-private.h"
#include "aio-task.h"

/* One task bound to one object.  Lives as long as the task's done
 * callback: freed by its destroy notify, when the task is done or
 * finalized.  @object is weakly referenced until it goes away (then
 * NULL). */
typedef struct
{
  AioTask *task;     /* unowned: valid while the callback is registered */
  GObject *object;   /* weak */
} TaskBinding;

static void
task_binding_object_gone (gpointer  data,
                          GObject  *where_the_object_was)
{
  TaskBinding *binding = data;
  g_autofree char *message = NULL;

  /* The object is being disposed: its type is still there to name. */
  message = g_strdup_printf (_("The %s the task was bound to went away"),
                             G_OBJECT_TYPE_NAME (where_the_object_was));
  binding->object = NULL;
  /* Cancelling completes nothing in this call; the binding is freed once
   * the task is done. */
  aio_task_cancel (binding->task, message);
}

static void
task_binding_task_done (AioFuture *future,
                        gpointer   data)
{
}

static void
task_binding_free (gpointer data)
{
  TaskBinding *binding = data;

  if (binding->object != NULL)
    g_object_weak_unref (binding->object, task_binding_object_gone, binding);
  g_free (binding);
}

/**
 * aio_task_bind_to_object:
 * @task: an [class@Aio.Task]
 * @object: (type GObject.Object): the object @task works for: a window,
 *   a widget, a document
 *
 * Ties @task to @object's lifetime: when @object goes away (is disposed,
 * as a destroyed GTK window or widget is, or finalized), @task is
 * cancelled, with a message that names @object's type. A task that
 * finishes first lets go of @object at once.
 *
 * Neither keeps the other alive: @task holds no reference on @object, and
 * @object none on @task. @object must go away in the thread of @task's
 * loop, as GTK widgets do. A task may be bound to several objects; the
 * first to go cancels it.
 *
 * ```c
 * AioTask *task = aio_loop_create_task (aio_loop_get_default (), load_folder, data, free_data);
 * aio_task_bind_to_object (task, G_OBJECT (window));
 * g_object_unref (task);
 * ```
 *
 * Since: 1.0
 */
void
aio_task_bind_to_object (AioTask  *task,
                         gpointer  object)
{
  TaskBinding *binding;

  g_return_if_fail (AIO_IS_TASK (task));
  g_return_if_fail (G_IS_OBJECT (object));

  binding = g_new0 (TaskBinding, 1);
  binding->task = task;
  binding->object = object;
  g_object_weak_ref (object, task_binding_object_gone, binding);
  aio_future_add_done_callback (AIO_FUTURE (task), task_binding_task_done,
                                binding, task_binding_free);
}
