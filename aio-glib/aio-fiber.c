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
 * The stacks themselves, their guards, canaries and pools, are in
 * aio-fiber-stack.c: a fiber takes one at its first resume and gives it
 * back when it finishes or is freed.
 *
 * Tools
 * -----
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
 *
 * ThreadSanitizer: every fiber has a TSan fiber context, and every switch
 * is announced with __tsan_switch_to_fiber() (see aio_fiber_resume()).
 *
 * Valgrind needs nothing here: aio-fiber-stack.c registers the stacks.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* REG_RSP, the stack pointer of a fault */
#endif

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ucontext.h>   /* the back end, and the registers of a fault */

#include <glib/gi18n-lib.h>

#include "aio-error.h"
#include "aio-fiber-private.h"
#include "aio-fiber-stack-private.h"
#include "aio-private.h"

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

#define AIO_FIBER_DEFAULT_STACK_SIZE (256 * 1024)
#define AIO_FIBER_MIN_STACK_SIZE     (16 * 1024)

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

static AIO_TLS AioFiber *aio_fiber_current;

#ifndef AIO_FIBER_UCONTEXT
/* aio-fiber-switch-<arch>.S */
G_GNUC_INTERNAL void aio_fiber_switch_context (gpointer *save_sp,
                                               gpointer  new_sp);
G_GNUC_INTERNAL void aio_fiber_trampoline     (void);
#endif

static void G_GNUC_NORETURN aio_fiber_main (AioFiber *fiber);

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
static AIO_TLS gboolean aio_fiber_thread_ready;

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

/* The stack pointer at the fault, or 0 where its register is unknown. */
static guintptr
aio_fiber_fault_sp (ucontext_t *uc)
{
#if defined(__x86_64__)
  return (guintptr) uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (guintptr) uc->uc_mcontext.sp;
#else
  (void) uc;
  return 0;
#endif
}

static void
aio_fiber_segv_handler (int        signum,
                        siginfo_t *info,
                        void      *context)
{
  AioFiber *fiber = aio_fiber_current;

  if (fiber != NULL && fiber->stack != NULL &&
      aio_fiber_stack_is_overflow (fiber->stack, info->si_addr,
                                   aio_fiber_fault_sp (context)))
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

  aio_fiber_stack_check_canary (fiber->stack);
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

/* Gives back the stack of @fiber, which has left it for good (finished,
 * or freed while suspended). */
static void
aio_fiber_release_stack (AioFiber *fiber)
{
#ifdef AIO_FIBER_ASAN
  /* Frames the fiber left on its stack are still poisoned: unpoison what
   * it used, with some slack below the last known frame, before the stack
   * can be reused or unmapped. */
  if (fiber->asan_low != NULL)
    {
      AioFiberStack *stack = fiber->stack;
      const guint8 *top = stack->low + stack->size;
      const guint8 *from = fiber->asan_low;

      if ((gsize) (from - stack->low) > 256)
        from -= 256;
      else
        from = stack->low;
      from = (const guint8 *) ((guintptr) from & ~(guintptr) 7);
      ASAN_UNPOISON_MEMORY_REGION (from, top - from);
    }
#endif

  aio_fiber_stack_release (fiber->stack);
  fiber->stack = NULL;
}

/* Public API */

AioFiber *
aio_fiber_new (AioFiberFunc func,
               gpointer     user_data,
               gsize        stack_size)
{
  AioFiber *fiber;

  g_return_val_if_fail (func != NULL, NULL);

  if (stack_size == 0)
    stack_size = AIO_FIBER_DEFAULT_STACK_SIZE;
  stack_size = MAX (stack_size, AIO_FIBER_MIN_STACK_SIZE);
  stack_size = aio_fiber_stack_round_size (stack_size);

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
      aio_fiber_release_stack (fiber);
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

  aio_fiber_stack_check_canary (fiber->stack);
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
      /* Suspended mid-way: drop the stack without unwinding anything. */
      aio_fiber_stack_check_canary (fiber->stack);
      aio_fiber_release_stack (fiber);
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
