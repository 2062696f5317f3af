/* aio-tsan-glib.c: tells ThreadSanitizer about GLib's synchronization
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Linked into the test programs of a -Db_sanitize=thread build only.
 *
 * Debian's GLib is not built with ThreadSanitizer, and on Linux its GMutex,
 * GRecMutex, GRWLock and GCond are futexes and atomics inside libglib:
 * TSan sees none of them.  Every field that aio-glib (or GIO's
 * GCancellable, or a test) protects with a GMutex then looks like a data
 * race, and suppressing those would suppress real races in the same code.
 * So this file interposes the GLib entry points that synchronize threads
 * and tells TSan what they do, with __tsan_acquire() and __tsan_release()
 * on the object's address:
 *
 *  - locks: acquire after taking, release before letting go (GCond's waits
 *    let the mutex go and take it again);
 *  - g_once_init_leave() releases, and a g_once_init_enter() that returns
 *    FALSE (another thread did the initialization) acquires;
 *  - GAsyncQueue: a push releases the queue, a pop that got an item
 *    acquires it;
 *  - GThreadPool: a push releases the item, and the pool's function
 *    acquires it before it runs (the function is wrapped);
 *  - g_object_unref(): GObject's reference count is an atomic inside
 *    libgobject, and the thread that drops the last reference finalizes
 *    what others let go of; each unref releases and acquires the object,
 *    as the acq_rel decrement in libgobject does.
 *
 * These are GLib's documented guarantees, not guesses about its internals.
 * The executable's definitions interpose the calls made by aio-glib's
 * code (linked statically into the tests), by the tests and by libgio;
 * libglib's calls to itself do not go through these (it is linked with
 * -Bsymbolic-functions), which is why tests/tsan.supp exists.
 */

#define _GNU_SOURCE
#include <dlfcn.h>

#include <glib-object.h>
#include <sanitizer/tsan_interface.h>

/* __tsan_acquire/__tsan_release are exported by libtsan but not declared
 * in GCC 12's tsan_interface.h. */
void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

static gpointer
real_symbol (gpointer   *cache,
             const char *name)
{
  gpointer symbol = __atomic_load_n (cache, __ATOMIC_ACQUIRE);

  if (symbol == NULL)
    {
      symbol = dlsym (RTLD_NEXT, name);
      if (symbol == NULL)
        g_error ("aio-tsan-glib: no %s to interpose", name);
      __atomic_store_n (cache, symbol, __ATOMIC_RELEASE);
    }
  return symbol;
}

#define REAL(ret, name, params)                                           \
  static gpointer real_##name##_cache;                                    \
  typedef ret (*real_##name##_type) params;                               \
  static inline real_##name##_type real_##name (void)                     \
  {                                                                       \
    return (real_##name##_type) real_symbol (&real_##name##_cache, #name); \
  }

/* ---- GMutex, GRecMutex, GRWLock, GCond ----------------------------------- */

REAL (void, g_mutex_lock, (GMutex *))
REAL (gboolean, g_mutex_trylock, (GMutex *))
REAL (void, g_mutex_unlock, (GMutex *))

void
g_mutex_lock (GMutex *mutex)
{
  real_g_mutex_lock () (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  if (!real_g_mutex_trylock () (mutex))
    return FALSE;
  __tsan_acquire (mutex);
  return TRUE;
}

void
g_mutex_unlock (GMutex *mutex)
{
  __tsan_release (mutex);
  real_g_mutex_unlock () (mutex);
}

REAL (void, g_rec_mutex_lock, (GRecMutex *))
REAL (gboolean, g_rec_mutex_trylock, (GRecMutex *))
REAL (void, g_rec_mutex_unlock, (GRecMutex *))

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  real_g_rec_mutex_lock () (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  if (!real_g_rec_mutex_trylock () (mutex))
    return FALSE;
  __tsan_acquire (mutex);
  return TRUE;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  __tsan_release (mutex);
  real_g_rec_mutex_unlock () (mutex);
}

REAL (void, g_rw_lock_writer_lock, (GRWLock *))
REAL (void, g_rw_lock_writer_unlock, (GRWLock *))
REAL (void, g_rw_lock_reader_lock, (GRWLock *))
REAL (void, g_rw_lock_reader_unlock, (GRWLock *))

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  real_g_rw_lock_writer_lock () (lock);
  __tsan_acquire (lock);
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  __tsan_release (lock);
  real_g_rw_lock_writer_unlock () (lock);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  real_g_rw_lock_reader_lock () (lock);
  __tsan_acquire (lock);
}

/* A reader publishes nothing, but releasing is harmless: it only orders
 * the reader before the next writer, which the lock does too. */
void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  __tsan_release (lock);
  real_g_rw_lock_reader_unlock () (lock);
}

REAL (void, g_cond_wait, (GCond *, GMutex *))
REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64))

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  __tsan_release (mutex);
  real_g_cond_wait () (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  __tsan_release (mutex);
  signalled = real_g_cond_wait_until () (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}

/* ---- g_once_init -------------------------------------------------------- */

/* The header's g_once_init_enter() macro reads the location atomically in
 * the caller's (instrumented) code first, and calls the function only
 * when it is still 0. */
REAL (gboolean, g_once_init_enter, (volatile void *))
REAL (void, g_once_init_leave, (volatile void *, gsize))

gboolean
(g_once_init_enter) (volatile void *location)
{
  if (real_g_once_init_enter () ((void *) location))
    return TRUE;
  __tsan_acquire ((void *) location);
  return FALSE;
}

void
(g_once_init_leave) (volatile void *location,
                     gsize          result)
{
  __tsan_release ((void *) location);
  real_g_once_init_leave () ((void *) location, result);
}

/* ---- GAsyncQueue -------------------------------------------------------- */

REAL (void, g_async_queue_push, (GAsyncQueue *, gpointer))
REAL (void, g_async_queue_push_front, (GAsyncQueue *, gpointer))
REAL (gpointer, g_async_queue_pop, (GAsyncQueue *))
REAL (gpointer, g_async_queue_try_pop, (GAsyncQueue *))
REAL (gpointer, g_async_queue_timeout_pop, (GAsyncQueue *, guint64))

void
g_async_queue_push (GAsyncQueue *queue,
                    gpointer     data)
{
  __tsan_release (queue);
  real_g_async_queue_push () (queue, data);
}

void
g_async_queue_push_front (GAsyncQueue *queue,
                          gpointer     data)
{
  __tsan_release (queue);
  real_g_async_queue_push_front () (queue, data);
}

gpointer
g_async_queue_pop (GAsyncQueue *queue)
{
  gpointer data = real_g_async_queue_pop () (queue);

  __tsan_acquire (queue);
  return data;
}

gpointer
g_async_queue_try_pop (GAsyncQueue *queue)
{
  gpointer data = real_g_async_queue_try_pop () (queue);

  if (data != NULL)
    __tsan_acquire (queue);
  return data;
}

gpointer
g_async_queue_timeout_pop (GAsyncQueue *queue,
                           guint64      timeout)
{
  gpointer data = real_g_async_queue_timeout_pop () (queue, timeout);

  if (data != NULL)
    __tsan_acquire (queue);
  return data;
}

/* ---- GThreadPool -------------------------------------------------------- */

/* The pool's function, wrapped so that the worker acquires what the push
 * released.  The wrappers live as long as the process (tests make a
 * handful of pools). */
typedef struct
{
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_func_run (gpointer data,
               gpointer user_data)
{
  PoolFunc *wrapped = user_data;

  __tsan_acquire (data != NULL ? data : (gpointer) wrapped);
  wrapped->func (data, wrapped->user_data);
}

REAL (GThreadPool *, g_thread_pool_new, (GFunc, gpointer, gint, gboolean, GError **))
REAL (GThreadPool *, g_thread_pool_new_full, (GFunc, gpointer, GDestroyNotify, gint, gboolean, GError **))
REAL (gboolean, g_thread_pool_push, (GThreadPool *, gpointer, GError **))

GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  PoolFunc *wrapped = g_new (PoolFunc, 1);

  wrapped->func = func;
  wrapped->user_data = user_data;
  return real_g_thread_pool_new () (pool_func_run, wrapped, max_threads,
                                    exclusive, error);
}

GThreadPool *
g_thread_pool_new_full (GFunc           func,
                        gpointer        user_data,
                        GDestroyNotify  item_free_func,
                        gint            max_threads,
                        gboolean        exclusive,
                        GError        **error)
{
  PoolFunc *wrapped = g_new (PoolFunc, 1);

  wrapped->func = func;
  wrapped->user_data = user_data;
  return real_g_thread_pool_new_full () (pool_func_run, wrapped, item_free_func,
                                         max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  /* The pool's user_data is the wrapper. */
  __tsan_release (data != NULL ? data : pool->user_data);
  return real_g_thread_pool_push () (pool, data, error);
}

/* ---- GObject references -------------------------------------------------- */

REAL (void, g_object_unref, (gpointer))

void
g_object_unref (gpointer object)
{
  if (object != NULL)
    {
      __tsan_release (object);
      __tsan_acquire (object);
      /* _aio_unref() lets go with an atomic on the count itself. */
      __tsan_acquire (&((GObject *) object)->ref_count);
    }
  real_g_object_unref () (object);
}

/* Without G_DISABLE_CHECKS this is a function in libglib, an atomic
 * decrement TSan cannot see; the caller that gets TRUE frees what every
 * earlier caller let go of. */
REAL (gboolean, g_atomic_ref_count_dec, (gatomicrefcount *))

gboolean
(g_atomic_ref_count_dec) (gatomicrefcount *arc)
{
  gboolean last;

  __tsan_release (arc);
  last = real_g_atomic_ref_count_dec () (arc);
  if (last)
    __tsan_acquire (arc);
  return last;
}
