/* aio-queue.c: AioQueue, asyncio's Queue, LifoQueue and PriorityQueue
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * AioQueue:
 *
 * A queue for handing items from producer tasks to consumer tasks:
 * asyncio's `Queue`, `LifoQueue` and `PriorityQueue`.
 *
 * `aio_queue_put()` returns a future that resolves once the item is
 * in the queue, which for a bounded queue ("maxsize" above 0) means
 * waiting while it is full; [method@Aio.Queue.get] returns a future that
 * resolves with the next item, waiting while the queue is empty. Both are
 * plain [class@Aio.Future]s, to be awaited from a fiber, cancelled,
 * gathered or given a timeout, and waiters are served first come, first
 * served. `aio_queue_put_nowait()` and `aio_queue_get_nowait()` never
 * wait: they fail with `AIO_ERROR_QUEUE_FULL` and `AIO_ERROR_QUEUE_EMPTY`.
 *
 * ```c
 * static void
 * producer (AioTask  *task,
 *           gpointer  user_data)
 * {
 *   AioQueue *queue = user_data;
 *   g_autoptr(GError) error = NULL;
 *
 *   for (guint i = 0; i < 100; i++)
 *     if (!aio_await (aio_queue_put (queue, g_strdup_printf ("job %u", i)), &error))
 *       return;
 * }
 *
 * static void
 * consumer (AioTask  *task,
 *           gpointer  user_data)
 * {
 *   AioQueue *queue = user_data;
 *
 *   for (;;)
 *     {
 *       g_autoptr(GError) error = NULL;
 *       g_autofree char *job = aio_await_pointer (aio_queue_get (queue), &error);
 *
 *       if (error != NULL)
 *         return;   // cancelled, or the queue was shut down
 *       g_print ("%s\n", job);
 *       aio_queue_task_done (queue);
 *     }
 * }
 *
 * AioQueue *queue = aio_queue_new (10, g_free);
 * ```
 *
 * ## Items
 *
 * Items are pointers, which the queue owns while they are in it and frees
 * with the `item_free` function given to `aio_queue_new()` when it
 * drops them (at shutdown, or when the queue goes). A future from
 * [method@Aio.Queue.get] resolves with the item as a pointer value whose
 * destroy notify is `item_free`: `aio_await_pointer()` takes it out
 * of the future, and the caller owns it from then on; an item nobody
 * takes is freed with the future. `NULL` is a valid item.
 *
 * Language bindings put `GValue`s instead ([method@Aio.Queue.put_value]);
 * a get future then resolves with the value (read it with
 * [method@Aio.Future.get_value]), and
 * [method@Aio.Queue.get_value_nowait] fetches one without waiting.
 *
 * ## Ordering
 *
 * `aio_queue_new()` makes a FIFO queue, `aio_queue_new_lifo()` a
 * LIFO queue, and `aio_queue_new_priority()` a priority queue that gives
 * out its lowest item first: by its compare function, or, without one,
 * by the integer priority given with `aio_queue_put_with_priority()`
 * (0 for items put without one). Equal items come out first in, first out.
 *
 * ## Tracking work
 *
 * Each item put raises the count of unfinished work; a consumer calls
 * [method@Aio.Queue.task_done] when it has dealt with an item it got, and
 * [method@Aio.Queue.join] resolves when the count is back to 0.
 *
 * ## Shutting down
 *
 * [method@Aio.Queue.shutdown] works as in Python 3.13: puts fail with
 * `AIO_ERROR_QUEUE_SHUT_DOWN` from then on, waiting puts too, and gets
 * fail with it once the queue is empty. An immediate shutdown also drops
 * the items still in the queue, which releases [method@Aio.Queue.join].
 * Dropping the last reference to a queue shuts it down immediately.
 *
 * ## Cancellation
 *
 * A get or put cancelled before it is served leaves the queue at once, and
 * takes nothing with it: its item (for a put) is freed, and no item is
 * removed (for a get). As in asyncio, an item stays in the queue until the
 * getter it is meant for is about to run; the getter's future is resolved
 * right then, and a task awaiting it directly resumes in that same call.
 * A get that is done (it found an item at once, or was served) is what
 * its task gets even if the task is cancelled before it resumes, fiber
 * and stepped tasks alike and through `aio_wait_for()` and
 * `aio_shield()`: the cancellation comes at the task's next wait. So
 * either the task gets the item, or it sees the cancellation and the item
 * stays for the next getter. (A get handed to a combinator that gives up
 * on it -- a gather that failed or was cancelled, a shield that was
 * cancelled -- goes on and may still take an item, which only its own
 * future then holds: keep a reference to it if that matters.)
 *
 * ## Threads
 *
 * A queue belongs to the loop that was running when it was made (or the
 * default loop), and is used from that loop's thread, except for
 * `aio_queue_put_threadsafe()` and
 * [method@Aio.Queue.put_value_threadsafe], which any thread may call:
 * they hand the item to the loop through its inbox, which wakes it.
 *
 * Since: 1.0
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "aio-enums.h"
#include "aio-error.h"
#include "aio-queue.h"
#include "aio-waiter-private.h"

typedef struct
{
  gpointer  item;       /* a GValue * when @is_value */
  gint64    priority;
  guint64   seq;
  gboolean  is_value;
} Entry;

struct _AioQueue
{
  GObject           parent_instance;

  /* Set at construction, never replaced; @loop is owned. */
  AioLoop          *loop;
  AioQueueOrder     order;
  gint              maxsize;
  GDestroyNotify    item_free;
  GCompareDataFunc  compare;
  gpointer          compare_data;

  /* Loop thread only, as everything below.  The items, in one array: a
   * ring from @head (FIFO), a stack (LIFO) or a binary min-heap
   * (PRIORITY). */
  Entry            *entries;
  gsize             capacity;
  gsize             head;
  gsize             len;
  guint64           next_seq;

  /* Waiting gets, puts and joins, oldest first; each holds a reference.
   * A put's waiter holds its item. */
  GQueue            getters;
  GQueue            putters;
  GQueue            joiners;
  /* Waiters woken and about to be served: the items (for getters) and
   * free places (for putters) promised to them. */
  guint             n_woken_getters;
  guint             n_woken_putters;

  guint             unfinished;
  gboolean          shut_down;
};

enum {
  PROP_0,
  PROP_ORDER,
  PROP_MAXSIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AioQueue, aio_queue, G_TYPE_OBJECT)

enum {
  WAITER_VALUE = 1 << 0,
};

#define SHUT_DOWN_MESSAGE N_("The queue is shut down")

static GError *
aio_queue_shut_down_error (void)
{
  return g_error_new_literal (AIO_ERROR, AIO_ERROR_QUEUE_SHUT_DOWN, _(SHUT_DOWN_MESSAGE));
}

/* Rejects the waiters of @list: the queue is shut down. */
static void
aio_queue_reject_all (GQueue *list)
{
  _aio_waiter_reject_all (list, AIO_ERROR_QUEUE_SHUT_DOWN, SHUT_DOWN_MESSAGE);
}

/* ---- items --------------------------------------------------------------- */

static void
value_free (gpointer data)
{
  GValue *value = data;

  g_value_unset (value);
  g_free (value);
}

static GDestroyNotify
aio_queue_entry_destroy (AioQueue *self,
                         gboolean  is_value)
{
  return is_value ? value_free : self->item_free;
}

static void
aio_queue_entry_free (AioQueue *self,
                      Entry    *entry)
{
  GDestroyNotify destroy = aio_queue_entry_destroy (self, entry->is_value);

  if (destroy != NULL && entry->item != NULL)
    destroy (entry->item);
  entry->item = NULL;
}

static inline gboolean
entry_before (AioQueue    *self,
              const Entry *a,
              const Entry *b)
{
  int cmp;

  if (self->compare != NULL)
    cmp = self->compare (a->item, b->item, self->compare_data);
  else
    cmp = a->priority < b->priority ? -1 : a->priority > b->priority;

  return cmp < 0 || (cmp == 0 && a->seq < b->seq);
}

static void
aio_queue_grow (AioQueue *self)
{
  gsize capacity = MAX (16, self->capacity * 2);
  Entry *entries = g_new (Entry, capacity);

  /* Unwrap the ring into the new array, oldest first. */
  for (gsize i = 0; i < self->len; i++)
    entries[i] = self->entries[(self->head + i) % self->capacity];

  g_free (self->entries);
  self->entries = entries;
  self->capacity = capacity;
  self->head = 0;
}

static void
aio_queue_push_entry (AioQueue *self,
                      Entry    *entry)
{
  gsize i;

  if (self->len == self->capacity)
    aio_queue_grow (self);

  entry->seq = self->next_seq++;

  switch (self->order)
    {
    case AIO_QUEUE_FIFO:
      self->entries[(self->head + self->len) % self->capacity] = *entry;
      self->len++;
      break;

    case AIO_QUEUE_LIFO:
      self->entries[self->len++] = *entry;
      break;

    case AIO_QUEUE_PRIORITY:
    default:
      i = self->len++;
      while (i > 0)
        {
          gsize parent = (i - 1) / 2;

          if (!entry_before (self, entry, &self->entries[parent]))
            break;
          self->entries[i] = self->entries[parent];
          i = parent;
        }
      self->entries[i] = *entry;
      break;
    }

  entry->item = NULL;
}

static Entry
aio_queue_pop_entry (AioQueue *self)
{
  Entry top, last;
  gsize i;

  g_assert (self->len > 0);

  switch (self->order)
    {
    case AIO_QUEUE_FIFO:
      top = self->entries[self->head];
      self->head = (self->head + 1) % self->capacity;
      self->len--;
      return top;

    case AIO_QUEUE_LIFO:
      return self->entries[--self->len];

    case AIO_QUEUE_PRIORITY:
    default:
      top = self->entries[0];
      last = self->entries[--self->len];
      i = 0;
      for (;;)
        {
          gsize child = 2 * i + 1;

          if (child >= self->len)
            break;
          if (child + 1 < self->len &&
              entry_before (self, &self->entries[child + 1], &self->entries[child]))
            child++;
          if (!entry_before (self, &self->entries[child], &last))
            break;
          self->entries[i] = self->entries[child];
          i = child;
        }
      if (self->len > 0)
        self->entries[i] = last;
      return top;
    }
}

/* Moves @entry into the claimed @future: a get's result. */
static void
aio_queue_entry_into_future (AioQueue  *self,
                             Entry     *entry,
                             AioFuture *future)
{
  if (entry->is_value)
    {
      future->value_type = AIO_VALUE_VALUE;
      future->value.p = entry->item;
    }
  else
    {
      future->value_type = AIO_VALUE_POINTER;
      future->value.p = entry->item;
      future->value_destroy = self->item_free;
    }
  entry->item = NULL;
}

/* ---- waking -------------------------------------------------------------- */

static void aio_queue_getter_wake (gpointer   owner,
                                   AioWaiter *waiter);
static void aio_queue_putter_wake (gpointer   owner,
                                   AioWaiter *waiter);

/* Wakes a getter for each item not yet promised to a woken one. */
static void
aio_queue_wake_getters (AioQueue *self)
{
  while (self->len > self->n_woken_getters)
    {
      AioWaiter *waiter = _aio_waiter_pop_pending (&self->getters);

      if (waiter == NULL)
        break;
      self->n_woken_getters++;
      _aio_waiter_schedule (waiter);
      _aio_future_unref ((AioFuture *) waiter);
    }
}

/* Wakes a putter for each free place not yet promised to a woken one. */
static void
aio_queue_wake_putters (AioQueue *self)
{
  while (self->maxsize == 0 || self->len + self->n_woken_putters < (gsize) self->maxsize)
    {
      AioWaiter *waiter = _aio_waiter_pop_pending (&self->putters);

      if (waiter == NULL)
        break;
      self->n_woken_putters++;
      _aio_waiter_schedule (waiter);
      _aio_future_unref ((AioFuture *) waiter);
    }
}

/* An item left the queue. */
static void
aio_queue_item_removed (AioQueue *self)
{
  aio_queue_wake_putters (self);

  /* Shut down and drained: the gets still waiting will never get one. */
  if (self->shut_down && self->len == 0)
    aio_queue_reject_all (&self->getters);
}

/* An item entered the queue. */
static void
aio_queue_item_added (AioQueue *self)
{
  self->unfinished++;
  aio_queue_wake_getters (self);
}

static void
aio_queue_getter_wake (gpointer   owner,
                       AioWaiter *waiter)
{
  AioQueue *self = owner;
  AioFuture *future = (AioFuture *) waiter;
  Entry entry = { 0, };

  g_assert (self->n_woken_getters > 0);
  self->n_woken_getters--;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    {
      /* asyncio: "We were woken up by put_nowait(), but can't take the
       * call.  Wake up the next in line." */
      aio_queue_wake_getters (self);
      return;
    }

  if (self->len == 0)
    {
      /* get_nowait() took the item meanwhile: wait again, first in line,
       * unless no item will ever come. */
      if (self->shut_down)
        {
          _aio_waiter_release_owner (waiter);
          _aio_sync_reject (future, aio_queue_shut_down_error (), TRUE);
        }
      else
        _aio_waiter_push_head (&self->getters, waiter);
      return;
    }

  /* The item is the getter's only if we complete its future. */
  if (!_aio_future_try_claim (future))
    {
      aio_queue_wake_getters (self);
      return;
    }

  entry = aio_queue_pop_entry (self);
  aio_queue_entry_into_future (self, &entry, future);
  aio_queue_item_removed (self);

  /* Last: the awaiting task runs inside this call, and may use the queue
   * again, or drop it. */
  _aio_waiter_release_owner (waiter);
  _aio_sync_publish (future, AIO_FUTURE_RESOLVED, TRUE);
}

static void
aio_queue_putter_wake (gpointer   owner,
                       AioWaiter *waiter)
{
  AioQueue *self = owner;
  AioFuture *future = (AioFuture *) waiter;
  Entry entry = { 0, };

  g_assert (self->n_woken_putters > 0);
  self->n_woken_putters--;

  if (_aio_future_state (future) != AIO_FUTURE_PENDING)
    {
      aio_queue_wake_putters (self);
      return;
    }

  if (self->shut_down)
    {
      _aio_waiter_release_owner (waiter);
      _aio_sync_reject (future, aio_queue_shut_down_error (), TRUE);
      return;
    }

  if (self->maxsize > 0 && self->len >= (gsize) self->maxsize)
    {
      /* put_nowait() took the place meanwhile. */
      _aio_waiter_push_head (&self->putters, waiter);
      return;
    }

  if (!_aio_future_try_claim (future))
    {
      aio_queue_wake_putters (self);
      return;
    }

  entry.item = g_steal_pointer (&waiter->data);
  entry.priority = waiter->number;
  entry.is_value = (waiter->flags & WAITER_VALUE) != 0;
  aio_queue_push_entry (self, &entry);
  aio_queue_item_added (self);

  _aio_waiter_release_owner (waiter);
  _aio_sync_publish (future, AIO_FUTURE_RESOLVED, TRUE);
}

/* ---- object -------------------------------------------------------------- */

static void
aio_queue_dispose (GObject *object)
{
  AioQueue *self = (AioQueue *) object;

  /* Waiters hold the queue weakly; with nobody left to put or get, it is
   * shut down, immediately. */
  self->shut_down = TRUE;
  while (self->len > 0)
    {
      Entry entry = aio_queue_pop_entry (self);

      aio_queue_entry_free (self, &entry);
    }
  aio_queue_reject_all (&self->getters);
  aio_queue_reject_all (&self->putters);
  aio_queue_reject_all (&self->joiners);

  G_OBJECT_CLASS (aio_queue_parent_class)->dispose (object);
}

static void
aio_queue_finalize (GObject *object)
{
  AioQueue *self = (AioQueue *) object;

  g_assert (self->len == 0);
  g_free (self->entries);
  g_clear_object (&self->loop);

  G_OBJECT_CLASS (aio_queue_parent_class)->finalize (object);
}

static void
aio_queue_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  AioQueue *self = AIO_QUEUE (object);

  switch (prop_id)
    {
    case PROP_ORDER:
      g_value_set_enum (value, self->order);
      break;

    case PROP_MAXSIZE:
      g_value_set_int (value, self->maxsize);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_queue_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  AioQueue *self = AIO_QUEUE (object);

  switch (prop_id)
    {
    case PROP_ORDER:
      self->order = g_value_get_enum (value);
      break;

    case PROP_MAXSIZE:
      self->maxsize = g_value_get_int (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
aio_queue_class_init (AioQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = aio_queue_dispose;
  object_class->finalize = aio_queue_finalize;
  object_class->get_property = aio_queue_get_property;
  object_class->set_property = aio_queue_set_property;

  /**
   * AioQueue:order:
   *
   * The order in which the queue gives its items out.
   *
   * Since: 1.0
   */
  properties[PROP_ORDER] =
    g_param_spec_enum ("order", NULL, NULL,
                       AIO_TYPE_QUEUE_ORDER, AIO_QUEUE_FIFO,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * AioQueue:maxsize:
   *
   * How many items the queue holds at most; 0 for no limit (asyncio's
   * `maxsize`).
   *
   * Since: 1.0
   */
  properties[PROP_MAXSIZE] =
    g_param_spec_int ("maxsize", NULL, NULL,
                      0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
aio_queue_init (AioQueue *self)
{
  g_queue_init (&self->getters);
  g_queue_init (&self->putters);
  g_queue_init (&self->joiners);
  self->loop = _aio_ref (_aio_sync_pick_loop ());
}

/**
 * aio_queue_new: (skip)
 * @maxsize: how many items the queue holds at most; 0 for no limit
 * @item_free: (nullable): frees the items the queue drops
 *
 * Creates a first in, first out queue (asyncio's `Queue(maxsize)`) on the
 * running loop, or on the default loop when none runs. A negative
 * @maxsize is a programmer error (asyncio treats it as no limit).
 *
 * Returns: (transfer full): a new queue
 *
 * Since: 1.0
 */
AioQueue *
aio_queue_new (gint           maxsize,
               GDestroyNotify item_free)
{
  AioQueue *self;

  g_return_val_if_fail (maxsize >= 0, NULL);

  self = g_object_new (AIO_TYPE_QUEUE, "maxsize", maxsize, NULL);
  self->item_free = item_free;
  return self;
}

/**
 * aio_queue_new_lifo: (skip)
 * @maxsize: how many items the queue holds at most; 0 for no limit
 * @item_free: (nullable): frees the items the queue drops
 *
 * Creates a last in, first out queue (asyncio's `LifoQueue(maxsize)`).
 * A negative @maxsize is a programmer error.
 *
 * Returns: (transfer full): a new queue
 *
 * Since: 1.0
 */
AioQueue *
aio_queue_new_lifo (gint           maxsize,
                    GDestroyNotify item_free)
{
  AioQueue *self;

  g_return_val_if_fail (maxsize >= 0, NULL);

  self = g_object_new (AIO_TYPE_QUEUE, "maxsize", maxsize, "order", AIO_QUEUE_LIFO, NULL);
  self->item_free = item_free;
  return self;
}

/**
 * aio_queue_new_priority: (skip)
 * @maxsize: how many items the queue holds at most; 0 for no limit
 * @compare: (nullable): orders the items, lowest first; %NULL to order
 *   them by the integer priority given with each
 * @compare_data: data for @compare
 * @item_free: (nullable): frees the items the queue drops
 *
 * Creates a priority queue (asyncio's `PriorityQueue(maxsize)`), which
 * gives out its lowest item first. Items that compare equal come out in
 * the order they were put. @compare sees the items as they were put (a
 * `GValue *` for those put with [method@Aio.Queue.put_value]). A negative
 * @maxsize is a programmer error.
 *
 * Returns: (transfer full): a new queue
 *
 * Since: 1.0
 */
AioQueue *
aio_queue_new_priority (gint             maxsize,
                        GCompareDataFunc compare,
                        gpointer         compare_data,
                        GDestroyNotify   item_free)
{
  AioQueue *self;

  g_return_val_if_fail (maxsize >= 0, NULL);

  self = g_object_new (AIO_TYPE_QUEUE, "maxsize", maxsize, "order", AIO_QUEUE_PRIORITY, NULL);
  self->compare = compare;
  self->compare_data = compare_data;
  self->item_free = item_free;
  return self;
}

/**
 * aio_queue_new_with_order:
 * @order: how the queue orders its items
 * @maxsize: how many items the queue holds at most; 0 for no limit
 *
 * Creates a queue of `GValue`s for language bindings: put items with
 * [method@Aio.Queue.put_value] and its relatives. A priority queue orders
 * them by the priority given with
 * [method@Aio.Queue.put_value_with_priority]. A negative @maxsize is a
 * programmer error.
 *
 * Returns: (transfer full): a new queue; free it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioQueue *
aio_queue_new_with_order (AioQueueOrder order,
                          gint          maxsize)
{
  g_return_val_if_fail (maxsize >= 0, NULL);

  return g_object_new (AIO_TYPE_QUEUE, "maxsize", maxsize, "order", order, NULL);
}

/**
 * aio_queue_get_order:
 * @queue: an [class@Aio.Queue]
 *
 * Gets the order in which @queue gives its items out.
 *
 * Returns: the order
 *
 * Since: 1.0
 */
AioQueueOrder
aio_queue_get_order (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), AIO_QUEUE_FIFO);

  return queue->order;
}

/**
 * aio_queue_get_maxsize:
 * @queue: an [class@Aio.Queue]
 *
 * Gets how many items @queue holds at most (asyncio's `maxsize`).
 *
 * Returns: the bound, or 0 when there is none
 *
 * Since: 1.0
 */
gint
aio_queue_get_maxsize (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), 0);

  return queue->maxsize;
}

/**
 * aio_queue_get_size:
 * @queue: an [class@Aio.Queue]
 *
 * Counts the items in @queue (asyncio's `qsize()`). Items of puts that
 * are still waiting for room do not count.
 *
 * Returns: the number of items
 *
 * Since: 1.0
 */
guint
aio_queue_get_size (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), 0);

  return queue->len;
}

/**
 * aio_queue_is_empty:
 * @queue: an [class@Aio.Queue]
 *
 * Whether @queue holds no item (asyncio's `empty()`).
 *
 * Returns: %TRUE if @queue is empty
 *
 * Since: 1.0
 */
gboolean
aio_queue_is_empty (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), TRUE);

  return queue->len == 0;
}

/**
 * aio_queue_is_full:
 * @queue: an [class@Aio.Queue]
 *
 * Whether @queue holds "maxsize" items (asyncio's `full()`). An unbounded
 * queue is never full.
 *
 * Returns: %TRUE if @queue is full
 *
 * Since: 1.0
 */
gboolean
aio_queue_is_full (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), FALSE);

  return queue->maxsize > 0 && queue->len >= (gsize) queue->maxsize;
}

/**
 * aio_queue_is_shut_down:
 * @queue: an [class@Aio.Queue]
 *
 * Whether [method@Aio.Queue.shutdown] was called.
 *
 * Returns: %TRUE if @queue is shut down
 *
 * Since: 1.0
 */
gboolean
aio_queue_is_shut_down (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), TRUE);

  return queue->shut_down;
}

/**
 * aio_queue_get_unfinished:
 * @queue: an [class@Aio.Queue]
 *
 * Counts the items put that [method@Aio.Queue.task_done] was not called
 * for yet; [method@Aio.Queue.join] waits for this to be 0.
 *
 * Returns: the number of unfinished items
 *
 * Since: 1.0
 */
guint
aio_queue_get_unfinished (AioQueue *queue)
{
  g_return_val_if_fail (AIO_IS_QUEUE (queue), 0);

  return queue->unfinished;
}

/* ---- put ----------------------------------------------------------------- */

/* Whether a new put goes in at once: there is room, and no put waits
 * before it, either in line or woken and about to run.  (A woken putter
 * goes in when its wake-up runs, later in this iteration: a put that
 * went in now would overtake it.) */
static gboolean
aio_queue_has_room_for_new (AioQueue *self)
{
  if (self->maxsize == 0)
    return TRUE;
  return self->n_woken_putters == 0 &&
         self->len < (gsize) self->maxsize &&
         !_aio_waiter_has_pending (&self->putters);
}

static AioWaiter *
aio_queue_new_putter (AioQueue *self,
                      Entry    *entry)
{
  AioWaiter *waiter = _aio_waiter_new (self->loop, self, aio_queue_putter_wake);

  waiter->data = g_steal_pointer (&entry->item);
  waiter->data_free = aio_queue_entry_destroy (self, entry->is_value);
  waiter->number = entry->priority;
  waiter->flags = entry->is_value ? WAITER_VALUE : 0;
  _aio_waiter_push_tail (&self->putters, waiter);
  /* In line behind woken putters while there is room for it too: woken
   * at once, its wake-up runs after theirs. */
  aio_queue_wake_putters (self);
  return waiter;
}

static AioFuture *
aio_queue_put_entry (AioQueue *self,
                     Entry    *entry)
{
  AioFuture *future;

  if (self->shut_down)
    {
      aio_queue_entry_free (self, entry);
      return _aio_sync_new_error (self->loop, aio_queue_shut_down_error ());
    }

  if (aio_queue_has_room_for_new (self))
    {
      aio_queue_push_entry (self, entry);
      aio_queue_item_added (self);
      future = aio_future_new_for_loop (self->loop);
      _aio_sync_resolve (future, FALSE);
      return future;
    }

  return (AioFuture *) aio_queue_new_putter (self, entry);
}

static gboolean
aio_queue_put_entry_nowait (AioQueue  *self,
                            Entry     *entry,
                            GError   **error)
{
  if (self->shut_down)
    {
      g_propagate_error (error, aio_queue_shut_down_error ());
      return FALSE;
    }

  /* As asyncio's put_nowait(), this looks at the items only: it may take
   * a place a woken put was about to take, and that put waits again. */
  if (self->maxsize > 0 && self->len >= (gsize) self->maxsize)
    {
      g_set_error_literal (error, AIO_ERROR, AIO_ERROR_QUEUE_FULL, _("The queue is full"));
      return FALSE;
    }

  aio_queue_push_entry (self, entry);
  aio_queue_item_added (self);
  return TRUE;
}

/**
 * aio_queue_put: (skip)
 * @queue: an [class@Aio.Queue]
 * @item: (transfer full) (nullable): the item; the queue takes it
 *
 * Puts @item into @queue, waiting for room if it is full (asyncio's
 * `put()`).
 *
 * The returned future resolves, with no value, once @item is in the
 * queue: at once when there is room and no other put waits, otherwise
 * when this put's turn comes. If the queue is shut down, or the put is
 * cancelled before it is done, the future fails with
 * `AIO_ERROR_QUEUE_SHUT_DOWN` or is cancelled, and @item is freed with the
 * queue's `item_free`.
 *
 * Returns: (transfer full): a future for the put
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_put (AioQueue *queue,
               gpointer  item)
{
  Entry entry = { item, 0, 0, FALSE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);

  return aio_queue_put_entry (queue, &entry);
}

/**
 * aio_queue_put_with_priority: (skip)
 * @queue: an [class@Aio.Queue]
 * @item: (transfer full) (nullable): the item; the queue takes it
 * @priority: the priority of @item; lower comes out first
 *
 * Like `aio_queue_put()`, with the priority by which a priority
 * queue without a compare function orders @item. Other queues ignore it.
 *
 * Returns: (transfer full): a future for the put
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_put_with_priority (AioQueue *queue,
                             gpointer  item,
                             gint      priority)
{
  Entry entry = { item, priority, 0, FALSE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);

  return aio_queue_put_entry (queue, &entry);
}

/**
 * aio_queue_put_nowait: (skip)
 * @queue: an [class@Aio.Queue]
 * @item: (nullable): the item; the queue takes it if it returns %TRUE
 * @error: return location for an error
 *
 * Puts @item into @queue if there is room, without waiting (asyncio's
 * `put_nowait()`).
 *
 * Returns: %TRUE if @item is in the queue, which owns it; %FALSE with
 *   @error set to `AIO_ERROR_QUEUE_FULL` or `AIO_ERROR_QUEUE_SHUT_DOWN`,
 *   and @item still the caller's
 *
 * Since: 1.0
 */
gboolean
aio_queue_put_nowait (AioQueue  *queue,
                      gpointer   item,
                      GError   **error)
{
  Entry entry = { item, 0, 0, FALSE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return aio_queue_put_entry_nowait (queue, &entry, error);
}

/**
 * aio_queue_put_nowait_with_priority: (skip)
 * @queue: an [class@Aio.Queue]
 * @item: (nullable): the item; the queue takes it if it returns %TRUE
 * @priority: the priority of @item; lower comes out first
 * @error: return location for an error
 *
 * Like `aio_queue_put_nowait()`, with the priority by which a priority
 * queue without a compare function orders @item.
 *
 * Returns: %TRUE if @item is in the queue; %FALSE with @error set, @item
 *   still the caller's
 *
 * Since: 1.0
 */
gboolean
aio_queue_put_nowait_with_priority (AioQueue  *queue,
                                    gpointer   item,
                                    gint       priority,
                                    GError   **error)
{
  Entry entry = { item, priority, 0, FALSE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return aio_queue_put_entry_nowait (queue, &entry, error);
}

/**
 * aio_queue_put_value:
 * @queue: an [class@Aio.Queue]
 * @value: the item, copied
 *
 * Like `aio_queue_put()`, with a copy of @value as the item; for
 * language bindings. A get future resolves with the value.
 *
 * Returns: (transfer full): a future for the put; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_put_value (AioQueue     *queue,
                     const GValue *value)
{
  Entry entry = { NULL, 0, 0, TRUE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);
  g_return_val_if_fail (G_IS_VALUE (value), NULL);

  entry.item = _aio_value_copy (value);
  return aio_queue_put_entry (queue, &entry);
}

/**
 * aio_queue_put_value_with_priority:
 * @queue: an [class@Aio.Queue]
 * @value: the item, copied
 * @priority: the priority of the item; lower comes out first
 *
 * Like [method@Aio.Queue.put_value], with the priority by which a priority
 * queue without a compare function orders the item.
 *
 * Returns: (transfer full): a future for the put; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_put_value_with_priority (AioQueue     *queue,
                                   const GValue *value,
                                   gint          priority)
{
  Entry entry = { NULL, priority, 0, TRUE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);
  g_return_val_if_fail (G_IS_VALUE (value), NULL);

  entry.item = _aio_value_copy (value);
  return aio_queue_put_entry (queue, &entry);
}

/**
 * aio_queue_put_value_nowait:
 * @queue: an [class@Aio.Queue]
 * @value: the item, copied
 * @error: return location for an error
 *
 * Like `aio_queue_put_nowait()`, with a copy of @value as the item.
 *
 * Returns: %TRUE if the item is in the queue; %FALSE with @error set to
 *   `AIO_ERROR_QUEUE_FULL` or `AIO_ERROR_QUEUE_SHUT_DOWN`
 *
 * Since: 1.0
 */
gboolean
aio_queue_put_value_nowait (AioQueue      *queue,
                            const GValue  *value,
                            GError       **error)
{
  Entry entry = { NULL, 0, 0, TRUE };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  entry.item = _aio_value_copy (value);
  if (!aio_queue_put_entry_nowait (queue, &entry, error))
    {
      aio_queue_entry_free (queue, &entry);
      return FALSE;
    }
  return TRUE;
}

/* ---- from other threads -------------------------------------------------- */

typedef struct
{
  AioLink   link;
  AioQueue *queue;
  Entry     entry;
} ThreadsafePut;

/* Loop thread: a put that nobody waits for. */
static void
aio_queue_put_orphan (AioQueue *self,
                      Entry    *entry)
{
  AioWaiter *waiter;

  if (self->shut_down)
    {
      aio_queue_entry_free (self, entry);
      return;
    }

  if (aio_queue_has_room_for_new (self))
    {
      aio_queue_push_entry (self, entry);
      aio_queue_item_added (self);
      return;
    }

  /* Full: the item waits its turn with the other puts, so the queue
   * never holds more than maxsize items. */
  waiter = aio_queue_new_putter (self, entry);
  waiter->orphan = TRUE;
  _aio_future_unref ((AioFuture *) waiter);
}

static void
threadsafe_put_run (AioLink  *link,
                    gboolean  discard)
{
  ThreadsafePut *op = (ThreadsafePut *) link;

  if (!discard)
    aio_queue_put_orphan (op->queue, &op->entry);
  else
    aio_queue_entry_free (op->queue, &op->entry);

  _aio_unref (op->queue);
  g_free (op);
}

static void
aio_queue_put_entry_threadsafe (AioQueue *self,
                                Entry    *entry)
{
  ThreadsafePut *op;

  if (_aio_loop_is_current (self->loop))
    {
      aio_queue_put_orphan (self, entry);
      return;
    }

  op = g_new0 (ThreadsafePut, 1);
  op->link.func = threadsafe_put_run;
  op->queue = _aio_ref (self);
  op->entry = *entry;

  /* A closed loop frees the item at once: nobody will ever get it. */
  _aio_loop_push_inbox (self->loop, &op->link);
}

/**
 * aio_queue_put_threadsafe: (skip)
 * @queue: an [class@Aio.Queue]
 * @item: (transfer full) (nullable): the item; the queue takes it
 *
 * Puts @item into @queue from any thread: a `GTask` thread function, a
 * `GThread`, an executor job. The item goes to the queue's loop through
 * its inbox, which wakes the loop; a task waiting in
 * [method@Aio.Queue.get] then gets it, in the loop's thread.
 *
 * This never blocks and never fails. When the item reaches a bounded
 * queue that is full, it waits its turn behind the other puts, as an
 * unawaited `aio_queue_put()` would: the queue still never holds more
 * than "maxsize" items, and consumers see the items in the order they were
 * put. Blocking the calling thread instead would tie the worker to the
 * loop: a worker blocked on a queue whose loop has stopped (a GTK
 * application quitting, say) could never finish, and the loop's shutdown
 * waits for its workers. A worker that must not run ahead of its
 * consumers can pace itself with a semaphore or an event it waits for
 * from its loop.
 *
 * If the queue is shut down when the item arrives, or its loop is closed,
 * the item is freed with the queue's `item_free`, possibly in the calling
 * thread. The caller must hold a reference to @queue for the duration of
 * the call.
 *
 * Since: 1.0
 */
void
aio_queue_put_threadsafe (AioQueue *queue,
                          gpointer  item)
{
  Entry entry = { item, 0, 0, FALSE };

  g_return_if_fail (AIO_IS_QUEUE (queue));

  aio_queue_put_entry_threadsafe (queue, &entry);
}

/**
 * aio_queue_put_value_threadsafe:
 * @queue: an [class@Aio.Queue]
 * @value: the item, copied
 *
 * Like `aio_queue_put_threadsafe()`, with a copy of @value as the
 * item; for language bindings whose worker threads feed a queue.
 *
 * Since: 1.0
 */
void
aio_queue_put_value_threadsafe (AioQueue     *queue,
                                const GValue *value)
{
  Entry entry = { NULL, 0, 0, TRUE };

  g_return_if_fail (AIO_IS_QUEUE (queue));
  g_return_if_fail (G_IS_VALUE (value));

  entry.item = _aio_value_copy (value);
  aio_queue_put_entry_threadsafe (queue, &entry);
}

/* ---- get ----------------------------------------------------------------- */

/**
 * aio_queue_get:
 * @queue: an [class@Aio.Queue]
 *
 * Takes the next item out of @queue, waiting for one if it is empty
 * (asyncio's `get()`).
 *
 * The returned future resolves with the item: at once when there is one
 * and no other get waits, otherwise when this get's turn comes. An item
 * put as a pointer comes as a pointer value whose destroy notify is the
 * queue's `item_free`: take it with `aio_await_pointer()`, which makes
 * it the caller's, or read it with `aio_future_get_pointer()` while the
 * future lives; an item nobody takes is freed with the future. An item
 * put as a `GValue` comes as that value ([method@Aio.Future.get_value]).
 *
 * Once the queue is shut down and empty the future fails with
 * `AIO_ERROR_QUEUE_SHUT_DOWN`. Cancelling it before it is served
 * withdraws the get, and the item it would have had goes to the next.
 *
 * Returns: (transfer full): a future for the item
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_get (AioQueue *queue)
{
  AioFuture *future;
  AioWaiter *waiter;
  Entry entry = { 0, };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);

  if (queue->len > queue->n_woken_getters && !_aio_waiter_has_pending (&queue->getters))
    {
      future = aio_future_new_for_loop (queue->loop);
      _aio_future_try_claim (future);
      entry = aio_queue_pop_entry (queue);
      aio_queue_entry_into_future (queue, &entry, future);
      aio_queue_item_removed (queue);
      _aio_sync_publish (future, AIO_FUTURE_RESOLVED, FALSE);
      return future;
    }

  if (queue->len == 0 && queue->shut_down)
    return _aio_sync_new_error (queue->loop, aio_queue_shut_down_error ());

  waiter = _aio_waiter_new (queue->loop, queue, aio_queue_getter_wake);
  _aio_waiter_push_tail (&queue->getters, waiter);
  aio_queue_wake_getters (queue);
  return (AioFuture *) waiter;
}

static gboolean
aio_queue_take_nowait (AioQueue  *self,
                       Entry     *entry,
                       GError   **error)
{
  if (self->len == 0)
    {
      if (self->shut_down)
        g_propagate_error (error, aio_queue_shut_down_error ());
      else
        g_set_error_literal (error, AIO_ERROR, AIO_ERROR_QUEUE_EMPTY, _("The queue is empty"));
      return FALSE;
    }

  /* As asyncio's get_nowait(), this may take an item a woken get was
   * about to take; that get waits again. */
  *entry = aio_queue_pop_entry (self);
  aio_queue_item_removed (self);
  return TRUE;
}

/**
 * aio_queue_get_nowait: (skip)
 * @queue: an [class@Aio.Queue]
 * @error: return location for an error
 *
 * Takes the next item out of @queue if there is one, without waiting
 * (asyncio's `get_nowait()`). Since `NULL` is a valid item, check @error
 * rather than the result. An item put with [method@Aio.Queue.put_value]
 * comes out as a new `GValue *`; free it with `g_value_unset()` and
 * `g_free()`.
 *
 * Returns: (transfer full) (nullable): the item, now the caller's; %NULL
 *   with @error set to `AIO_ERROR_QUEUE_EMPTY` or, once the queue is shut
 *   down, `AIO_ERROR_QUEUE_SHUT_DOWN`
 *
 * Since: 1.0
 */
gpointer
aio_queue_get_nowait (AioQueue  *queue,
                      GError   **error)
{
  Entry entry = { 0, };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!aio_queue_take_nowait (queue, &entry, error))
    return NULL;
  return entry.item;
}

/**
 * aio_queue_get_value_nowait:
 * @queue: an [class@Aio.Queue]
 * @value: (out caller-allocates): an uninitialized `GValue` for the item
 * @error: return location for an error
 *
 * Like `aio_queue_get_nowait()`, for language bindings: the item is stored
 * in @value. An item put as a pointer comes as a `G_TYPE_POINTER` value,
 * and the caller owns what it points to.
 *
 * Returns: %TRUE if an item was taken; %FALSE with @error set to
 *   `AIO_ERROR_QUEUE_EMPTY` or `AIO_ERROR_QUEUE_SHUT_DOWN`
 *
 * Since: 1.0
 */
gboolean
aio_queue_get_value_nowait (AioQueue  *queue,
                            GValue    *value,
                            GError   **error)
{
  Entry entry = { 0, };

  g_return_val_if_fail (AIO_IS_QUEUE (queue), FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!aio_queue_take_nowait (queue, &entry, error))
    return FALSE;

  if (entry.is_value)
    {
      g_value_init (value, G_VALUE_TYPE ((GValue *) entry.item));
      g_value_copy (entry.item, value);
      value_free (entry.item);
    }
  else
    {
      g_value_init (value, G_TYPE_POINTER);
      g_value_set_pointer (value, entry.item);
    }

  return TRUE;
}

/* ---- tracking work ------------------------------------------------------- */

/**
 * aio_queue_task_done:
 * @queue: an [class@Aio.Queue]
 *
 * Tells @queue that an item taken from it has been dealt with (asyncio's
 * `task_done()`). When every item put so far is done,
 * [method@Aio.Queue.join] resolves. Calling it more often than items were
 * put is a programmer error (asyncio raises `ValueError`) and changes
 * nothing.
 *
 * Since: 1.0
 */
void
aio_queue_task_done (AioQueue *queue)
{
  g_return_if_fail (AIO_IS_QUEUE (queue));

  if (queue->unfinished == 0)
    {
      g_critical ("aio_queue_task_done: called more times than there were items "
                  "put in the queue %p", queue);
      return;
    }

  if (--queue->unfinished == 0)
    _aio_waiter_resolve_all (&queue->joiners, FALSE);
}

/**
 * aio_queue_join:
 * @queue: an [class@Aio.Queue]
 *
 * Waits until every item put into @queue is done (asyncio's `join()`):
 * the returned future resolves, with no value, when the count of
 * unfinished items ([method@Aio.Queue.get_unfinished]) drops to 0, at once
 * if it is 0 already.
 *
 * Returns: (transfer full): a future for the work; the caller owns it:
 *   [func@Aio.await] takes it, or drop it with `g_object_unref()`
 *
 * Since: 1.0
 */
AioFuture *
aio_queue_join (AioQueue *queue)
{
  AioFuture *future;
  AioWaiter *waiter;

  g_return_val_if_fail (AIO_IS_QUEUE (queue), NULL);

  if (queue->unfinished == 0)
    {
      future = aio_future_new_for_loop (queue->loop);
      _aio_sync_resolve (future, FALSE);
      return future;
    }

  waiter = _aio_waiter_new (queue->loop, queue, NULL);
  _aio_waiter_push_tail (&queue->joiners, waiter);
  return (AioFuture *) waiter;
}

/**
 * aio_queue_shutdown:
 * @queue: an [class@Aio.Queue]
 * @immediate: whether to drop the items in the queue too
 *
 * Shuts @queue down (Python 3.13's `shutdown(immediate)`).
 *
 * From now on puts fail with `AIO_ERROR_QUEUE_SHUT_DOWN`, and so do the
 * puts that wait for room (their items are freed). Gets go on while there
 * are items, then fail with `AIO_ERROR_QUEUE_SHUT_DOWN`, the waiting ones
 * included.
 *
 * With @immediate, the items in the queue are freed too, each counting as
 * done for [method@Aio.Queue.join], which resolves if nothing else is
 * unfinished; gets fail at once.
 *
 * Shutting down a shut-down queue is allowed; an immediate shutdown then
 * still drops the items.
 *
 * Since: 1.0
 */
void
aio_queue_shutdown (AioQueue *queue,
                    gboolean  immediate)
{
  g_return_if_fail (AIO_IS_QUEUE (queue));

  queue->shut_down = TRUE;

  if (immediate)
    {
      while (queue->len > 0)
        {
          Entry entry = aio_queue_pop_entry (queue);

          aio_queue_entry_free (queue, &entry);
          if (queue->unfinished > 0)
            queue->unfinished--;
        }

      if (queue->unfinished == 0)
        _aio_waiter_resolve_all (&queue->joiners, FALSE);
    }

  aio_queue_reject_all (&queue->putters);
  if (queue->len == 0)
    aio_queue_reject_all (&queue->getters);
}
