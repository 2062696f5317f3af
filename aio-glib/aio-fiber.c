/* aio-fiber.c: stackful coroutines (fibers) for aio-glib
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Design
 * ======
 *
 * A fiber is a function running on a stack of its own.  aio_fiber_resume()
 * switches from the caller's stack onto the fiber's; aio_fiber_suspend()
 * switches back.  The switch is a plain function call that saves the
 * callee-saved registers on the old stack and loads them from the new one:
 *
 *  - asm back end (x86-64, AArch64): aio-fiber-switch-<arch>.S.  The saved
 *    stack pointer of a fiber that is not running is in fiber->context, and
 *    that of whoever resumed it (a thread stack or another fiber) in
 *    fiber->caller.  A fiber's first frame is built by hand so that the
 *    first switch "returns" into aio_fiber_trampoline, which calls
 *    aio_fiber_main (fiber).
 *  - ucontext back end (AIO_FIBER_UCONTEXT): getcontext/makecontext/
 *    swapcontext.  The fiber's ucontext_t lives at the top of its own stack
 *    (so an unstarted fiber stays small), the resumer's in the frame of
 *    aio_fiber_resume().
 *
 * aio_fiber_main() runs the fiber's func and, when it returns, marks the
 * fiber finished and switches back for the last time; it never returns, and
 * the trampoline traps if it ever did.  The resumer then releases the stack
 * right away (a finished fiber holds no stack).  Nested resumes work because
 * every resume saves the resumer in the fiber being resumed, and the
 * current fiber of the thread is restored by aio_fiber_resume() when the
 * switch comes back.  A suspended fiber may be resumed from another thread
 * (never from two at once): no thread-local state is read after a switch
 * away from a fiber, only before.
 *
 * Stacks
 * ------
 *
 * A fiber takes a stack at its first resume and gives it back when it
 * finishes or is freed.  Stacks are mmap()ed with MAP_NORESERVE, so only the
 * pages a fiber touches cost memory; a fiber's first frame sits at the top
 * of its stack and the trampoline adds one frame, so a fiber with a small
 * body touches about one page.
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
 * also when the VMA limit is reached anyway) aio_fiber_resume() fails with
 * AIO_ERROR_NO_STACK; nothing aborts.  Page faults and unmaps of slab
 * stacks are largely left to a helper thread (see "The slab helper").
 *
 * Tools
 * -----
 *
 * Valgrind: every stack is registered with VALGRIND_STACK_REGISTER while it
 * is mapped (guarded stacks) or carved from its slab (slab stacks), so that
 * memcheck knows a switch from a change of stack pointer.
 *
 * AddressSanitizer: every switch is announced with
 * __sanitizer_start_switch_fiber()/__sanitizer_finish_switch_fiber(), with
 * a NULL fake-stack save for the last switch out of a finished fiber.  A
 * fiber that is freed while suspended leaves poisoned frames on its stack,
 * so whenever a stack is released the part that its fiber used is
 * unpoisoned (ASAN_UNPOISON_MEMORY_REGION) before anyone can reuse or unmap
 * it.  (A suspended fiber that is freed leaks its ASan fake stack, if
 * detect_stack_use_after_return is on.)  With the ucontext back end ASan
 * prints a one-time warning that it does not fully support swapcontext();
 * see aio_fiber_prepare_context() for what keeps its interceptor harmless.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* REG_RSP, the stack pointer of a fault */
#endif

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ucontext.h>   /* the back end, and the registers of a fault */

#include <glib/gi18n-lib.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "aio-error.h"
#include "aio-fiber-private.h"

#if defined(__SANITIZE_ADDRESS__)
# define AIO_FIBER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define AIO_FIBER_ASAN 1
# endif
#endif

#ifdef AIO_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__SANITIZE_THREAD__)
# define AIO_FIBER_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define AIO_FIBER_TSAN 1
# endif
#endif

#ifdef AIO_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(AIO_FIBER_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#error "No assembly fiber switch for this CPU: configure with -Dfiber_backend=ucontext"
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif

#define AIO_FIBER_DEFAULT_STACK_SIZE (256 * 1024)
#define AIO_FIBER_MIN_STACK_SIZE     (16 * 1024)

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
#define AIO_FIBER_CANARY_SIZE        64

typedef struct _AioFiberStack AioFiberStack;
typedef struct _AioFiberSlab  AioFiberSlab;

struct _AioFiberStack
{
  guint8        *low;          /* lowest byte (slab stacks: the canary) */
  gsize          size;         /* from low to the top of the stack */
  AioFiberSlab  *slab;         /* NULL for a guarded stack */
  AioFiberStack *next;         /* in a pool */
#ifdef HAVE_VALGRIND_H
  guint          valgrind_id;
#endif
};

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

typedef enum
{
  AIO_FIBER_STATE_NEW,
  AIO_FIBER_STATE_RUNNING,     /* current, or waiting in a nested resume */
  AIO_FIBER_STATE_SUSPENDED,
  AIO_FIBER_STATE_FINISHED,
} AioFiberState;

struct _AioFiber
{
  gpointer       context;      /* asm: saved sp; ucontext: its ucontext_t */
  gpointer       caller;       /* the same for whoever resumed it last */
  AioFiberStack *stack;        /* only while started and not finished */
  AioFiberFunc   func;
  gpointer       user_data;
  gsize          stack_size;
  AioFiberDescribeFunc describe; /* names it in an overflow report */
  guint8         state;        /* AioFiberState */
#ifdef AIO_FIBER_ASAN
  guint8        *asan_low;     /* lowest stack address used when it left */
  void          *asan_fake_stack;
  const void    *asan_caller_bottom;
  gsize          asan_caller_size;
#endif
#ifdef AIO_FIBER_TSAN
  void          *tsan_fiber;   /* ThreadSanitizer's context for this fiber */
  void          *tsan_caller;  /* ... and for whoever resumed it last */
#endif
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
static _Thread_local AioFiber *aio_fiber_current __attribute__ ((tls_model ("initial-exec")));

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

#ifndef AIO_FIBER_UCONTEXT
/* aio-fiber-switch-<arch>.S */
G_GNUC_INTERNAL void aio_fiber_switch_context (gpointer *save_sp,
                                               gpointer  new_sp);
G_GNUC_INTERNAL void aio_fiber_trampoline     (void);
#endif

static void G_GNUC_NORETURN aio_fiber_main (AioFiber *fiber);

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

static void
aio_fiber_canary_check (AioFiberStack *stack)
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

static AioFiberStack *
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

/* @used_low: the lowest address the fiber may have left poisoned frames
 * at, or NULL if it never ran. */
static void
aio_fiber_stack_release (AioFiberStack *stack,
                         const guint8  *used_low)
{
  AioFiberPool *pool;

#ifdef AIO_FIBER_ASAN
  if (used_low != NULL)
    {
      const guint8 *top = stack->low + stack->size;
      const guint8 *from = used_low;

      /* Some slack below the last known frame. */
      if ((gsize) (from - stack->low) > 256)
        from -= 256;
      else
        from = stack->low;
      from = (const guint8 *) ((guintptr) from & ~(guintptr) 7);
      ASAN_UNPOISON_MEMORY_REGION (from, top - from);
    }
#else
  (void) used_low;
#endif

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

/* Stack overflows
 *
 * An overflow of a guarded stack faults in the guard below it.  Without
 * help that is a bare SIGSEGV, as if any pointer had gone wrong.  So the
 * first resume on a thread installs (once per process) a SIGSEGV handler
 * that recognises a fault of the running fiber below its stack, names the
 * fiber (its task, through the describe function) and its stack size,
 * says how to raise it, and aborts.  Every other SIGSEGV goes to the
 * handler that was there before (or the default action).  A handler
 * cannot run on the stack that overflowed, so every thread that runs
 * fibers gets an alternate signal stack, unless it has one already
 * (sanitizers give threads theirs). */

#define AIO_FIBER_ALTSTACK_SIZE (64 * 1024)

static struct sigaction aio_fiber_segv_previous;
static _Thread_local gboolean aio_fiber_thread_ready __attribute__ ((tls_model ("initial-exec")));

static void aio_fiber_altstack_free (gpointer data);
static GPrivate aio_fiber_altstack_key = G_PRIVATE_INIT (aio_fiber_altstack_free);

static void
aio_fiber_write_str (const char *s)
{
  gsize len = strlen (s);

  while (len > 0)
    {
      ssize_t n = write (STDERR_FILENO, s, len);

      if (n <= 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          return;
        }
      s += n;
      len -= (gsize) n;
    }
}

static void
aio_fiber_write_size (gsize value)
{
  char digits[24];
  gsize i = sizeof digits - 1;

  digits[i] = '\0';
  do
    {
      digits[--i] = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0 && i > 0);
  aio_fiber_write_str (&digits[i]);
}

static gboolean
aio_fiber_is_overflow (AioFiber  *fiber,
                       guint8    *address,
                       ucontext_t *uc)
{
  AioFiberStack *stack = fiber->stack;
  guint8 *low = stack->low;
  guintptr sp = 0;

#if defined(__x86_64__)
  sp = (guintptr) uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  sp = (guintptr) uc->uc_mcontext.sp;
#else
  (void) uc;
#endif

  /* The guard page (or region) right below the stack. */
  if (address < low && address >= low - aio_fiber_page_size)
    return TRUE;
  /* A frame bigger than the guard jumped over it: the stack pointer is
   * below the stack, by less than a stack's size. */
  if (sp != 0 && sp < (guintptr) low && (guintptr) low - sp <= stack->size)
    return TRUE;
  /* A slab stack without a guard of its own ran down to the guard page
   * at the bottom of its slab. */
  if (stack->slab != NULL && !stack->slab->guarded &&
      address >= stack->slab->map && address < stack->slab->map + aio_fiber_page_size)
    return TRUE;

  return FALSE;
}

static void
aio_fiber_segv_handler (int        signum,
                        siginfo_t *info,
                        void      *context)
{
  AioFiber *fiber = aio_fiber_current;

  if (fiber != NULL && fiber->stack != NULL &&
      aio_fiber_is_overflow (fiber, info->si_addr, context))
    {
      char name[128];

      aio_fiber_write_str ("aio-glib: stack overflow in ");
      if (fiber->describe != NULL)
        {
          name[0] = '\0';
          fiber->describe (fiber->user_data, name, sizeof name);
          name[sizeof name - 1] = '\0';
          aio_fiber_write_str ("task \"");
          aio_fiber_write_str (name);
          aio_fiber_write_str ("\"");
        }
      else
        aio_fiber_write_str ("a fiber");
      aio_fiber_write_str (": its stack of ");
      aio_fiber_write_size (fiber->stack->size);
      aio_fiber_write_str (" bytes is too small.\n"
                           "aio-glib: give the task a bigger stack with "
                           "aio_task_set_stack_size() before it starts, or every "
                           "task of its loop with aio_loop_set_stack_size() "
                           "(the default is ");
      aio_fiber_write_size (AIO_FIBER_DEFAULT_STACK_SIZE);
      aio_fiber_write_str (" bytes).\n");
      abort ();
    }

  /* Not ours: as if this handler had never been installed. */
  if (aio_fiber_segv_previous.sa_flags & SA_SIGINFO)
    aio_fiber_segv_previous.sa_sigaction (signum, info, context);
  else if (aio_fiber_segv_previous.sa_handler != SIG_DFL &&
           aio_fiber_segv_previous.sa_handler != SIG_IGN)
    aio_fiber_segv_previous.sa_handler (signum);
  else
    {
      /* Returning re-runs the faulting instruction, which now gets the
       * default action (a SIGSEGV cannot be ignored usefully). */
      signal (signum, SIG_DFL);
    }
}

static void
aio_fiber_altstack_free (gpointer data)
{
  stack_t current;

  if (sigaltstack (NULL, &current) == 0 && current.ss_sp == data)
    {
      stack_t off = { .ss_flags = SS_DISABLE };

      sigaltstack (&off, NULL);
    }
  munmap (data, AIO_FIBER_ALTSTACK_SIZE);
}

/* Once per thread that resumes fibers. */
static void
aio_fiber_prepare_thread (void)
{
  static gsize installed = 0;
  stack_t current;

  aio_fiber_thread_ready = TRUE;

  if (g_once_init_enter (&installed))
    {
      struct sigaction action;

      memset (&action, 0, sizeof action);
      action.sa_sigaction = aio_fiber_segv_handler;
      action.sa_flags = SA_SIGINFO | SA_ONSTACK;
      sigemptyset (&action.sa_mask);
      sigaction (SIGSEGV, &action, &aio_fiber_segv_previous);
      g_once_init_leave (&installed, 1);
    }

  if (sigaltstack (NULL, &current) == 0 && (current.ss_flags & SS_DISABLE))
    {
      void *map = mmap (NULL, AIO_FIBER_ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      stack_t alt;

      if (map == MAP_FAILED)
        return;
      alt.ss_sp = map;
      alt.ss_size = AIO_FIBER_ALTSTACK_SIZE;
      alt.ss_flags = 0;
      if (sigaltstack (&alt, NULL) != 0)
        {
          munmap (map, AIO_FIBER_ALTSTACK_SIZE);
          return;
        }
      g_private_set (&aio_fiber_altstack_key, map);
    }
}

/* Switching */

#ifdef AIO_FIBER_ASAN
/* An address below every frame of its caller. */
static G_GNUC_NO_INLINE guint8 *
aio_fiber_asan_stack_position (void)
{
  return __builtin_frame_address (0);
}
#endif

#ifdef AIO_FIBER_UCONTEXT

/* makecontext() passes int arguments: the pointer comes in halves. */
static void
aio_fiber_ucontext_entry (int high,
                          int low)
{
  guintptr address = (guint32) low;

#if GLIB_SIZEOF_VOID_P > 4
  address |= (guintptr) (guint32) high << 32;
#else
  (void) high;
#endif

  aio_fiber_main ((AioFiber *) address);
}

/* Kept apart: getcontext() returns twice, as far as the compiler knows. */
static G_GNUC_NO_INLINE void
aio_fiber_getcontext (ucontext_t *uc)
{
  memset (uc, 0, sizeof (ucontext_t));
  if (getcontext (uc) != 0)
    g_error ("aio-glib: getcontext() failed: %s", g_strerror (errno));
}

static void
aio_fiber_prepare_context (AioFiber *fiber)
{
  AioFiberStack *stack = fiber->stack;
  guint8 *top = stack->low + stack->size;
  guint8 *bottom = stack->low;
  guintptr address = (guintptr) fiber;
  ucontext_t *uc;

  if (stack->slab != NULL)
    bottom += AIO_FIBER_CANARY_SIZE;

  /* The fiber's own context sits at the very top of its stack. */
  uc = (ucontext_t *) (((guintptr) top - sizeof (ucontext_t)) & ~(guintptr) 63);
  aio_fiber_getcontext (uc);
  uc->uc_link = NULL;
  uc->uc_stack.ss_sp = bottom;
  uc->uc_stack.ss_size = (guint8 *) uc - bottom;
  uc->uc_stack.ss_flags = 0;
#if GLIB_SIZEOF_VOID_P > 4
  makecontext (uc, (void (*) (void)) aio_fiber_ucontext_entry, 2,
               (int) (guint32) (address >> 32), (int) (guint32) address);
#else
  makecontext (uc, (void (*) (void)) aio_fiber_ucontext_entry, 2,
               0, (int) (guint32) address);
#endif
  /* Only makecontext() reads uc_stack.  Clear it so that ASan's
   * swapcontext() interceptor does not clear the shadow of the whole
   * stack at every switch into it. */
  uc->uc_stack.ss_sp = NULL;
  uc->uc_stack.ss_size = 0;

  fiber->context = uc;
}

static inline void
aio_fiber_switch_in (AioFiber *fiber)
{
  ucontext_t caller;

  /* Read by ASan's swapcontext() interceptor, when we switch back. */
  caller.uc_stack.ss_sp = NULL;
  caller.uc_stack.ss_size = 0;
  caller.uc_stack.ss_flags = 0;
  fiber->caller = &caller;
  if (swapcontext (&caller, fiber->context) != 0)
    g_error ("aio-glib: swapcontext() failed: %s", g_strerror (errno));
}

static inline void
aio_fiber_switch_out (AioFiber *fiber)
{
  if (swapcontext (fiber->context, fiber->caller) != 0)
    g_error ("aio-glib: swapcontext() failed: %s", g_strerror (errno));
}

static inline void
aio_fiber_switch_out_last (AioFiber *fiber)
{
  setcontext (fiber->caller);
  g_error ("aio-glib: setcontext() failed: %s", g_strerror (errno));
}

#else /* !AIO_FIBER_UCONTEXT */

static void
aio_fiber_prepare_context (AioFiber *fiber)
{
  AioFiberStack *stack = fiber->stack;
  guint8 *top = stack->low + stack->size;
  guintptr *frame;

  /* See the frame layouts in aio-fiber-switch-<arch>.S.  The first frame
   * ends at the top of the stack, so that the trampoline starts with an
   * aligned stack pointer there; the fiber starts with the floating point
   * control state of its resumer, as a new thread would. */
  g_assert (((guintptr) top & 15) == 0);

#if defined(__x86_64__)
  {
    guint16 fpu_control;
    guint32 mxcsr;

    __asm__ __volatile__ ("fnstcw %0" : "=m" (fpu_control));
    __asm__ __volatile__ ("stmxcsr %0" : "=m" (mxcsr));
    mxcsr &= ~(guint32) 0x3f;      /* not the exception flags */

    frame = (guintptr *) (top - 64);
    frame[0] = (guintptr) fpu_control | ((guintptr) mxcsr << 32);
    frame[1] = 0;                               /* r15 */
    frame[2] = 0;                               /* r14 */
    frame[3] = (guintptr) aio_fiber_main;       /* r13 */
    frame[4] = (guintptr) fiber;                /* r12 */
    frame[5] = 0;                               /* rbx */
    frame[6] = 0;                               /* rbp */
    frame[7] = (guintptr) aio_fiber_trampoline; /* return address */
  }
#elif defined(__aarch64__)
  {
    guint64 fpcr;

    __asm__ __volatile__ ("mrs %0, fpcr" : "=r" (fpcr));

    frame = (guintptr *) (top - 176);
    memset (frame, 0, 176);
    frame[0] = (guintptr) fiber;                 /* x19 */
    frame[1] = (guintptr) aio_fiber_main;        /* x20 */
    frame[10] = 0;                               /* x29 */
    frame[11] = (guintptr) aio_fiber_trampoline; /* x30 */
    frame[20] = fpcr;
  }
#endif

  fiber->context = frame;
}

static inline void
aio_fiber_switch_in (AioFiber *fiber)
{
  aio_fiber_switch_context (&fiber->caller, fiber->context);
}

static inline void
aio_fiber_switch_out (AioFiber *fiber)
{
  aio_fiber_switch_context (&fiber->context, fiber->caller);
}

static inline void
aio_fiber_switch_out_last (AioFiber *fiber)
{
  aio_fiber_switch_context (&fiber->context, fiber->caller);
}

#endif /* !AIO_FIBER_UCONTEXT */

/* Runs on the fiber's stack, called by the trampoline (or makecontext). */
static void G_GNUC_NORETURN
aio_fiber_main (AioFiber *fiber)
{
#ifdef AIO_FIBER_ASAN
  __sanitizer_finish_switch_fiber (NULL, &fiber->asan_caller_bottom,
                                   &fiber->asan_caller_size);
#endif

  fiber->func (fiber->user_data);

  aio_fiber_canary_check (fiber->stack);
  fiber->state = AIO_FIBER_STATE_FINISHED;

#ifdef AIO_FIBER_ASAN
  fiber->asan_low = aio_fiber_asan_stack_position ();
  /* NULL: this stack is left for good, its fake stack can go. */
  __sanitizer_start_switch_fiber (NULL, fiber->asan_caller_bottom,
                                  fiber->asan_caller_size);
#endif
#ifdef AIO_FIBER_TSAN
  __tsan_switch_to_fiber (fiber->tsan_caller, 0);
#endif

  aio_fiber_switch_out_last (fiber);

  /* Nothing ever switches back into a finished fiber. */
  g_error ("aio-glib: a finished fiber was switched to");
}

/* Public API */

AioFiber *
aio_fiber_new (AioFiberFunc func,
               gpointer     user_data,
               gsize        stack_size)
{
  AioFiber *fiber;
  gsize page;

  g_return_val_if_fail (func != NULL, NULL);

  aio_fiber_global_init ();
  page = aio_fiber_page_size;

  if (stack_size == 0)
    stack_size = AIO_FIBER_DEFAULT_STACK_SIZE;
  stack_size = MAX (stack_size, AIO_FIBER_MIN_STACK_SIZE);
  if (stack_size > G_MAXSIZE - (page - 1))
    stack_size = G_MAXSIZE & ~(page - 1);  /* will fail to map */
  else
    stack_size = (stack_size + page - 1) & ~(page - 1);

  fiber = g_new0 (AioFiber, 1);
  fiber->func = func;
  fiber->user_data = user_data;
  fiber->stack_size = stack_size;
  fiber->state = AIO_FIBER_STATE_NEW;

  return fiber;
}

gboolean
aio_fiber_resume (AioFiber  *fiber,
                  GError   **error)
{
  AioFiber *resumer;
#ifdef AIO_FIBER_ASAN
  void *fake_stack = NULL;
#endif

  g_return_val_if_fail (fiber != NULL, FALSE);
  g_return_val_if_fail (fiber->state == AIO_FIBER_STATE_NEW ||
                        fiber->state == AIO_FIBER_STATE_SUSPENDED, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (fiber->state == AIO_FIBER_STATE_NEW)
    {
      if (G_UNLIKELY (!aio_fiber_thread_ready))
        aio_fiber_prepare_thread ();
      fiber->stack = aio_fiber_stack_acquire (fiber->stack_size);
      if (fiber->stack == NULL)
        {
          g_set_error_literal (error, AIO_ERROR, AIO_ERROR_NO_STACK,
                               _("No memory for another fiber stack"));
          return FALSE;
        }
      aio_fiber_prepare_context (fiber);
    }

  resumer = aio_fiber_current;
  aio_fiber_current = fiber;
  fiber->state = AIO_FIBER_STATE_RUNNING;

#ifdef AIO_FIBER_ASAN
  __sanitizer_start_switch_fiber (&fake_stack, fiber->stack->low,
                                  fiber->stack->size);
#endif
#ifdef AIO_FIBER_TSAN
  /* Switching synchronizes: what the resumer did happens before what the
   * fiber does next, and the other way round when it comes back, as if
   * one thread ran both, which is what a fiber handed between threads
   * through the loop's inbox needs. */
  if (fiber->tsan_fiber == NULL)
    fiber->tsan_fiber = __tsan_create_fiber (0);
  fiber->tsan_caller = __tsan_get_current_fiber ();
  __tsan_switch_to_fiber (fiber->tsan_fiber, 0);
#endif
  aio_fiber_switch_in (fiber);
#ifdef AIO_FIBER_ASAN
  __sanitizer_finish_switch_fiber (fake_stack, NULL, NULL);
#endif

  /* Back on the resumer's stack, on the same thread as before the switch. */
  aio_fiber_current = resumer;

  if (fiber->state == AIO_FIBER_STATE_FINISHED)
    {
      const guint8 *used_low = NULL;

#ifdef AIO_FIBER_ASAN
      used_low = fiber->asan_low;
#endif
      aio_fiber_stack_release (fiber->stack, used_low);
      fiber->stack = NULL;
      fiber->context = NULL;
      fiber->caller = NULL;
#ifdef AIO_FIBER_TSAN
      __tsan_destroy_fiber (fiber->tsan_fiber);
      fiber->tsan_fiber = NULL;
#endif
    }

  return TRUE;
}

void
aio_fiber_suspend (void)
{
  AioFiber *fiber = aio_fiber_current;

  g_return_if_fail (fiber != NULL);

  aio_fiber_canary_check (fiber->stack);
  fiber->state = AIO_FIBER_STATE_SUSPENDED;

  /* Nothing thread-local may be used below the switch: the fiber may be
   * resumed on another thread. */
#ifdef AIO_FIBER_ASAN
  fiber->asan_low = aio_fiber_asan_stack_position ();
  __sanitizer_start_switch_fiber (&fiber->asan_fake_stack,
                                  fiber->asan_caller_bottom,
                                  fiber->asan_caller_size);
#endif
#ifdef AIO_FIBER_TSAN
  __tsan_switch_to_fiber (fiber->tsan_caller, 0);
#endif
  aio_fiber_switch_out (fiber);
#ifdef AIO_FIBER_ASAN
  __sanitizer_finish_switch_fiber (fiber->asan_fake_stack,
                                   &fiber->asan_caller_bottom,
                                   &fiber->asan_caller_size);
#endif
}

void
aio_fiber_set_describe_func (AioFiber             *fiber,
                             AioFiberDescribeFunc  func)
{
  g_return_if_fail (fiber != NULL);

  fiber->describe = func;
}

AioFiber *
aio_fiber_get_current (void)
{
  return aio_fiber_current;
}

gboolean
aio_fiber_is_finished (AioFiber *fiber)
{
  g_return_val_if_fail (fiber != NULL, FALSE);

  return fiber->state == AIO_FIBER_STATE_FINISHED;
}

gboolean
aio_fiber_is_started (AioFiber *fiber)
{
  g_return_val_if_fail (fiber != NULL, FALSE);

  return fiber->state != AIO_FIBER_STATE_NEW;
}

void
aio_fiber_free (AioFiber *fiber)
{
  g_return_if_fail (fiber != NULL);
  g_return_if_fail (fiber->state != AIO_FIBER_STATE_RUNNING);

  if (fiber->stack != NULL)
    {
      const guint8 *used_low;

      /* Suspended mid-way: drop the stack without unwinding anything. */
      aio_fiber_canary_check (fiber->stack);
#ifdef AIO_FIBER_ASAN
      used_low = fiber->asan_low;
#else
      used_low = fiber->stack->low;
#endif
      aio_fiber_stack_release (fiber->stack, used_low);
    }
#ifdef AIO_FIBER_TSAN
  if (fiber->tsan_fiber != NULL)
    __tsan_destroy_fiber (fiber->tsan_fiber);
#endif

  g_free (fiber);
}

gsize
aio_fiber_get_default_stack_size (void)
{
  return AIO_FIBER_DEFAULT_STACK_SIZE;
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
