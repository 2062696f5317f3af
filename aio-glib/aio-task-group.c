/* aio-task-group.c: AioTaskGroup, asyncio's TaskGroup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioTaskGroup:
 *
 * A set of tasks that finish together: asyncio's `TaskGroup`.
 *
 * Tasks created in a group ([method@Aio.TaskGroup.create_task],
 * [method@Aio.TaskGroup.create_stepped_task]) run as any other task;
 * [method@Aio.TaskGroup.wait] returns a future that completes once all of
 * them are done, which is where asyncio's `async with` block ends.
 *
 * ```c
 * g_autoptr(AioTaskGroup) group = aio_task_group_new ();
 * g_autoptr(GError) error = NULL;
 *
 * aio_task_group_create_task (group, fetch, g_strdup ("https://a.example"), g_free);
 * aio_task_group_create_task (group, fetch, g_strdup ("https://b.example"), g_free);
 * if (!aio_await (aio_task_group_wait (group), &error))
 *   g_printerr ("fetching failed: %s\n", error->message);
 * ```
 *
 * ## Failures
 *
 * The first task that fails (with an error other than cancellation)
 * cancels every other task of the group; tasks created afterwards are
 * cancelled at once, before their body runs. Once all are done, the wait
 * fails with an error that reports every failure, in the order they
 * happened: the domain and code of the first, and the message
 * `"first message (and 2 more: second message; third message)"` (just the
 * first message when only one task failed). This stands in for asyncio's
 * `ExceptionGroup`. The tasks' own errors count as retrieved, so none is
 * reported as "never retrieved".
 *
 * ## Cancellation
 *
 * Cancelling the wait's future, which is what cancelling the task that
 * awaits it does, cancels every task of the group; the wait then
 * completes, cancelled, once they are all done, unless some of them
 * failed meanwhile: errors win over cancellation, as in asyncio. Groups
 * nest: a task of one group may wait for a group of its own, and
 * cancelling it cancels that group too.
 *
 * A task of the group that is cancelled on its own (not through the
 * group) counts as neither a failure nor a reason to stop the others.
 *
 * Once its wait has completed, a group takes no more tasks: creating one
 * is a programmer error.
 *
 * Unlike asyncio's, a group does not cancel the task that created it
 * when a member fails: a task that awaits something else than
 * [method@Aio.TaskGroup.wait] meanwhile is not interrupted. Await the wait
 * (or run that work in the group as well) to hear of failures early.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-task-group.h"
#include "aio-waiter-private.h"

struct _AioTaskGroup
{
  GObject     parent_instance;

  /* Owned.  Set at construction, never replaced. */
  AioLoop    *loop;

  /* Loop thread only, as everything below.  The tasks not done yet, each
   * a Child (which holds a reference on the group and on the task). */
  GQueue      children;
  /* GError *, owned: the tasks' failures, in the order they happened. */
  GPtrArray  *errors;
  /* Owned: the future of wait(), once asked for. */
  AioFuture  *wait;

  /* GroupBinding *, owned: the objects the group is bound to
   * (aio_task_group_bind_to_object()), until they go away or the group
   * finishes.  Owned: why the group was cancelled when one went away. */
  GSList     *bindings;
  char       *gone_message;

  gboolean    aborting;
  gboolean    finished;
};

typedef struct
{
  AioTaskGroup *group;    /* unowned: the group frees its bindings */
  GObject      *object;   /* weak */
} GroupBinding;

G_DEFINE_FINAL_TYPE (AioTaskGroup, aio_task_group, G_TYPE_OBJECT)

typedef struct
{
  GList          link;
  gboolean       linked;
  AioTaskGroup  *group;
  AioTask       *task;
} Child;

/* ---- the wait future ----------------------------------------------------- */

typedef struct
{
  AioFuture      parent_instance;

  /* Owned while pending. */
  AioTaskGroup  *group;
  gboolean       cancel_requested;
  char          *cancel_message;
} AioTaskGroupWait;

typedef struct
{
  AioFutureClass parent_class;
} AioTaskGroupWaitClass;

static GType aio_task_group_wait_future_get_type (void);
G_DEFINE_FINAL_TYPE (AioTaskGroupWait, aio_task_group_wait_future, AIO_TYPE_FUTURE)

static void aio_task_group_abort       (AioTaskGroup *self);
static void aio_task_group_maybe_finish (AioTaskGroup *self);
static void aio_task_group_unbind_all   (AioTaskGroup *self);

static void
aio_task_group_wait_cancel_in_loop (gpointer object)
{
  AioTaskGroupWait *wait = object;
  AioTaskGroup *group = wait->group;

  if (group == NULL || wait->cancel_requested)
    return;

  wait->cancel_requested = TRUE;
  g_object_ref (group);
  aio_task_group_abort (group);
  aio_task_group_maybe_finish (group);
  g_object_unref (group);
}

/* Cancelling the wait only requests it: the group's tasks are cancelled,
 * and the wait completes once they are done. */
static gboolean
aio_task_group_wait_cancel (AioFuture  *future,
                            const char *message)
{
  AioTaskGroupWait *wait = (AioTaskGroupWait *) future;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    return FALSE;

  if (_aio_loop_is_current (future->loop))
    {
      if (wait->group == NULL || wait->cancel_requested)
        return FALSE;
      g_free (wait->cancel_message);
      wait->cancel_message = g_strdup (message);
    }

  _aio_sync_run_in_loop (future->loop, wait, aio_task_group_wait_cancel_in_loop);
  return TRUE;
}

static void
aio_task_group_wait_future_finalize (GObject *object)
{
  AioTaskGroupWait *wait = (AioTaskGroupWait *) object;

  g_clear_object (&wait->group);
  g_free (wait->cancel_message);

  G_OBJECT_CLASS (aio_task_group_wait_future_parent_class)->finalize (object);
}

static void
aio_task_group_wait_future_class_init (AioTaskGroupWaitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AioFutureClass *future_class = AIO_FUTURE_CLASS (klass);

  object_class->finalize = aio_task_group_wait_future_finalize;
  future_class->cancel = aio_task_group_wait_cancel;
}

static void
aio_task_group_wait_future_init (AioTaskGroupWait *wait)
{
}

/* ---- the group ----------------------------------------------------------- */

static void
aio_task_group_finalize (GObject *object)
{
  AioTaskGroup *self = (AioTaskGroup *) object;

  /* Each child holds the group until it is done. */
  g_assert (self->children.length == 0);

  aio_task_group_unbind_all (self);
  g_free (self->gone_message);
  g_ptr_array_unref (self->errors);
  g_clear_object (&self->wait);
  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_task_group_parent_class)->finalize (object);
}

static void
aio_task_group_class_init (AioTaskGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = aio_task_group_finalize;
}

static void
aio_task_group_init (AioTaskGroup *self)
{
  g_queue_init (&self->children);
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  self->loop = g_object_ref (_aio_sync_pick_loop ());
}

/**
 * aio_task_group_new:
 *
 * Creates an empty task group (asyncio's `TaskGroup()`) whose tasks run
 * on the running loop, or on the default loop when none runs.
 *
 * Returns: (transfer full): a new task group; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioTaskGroup *
aio_task_group_new (void)
{
  return g_object_new (AIO_TYPE_TASK_GROUP, NULL);
}

/* Reports every failure in one error: the first one's domain and code,
 * and all the messages. */
static GError *
aio_task_group_build_error (AioTaskGroup *self)
{
  const GError *first = g_ptr_array_index (self->errors, 0);
  g_autoptr(GString) rest = NULL;
  g_autofree char *message = NULL;
  guint n_more = self->errors->len - 1;

  if (n_more == 0)
    return g_error_copy (first);

  rest = g_string_new (NULL);
  for (guint i = 1; i < self->errors->len; i++)
    {
      const GError *error = g_ptr_array_index (self->errors, i);

      if (i > 1)
        g_string_append (rest, "; ");
      g_string_append (rest, error->message);
    }

  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          /* TRANSLATORS: a failed task group's error: the
                                           * first task's error message, how many more
                                           * tasks failed, and their messages. */
                                          "%s (and %u more: %s)",
                                          "%s (and %u more: %s)",
                                          n_more),
                             first->message, n_more, rest->str);
  return g_error_new_literal (first->domain, first->code, message);
}

static void
aio_task_group_maybe_finish (AioTaskGroup *self)
{
  AioTaskGroupWait *wait = (AioTaskGroupWait *) self->wait;
  AioTaskGroup *group;

  if (self->finished || wait == NULL || self->children.length > 0)
    return;

  self->finished = TRUE;
  aio_task_group_unbind_all (self);

  if (self->errors->len > 0)
    _aio_sync_reject (self->wait, aio_task_group_build_error (self), FALSE);
  else if (wait->cancel_requested)
    _aio_sync_reject (self->wait, _aio_future_new_cancelled_error (wait->cancel_message), FALSE);
  else if (self->gone_message != NULL)
    _aio_sync_reject (self->wait, _aio_future_new_cancelled_error (self->gone_message), FALSE);
  else
    _aio_sync_resolve (self->wait, FALSE);

  /* The wait let go of the group; the group keeps the wait. */
  group = g_steal_pointer (&wait->group);
  g_object_unref (group);
}

static void
aio_task_group_abort (AioTaskGroup *self)
{
  GList *link = self->children.head;

  self->aborting = TRUE;

  /* Cancelling a task completes nothing in this call, so the list does
   * not change under us. */
  while (link != NULL)
    {
      Child *child = link->data;

      link = link->next;
      aio_task_cancel (child->task, NULL);
    }
}

static void
child_free (gpointer data)
{
  Child *child = data;

  /* The loop was closed before the task finished: its callback will never
   * run. */
  if (child->linked)
    {
      g_queue_unlink (&child->group->children, &child->link);
      child->linked = FALSE;
    }

  g_object_unref (child->task);
  g_object_unref (child->group);
  g_free (child);
}

static void
child_done (AioFuture *future,
            gpointer   user_data)
{
  Child *child = user_data;
  AioTaskGroup *self = child->group;

  g_queue_unlink (&self->children, &child->link);
  child->linked = FALSE;

  if (aio_future_is_rejected (future))
    {
      /* Reading the error marks it retrieved: the group reports it. */
      g_ptr_array_add (self->errors, g_error_copy (aio_future_get_error (future)));
      if (!self->aborting)
        aio_task_group_abort (self);
    }

  aio_task_group_maybe_finish (self);
}

static AioTask *
aio_task_group_add (AioTaskGroup *self,
                    AioTask      *task)
{
  Child *child;

  if (task == NULL)
    return NULL;

  child = g_new0 (Child, 1);
  child->link.data = child;
  child->linked = TRUE;
  child->group = g_object_ref (self);
  child->task = task;   /* the reference aio_loop_create_task() gave us */
  g_queue_push_tail_link (&self->children, &child->link);
  aio_future_add_done_callback ((AioFuture *) task, child_done, child, child_free);

  /* asyncio refuses new tasks while the group is shutting down; we take
   * them and cancel them at once, so their body never runs. */
  if (self->aborting)
    aio_task_cancel (task, NULL);

  return task;
}

static gboolean
aio_task_group_check_open (AioTaskGroup   *self,
                           const char     *func,
                           gpointer        user_data,
                           GDestroyNotify  destroy)
{
  if (!self->finished)
    return TRUE;

  g_critical ("%s: the task group %p is finished; it takes no new tasks", func, self);
  if (destroy != NULL)
    destroy (user_data);
  return FALSE;
}

/**
 * aio_task_group_create_task: (skip)
 * @group: an [class@Aio.TaskGroup]
 * @func: the body, run on a fiber
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task of @group that runs @func on a fiber, as
 * `aio_create_task()` does (asyncio's `TaskGroup.create_task()`).
 *
 * While the group is failing or cancelled, the task is cancelled at once
 * and its body never runs. A group whose wait has completed takes no new
 * tasks: that is a programmer error, and @destroy is called on @user_data.
 *
 * Returns: (transfer none) (nullable): the new task. The group holds it
 *   until it is done; take a reference to keep it longer.
 *
 * Since: 1.0
 */
AioTask *
aio_task_group_create_task (AioTaskGroup   *group,
                            AioTaskFunc     func,
                            gpointer        user_data,
                            GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_TASK_GROUP (group), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (!aio_task_group_check_open (group, G_STRFUNC, user_data, destroy))
    return NULL;

  return aio_task_group_add (group, aio_loop_create_task (group->loop, func, user_data, destroy));
}

/**
 * aio_task_group_create_stepped_task:
 * @group: an [class@Aio.TaskGroup]
 * @func: (scope notified) (closure user_data) (destroy destroy): the step
 *   function
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the task is over
 *
 * Creates a task of @group with a stepped body, as
 * [func@Aio.create_stepped_task] does; otherwise as
 * `aio_task_group_create_task()`.
 *
 * Returns: (transfer none) (nullable): the new task. The group holds it
 *   until it is done; take a reference to keep it longer.
 *
 * Since: 1.0
 */
AioTask *
aio_task_group_create_stepped_task (AioTaskGroup   *group,
                                    AioStepFunc     func,
                                    gpointer        user_data,
                                    GDestroyNotify  destroy)
{
  g_return_val_if_fail (AIO_IS_TASK_GROUP (group), NULL);
  g_return_val_if_fail (func != NULL, NULL);

  if (!aio_task_group_check_open (group, G_STRFUNC, user_data, destroy))
    return NULL;

  return aio_task_group_add (group,
                             aio_loop_create_stepped_task (group->loop, func, user_data, destroy));
}

/**
 * aio_task_group_wait:
 * @group: an [class@Aio.TaskGroup]
 *
 * Waits for every task of @group (the end of asyncio's `async with
 * TaskGroup()` block). Tasks may still be added while the wait is
 * pending; once it has completed, the group is finished.
 *
 * The returned future resolves, with no value, once all the tasks are
 * done, none having failed. If some failed, it fails with an error that
 * reports all of them (see [class@Aio.TaskGroup]). Cancelling it cancels
 * the group's tasks; it is then cancelled once they are done.
 *
 * A group has one wait: calling this again is a programmer error.
 *
 * Returns: (transfer full): a future for the group; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_task_group_wait (AioTaskGroup *group)
{
  AioTaskGroupWait *wait;

  g_return_val_if_fail (AIO_IS_TASK_GROUP (group), NULL);

  if (group->wait != NULL)
    {
      g_critical ("aio_task_group_wait: the task group %p is waited for already", group);
      return NULL;
    }

  wait = _aio_future_new (aio_task_group_wait_future_get_type (), group->loop);
  wait->group = g_object_ref (group);
  group->wait = g_object_ref ((AioFuture *) wait);

  aio_task_group_maybe_finish (group);
  return (AioFuture *) wait;
}

/**
 * aio_task_group_get_n_pending:
 * @group: an [class@Aio.TaskGroup]
 *
 * Counts the tasks of @group that are not done yet.
 *
 * Returns: the number of pending tasks
 *
 * Since: 1.0
 */
guint
aio_task_group_get_n_pending (AioTaskGroup *group)
{
  g_return_val_if_fail (AIO_IS_TASK_GROUP (group), 0);

  return group->children.length;
}

/**
 * aio_task_group_is_aborting:
 * @group: an [class@Aio.TaskGroup]
 *
 * Whether @group is cancelling its tasks, because one of them failed or
 * its wait was cancelled.
 *
 * Returns: %TRUE if the group is aborting
 *
 * Since: 1.0
 */
gboolean
aio_task_group_is_aborting (AioTaskGroup *group)
{
  g_return_val_if_fail (AIO_IS_TASK_GROUP (group), FALSE);

  return group->aborting;
}

/* ---- binding to an object ------------------------------------------------ */

static void
group_binding_object_gone (gpointer  data,
                           GObject  *where_the_object_was)
{
  GroupBinding *binding = data;
  AioTaskGroup *self = binding->group;

  self->bindings = g_slist_remove (self->bindings, binding);
  g_free (binding);

  if (self->finished || self->gone_message != NULL)
    return;

  /* The object is being disposed: its type is still there to name. */
  self->gone_message = g_strdup_printf (_("The %s the task group was bound to went away"),
                                        G_OBJECT_TYPE_NAME (where_the_object_was));
  g_object_ref (self);
  aio_task_group_abort (self);
  aio_task_group_maybe_finish (self);
  g_object_unref (self);
}

static void
aio_task_group_unbind_all (AioTaskGroup *self)
{
  while (self->bindings != NULL)
    {
      GroupBinding *binding = self->bindings->data;

      self->bindings = g_slist_delete_link (self->bindings, self->bindings);
      g_object_weak_unref (binding->object, group_binding_object_gone, binding);
      g_free (binding);
    }
}

/**
 * aio_task_group_bind_to_object:
 * @group: an [class@Aio.TaskGroup]
 * @object: (type GObject.Object): the object @group works for: a window,
 *   a widget, a document
 *
 * Ties @group to @object's lifetime: when @object goes away (is disposed,
 * as a destroyed GTK window or widget is, or finalized), every task of
 * @group is cancelled, as cancelling its wait does: tasks created later
 * are cancelled at once, and the wait completes cancelled, with a message
 * that names @object's type, once they are all done (unless some failed:
 * errors win). A group that finishes first lets go of @object at once.
 *
 * Neither keeps the other alive. @object must go away in the thread of
 * @group's loop, as GTK widgets do.
 *
 * Since: 1.0
 */
void
aio_task_group_bind_to_object (AioTaskGroup *group,
                               gpointer      object)
{
  GroupBinding *binding;

  g_return_if_fail (AIO_IS_TASK_GROUP (group));
  g_return_if_fail (G_IS_OBJECT (object));

  if (group->finished)
    return;

  binding = g_new0 (GroupBinding, 1);
  binding->group = group;
  binding->object = object;
  g_object_weak_ref (object, group_binding_object_gone, binding);
  group->bindings = g_slist_prepend (group->bindings, binding);
}
