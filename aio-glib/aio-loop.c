/* aio-loop.c: AioLoop, asyncio's event loop over a GMainContext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioLoop:
 *
 * The event loop that runs tasks and futures' callbacks on a
 * `GMainContext`.
 *
 * There is at most one loop per `GMainContext`, and it can always be found
 * again from the context ([func@Aio.Loop.ref_for_context]). The loop adds
 * four `GSource`s to its context, whatever the number of tasks, futures
 * and timers:
 *
 * - the **ready queue**: callbacks to run on the loop's next iteration, in
 *   FIFO order. An iteration of the loop is one batch: it runs only what was
 *   queued before it began, so a callback that queues itself again cannot
 *   starve the others. One dispatch of the source runs batch after batch
 *   without polling the context in between — so that a hand-off between
 *   tasks costs less than a `GMainContext` iteration — until nothing is
 *   ready, a timer is due, another thread handed work over, or 1 ms has
 *   passed; then the context polls, and I/O and other sources get their
 *   turn;
 * - the **others' turn**: a source of the lowest priority there is, through
 *   which the ready queue lets every other source have a turn (see below);
 * - the **timer heap**: a binary heap of deadlines in microseconds of the
 *   monotonic clock. Equal deadlines fire in the order they were set. The
 *   context sleeps until the earliest deadline and not a moment less;
 * - the **inbox**: a locked queue through which other threads hand work to
 *   the loop's thread (futures completed by worker threads,
 *   [method@Aio.Loop.call_soon_threadsafe]); pushing to it wakes the
 *   context.
 *
 * A loop whose tasks use sockets ([func@Aio.socket_receive] and its
 * relatives) adds a fifth source, the first time: one `epoll` descriptor
 * in which every socket the loop serves is registered once, so that the
 * context polls one descriptor whatever the number of sockets.
 *
 * ## Sharing the context fairly
 *
 * The ready queue, the timers, the inbox and the sockets' source have the
 * loop's priority ([property@Aio.Loop:priority], `G_PRIORITY_DEFAULT`
 * unless set), like any `GSource`. But a `GMainContext` only dispatches
 * the sources of the highest priority that are ready, and tasks that keep
 * yielding (`aio_yield()`, asyncio's `await asyncio.sleep(0)`) keep the
 * ready queue ready: left at that, GTK's layout and painting
 * (`GDK_PRIORITY_REDRAW`) and every idle would never run. So once the
 * ready queue has been busy for its budget and still has work, it steps
 * aside: the next context iteration goes to whatever else is ready, at
 * any priority, and so on until nothing else is ready or the others have
 * had as long as the tasks had (at least one iteration); then the tasks
 * carry on. When nothing else is ready, stepping aside costs nothing: the
 * others' turn source runs the next batch in the same iteration. Busy
 * tasks thus slow a window down, never freeze it, and a busy source of
 * the loop's priority cannot starve the tasks either.
 *
 * Because these are ordinary sources on the context, work runs whoever
 * iterates it: an application that only calls `g_application_run()` or
 * `g_main_context_iteration()` runs its tasks and timers all the same.
 * [method@Aio.Loop.run_until_complete], [method@Aio.Loop.run_forever],
 * [method@Aio.Loop.stop] and [method@Aio.Loop.close] are conveniences over
 * `g_main_context_iteration()`.
 *
 * A stopped loop can run again; a closed loop is gone for good, and every
 * later use fails with `AIO_ERROR_CLOSED`. Closing cancels nothing by
 * itself: [func@Aio.run] cancels the remaining tasks first. Closing a loop
 * drops the references it holds on tasks that are still pending.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "aio-error.h"
#include "aio-io-private.h"
#include "aio-loop-private.h"
#include "aio-loop-sources-private.h"
#include "aio-private.h"

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_STACK_SIZE,
  PROP_PRIORITY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioLoop, aio_loop, G_TYPE_OBJECT)

/* ---- the registry: at most one loop per context -------------------------- */

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;

/* Serializes creating loops for existing contexts, so that two threads
 * asking for the same context's loop get the same one. */
static GMutex creation_mutex;

static AioLoop *
registry_lookup (GMainContext *context)
{
  AioLoop *loop = NULL;

  G_LOCK (registry);
  if (registry != NULL)
    {
      loop = g_hash_table_lookup (registry, context);
      if (loop != NULL)
        _aio_ref (loop);
    }
  G_UNLOCK (registry);

  return loop;
}

static void
registry_remove (AioLoop *self)
{
  G_LOCK (registry);
  if (self->registered && registry != NULL &&
      g_hash_table_lookup (registry, self->context) == self)
    g_hash_table_remove (registry, self->context);
  self->registered = FALSE;
  G_UNLOCK (registry);
}

/* ---- following the context ----------------------------------------------- */

/* A loop found from a context (aio_loop_get_default() in a thread that
 * pushed a context of its own, as a _sync wrapper does) lives as long as
 * that context and no longer: it holds no reference on it, and a source
 * with no callbacks, which only the context references, tells it when the
 * context is finalized.  Otherwise each such context, with its wakeup
 * descriptor, would live as long as the process. */
typedef struct
{
  GSource  source;
  /* Borrowed; under the registry lock.  Cleared by whichever comes
   * first: the loop closing, or the context going away. */
  AioLoop *loop;
} ContextWatch;

static void
context_watch_finalize (GSource *source)
{
  ContextWatch *watch = (ContextWatch *) source;
  AioLoop *loop;

  G_LOCK (registry);
  loop = watch->loop;
  watch->loop = NULL;
  if (loop != NULL)
    _aio_ref (loop);
  G_UNLOCK (registry);

  if (loop == NULL)
    return;

  /* The context is being finalized: nobody can iterate it any more, so
   * closing from this thread is safe, and its sources are gone already
   * (destroying them again only clears a flag). */
  registry_remove (loop);
  loop->context_watch = NULL;
  aio_loop_close (loop);
  loop->context = NULL;
  _aio_unref (loop);
}

static GSourceFuncs context_watch_funcs = {
  NULL, NULL, NULL, context_watch_finalize, NULL, NULL,
};

/* Makes @self follow its context instead of keeping it alive. */
static void
follow_context (AioLoop *self)
{
  GSource *source = g_source_new (&context_watch_funcs, sizeof (ContextWatch));

  ((ContextWatch *) source)->loop = self;
  g_source_set_name (source, "[aio-glib] context watch");
  g_source_attach (source, self->context);
  self->context_watch = source;
  g_source_unref (source);          /* the context holds it */

  self->weak_context = TRUE;
  g_main_context_unref (self->context);
}

/* The loop closes: the context may stay, but no longer has to tell us. */
static void
unfollow_context (AioLoop *self)
{
  GSource *source;

  G_LOCK (registry);
  source = self->context_watch;
  self->context_watch = NULL;
  if (source != NULL)
    ((ContextWatch *) source)->loop = NULL;
  G_UNLOCK (registry);

  if (source != NULL)
    g_source_destroy (source);
}

/* ---- ownership ----------------------------------------------------------- */

/* Takes ownership of the loop's context for the calling thread, when no
 * other thread is iterating it, so that loop-thread state may be touched
 * from outside a dispatch (before the loop first runs, say). */
gboolean
_aio_loop_acquire (AioLoop *self)
{
  if (g_atomic_int_get (&self->closed))
    return FALSE;
  return g_main_context_acquire (self->context);
}

void
_aio_loop_release (AioLoop *self)
{
  g_main_context_release (self->context);
}

/* Whether the calling thread is the loop's own.  Threads that only
 * complete futures must hand over through the inbox instead of taking the
 * context: even briefly held by a worker, it makes the loop's thread fail
 * to run the loop (AIO_ERROR_RUNNING), to queue work outside an iteration,
 * or to iterate at all without blocking. */
gboolean
_aio_loop_is_home_thread (AioLoop *self)
{
  return g_atomic_pointer_get (&self->thread) == (gpointer) g_thread_self ();
}

/* ---- construction -------------------------------------------------------- */

static void
aio_loop_constructed (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  G_OBJECT_CLASS (aio_loop_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_new ();
  self->thread = g_thread_self ();

  _aio_loop_sources_attach (self);

  G_LOCK (registry);
  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);
  if (g_hash_table_lookup (registry, self->context) == NULL)
    {
      g_hash_table_insert (registry, self->context, self);
      self->registered = TRUE;
    }
  G_UNLOCK (registry);

  if (!self->registered)
    g_critical ("AioLoop: the GMainContext %p has a loop already; use aio_loop_ref_for_context()",
                self->context);
}

static void
aio_loop_dispose (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  if (!g_atomic_int_get (&self->closed))
    aio_loop_close (self);

  G_OBJECT_CLASS (aio_loop_parent_class)->dispose (object);
}

static void
aio_loop_finalize (GObject *object)
{
  AioLoop *self = (AioLoop *) object;

  g_assert (self->io == NULL);
  _aio_loop_sources_finalize (self);
  if (!self->weak_context)
    g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (aio_loop_parent_class)->finalize (object);
}

static void
aio_loop_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  AioLoop *self = AIO_LOOP (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;

    case PROP_STACK_SIZE:
      g_value_set_uint64 (value, self->stack_size);
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_loop_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  AioLoop *self = AIO_LOOP (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_boxed (value);
      break;

    case PROP_STACK_SIZE:
      aio_loop_set_stack_size (self, g_value_get_uint64 (value));
      break;

    case PROP_PRIORITY:
      aio_loop_set_priority (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_loop_class_init (AioLoopClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = aio_loop_constructed;
  object_class->dispose = aio_loop_dispose;
  object_class->finalize = aio_loop_finalize;
  object_class->get_property = aio_loop_get_property;
  object_class->set_property = aio_loop_set_property;

  /**
   * AioLoop:context:
   *
   * The `GMainContext` the loop runs on. A loop constructed without one
   * makes a new context.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL,
                        G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AioLoop:stack-size:
   *
   * The stack size of the fibers of tasks created on this loop, in bytes;
   * 0 for the default (256 KiB). Stacks are reserved, not committed: a
   * fiber costs the pages it touches.
   *
   * Since: 1.0
   */
  properties[PROP_STACK_SIZE] =
    g_param_spec_uint64 ("stack-size", NULL, NULL,
                         0, G_MAXSIZE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AioLoop:priority:
   *
   * The priority of the loop's sources in its `GMainContext`: when tasks
   * and timers run relative to other sources, as `g_source_set_priority()`
   * sets for any `GSource`. The default is `G_PRIORITY_DEFAULT`, the
   * priority of GDK's events, GIO's callbacks and `g_timeout_add()`: above
   * GTK's layout and painting (`GDK_PRIORITY_REDRAW`) and idles.
   *
   * Whatever the priority, busy tasks let every other source have its
   * turn (see [class@Aio.Loop]): a higher priority makes tasks run first
   * when both are ready, a lower one (say `G_PRIORITY_LOW`) makes them run
   * only when nothing else is ready, behind GTK's work.
   *
   * Since: 1.0
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL,
                      G_MININT, G_MAXINT - 1, G_PRIORITY_DEFAULT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_loop_init (AioLoop *self)
{
  self->priority = G_PRIORITY_DEFAULT;
  g_queue_init (&self->tasks);
  _aio_loop_sources_init (self);
}

/**
 * aio_loop_new:
 *
 * Creates a loop on a new `GMainContext` (asyncio's `new_event_loop()`).
 *
 * To run GIO operations' callbacks on it, the context must be the
 * thread-default one while the loop runs; [method@Aio.Loop.run_forever]
 * and [method@Aio.Loop.run_until_complete] push it for you.
 *
 * Returns: (transfer full): a new loop; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_new (void)
{
  return g_object_new (AIO_TYPE_LOOP, NULL);
}

/**
 * aio_loop_ref_for_context:
 * @context: (nullable): a `GMainContext`, or %NULL for the global default
 *   context
 *
 * Gets the loop of @context, creating it the first time. There is at
 * most one loop per context, so this always returns the same loop for
 * the same context until that loop is closed.
 *
 * A loop made here holds no reference on @context, unless it is the
 * global default context: it lives as long as the context, and is closed
 * when the context is finalized (so a `_sync` wrapper that pushes a
 * context of its own and drops it afterwards leaves no loop behind).
 *
 * Returns: (transfer full): the loop of @context
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_ref_for_context (GMainContext *context)
{
  AioLoop *loop;

  if (context == NULL)
    context = g_main_context_default ();

  if ((loop = registry_lookup (context)) != NULL)
    return loop;

  g_mutex_lock (&creation_mutex);
  loop = registry_lookup (context);
  if (loop == NULL)
    {
      loop = g_object_new (AIO_TYPE_LOOP, "context", context, NULL);
      /* The global default context lives as long as the process. */
      if (context != g_main_context_default ())
        follow_context (loop);
    }
  g_mutex_unlock (&creation_mutex);

  return loop;
}

/**
 * aio_loop_get_default:
 *
 * Gets the loop of the thread-default `GMainContext` (the global default
 * context in the main thread), creating it on first use.
 *
 * That loop is kept alive until it is closed, or until its context is
 * finalized (see [func@Aio.Loop.ref_for_context]), so the pointer stays
 * valid until then.
 *
 * Returns: (transfer none): the default loop of this thread; it belongs to
 *   the thread's context: do not unref it
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_get_default (void)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  AioLoop *loop = aio_loop_ref_for_context (context);
  gboolean keep;

  /* The registry keeps the default loops alive, so that the pointer we
   * return stays valid without the caller holding a reference. */
  G_LOCK (registry);
  keep = !loop->owned_by_registry;
  loop->owned_by_registry = TRUE;
  G_UNLOCK (registry);

  if (!keep)
    _aio_unref (loop);

  g_main_context_unref (context);
  return loop;
}

/**
 * aio_loop_get_running:
 *
 * Gets the loop running in this thread: the one whose
 * [method@Aio.Loop.run_until_complete] or [method@Aio.Loop.run_forever]
 * is on the stack, or whose sources are being dispatched (asyncio's
 * `get_running_loop()`, which raises where this returns %NULL).
 *
 * Returns: (transfer none) (nullable): the running loop, or %NULL; a borrowed
 *   pointer: do not unref it
 *
 * Since: 1.0
 */
AioLoop *
aio_loop_get_running (void)
{
  return _aio_loop_current;
}

AioLoop *
_aio_loop_get_current_or_default (void)
{
  if (_aio_loop_current != NULL)
    return _aio_loop_current;
  return aio_loop_get_default ();
}

/**
 * aio_loop_get_context:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the `GMainContext` @loop runs on.
 *
 * Returns: (transfer none) (nullable): the context, or %NULL once the context
 *   of a loop found with [func@Aio.Loop.ref_for_context] was finalized; it
 *   belongs to @loop: do not unref it
 *
 * Since: 1.0
 */
GMainContext *
aio_loop_get_context (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), NULL);

  return loop->context;
}

/**
 * aio_loop_time:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the loop's time: seconds of the monotonic clock, with microsecond
 * resolution (asyncio's `loop.time()`). [method@Aio.Loop.call_at] takes
 * deadlines on this clock.
 *
 * Returns: the current time in seconds
 *
 * Since: 1.0
 */
gdouble
aio_loop_time (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), 0.0);

  return g_get_monotonic_time () / (gdouble) G_USEC_PER_SEC;
}

/**
 * aio_loop_get_stack_size:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the stack size for the fibers of tasks created on @loop.
 *
 * Returns: the size in bytes, or 0 for the default
 *
 * Since: 1.0
 */
gsize
aio_loop_get_stack_size (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), 0);

  return loop->stack_size;
}

/**
 * aio_loop_set_stack_size:
 * @loop: an [class@Aio.Loop]
 * @stack_size: a size in bytes, or 0 for the default
 *
 * Sets the stack size for the fibers of tasks created on @loop from now
 * on. It is rounded up to whole pages, with a minimum of 16 KiB.
 *
 * Since: 1.0
 */
void
aio_loop_set_stack_size (AioLoop *loop,
                         gsize    stack_size)
{
  g_return_if_fail (AIO_IS_LOOP (loop));

  if (stack_size != 0 && stack_size < 16 * 1024)
    stack_size = 16 * 1024;

  if (loop->stack_size != stack_size)
    {
      loop->stack_size = stack_size;
      g_object_notify_by_pspec (G_OBJECT (loop), properties[PROP_STACK_SIZE]);
    }
}

/**
 * aio_loop_get_priority:
 * @loop: an [class@Aio.Loop]
 *
 * Gets the priority of @loop's sources ([property@Aio.Loop:priority]).
 *
 * Returns: the priority, `G_PRIORITY_DEFAULT` unless set
 *
 * Since: 1.0
 */
gint
aio_loop_get_priority (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), G_PRIORITY_DEFAULT);

  return loop->priority;
}

/**
 * aio_loop_set_priority:
 * @loop: an [class@Aio.Loop]
 * @priority: a `GSource` priority, such as `G_PRIORITY_DEFAULT` or
 *   `G_PRIORITY_LOW`
 *
 * Sets the priority of @loop's sources in its context: its tasks, its
 * timers and the callbacks other threads hand over run at @priority from
 * the next iteration of the context on. See [property@Aio.Loop:priority].
 *
 * Since: 1.0
 */
void
aio_loop_set_priority (AioLoop *loop,
                       gint     priority)
{
  g_return_if_fail (AIO_IS_LOOP (loop));
  /* G_MAXINT is the others' turn's own. */
  g_return_if_fail (priority < G_MAXINT);

  if (loop->priority == priority)
    return;

  loop->priority = priority;
  /* A closed loop has no sources left, only the number to report. */
  _aio_loop_sources_set_priority (loop, priority);
  if (loop->io != NULL)
    _aio_loop_io_set_priority (loop->io, priority);
  g_object_notify_by_pspec (G_OBJECT (loop), properties[PROP_PRIORITY]);
}

gsize
_aio_loop_get_stack_size (AioLoop *loop)
{
  return loop->stack_size;
}

/* ---- running ------------------------------------------------------------- */

/* Sets up a run of the loop in this thread: refuses to nest inside a
 * running loop, takes the context, and makes it the thread default so
 * that GIO calls made by tasks report back to it. */
gboolean
_aio_loop_begin_run (AioLoop   *self,
                     gboolean  *pushed,
                     AioLoop  **previous,
                     GError   **error)
{
  GMainContext *thread_default;

  if (!_aio_loop_check_open (self, error))
    return FALSE;

  if (self->running || _aio_loop_current == self)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("This event loop is already running"));
      return FALSE;
    }

  if (_aio_loop_current != NULL)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("Cannot run the event loop while another loop is running"));
      return FALSE;
    }

  if (!g_main_context_acquire (self->context))
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_RUNNING,
                           _("The event loop is running in another thread"));
      return FALSE;
    }

  thread_default = g_main_context_ref_thread_default ();
  *pushed = thread_default != self->context;
  if (*pushed)
    g_main_context_push_thread_default (self->context);
  g_main_context_unref (thread_default);

  g_atomic_pointer_set (&self->thread, g_thread_self ());
  _aio_ref (self);
  self->running = TRUE;
  *previous = _aio_loop_current;
  _aio_loop_current = self;

  return TRUE;
}

void
_aio_loop_end_run (AioLoop  *self,
                   gboolean  pushed,
                   AioLoop  *previous)
{
  _aio_loop_current = previous;
  self->running = FALSE;
  g_atomic_int_set (&self->stopping, FALSE);

  if (pushed)
    g_main_context_pop_thread_default (self->context);
  g_main_context_release (self->context);
  _aio_unref (self);
}

gboolean
_aio_loop_is_stopping (AioLoop *self)
{
  return g_atomic_int_get (&self->stopping);
}

/**
 * aio_loop_stop:
 * @loop: an [class@Aio.Loop]
 *
 * Stops @loop after the iteration under way (asyncio's `stop()`). A
 * stopped loop can run again. This may be called from any thread.
 *
 * Since: 1.0
 */
void
aio_loop_stop (AioLoop *loop)
{
  g_return_if_fail (AIO_IS_LOOP (loop));

  g_atomic_int_set (&loop->stopping, TRUE);
  if (loop->context != NULL)
    g_main_context_wakeup (loop->context);
}

/**
 * aio_loop_is_running:
 * @loop: an [class@Aio.Loop]
 *
 * Whether @loop's [method@Aio.Loop.run_until_complete] or
 * [method@Aio.Loop.run_forever] is under way.
 *
 * Returns: %TRUE while @loop runs
 *
 * Since: 1.0
 */
gboolean
aio_loop_is_running (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), FALSE);

  return loop->running;
}

/**
 * aio_loop_is_closed:
 * @loop: an [class@Aio.Loop]
 *
 * Whether @loop was closed.
 *
 * Returns: %TRUE once [method@Aio.Loop.close] was called
 *
 * Since: 1.0
 */
gboolean
aio_loop_is_closed (AioLoop *loop)
{
  g_return_val_if_fail (AIO_IS_LOOP (loop), TRUE);

  return g_atomic_int_get (&loop->closed);
}

/**
 * aio_loop_close:
 * @loop: an [class@Aio.Loop]
 *
 * Closes @loop for good (asyncio's `close()`): its sources leave the
 * context, queued callbacks and timers are dropped without running, and
 * the loop lets go of the tasks still pending. Every later use fails with
 * `AIO_ERROR_CLOSED`. Closing a closed loop does nothing; closing a
 * running loop is a programmer error.
 *
 * Since: 1.0
 */
void
aio_loop_close (AioLoop *loop)
{
  AioLink *inbox;
  GList *task_link;

  g_return_if_fail (AIO_IS_LOOP (loop));
  g_return_if_fail (!loop->running);
  g_return_if_fail (_aio_loop_current != loop);

  if (g_atomic_int_get (&loop->closed))
    return;

  _aio_ref (loop);

  inbox = _aio_loop_close_inbox (loop);

  registry_remove (loop);
  unfollow_context (loop);

  _aio_loop_sources_destroy (loop);

  /* Sockets' pending operations are dropped like the queued work below. */
  if (loop->io != NULL)
    {
      AioLoopIo *io = g_steal_pointer (&loop->io);

      _aio_loop_io_close (loop, io);
    }

  /* Drop what was queued.  Discarding may finalize futures and tasks, and
   * those may queue nothing more: the loop is closed. */
  _aio_loop_sources_discard (loop, inbox);

  while ((task_link = g_queue_pop_head_link (&loop->tasks)) != NULL)
    {
      gpointer task = task_link->data;

      task_link->data = NULL;
      _aio_unref (task);
    }

  if (loop->owned_by_registry)
    {
      loop->owned_by_registry = FALSE;
      _aio_unref (loop);
    }

  _aio_unref (loop);
}

/* ---- tasks --------------------------------------------------------------- */

void
_aio_loop_track_task (AioLoop *self,
                      AioTask *task,
                      GList   *link)
{
  link->data = _aio_ref (task);
  g_queue_push_tail_link (&self->tasks, link);
}

void
_aio_loop_untrack_task (AioLoop *self,
                        GList   *link)
{
  gpointer task = link->data;

  if (task == NULL)
    return;
  g_queue_unlink (&self->tasks, link);
  link->data = NULL;
  _aio_unref (task);
}

GQueue *
_aio_loop_get_tasks (AioLoop *self)
{
  return &self->tasks;
}

guint
_aio_loop_next_task_number (void)
{
  static gint counter;

  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

/* ---- call_soon and friends ----------------------------------------------- */

gint64
_aio_loop_seconds_to_deadline (gdouble seconds)
{
  gint64 now = g_get_monotonic_time ();
  /* Far enough for any program, near enough that adding to it cannot
   * overflow. */
  const gint64 horizon = G_MAXINT64 / 4;

  if (!(seconds > 0))
    return now;
  if (seconds >= (gdouble) (horizon - now) / G_USEC_PER_SEC)
    return horizon;
  return now + (gint64) ceil (seconds * G_USEC_PER_SEC);
}
