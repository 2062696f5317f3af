/* aio-fiber-stack.c: the stacks fibers run on, and their pools
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Stacks
 * ======
 *
 * A fiber takes a stack at its first resume and gives it back when it
 * finishes or is freed (aio-fiber.c).  Stacks are mmap()ed with
 * MAP_NORESERVE, so only the pages a fiber touches cost memory; a fiber's
 * first frame sits at the top of its stack and the trampoline adds one
 * frame, so a fiber with a small body touches about one page.
 *
 * Each stack mapping with a PROT_NONE guard page below it costs the kernel
 * two VMAs, and a process has at most vm.max_map_count of them (65530 by
 * default), which would cap fibers near 32 000.  So there are two kinds of
 * stacks:
 *
 *  - guarded stacks: a mapping of their own with a guard page below.  An
 *    overflow faults at once.  Their number is bounded by a process-wide
 *    budget, computed once as the smaller of 4096 and
 *    (max_map_count - 8192) / 2 (8192 VMAs are left for everything else in
 *    the process; the environment variable AIO_FIBER_GUARDED_STACKS
 *    overrides it).  The cap of 4096 is for speed, as folly's fibers cap
 *    their guarded stacks: each guarded stack costs mmap, mprotect and
 *    munmap, which at 100 000 fibers cost more than everything else a
 *    fiber does, while programs with fewer than a few thousand fibers alive
 *    at once, which is most of them, still get a guard page for every
 *    fiber.  Where the kernel has guard regions (Linux 6.13 and later),
 *    guarded stacks come from slabs too, each with a guard region below
 *    it (see the layouts at aio_fiber_slab_key()): no VMA split, one
 *    system call instead of three.
 *  - slab stacks: beyond the budget, stacks are carved from slabs, single
 *    mappings of up to 64 stacks (16 MiB at the default size) with one
 *    guard page at the bottom, so two VMAs per 64 stacks.  A slab stack is
 *    protected by a canary: 64 bytes at its lowest addresses, derived from a
 *    per-process secret and their own address, written when the stack is
 *    carved and checked whenever its fiber suspends, finishes or is freed.
 *    A clobbered canary means memory is already corrupt, so it is fatal
 *    (g_error).  Slab stacks are laid out so that each canary shares a page
 *    with the top of the stack below it (the slab starts page - 64 bytes
 *    past its guard page): the canary costs no page of its own while the
 *    neighbouring stack is in use.  Slabs are kept in lists of slabs that
 *    have free stacks, one list per stack size, under a global lock; a slab
 *    is unmapped as soon as all its stacks are free.  Slab mappings are
 *    marked MADV_NOHUGEPAGE so that a touched stack page stays one page.
 *
 * Freed stacks first go to a per-thread pool (a GPrivate, freed with its
 * stacks when the thread exits) of at most 256 stacks, in a few size
 * classes; the most recently freed stack of the right size is reused first.
 * Beyond the bound a guarded stack is unmapped and a slab stack goes back
 * to its slab.  Stacks are not tied to a thread: a stack taken on one thread
 * may end in another thread's pool.  If no stack can be mapped (ENOMEM,
 * also when the VMA limit is reached anyway) aio_fiber_stack_acquire()
 * returns NULL and aio_fiber_resume() fails with AIO_ERROR_NO_STACK;
 * nothing aborts.  Page faults and unmaps of slab stacks are largely left
 * to a helper thread (see "The slab helper").
 *
 * Valgrind: every stack is registered with VALGRIND_STACK_REGISTER while it
 * is mapped (guarded stacks) or carved from its slab (slab stacks), so that
 * memcheck knows a switch from a change of stack pointer.  (AddressSanitizer
 * is aio-fiber.c's business: it unpoisons what a fiber used of its stack
 * before releasing it.)
 *
 * Overflows of every kind of stack are reported by aio-fiber.c's SIGSEGV
 * handler; aio_fiber_stack_is_overflow() tells it where the guards are.
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "aio-fiber-private.h"
#include "aio-fiber-stack-private.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif

/* VMAs left for the rest of the process when sizing the guarded budget. */
#define AIO_FIBER_VMA_RESERVE        8192
/* At most this many live guarded stacks by default (see the budget). */
#define AIO_FIBER_GUARDED_MAX        4096
/* Assumed when /proc/sys/vm/max_map_count cannot be read (Linux default). */
#define AIO_FIBER_DEFAULT_MAP_COUNT  65530

#define AIO_FIBER_POOL_MAX           256
#define AIO_FIBER_POOL_CLASSES       4

#define AIO_FIBER_SLAB_STACKS_MAX    64
#define AIO_FIBER_SLAB_TARGET_BYTES  (16 * 1024 * 1024)

struct _AioFiberSlab
{
  guint8        *map;          /* the mapping (see the layouts below) */
  gsize          map_size;
  gsize          stack_size;
  guint          n_stacks;
  gboolean       guarded;      /* guard regions, no canaries */
  guint64        free_mask;    /* bit i set: stacks[i] is free */
  guint64        all_mask;
  guint64        guard_mask;   /* guarded slabs: bit i set: guard installed */
  AioFiberSlab  *prev;         /* in the list of slabs with free stacks */
  AioFiberSlab  *next;
  AioFiberStack  stacks[];
};

typedef struct
{
  gsize          size;
  AioFiberStack *head;
} AioFiberPoolClass;

typedef struct
{
  AioFiberPoolClass classes[AIO_FIBER_POOL_CLASSES];
  guint             n_stacks;
} AioFiberPool;

static void aio_fiber_pool_free (gpointer data);

static GPrivate aio_fiber_pool_key = G_PRIVATE_INIT (aio_fiber_pool_free);

/* Set once by aio_fiber_global_init(). */
static gboolean aio_fiber_guard_regions;
static gsize   aio_fiber_page_size;
static gint    aio_fiber_guarded_budget;
static guint64 aio_fiber_canary_secret;

/* Live stacks of each kind (in use or pooled); atomic. */
static gint aio_fiber_n_guarded;
static gint aio_fiber_n_slab;

/* Slabs with free stacks: stack size → first AioFiberSlab of a list. */
static GMutex      aio_fiber_slab_lock;
static GHashTable *aio_fiber_partial_slabs;

/* Jobs of the slab helper (see below), in the low bits of their item. */
typedef enum
{
  AIO_FIBER_HELPER_POPULATE_SLAB,
  AIO_FIBER_HELPER_UNMAP_SLAB,
  AIO_FIBER_HELPER_UNMAP_GUARDED,
} AioFiberHelperJob;

static void aio_fiber_atfork_prepare (void);
static void aio_fiber_atfork_parent (void);
static void aio_fiber_atfork_child (void);
static gboolean aio_fiber_helper_push (gpointer          item,
                                       AioFiberHelperJob job,
                                       gboolean          start);
static AioFiberStack *aio_fiber_slab_stack_new (gsize    size,
                                                gboolean guarded);
static void aio_fiber_slab_stack_put_back (AioFiberStack *stack,
                                           gboolean       counted);

static gint
aio_fiber_read_guarded_budget (void)
{
  const gchar *env;
  gchar *contents = NULL;
  guint64 max_map_count = AIO_FIBER_DEFAULT_MAP_COUNT;
  guint64 budget;

  env = g_getenv ("AIO_FIBER_GUARDED_STACKS");
  if (env != NULL && *env != '\0')
    {
      guint64 value;

      if (g_ascii_string_to_unsigned (env, 10, 0, G_MAXINT, &value, NULL))
        return (gint) value;
      g_warning ("Ignoring invalid AIO_FIBER_GUARDED_STACKS=%s", env);
    }

  if (g_file_get_contents ("/proc/sys/vm/max_map_count", &contents,
                           NULL, NULL))
    {
      guint64 value;

      g_strstrip (contents);
      if (g_ascii_string_to_unsigned (contents, 10, 0, G_MAXUINT64, &value,
                                      NULL))
        max_map_count = value;
      g_free (contents);
    }

  if (max_map_count <= AIO_FIBER_VMA_RESERVE)
    return 0;
  budget = (max_map_count - AIO_FIBER_VMA_RESERVE) / 2;

  /* A guarded stack costs three system calls over its life (mmap,
   * mprotect, munmap) and two VMAs; past a few thousand live fibers those
   * dominate what a fiber costs, so the rest come from slabs. */
  budget = MIN (budget, AIO_FIBER_GUARDED_MAX);

  return (gint) MIN (budget, (guint64) G_MAXINT);
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Linux 6.13 and later make guard pages without a mapping (a VMA) of
 * their own: madvise (MADV_GUARD_INSTALL). */
static gboolean
aio_fiber_probe_guard_regions (void)
{
  gsize page = aio_fiber_page_size;
  guint8 *map;
  gboolean works;

  if (g_strcmp0 (g_getenv ("AIO_FIBER_GUARD_REGIONS"), "0") == 0)
    return FALSE;

  map = mmap (NULL, 2 * page, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED)
    return FALSE;
  works = madvise (map, page, MADV_GUARD_INSTALL) == 0;
  munmap (map, 2 * page);
  return works;
}

static void
aio_fiber_global_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      long page_size = sysconf (_SC_PAGESIZE);

      aio_fiber_page_size = page_size > 0 ? (gsize) page_size : 4096;
      aio_fiber_guarded_budget = aio_fiber_read_guarded_budget ();
      aio_fiber_canary_secret = ((guint64) g_random_int () << 32) |
                                g_random_int ();
      aio_fiber_partial_slabs = g_hash_table_new (NULL, NULL);
      aio_fiber_guard_regions = aio_fiber_probe_guard_regions ();
      pthread_atfork (aio_fiber_atfork_prepare, aio_fiber_atfork_parent,
                      aio_fiber_atfork_child);

      g_once_init_leave (&initialized, 1);
    }
}

gsize
aio_fiber_stack_round_size (gsize size)
{
  gsize page;

  aio_fiber_global_init ();
  page = aio_fiber_page_size;

  if (size > G_MAXSIZE - (page - 1))
    return G_MAXSIZE & ~(page - 1);  /* will fail to map */
  return (size + page - 1) & ~(page - 1);
}

/* Canaries (slab stacks only) */

static void
aio_fiber_canary_write (AioFiberStack *stack)
{
  guint64 *words = (guint64 *) stack->low;
  gsize i;

  if (stack->slab == NULL || stack->slab->guarded)
    return;

  for (i = 0; i < AIO_FIBER_CANARY_SIZE / sizeof (guint64); i++)
    words[i] = aio_fiber_canary_secret ^ (guint64) (guintptr) &words[i];
}

void
aio_fiber_stack_check_canary (AioFiberStack *stack)
{
  const guint64 *words;
  gsize i;

  if (stack->slab == NULL || stack->slab->guarded)
    return;

  words = (const guint64 *) stack->low;
  for (i = 0; i < AIO_FIBER_CANARY_SIZE / sizeof (guint64); i++)
    {
      if (G_UNLIKELY (words[i] !=
                      (aio_fiber_canary_secret ^ (guint64) (guintptr) &words[i])))
        g_error ("aio-glib: fiber stack overflow (the canary at %p of a "
                 "%" G_GSIZE_FORMAT "-byte fiber stack was overwritten)",
                 (gpointer) stack->low, stack->size);
    }
}

/* Guarded stacks */

static AioFiberStack *
aio_fiber_guarded_stack_new (gsize size)
{
  AioFiberStack *stack;
  gsize page = aio_fiber_page_size;
  guint8 *map;

  if (g_atomic_int_add (&aio_fiber_n_guarded, 1) >= aio_fiber_guarded_budget)
    goto unreserve;
  if (size > G_MAXSIZE - page)
    goto unreserve;

  /* Guard regions: from a slab, for a system call less at first and
   * three fewer later. */
  if (aio_fiber_guard_regions)
    {
      stack = aio_fiber_slab_stack_new (size, TRUE);
      if (stack == NULL)
        goto unreserve;
      return stack;
    }

  map = mmap (NULL, size + page, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED)
    goto unreserve;
  if (mprotect (map, page, PROT_NONE) != 0)
    {
      munmap (map, size + page);
      goto unreserve;
    }

  stack = g_new0 (AioFiberStack, 1);
  stack->low = map + page;
  stack->size = size;
#ifdef HAVE_VALGRIND_H
  stack->valgrind_id = VALGRIND_STACK_REGISTER (stack->low,
                                                stack->low + stack->size);
#endif

  return stack;

unreserve:
  g_atomic_int_add (&aio_fiber_n_guarded, -1);
  return NULL;
}

/* Counts in the budget until it is unmapped. */
static void
aio_fiber_guarded_stack_unmap (AioFiberStack *stack)
{
  gsize page = aio_fiber_page_size;

  if (munmap (stack->low - page, stack->size + page) != 0)
    g_critical ("aio-glib: cannot unmap a fiber stack: %s",
                g_strerror (errno));
  g_free (stack);
  g_atomic_int_add (&aio_fiber_n_guarded, -1);
}

static void
aio_fiber_guarded_stack_free (AioFiberStack *stack)
{
  gboolean helped;

#ifdef HAVE_VALGRIND_H
  VALGRIND_STACK_DEREGISTER (stack->valgrind_id);
#endif
  /* The helper exists once slabs are in use, that is when thousands of
   * stacks come and go. */
  g_mutex_lock (&aio_fiber_slab_lock);
  helped = aio_fiber_helper_push (stack, AIO_FIBER_HELPER_UNMAP_GUARDED, FALSE);
  g_mutex_unlock (&aio_fiber_slab_lock);
  if (!helped)
    aio_fiber_guarded_stack_unmap (stack);
}

/* Slab stacks
 *
 * A slab of n stacks of size S (a multiple of the page size P) is one
 * mapping of n * S + 2 * P bytes:
 *
 *   map            guard page (PROT_NONE)
 *   map + P        B: start of the stack area
 *   B + i*S + O    stack i: its canary (O = P - 64), then the stack proper
 *   B + (i+1)*S+O  top of stack i = the canary of stack i + 1
 *
 * so the canary of stack i + 1 lies in the top page of stack i.  Stacks are
 * handed out from the top of the slab down.
 *
 * Where the kernel has guard regions (see aio_fiber_probe_guard_regions()),
 * the guarded stacks come from slabs too, laid out without canaries:
 *
 *   map + i*(S+P)       the guard page of stack i, installed when the
 *                       stack is first handed out, kept until the unmap
 *   map + i*(S+P) + P   stack i, S bytes
 *
 * Guarded and canary slabs are kept in separate lists.
 */

static inline gpointer
aio_fiber_slab_key (gsize    stack_size,
                    gboolean guarded)
{
  /* Stack sizes are multiples of the page size: the low bit is free. */
  return GSIZE_TO_POINTER (stack_size | (guarded ? 1 : 0));
}

static void
aio_fiber_slab_list_insert (AioFiberSlab *slab)
{
  gpointer key = aio_fiber_slab_key (slab->stack_size, slab->guarded);
  AioFiberSlab *head = g_hash_table_lookup (aio_fiber_partial_slabs, key);

  slab->prev = NULL;
  slab->next = head;
  if (head != NULL)
    head->prev = slab;
  g_hash_table_insert (aio_fiber_partial_slabs, key, slab);
}

static void
aio_fiber_slab_list_remove (AioFiberSlab *slab)
{
  gpointer key = aio_fiber_slab_key (slab->stack_size, slab->guarded);

  if (slab->prev != NULL)
    slab->prev->next = slab->next;
  else if (slab->next != NULL)
    g_hash_table_insert (aio_fiber_partial_slabs, key, slab->next);
  else
    g_hash_table_remove (aio_fiber_partial_slabs, key);
  if (slab->next != NULL)
    slab->next->prev = slab->prev;
  slab->prev = slab->next = NULL;
}

/* The slab helper
 *
 * With more than a few thousand live fibers, a fiber costs less in the
 * switch and the task than in the kernel: the first write to a fresh stack
 * page (a page fault: allocating, zeroing and charging the page) and, once
 * a slab is free again, unmapping it.  On this project's machines that was
 * three quarters of starting a fiber.  So a helper thread, started with
 * the first slab, does both off the loop's thread:
 *
 *  - it populates the top page of every stack of a new slab with
 *    madvise (MADV_POPULATE_WRITE), which faults the page in as a write
 *    would but changes nothing in it, so it is harmless even on a stack
 *    that is in use by then.  Stacks are handed out from the top of the
 *    slab down and the helper works from the bottom up, stopping at the
 *    first stack handed out: the two meet, and each fresh stack page is
 *    faulted in once, by whichever comes first;
 *  - it unmaps slabs whose stacks are all free, and the guarded stacks
 *    that go back to the system.  One queue carries every job, in order,
 *    so a slab is never unmapped while it is populated.  A guarded stack
 *    counts against the budget until it is unmapped.
 *
 * Kernels without MADV_POPULATE_WRITE (before 5.14) only get the unmaps
 * done.  If the thread cannot be started, the unmaps are done where the
 * stacks are freed, as before.  The helper lives as long as the process;
 * it sleeps while there is nothing to do.  Measured (aio-bench fiber, n =
 * 100 000): spawn 4.0 -> 2.6 us and cancel 4.6 -> 3.3 us per task, with
 * 1.35 CPUs busy instead of one.  Keeping a spare slab populated ahead
 * was tried and was slower: the two threads' faults contend in the
 * kernel. */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static gint         aio_fiber_helper_populates = TRUE;
/* Under the slab lock: the helper's jobs, in order; whether it runs;
 * whether starting it was tried. */
static GQueue       aio_fiber_helper_jobs = G_QUEUE_INIT;
static GCond        aio_fiber_helper_cond;
static gboolean     aio_fiber_helper_running;
static gboolean     aio_fiber_helper_tried;
/* Jobs given (under the slab lock) and done (atomic); they wrap. */
static gint         aio_fiber_helper_pushed;
static gint         aio_fiber_helper_done;

static void
aio_fiber_slab_populate (AioFiberSlab *slab)
{
  gsize page = aio_fiber_page_size;

  for (guint i = 0; i < slab->n_stacks && g_atomic_int_get (&aio_fiber_helper_populates); i++)
    {
      guint8 *top = slab->stacks[i].low + slab->stack_size;
      guint8 *top_page = (guint8 *) (((guintptr) top - 1) & ~(guintptr) (page - 1));

      /* Read without the lock: a stale answer costs one populate of a
       * page that is there already, or one fault the fiber takes. */
      if ((__atomic_load_n (&slab->free_mask, __ATOMIC_RELAXED) &
           (G_GUINT64_CONSTANT (1) << i)) == 0)
        break;
      if (madvise (top_page, page, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        g_atomic_int_set (&aio_fiber_helper_populates, FALSE);
    }
}

static void
aio_fiber_slab_unmap (AioFiberSlab *slab)
{
  if (munmap (slab->map, slab->map_size) != 0)
    g_critical ("aio-glib: cannot unmap a fiber stack slab: %s",
                g_strerror (errno));
  g_free (slab);
}

static void
aio_fiber_helper_do (guintptr job)
{
  gpointer item = (gpointer) (job & ~(guintptr) 3);

  switch ((AioFiberHelperJob) (job & 3))
    {
    case AIO_FIBER_HELPER_POPULATE_SLAB:
      aio_fiber_slab_populate (item);
      break;
    case AIO_FIBER_HELPER_UNMAP_SLAB:
      aio_fiber_slab_unmap (item);
      break;
    case AIO_FIBER_HELPER_UNMAP_GUARDED:
      aio_fiber_guarded_stack_unmap (item);
      break;
    }
  g_atomic_int_inc (&aio_fiber_helper_done);
}

/* The helper's jobs wait in a queue of their own under the slab lock
 * (every job is given with that lock held anyway), rather than in a
 * GAsyncQueue: its state is then ours to repair in a forked child (see
 * aio_fiber_atfork_child()), and ThreadSanitizer sees all of it. */
static gpointer
aio_fiber_helper_main (gpointer data)
{
  g_mutex_lock (&aio_fiber_slab_lock);
  for (;;)
    {
      guintptr job;

      while (g_queue_is_empty (&aio_fiber_helper_jobs))
        g_cond_wait (&aio_fiber_helper_cond, &aio_fiber_slab_lock);
      job = (guintptr) g_queue_pop_head (&aio_fiber_helper_jobs);
      g_mutex_unlock (&aio_fiber_slab_lock);

      aio_fiber_helper_do (job);

      g_mutex_lock (&aio_fiber_slab_lock);
    }

  return NULL;
}

/* Called with the slab lock held.  Returns FALSE when there is no helper;
 * @start starts it if it was never tried. */
static gboolean
aio_fiber_helper_push (gpointer          item,
                       AioFiberHelperJob job,
                       gboolean          start)
{
  if (!aio_fiber_helper_running && !aio_fiber_helper_tried && start)
    {
      GThread *thread;

      aio_fiber_helper_tried = TRUE;
      thread = g_thread_try_new ("aio-fiber-slabs", aio_fiber_helper_main,
                                 NULL, NULL);
      if (thread != NULL)
        {
          g_thread_unref (thread);
          aio_fiber_helper_running = TRUE;
        }
    }

  if (!aio_fiber_helper_running)
    return FALSE;

  g_assert (((guintptr) item & 3) == 0);
  aio_fiber_helper_pushed = (gint) ((guint) aio_fiber_helper_pushed + 1);
  g_queue_push_tail (&aio_fiber_helper_jobs, (gpointer) ((guintptr) item | job));
  g_cond_signal (&aio_fiber_helper_cond);
  return TRUE;
}

/* fork() copies only the thread that calls it: a child has no helper,
 * whatever the parent had.  The slab lock is held across fork() so that
 * the child's copy of the slab lists and of the helper's queue is
 * consistent; the child then does the jobs the helper had not done (an
 * unmap or a populate, harmless in the child's copy of the memory) and
 * starts a helper of its own when it next needs one. */
static void
aio_fiber_atfork_prepare (void)
{
  g_mutex_lock (&aio_fiber_slab_lock);
}

static void
aio_fiber_atfork_parent (void)
{
  g_mutex_unlock (&aio_fiber_slab_lock);
}

static void
aio_fiber_atfork_child (void)
{
  GQueue pending = aio_fiber_helper_jobs;

  g_queue_init (&aio_fiber_helper_jobs);
  aio_fiber_helper_running = FALSE;
  aio_fiber_helper_tried = FALSE;
  g_cond_init (&aio_fiber_helper_cond);
  g_mutex_unlock (&aio_fiber_slab_lock);

  while (!g_queue_is_empty (&pending))
    aio_fiber_helper_do ((guintptr) g_queue_pop_head (&pending));
}

/* Called with the slab lock held. */
static AioFiberSlab *
aio_fiber_slab_new (gsize    stack_size,
                    gboolean guarded)
{
  AioFiberSlab *slab;
  gsize page = aio_fiber_page_size;
  gsize stride = guarded ? stack_size + page : stack_size;
  gsize n_stacks, map_size, i;
  guint8 *map, *base;

  if (stride < stack_size)
    return NULL;
  n_stacks = CLAMP (AIO_FIBER_SLAB_TARGET_BYTES / stride, 1,
                    AIO_FIBER_SLAB_STACKS_MAX);
  if (stride > (G_MAXSIZE - 2 * page) / n_stacks)
    return NULL;
  map_size = guarded ? n_stacks * stride : n_stacks * stride + 2 * page;

  map = mmap (NULL, map_size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (map == MAP_FAILED)
    return NULL;
  if (!guarded && mprotect (map, page, PROT_NONE) != 0)
    {
      munmap (map, map_size);
      return NULL;
    }
#ifdef MADV_NOHUGEPAGE
  /* A huge page would turn one touched stack page into 2 MiB. */
  madvise (map, map_size, MADV_NOHUGEPAGE);
#endif

  slab = g_malloc0 (sizeof (AioFiberSlab) + n_stacks * sizeof (AioFiberStack));
  slab->map = map;
  slab->map_size = map_size;
  slab->stack_size = stack_size;
  slab->n_stacks = (guint) n_stacks;
  slab->guarded = guarded;
  slab->all_mask = n_stacks == 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << n_stacks) - 1;
  slab->free_mask = slab->all_mask;

  base = guarded ? map + page : map + page + (page - AIO_FIBER_CANARY_SIZE);
  for (i = 0; i < n_stacks; i++)
    {
      slab->stacks[i].low = base + i * stride;
      slab->stacks[i].size = stack_size;
      slab->stacks[i].slab = slab;
    }

  /* Guarded slabs, which every program with fibers has, use the helper
   * only once canary slabs, thousands of fibers, started it. */
  if (g_atomic_int_get (&aio_fiber_helper_populates))
    aio_fiber_helper_push (slab, AIO_FIBER_HELPER_POPULATE_SLAB, !guarded);

  return slab;
}

static AioFiberStack *
aio_fiber_slab_stack_new (gsize    size,
                          gboolean guarded)
{
  AioFiberSlab *slab;
  AioFiberStack *stack;
  guint64 bit;
  guint i;

  g_mutex_lock (&aio_fiber_slab_lock);

  slab = g_hash_table_lookup (aio_fiber_partial_slabs,
                              aio_fiber_slab_key (size, guarded));
  if (slab == NULL)
    {
      slab = aio_fiber_slab_new (size, guarded);
      if (slab == NULL)
        {
          g_mutex_unlock (&aio_fiber_slab_lock);
          return NULL;
        }
      aio_fiber_slab_list_insert (slab);
    }

  /* The highest free stack. */
  i = 63 - __builtin_clzll (slab->free_mask);
  __atomic_fetch_and (&slab->free_mask, ~(G_GUINT64_CONSTANT (1) << i), __ATOMIC_RELAXED);
  if (slab->free_mask == 0)
    aio_fiber_slab_list_remove (slab);
  stack = &slab->stacks[i];
  bit = G_GUINT64_CONSTANT (1) << i;
  if (!guarded)
    g_atomic_int_inc (&aio_fiber_n_slab);   /* guarded ones were counted */

  g_mutex_unlock (&aio_fiber_slab_lock);

  /* Only this thread touches the bit of the stack it holds. */
  if (guarded && (__atomic_load_n (&slab->guard_mask, __ATOMIC_RELAXED) & bit) == 0)
    {
      if (madvise (stack->low - aio_fiber_page_size, aio_fiber_page_size,
                   MADV_GUARD_INSTALL) != 0)
        {
          /* The caller gives the budget back. */
          aio_fiber_slab_stack_put_back (stack, FALSE);
          return NULL;
        }
      __atomic_fetch_or (&slab->guard_mask, bit, __ATOMIC_RELAXED);
    }

  aio_fiber_canary_write (stack);
#ifdef HAVE_VALGRIND_H
  stack->valgrind_id = VALGRIND_STACK_REGISTER (stack->low,
                                                stack->low + stack->size);
#endif

  return stack;
}

/* Gives @stack back to its slab.  With @counted, it leaves the count of
 * live stacks of its kind too. */
static void
aio_fiber_slab_stack_put_back (AioFiberStack *stack,
                               gboolean       counted)
{
  AioFiberSlab *slab = stack->slab;
  gboolean was_full, unmap = FALSE;
  guint i = stack - slab->stacks;

  g_mutex_lock (&aio_fiber_slab_lock);

  was_full = slab->free_mask == 0;
  /* Atomic: the helper reads it without the lock. */
  __atomic_fetch_or (&slab->free_mask, G_GUINT64_CONSTANT (1) << i, __ATOMIC_RELAXED);
  if (counted)
    g_atomic_int_add (slab->guarded ? &aio_fiber_n_guarded : &aio_fiber_n_slab, -1);
  if (slab->free_mask == slab->all_mask)
    {
      if (!was_full)
        aio_fiber_slab_list_remove (slab);
      /* Behind any populate job of the slab, off this thread. */
      unmap = !aio_fiber_helper_push (slab, AIO_FIBER_HELPER_UNMAP_SLAB, !slab->guarded);
    }
  else if (was_full)
    aio_fiber_slab_list_insert (slab);

  g_mutex_unlock (&aio_fiber_slab_lock);

  if (unmap)
    aio_fiber_slab_unmap (slab);
}

static void
aio_fiber_slab_stack_free (AioFiberStack *stack)
{
#ifdef HAVE_VALGRIND_H
  VALGRIND_STACK_DEREGISTER (stack->valgrind_id);
#endif
  aio_fiber_slab_stack_put_back (stack, TRUE);
}

/* Stacks, whatever their kind */

static void
aio_fiber_stack_destroy (AioFiberStack *stack)
{
  if (stack->slab != NULL)
    aio_fiber_slab_stack_free (stack);
  else
    aio_fiber_guarded_stack_free (stack);
}

static AioFiberPool *
aio_fiber_pool_get (gboolean create)
{
  AioFiberPool *pool = g_private_get (&aio_fiber_pool_key);

  if (pool == NULL && create)
    {
      pool = g_new0 (AioFiberPool, 1);
      g_private_set (&aio_fiber_pool_key, pool);
    }

  return pool;
}

/* GPrivate destroy notify: the thread is exiting. */
static void
aio_fiber_pool_free (gpointer data)
{
  AioFiberPool *pool = data;
  guint i;

  for (i = 0; i < AIO_FIBER_POOL_CLASSES; i++)
    {
      while (pool->classes[i].head != NULL)
        {
          AioFiberStack *stack = pool->classes[i].head;

          pool->classes[i].head = stack->next;
          aio_fiber_stack_destroy (stack);
        }
    }
  g_free (pool);
}

AioFiberStack *
aio_fiber_stack_acquire (gsize size)
{
  AioFiberPool *pool = aio_fiber_pool_get (FALSE);
  AioFiberStack *stack;

  if (pool != NULL && pool->n_stacks > 0)
    {
      guint i;

      for (i = 0; i < AIO_FIBER_POOL_CLASSES; i++)
        {
          AioFiberPoolClass *bucket = &pool->classes[i];

          if (bucket->head != NULL && bucket->size == size)
            {
              stack = bucket->head;
              bucket->head = stack->next;
              stack->next = NULL;
              pool->n_stacks--;
              return stack;
            }
        }
    }

  stack = aio_fiber_guarded_stack_new (size);
  if (stack == NULL)
    stack = aio_fiber_slab_stack_new (size, FALSE);

  return stack;
}

void
aio_fiber_stack_release (AioFiberStack *stack)
{
  AioFiberPool *pool;

  pool = aio_fiber_pool_get (TRUE);
  if (pool->n_stacks < AIO_FIBER_POOL_MAX)
    {
      AioFiberPoolClass *free_bucket = NULL;
      guint i;

      for (i = 0; i < AIO_FIBER_POOL_CLASSES; i++)
        {
          AioFiberPoolClass *bucket = &pool->classes[i];

          if (bucket->head != NULL && bucket->size == stack->size)
            break;
          if (bucket->head == NULL && free_bucket == NULL)
            free_bucket = bucket;
        }
      if (i < AIO_FIBER_POOL_CLASSES || free_bucket != NULL)
        {
          AioFiberPoolClass *bucket;

          bucket = i < AIO_FIBER_POOL_CLASSES ? &pool->classes[i] : free_bucket;
          bucket->size = stack->size;
          stack->next = bucket->head;
          bucket->head = stack;
          pool->n_stacks++;
          return;
        }
    }

  aio_fiber_stack_destroy (stack);
}

gboolean
aio_fiber_stack_is_overflow (const AioFiberStack *stack,
                             gconstpointer        address,
                             guintptr             sp)
{
  const guint8 *fault = address;
  const guint8 *low = stack->low;

  /* The guard page (or region) right below the stack. */
  if (fault < low && fault >= low - aio_fiber_page_size)
    return TRUE;
  /* A frame bigger than the guard jumped over it: the stack pointer is
   * below the stack, by less than a stack's size. */
  if (sp != 0 && sp < (guintptr) low && (guintptr) low - sp <= stack->size)
    return TRUE;
  /* A slab stack without a guard of its own ran down to the guard page
   * at the bottom of its slab. */
  if (stack->slab != NULL && !stack->slab->guarded &&
      fault >= stack->slab->map && fault < stack->slab->map + aio_fiber_page_size)
    return TRUE;

  return FALSE;
}

/* Waits until the helper has done every job given to it so far. */
static void
aio_fiber_helper_flush (void)
{
  gint pushed;

  g_mutex_lock (&aio_fiber_slab_lock);
  pushed = aio_fiber_helper_pushed;
  g_mutex_unlock (&aio_fiber_slab_lock);

  while ((gint) ((guint) g_atomic_int_get (&aio_fiber_helper_done) - (guint) pushed) < 0)
    g_usleep (100);
}

/* Both wait for the helper first, so that stacks it was given to unmap
 * are no longer counted. */
guint
aio_fiber_get_n_guarded_stacks (void)
{
  aio_fiber_helper_flush ();
  return (guint) g_atomic_int_get (&aio_fiber_n_guarded);
}

guint
aio_fiber_get_n_slab_stacks (void)
{
  aio_fiber_helper_flush ();
  return (guint) g_atomic_int_get (&aio_fiber_n_slab);
}
