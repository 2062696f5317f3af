/* test-fiber.c: tests for the fiber back end (aio-fiber-private.h)
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Environment:
 *   AIO_TEST_FIBER_N          fibers suspended at once in /aio/fiber/many
 *                             (default 100000; 2000 under valgrind, which
 *                             cannot track that many mappings; 6000 under
 *                             TSan, which counts fibers as threads)
 *   AIO_FIBER_GUARDED_STACKS  read by the library: caps guarded stacks
 */

#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "aio-glib.h"
#include "aio-fiber-private.h"
#include "aio-test.h"

#if defined(__SANITIZE_ADDRESS__)
# define TEST_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define TEST_ASAN 1
# endif
#endif

#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* The library's rules, repeated here to check it keeps them. */
#define POOL_MAX    256
#define VMA_RESERVE 8192

static guint
expected_guarded_budget (void)
{
  const gchar *env = g_getenv ("AIO_FIBER_GUARDED_STACKS");
  gchar *contents = NULL;
  guint64 max_map_count = 65530;

  if (env != NULL && *env != '\0')
    return (guint) g_ascii_strtoull (env, NULL, 10);

  if (g_file_get_contents ("/proc/sys/vm/max_map_count", &contents, NULL,
                           NULL))
    {
      max_map_count = g_ascii_strtoull (contents, NULL, 10);
      g_free (contents);
    }

  if (max_map_count <= VMA_RESERVE)
    return 0;
  return (guint) MIN ((max_map_count - VMA_RESERVE) / 2, (guint64) G_MAXINT);
}

static void
resume_ok (AioFiber *fiber)
{
  GError *error = NULL;

  g_assert_true (aio_fiber_resume (fiber, &error));
  g_assert_no_error (error);
}

/* /aio/fiber/run */

typedef struct
{
  AioFiber *seen;
  guint     runs;
} RunData;

static void
run_func (gpointer user_data)
{
  RunData *data = user_data;

  data->seen = aio_fiber_get_current ();
  data->runs++;
}

static void
test_run (void)
{
  RunData data = { NULL, 0 };
  AioFiber *fiber;
  guint live;

  g_assert_cmpuint (aio_fiber_get_default_stack_size (), ==, 256 * 1024);
  g_assert_null (aio_fiber_get_current ());

  /* A fiber that never runs costs no stack. */
  live = aio_test_live_stacks ();
  fiber = aio_fiber_new (run_func, &data, 0);
  g_assert_cmpuint (aio_test_live_stacks (), ==, live);
  g_assert_false (aio_fiber_is_started (fiber));
  g_assert_false (aio_fiber_is_finished (fiber));
  aio_fiber_free (fiber);
  g_assert_cmpuint (data.runs, ==, 0);

  fiber = aio_fiber_new (run_func, &data, 0);
  resume_ok (fiber);
  g_assert_cmpuint (data.runs, ==, 1);
  g_assert_true (data.seen == fiber);
  g_assert_true (aio_fiber_is_started (fiber));
  g_assert_true (aio_fiber_is_finished (fiber));
  g_assert_null (aio_fiber_get_current ());
  aio_fiber_free (fiber);
}

/* /aio/fiber/suspend-resume */

typedef struct
{
  GString *log;
  gchar    name;
  guint    n;
} LogData;

static void
log_func (gpointer user_data)
{
  LogData *data = user_data;
  guint i;

  for (i = 0; i < data->n; i++)
    {
      g_string_append_printf (data->log, "%c%u ", data->name, i);
      aio_fiber_suspend ();
      g_assert_true (aio_fiber_get_current () != NULL);
    }
  g_string_append_printf (data->log, "%c. ", data->name);
}

static void
count_func (gpointer user_data)
{
  guint *count = user_data;
  guint i;

  for (i = 0; i < 10000; i++)
    {
      (*count)++;
      aio_fiber_suspend ();
    }
}

static void
test_suspend_resume (void)
{
  GString *log = g_string_new (NULL);
  LogData a_data = { log, 'a', 3 };
  LogData b_data = { log, 'b', 2 };
  AioFiber *a, *b, *counter;
  guint count = 0, resumes = 0;

  a = aio_fiber_new (log_func, &a_data, 0);
  b = aio_fiber_new (log_func, &b_data, 0);
  while (!aio_fiber_is_finished (a) || !aio_fiber_is_finished (b))
    {
      if (!aio_fiber_is_finished (a))
        resume_ok (a);
      if (!aio_fiber_is_finished (b))
        resume_ok (b);
      g_string_append (log, "| ");
      g_assert_null (aio_fiber_get_current ());
    }
  g_assert_cmpstr (log->str, ==, "a0 b0 | a1 b1 | a2 b. | a. | ");
  aio_fiber_free (a);
  aio_fiber_free (b);
  g_string_free (log, TRUE);

  counter = aio_fiber_new (count_func, &count, 0);
  while (!aio_fiber_is_finished (counter))
    {
      g_assert_cmpuint (count, ==, resumes);
      resume_ok (counter);
      resumes++;
    }
  g_assert_cmpuint (count, ==, 10000);
  g_assert_cmpuint (resumes, ==, 10001);
  aio_fiber_free (counter);
}

/* /aio/fiber/registers */

/* Many integer and floating point values live across each switch, so that
 * the compiler keeps some in callee-saved registers and spills the rest. */
typedef struct
{
  guint64 ints;
  gdouble floats;
} MixResult;

static G_GNUC_NO_INLINE MixResult
mix (guint     n,
     gboolean  suspend,
     AioFiber *other)
{
  guint64 r0 = 1, r1 = 2, r2 = 3, r3 = 4, r4 = 5, r5 = 6, r6 = 7, r7 = 8;
  gdouble f0 = 0.5, f1 = 1.5, f2 = 2.5, f3 = 3.5;
  gdouble f4 = 4.5, f5 = 5.5, f6 = 6.5, f7 = 7.5;
  MixResult result;
  guint i;

  for (i = 0; i < n; i++)
    {
      r0 = r0 * G_GUINT64_CONSTANT (6364136223846793005) + r7;
      r1 ^= r0 >> 13;
      r2 += r1 * 31;
      r3 ^= r2 << 7;
      r4 -= r3 >> 3;
      r5 += r4 ^ r0;
      r6 = (r6 << 11) | (r6 >> 53);
      r6 ^= r5;
      r7 += r6 + i;
      f0 = f0 * 1.0000001 + f7 * 0.25;
      f1 = f1 / 1.0000003 + f0 * 0.125;
      f2 = f2 * 0.9999999 + f1;
      f3 = f3 + f2 * 1e-3;
      f4 = f4 * 1.0000002 - f3 * 1e-4;
      f5 = f5 + f4 / 7.0;
      f6 = f6 * 0.9999997 + f5 * 1e-5;
      f7 = f7 / 1.0000001 + f6 * 1e-6;

      if (suspend)
        aio_fiber_suspend ();
      else if (other != NULL && !aio_fiber_is_finished (other))
        resume_ok (other);
    }

  result.ints = r0 ^ r1 ^ r2 ^ r3 ^ r4 ^ r5 ^ r6 ^ r7;
  result.floats = f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7;
  return result;
}

static void
mix_func (gpointer user_data)
{
  MixResult *result = user_data;

  *result = mix (1000, TRUE, NULL);
}

/* Not a tail call and no accumulator the compiler could turn into a loop. */
static G_GNUC_NO_INLINE guint64
recurse (guint   depth,
         guint64 acc)
{
  guint64 r;

  if (depth == 0)
    return acc;
  if (depth % 97 == 0 && aio_fiber_get_current () != NULL)
    aio_fiber_suspend ();
  r = recurse (depth - 1, acc * 31 + depth);
  return (r >> 3) ^ (r << 5) ^ depth;
}

static void
recurse_func (gpointer user_data)
{
  guint64 *result = user_data;

  *result = recurse (1500, 7);
}

static void
test_registers (void)
{
  MixResult expected, in_fiber = { 0, 0 }, resumer;
  guint64 expected_rec, rec = 0;
  AioFiber *fiber;
  guint resumes = 0;

  expected = mix (1000, FALSE, NULL);

  /* The fiber keeps its values across suspends while the resumer computes
   * the same thing, keeping its own across resumes. */
  fiber = aio_fiber_new (mix_func, &in_fiber, 0);
  resumer = mix (1000, FALSE, fiber);
  resume_ok (fiber);
  g_assert_true (aio_fiber_is_finished (fiber));
  aio_fiber_free (fiber);

  g_assert_cmpuint (in_fiber.ints, ==, expected.ints);
  g_assert_cmpuint (resumer.ints, ==, expected.ints);
  g_assert_true (in_fiber.floats == expected.floats);
  g_assert_true (resumer.floats == expected.floats);

  /* A deep recursion that suspends at many depths. */
  expected_rec = recurse (1500, 7);
  fiber = aio_fiber_new (recurse_func, &rec, 0);
  while (!aio_fiber_is_finished (fiber))
    {
      resume_ok (fiber);
      resumes++;
    }
  g_assert_cmpuint (resumes, ==, 1500 / 97 + 1);
  g_assert_cmpuint (rec, ==, expected_rec);
  aio_fiber_free (fiber);
}

/* /aio/fiber/fp-control: the floating point control state (rounding mode)
 * belongs to each context, and a new fiber starts with its resumer's. */

#if defined(__x86_64__)
#define HAVE_ROUNDING_CONTROL 1
typedef enum { ROUND_NEAREST, ROUND_DOWN, ROUND_UP } Rounding;

static void
set_rounding (Rounding rounding)
{
  static const guint bits[] = { 0, 1, 2 };   /* nearest, down, up */
  guint32 mxcsr;
  guint16 cw;

  __asm__ __volatile__ ("stmxcsr %0" : "=m" (mxcsr));
  mxcsr = (mxcsr & ~(guint32) 0x6000) | (bits[rounding] << 13);
  __asm__ __volatile__ ("ldmxcsr %0" : : "m" (mxcsr));
  __asm__ __volatile__ ("fnstcw %0" : "=m" (cw));
  cw = (cw & ~0x0c00) | (bits[rounding] << 10);
  __asm__ __volatile__ ("fldcw %0" : : "m" (cw));
}

static Rounding
get_rounding (void)
{
  guint32 mxcsr;
  guint16 cw;
  guint sse, x87;

  __asm__ __volatile__ ("stmxcsr %0" : "=m" (mxcsr));
  __asm__ __volatile__ ("fnstcw %0" : "=m" (cw));
  sse = (mxcsr >> 13) & 3;
  x87 = (cw >> 10) & 3;
  g_assert_cmpuint (sse, ==, x87);
  g_assert_cmpuint (sse, <=, 2);
  return (Rounding) sse;
}
#elif defined(__aarch64__)
#define HAVE_ROUNDING_CONTROL 1
typedef enum { ROUND_NEAREST, ROUND_DOWN, ROUND_UP } Rounding;

static void
set_rounding (Rounding rounding)
{
  static const guint64 bits[] = { 0, 2, 1 };   /* RN, RM, RP */
  guint64 fpcr;

  __asm__ __volatile__ ("mrs %0, fpcr" : "=r" (fpcr));
  fpcr = (fpcr & ~(G_GUINT64_CONSTANT (3) << 22)) | (bits[rounding] << 22);
  __asm__ __volatile__ ("msr fpcr, %0" : : "r" (fpcr));
}

static Rounding
get_rounding (void)
{
  guint64 fpcr;

  __asm__ __volatile__ ("mrs %0, fpcr" : "=r" (fpcr));
  switch ((fpcr >> 22) & 3)
    {
    case 0: return ROUND_NEAREST;
    case 1: return ROUND_UP;
    case 2: return ROUND_DOWN;
    default: g_assert_not_reached ();
    }
}
#endif

#ifdef HAVE_ROUNDING_CONTROL
static volatile gdouble one = 1.0, three = 3.0;

typedef struct
{
  Rounding          at_start;
  volatile gdouble  third_up;   /* volatile: computed before the mode changes */
  gboolean          ok;
} RoundingData;

static void
rounding_func (gpointer user_data)
{
  RoundingData *data = user_data;

  data->at_start = get_rounding ();
  set_rounding (ROUND_UP);
  aio_fiber_suspend ();
  /* Still rounding up, whatever the resumer did meanwhile. */
  data->ok = get_rounding () == ROUND_UP;
  data->third_up = one / three;
  set_rounding (ROUND_DOWN);
}
#endif

static void
test_fp_control (void)
{
#ifdef HAVE_ROUNDING_CONTROL
  RoundingData data = { ROUND_NEAREST, 0, FALSE };
  AioFiber *fiber;
  volatile gdouble third;

  g_assert_cmpint (get_rounding (), ==, ROUND_NEAREST);

  fiber = aio_fiber_new (rounding_func, &data, 0);
  set_rounding (ROUND_DOWN);
  resume_ok (fiber);
  g_assert_cmpint (data.at_start, ==, ROUND_DOWN);
  /* The fiber's ROUND_UP did not leak out. */
  g_assert_cmpint (get_rounding (), ==, ROUND_DOWN);
  set_rounding (ROUND_NEAREST);
  resume_ok (fiber);
  g_assert_true (aio_fiber_is_finished (fiber));
  g_assert_true (data.ok);
  g_assert_cmpint (get_rounding (), ==, ROUND_NEAREST);
  aio_fiber_free (fiber);

  third = one / three;
  if (!RUNNING_ON_VALGRIND)   /* valgrind rounds SSE to nearest, always */
    g_assert_true (data.third_up > third);
#else
  g_test_skip ("no rounding mode control for this CPU in the test");
#endif
}

/* /aio/fiber/nested */

typedef struct
{
  GString  *log;
  AioFiber *a;
  AioFiber *b;
} NestedData;

static void
nested_b_func (gpointer user_data)
{
  NestedData *data = user_data;

  g_string_append (data->log, "B1 ");
  g_assert_true (aio_fiber_get_current () == data->b);
  aio_fiber_suspend ();
  g_assert_true (aio_fiber_get_current () == data->b);
  g_string_append (data->log, "B2 ");
}

static void
nested_a_func (gpointer user_data)
{
  NestedData *data = user_data;

  g_string_append (data->log, "A1 ");
  resume_ok (data->b);
  g_assert_true (aio_fiber_get_current () == data->a);
  g_string_append (data->log, "A2 ");
  aio_fiber_suspend ();
  g_assert_true (aio_fiber_get_current () == data->a);
  g_string_append (data->log, "A3");
}

static void
test_nested (void)
{
  NestedData data;

  data.log = g_string_new (NULL);
  data.a = aio_fiber_new (nested_a_func, &data, 0);
  data.b = aio_fiber_new (nested_b_func, &data, 0);

  resume_ok (data.a);
  g_assert_null (aio_fiber_get_current ());
  g_string_append (data.log, "M ");
  /* B was suspended inside A; resuming it from here returns here. */
  resume_ok (data.b);
  g_assert_true (aio_fiber_is_finished (data.b));
  g_assert_null (aio_fiber_get_current ());
  g_string_append (data.log, "M ");
  resume_ok (data.a);
  g_assert_true (aio_fiber_is_finished (data.a));

  g_assert_cmpstr (data.log->str, ==, "A1 B1 A2 M B2 M A3");
  aio_fiber_free (data.a);
  aio_fiber_free (data.b);
  g_string_free (data.log, TRUE);
}

/* /aio/fiber/stack-reuse */

static void
frame_func (gpointer user_data)
{
  gpointer *frame = user_data;

  *frame = __builtin_frame_address (0);
  aio_fiber_suspend ();
}

static void
test_stack_reuse (void)
{
  gpointer frame1 = NULL, frame2 = NULL, frame3 = NULL;
  AioFiber *f1, *f2, *f3;
  guint guarded, slab, before;

  before = aio_test_live_stacks ();

  f1 = aio_fiber_new (frame_func, &frame1, 0);
  resume_ok (f1);
  resume_ok (f1);
  g_assert_true (aio_fiber_is_finished (f1));
  aio_fiber_free (f1);
  guarded = aio_fiber_get_n_guarded_stacks ();
  slab = aio_fiber_get_n_slab_stacks ();
  if (before == 0)
    {
      /* The stack of a finished fiber is kept in the pool. */
      g_assert_cmpuint (guarded + slab, ==, 1);
      if (expected_guarded_budget () > 0)
        g_assert_cmpuint (guarded, ==, 1);
    }

  /* The next fiber gets the stack back from the pool. */
  f2 = aio_fiber_new (frame_func, &frame2, 0);
  resume_ok (f2);
  g_assert_true (frame2 == frame1);
  g_assert_cmpuint (aio_fiber_get_n_guarded_stacks (), ==, guarded);
  g_assert_cmpuint (aio_fiber_get_n_slab_stacks (), ==, slab);

  /* While f2 holds it, another fiber gets another stack. */
  f3 = aio_fiber_new (frame_func, &frame3, 0);
  resume_ok (f3);
  g_assert_true (frame3 != frame2);
  g_assert_cmpuint ((guintptr) MAX (frame2, frame3) -
                    (guintptr) MIN (frame2, frame3), >=,
                    aio_fiber_get_default_stack_size ());

  resume_ok (f2);
  resume_ok (f3);
  aio_fiber_free (f2);
  aio_fiber_free (f3);
  g_assert_cmpuint (aio_test_live_stacks (), >=, guarded + slab);
  g_assert_cmpuint (aio_test_live_stacks (), <=, MAX (guarded + slab + 1, before));
}

/* /aio/fiber/stack-size */

typedef struct
{
  guint   depth;
  guint64 result;
} DepthData;

static void
depth_func (gpointer user_data)
{
  DepthData *data = user_data;

  data->result = recurse (data->depth, 3);
}

static void
test_stack_size (void)
{
  static const gsize sizes[] = { 1, 100000, 64 * 1024, 300 * 1024, 48 * 1024, 0 };
  AioFiber *fibers[G_N_ELEMENTS (sizes)];
  DepthData data[G_N_ELEMENTS (sizes)];
  guint before = aio_test_live_stacks ();
  guint i;

  /* Several sizes at once: more than the pool keeps classes for. */
  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      data[i].depth = sizes[i] >= 64 * 1024 ? 500 : 50;
      data[i].result = 0;
      fibers[i] = aio_fiber_new (depth_func, &data[i], sizes[i]);
      resume_ok (fibers[i]);
    }
  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      while (!aio_fiber_is_finished (fibers[i]))
        resume_ok (fibers[i]);
      g_assert_cmpuint (data[i].result, ==, recurse (data[i].depth, 3));
      aio_fiber_free (fibers[i]);
    }
  g_assert_cmpuint (aio_test_live_stacks (), <=, before + G_N_ELEMENTS (sizes));
}

/* /aio/fiber/free-suspended */

static G_GNUC_NO_INLINE void
poison_recurse (guint depth)
{
  /* Its address escapes, so ASan gives it redzones. */
  gchar buffer[512];

  memset (buffer, depth, sizeof buffer);
  g_assert_cmpint (buffer[depth % sizeof buffer], ==, (gchar) depth);
  if (depth > 0)
    poison_recurse (depth - 1);
  else
    aio_fiber_suspend ();
  g_assert_cmpint (buffer[0], ==, (gchar) depth);
}

static void
deep_suspend_func (gpointer user_data)
{
  gpointer *frame = user_data;

  *frame = __builtin_frame_address (0);
  poison_recurse (40);
  g_assert_not_reached ();
}

static void
check_clean_func (gpointer user_data)
{
  gpointer *frame = user_data;

  *frame = __builtin_frame_address (0);
#ifdef TEST_ASAN
  {
    /* The freed fiber's frames were deeper than ours: nothing down there
     * may be left poisoned. */
    const gchar *here = __builtin_frame_address (0);

    g_assert_null (__asan_region_is_poisoned ((gpointer) (here - 64 * 1024),
                                              60 * 1024));
  }
#endif
}

static void
test_free_suspended (void)
{
  gpointer frame1 = NULL, frame2 = NULL;
  AioFiber *fiber;
  guint live;

  fiber = aio_fiber_new (deep_suspend_func, &frame1, 0);
  resume_ok (fiber);
  g_assert_true (aio_fiber_is_started (fiber));
  g_assert_false (aio_fiber_is_finished (fiber));
  live = aio_test_live_stacks ();
  aio_fiber_free (fiber);
  /* Its stack went to the pool, */
  g_assert_cmpuint (aio_test_live_stacks (), ==, live);

  /* and the next fiber runs on it. */
  fiber = aio_fiber_new (check_clean_func, &frame2, 0);
  resume_ok (fiber);
  g_assert_true (frame1 == frame2);
  g_assert_true (aio_fiber_is_finished (fiber));
  aio_fiber_free (fiber);
  g_assert_cmpuint (aio_test_live_stacks (), ==, live);
}

/* /aio/fiber/many */

typedef struct
{
  guint    *count;
  gpointer  frame;
} ManyData;

static void
many_func (gpointer user_data)
{
  ManyData *data = user_data;

  data->frame = __builtin_frame_address (0);
  (*data->count)++;
  aio_fiber_suspend ();
  (*data->count)--;
}

static gsize
resident_pages (void)
{
  gchar *contents = NULL;
  gsize pages = 0;

  if (g_file_get_contents ("/proc/self/statm", &contents, NULL, NULL))
    {
      gchar **fields = g_strsplit (contents, " ", 0);

      if (fields[0] != NULL && fields[1] != NULL)
        pages = g_ascii_strtoull (fields[1], NULL, 10);
      g_strfreev (fields);
      g_free (contents);
    }

  return pages;
}

/* Resident pages of a suspended fiber's stack, from the page holding the
 * frame of its func down through the half of the stack below it. */
static guint
stack_pages_touched (gpointer frame)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize span = MAX (aio_fiber_get_default_stack_size () / 2 / page, 1) * page;
  guintptr frame_page = (guintptr) frame & ~(guintptr) (page - 1);
  guint8 *start = (guint8 *) (frame_page + page - span);
  guchar vector[256];
  guint touched = 0;
  gsize i;

  g_assert_cmpuint (span / page, <=, sizeof vector);
  g_assert_cmpint (mincore (start, span, vector), ==, 0);
  for (i = 0; i < span / page; i++)
    touched += vector[i] & 1;

  return touched;
}

static void
test_many (void)
{
  const gchar *env = g_getenv ("AIO_TEST_FIBER_N");
  guint n = 100000;
  guint budget = expected_guarded_budget ();
  guint before, guarded, slab, count = 0, touched = 0, most = 0, i;
  gsize rss_before, rss_after;
  AioFiber **fibers;
  ManyData *data;
  gint64 start;

  if (env != NULL && *env != '\0')
    n = (guint) g_ascii_strtoull (env, NULL, 10);
  else if (RUNNING_ON_VALGRIND)
    n = 2000;   /* valgrind cannot track 100 000 fibers' mappings */
#if defined(__SANITIZE_THREAD__)
  else
    n = 6000;   /* ThreadSanitizer has room for 8128 threads and fibers */
#endif
  g_assert_cmpuint (n, >, 0);
  fibers = g_new (AioFiber *, n);
  data = g_new0 (ManyData, n);
  before = aio_test_live_stacks ();
  start = g_get_monotonic_time ();
  rss_before = resident_pages ();

  for (i = 0; i < n; i++)
    {
      data[i].count = &count;
      fibers[i] = aio_fiber_new (many_func, &data[i], 0);
      resume_ok (fibers[i]);
    }

  rss_after = resident_pages ();
  g_assert_cmpuint (count, ==, n);
  guarded = aio_fiber_get_n_guarded_stacks ();
  slab = aio_fiber_get_n_slab_stacks ();
  /* The first fibers may have got pooled stacks that earlier fibers used
   * deeply: only look at fresh ones. */
  for (i = before; i < n; i++)
    {
      guint pages = stack_pages_touched (data[i].frame);

      touched += pages;
      most = MAX (most, pages);
    }
  g_test_message ("%u fibers suspended after %.3f s: %u guarded stacks "
                  "(budget %u), %u slab stacks; stack pages touched: "
                  "%.2f per fiber, %u at most; resident: %.2f pages per fiber",
                  n, (g_get_monotonic_time () - start) / 1e6, guarded,
                  budget, slab, (gdouble) touched / (n > before ? n - before : 1), most,
                  (gdouble) (rss_after - rss_before) / n);

  /* Pooled stacks from earlier tests were reused first. */
  g_assert_cmpuint (guarded, <=, budget);
  g_assert_cmpuint (guarded + slab, >=, n);
  g_assert_cmpuint (guarded + slab, <=, n + before);
  if (before == 0)
    g_assert_cmpuint (guarded + slab, ==, n);
  if (n > budget)
    g_assert_cmpuint (slab, >=, n - budget);

  /* A small suspended fiber touches about one page of its stack (the
   * ucontext back end keeps a ucontext_t above that, 4.5 KiB on AArch64). */
  if (n > before)
    {
      g_assert_cmpuint (most, <=, 2);
      g_assert_cmpfloat ((gdouble) touched / (n - before), <, 1.5);
    }

  for (i = 0; i < n; i++)
    {
      resume_ok (fibers[i]);
      g_assert_true (aio_fiber_is_finished (fibers[i]));
    }
  g_assert_cmpuint (count, ==, 0);
  for (i = 0; i < n; i++)
    aio_fiber_free (fibers[i]);
  g_free (fibers);
  g_free (data);

  /* Only the pool is left; slabs went back as they emptied. */
  g_assert_cmpuint (aio_test_live_stacks (), <=, MAX (before, POOL_MAX));
  g_test_message ("all finished after %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);
}

/* /aio/fiber/slab-helper */

typedef struct
{
  guint     index;
  gpointer  frame;
  gboolean  intact;
} PatternData;

static void
pattern_func (gpointer user_data)
{
  PatternData *d = user_data;
  volatile guint8 buffer[2048];

  for (gsize i = 0; i < sizeof buffer; i++)
    buffer[i] = (guint8) (d->index * 31 + i);
  d->frame = __builtin_frame_address (0);
  aio_fiber_suspend ();

  d->intact = TRUE;
  for (gsize i = 0; i < sizeof buffer; i++)
    if (buffer[i] != (guint8) (d->index * 31 + i))
      d->intact = FALSE;
}

static gboolean
populate_write_works (void)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guint8 *map = mmap (NULL, page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  gboolean works;

  g_assert_true (map != MAP_FAILED);
  works = madvise (map, page, 23 /* MADV_POPULATE_WRITE */) == 0;
  munmap (map, page);
  return works;
}

static void
test_slab_helper (void)
{
  if (g_test_subprocess ())
    {
      gsize page = (gsize) sysconf (_SC_PAGESIZE);
      gsize size = aio_fiber_get_default_stack_size ();
      PatternData data[200];
      AioFiber *fibers[G_N_ELEMENTS (data)];
      guint8 *below;
      guchar resident;

      /* Before the first fiber: every stack comes from a slab. */
      g_setenv ("AIO_FIBER_GUARDED_STACKS", "0", TRUE);

      /* The first stack of a fresh slab is its top one; the helper fills
       * in the top pages of the others, from the bottom up. */
      fibers[0] = aio_fiber_new (pattern_func, &data[0], 0);
      data[0].index = 0;
      resume_ok (fibers[0]);
      g_assert_cmpuint (aio_fiber_get_n_slab_stacks (), ==, 1); /* waits for it */
      /* Two stacks down: the top page of the one right below holds the
       * canary of the fiber's stack, written when it was carved. */
      below = (guint8 *) (((guintptr) data[0].frame & ~(guintptr) (page - 1)) - 2 * size);
      g_assert_cmpint (mincore (below, page, &resident), ==, 0);
      if (populate_write_works ())
        g_assert_true (resident & 1);

      /* Stacks populated before or while their fibers use them keep what
       * the fibers wrote, over several slabs. */
      for (guint i = 1; i < G_N_ELEMENTS (data); i++)
        {
          data[i].index = i;
          fibers[i] = aio_fiber_new (pattern_func, &data[i], 0);
          resume_ok (fibers[i]);
        }
      for (guint i = 0; i < G_N_ELEMENTS (data); i++)
        {
          resume_ok (fibers[i]);
          g_assert_true (data[i].intact);
          aio_fiber_free (fibers[i]);
        }

      /* Slabs emptied are unmapped by the helper; only the pool is left. */
      g_assert_cmpuint (aio_fiber_get_n_guarded_stacks (), ==, 0);
      g_assert_cmpuint (aio_fiber_get_n_slab_stacks (), <=, POOL_MAX);
      return;
    }

  g_test_summary ("Beyond the guarded stacks, a helper thread faults in the "
                  "top pages of new slab stacks ahead of the fibers, without "
                  "changing stacks in use, and unmaps emptied slabs");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* /aio/fiber/no-stack */

static void
never_func (gpointer user_data)
{
  gboolean *ran = user_data;

  *ran = TRUE;
}

static void
test_no_stack (void)
{
  gboolean ran = FALSE;
  GError *error = NULL;
  AioFiber *fiber;
  guint live = aio_test_live_stacks ();

  /* No such stack can be mapped. */
  fiber = aio_fiber_new (never_func, &ran, G_MAXSIZE / 2);
  g_assert_false (aio_fiber_resume (fiber, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (error->code, ==, 5 /* AIO_ERROR_NO_STACK */);
  g_assert_cmpstr (error->message, !=, "");
  g_clear_error (&error);
  g_assert_false (ran);
  g_assert_false (aio_fiber_is_started (fiber));
  g_assert_cmpuint (aio_test_live_stacks (), ==, live);

  /* Again, without a GError. */
  g_assert_false (aio_fiber_resume (fiber, NULL));
  aio_fiber_free (fiber);
  g_assert_false (ran);
}

/* /aio/fiber/misuse */

typedef struct
{
  AioFiber *self;
  AioFiber *other;
} MisuseData;

static void
misuse_inner_func (gpointer user_data)
{
  MisuseData *data = user_data;

  /* Its resumer is running (waiting in aio_fiber_resume()). */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  g_assert_false (aio_fiber_resume (data->self, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  aio_fiber_free (data->self);
  g_test_assert_expected_messages ();
}

static void
misuse_func (gpointer user_data)
{
  MisuseData *data = user_data;
  MisuseData inner = { data->self, NULL };

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  g_assert_false (aio_fiber_resume (data->self, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  aio_fiber_free (data->self);
  g_test_assert_expected_messages ();

  data->other = aio_fiber_new (misuse_inner_func, &inner, 0);
  resume_ok (data->other);
  g_assert_true (aio_fiber_is_finished (data->other));
}

static void
test_misuse (void)
{
  MisuseData data = { NULL, NULL };
  AioFiber *fiber;

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  aio_fiber_suspend ();
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  g_assert_false (aio_fiber_resume (NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  g_assert_null (aio_fiber_new (NULL, NULL, 0));
  g_test_assert_expected_messages ();

  fiber = aio_fiber_new (misuse_func, &data, 0);
  data.self = fiber;
  resume_ok (fiber);
  g_assert_true (aio_fiber_is_finished (fiber));

  /* A finished fiber cannot be resumed. */
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*");
  g_assert_false (aio_fiber_resume (fiber, NULL));
  g_test_assert_expected_messages ();

  aio_fiber_free (data.other);
  aio_fiber_free (fiber);
}

/* /aio/fiber/threads */

typedef struct
{
  GThread  *threads[3];
  AioFiber *fiber;
} MigrateData;

static void
migrate_func (gpointer user_data)
{
  MigrateData *data = user_data;
  guint i;

  for (i = 0; i < 3; i++)
    {
      data->threads[i] = g_thread_self ();
      g_assert_true (aio_fiber_get_current () == data->fiber);
      if (i < 2)
        aio_fiber_suspend ();
    }
}

static gpointer
resume_thread (gpointer user_data)
{
  MigrateData *data = user_data;

  g_assert_null (aio_fiber_get_current ());
  resume_ok (data->fiber);
  g_assert_null (aio_fiber_get_current ());
  /* The fiber ran on this thread. */
  g_assert_true (data->threads[1] == g_thread_self ());
  return NULL;
}

static gpointer
pool_thread (gpointer user_data)
{
  guint count = 0, i;
  AioFiber *fibers[8];
  ManyData data[8];

  for (i = 0; i < G_N_ELEMENTS (fibers); i++)
    {
      data[i].count = &count;
      fibers[i] = aio_fiber_new (many_func, &data[i], 0);
      resume_ok (fibers[i]);
    }
  g_assert_cmpuint (count, ==, G_N_ELEMENTS (fibers));
  for (i = 0; i < G_N_ELEMENTS (fibers); i++)
    {
      if (i % 2 == 0)
        resume_ok (fibers[i]);
      aio_fiber_free (fibers[i]);
    }

  return GUINT_TO_POINTER (aio_test_live_stacks ());
}

static void
test_threads (void)
{
  MigrateData data = { { NULL, NULL, NULL }, NULL };
  GThread *thread;
  guint before, during;

  /* A fiber can be resumed on another thread. */
  data.fiber = aio_fiber_new (migrate_func, &data, 0);
  resume_ok (data.fiber);
  thread = g_thread_new ("fiber-resume", resume_thread, &data);
  g_thread_join (thread);
  resume_ok (data.fiber);
  g_assert_true (aio_fiber_is_finished (data.fiber));
  g_assert_true (data.threads[0] == g_thread_self ());
  g_assert_true (data.threads[1] != g_thread_self ());
  g_assert_true (data.threads[2] == g_thread_self ());
  aio_fiber_free (data.fiber);

  /* A thread's pool is released when it exits. */
  before = aio_test_live_stacks ();
  thread = g_thread_new ("fiber-pool", pool_thread, NULL);
  during = GPOINTER_TO_UINT (g_thread_join (thread));
  g_assert_cmpuint (during, >=, before + 8);
  g_assert_cmpuint (aio_test_live_stacks (), ==, before);
}

/* /aio/fiber/overflow/guard-page */

static volatile guint overflow_limit = G_MAXUINT;

static G_GNUC_NO_INLINE guint
overflow_recurse (guint depth)
{
  volatile guint8 buffer[1024];
  guint i;

  for (i = 0; i < sizeof buffer; i += 64)
    buffer[i] = (guint8) depth;
  if (depth < overflow_limit)
    return overflow_recurse (depth + 1) + buffer[depth % sizeof buffer];
  return buffer[0];
}

static void
overflow_func (gpointer user_data)
{
  overflow_recurse (0);
}

/* Runs the calling test in a subprocess twice, with whatever guard the
 * kernel offers and with AIO_FIBER_GUARD_REGIONS=0, and checks that both
 * passed (or, without @passes, failed). */
static void
trap_both_guard_kinds (gboolean passes)
{
  for (guint forced = 0; forced < 2; forced++)
    {
      if (forced)
        g_setenv ("AIO_FIBER_GUARD_REGIONS", "0", TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_unsetenv ("AIO_FIBER_GUARD_REGIONS");
      if (passes)
        g_test_trap_assert_passed ();
      else
        g_test_trap_assert_failed ();
    }
}

static void
test_overflow_guard (void)
{
  if (g_test_subprocess ())
    {
      AioFiber *fiber;

      aio_test_no_core_dumps ();
      fiber = aio_fiber_new (overflow_func, NULL, 64 * 1024);
      resume_ok (fiber);
      g_assert_not_reached ();
    }

  g_test_summary ("A fiber that overflows a guarded stack faults at once, "
                  "with the kernel's guard regions and with a PROT_NONE page, "
                  "and the report says it was a fiber's stack and its size");

  /* A guard region on Linux 6.13 and later, then a PROT_NONE page. */
  trap_both_guard_kinds (FALSE);
  g_test_trap_assert_stderr ("*aio-glib: stack overflow in a fiber: its stack "
                             "of 65536 bytes is too small*");
}

/* /aio/fiber/overflow/task */

static void
overflow_task (AioTask  *task,
               gpointer  user_data)
{
  aio_task_set_name (task, "deep-thought");
  overflow_recurse (0);
}

static void
test_overflow_task (Fixture       *f,
                    gconstpointer  data)
{
  const char *guarded_stacks = data;

  if (g_test_subprocess ())
    {
      aio_test_no_core_dumps ();
      aio_run (overflow_task, NULL, NULL);
      g_assert_not_reached ();
    }

  g_test_summary ("A task whose fiber overflows its stack, guarded or carved "
                  "from a slab, is reported by name with its stack size and "
                  "how to raise it, instead of a bare SIGSEGV or a neighbour's "
                  "stack overwritten");

  g_setenv ("AIO_FIBER_GUARDED_STACKS", guarded_stacks, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("AIO_FIBER_GUARDED_STACKS");
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*aio-glib: stack overflow in task \"deep-thought\": "
                             "its stack of 262144 bytes is too small."
                             "*aio_task_set_stack_size()*aio_loop_set_stack_size()*");
}

/* /aio/fiber/guard-regions */

static guint
count_mappings (void)
{
  g_autofree char *maps = NULL;
  guint lines = 0;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  for (const char *p = maps; *p != '\0'; p++)
    lines += *p == '\n';
  return lines;
}

static gboolean
guard_regions_work (void)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  guint8 *map = mmap (NULL, 2 * page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  gboolean works;

  g_assert_true (map != MAP_FAILED);
  works = madvise (map, page, 102 /* MADV_GUARD_INSTALL */) == 0;
  munmap (map, 2 * page);
  return works;
}

static void
test_guard_regions (void)
{
  if (g_test_subprocess ())
    {
      AioFiber *fibers[200];
      gpointer frames[G_N_ELEMENTS (fibers)];
      guint before = count_mappings (), after;

      for (guint i = 0; i < G_N_ELEMENTS (fibers); i++)
        {
          fibers[i] = aio_fiber_new (frame_func, &frames[i], 0);
          resume_ok (fibers[i]);
        }
      after = count_mappings ();
      g_assert_cmpuint (aio_fiber_get_n_guarded_stacks (), ==, G_N_ELEMENTS (fibers));

      /* (ThreadSanitizer maps memory of its own for every fiber.) */
#if !defined(__SANITIZE_THREAD__)
      if (g_getenv ("AIO_FIBER_GUARD_REGIONS") == NULL && guard_regions_work ())
        /* Slabs of 64 guarded stacks: a mapping each. */
        g_assert_cmpuint (after - before, <=, 2 * G_N_ELEMENTS (fibers) / 64 + 4);
      else
        /* A mapping and a guard page each. */
        g_assert_cmpuint (after - before, >=, 2 * G_N_ELEMENTS (fibers));
#else
      (void) before;
      (void) after;
#endif

      for (guint i = 0; i < G_N_ELEMENTS (fibers); i++)
        {
          resume_ok (fibers[i]);
          aio_fiber_free (fibers[i]);
        }
      return;
    }

  g_test_summary ("Where the kernel has guard regions, guarded stacks come "
                  "from slabs and cost no mappings of their own; elsewhere "
                  "each has a mapping and a PROT_NONE page");
  if (!guard_regions_work ())
    g_test_message ("no guard regions here: both runs check the fallback");

  trap_both_guard_kinds (TRUE);
}

/* /aio/fiber/overflow/canary */

static G_GNUC_NO_INLINE guint
bounded_recurse (const guint8 *start,
                 gsize         limit)
{
  volatile guint8 buffer[512];
  const guint8 *here = __builtin_frame_address (0);
  guint i;

  for (i = 0; i < sizeof buffer; i++)
    buffer[i] = 0xa5;
  if ((gsize) (start - here) < limit)
    return bounded_recurse (start, limit) + buffer[7];
  return buffer[3];
}

static void
canary_func (gpointer user_data)
{
  /* Run 8 KiB past the bottom of the stack, into the free stack below it in
   * its slab, and come back. */
  bounded_recurse (__builtin_frame_address (0),
                   aio_fiber_get_default_stack_size () + 8192);
}

static void
test_overflow_canary (void)
{
  if (g_test_subprocess ())
    {
      gpointer frame = NULL;
      AioFiber *fiber;

      /* This runs first in a fresh process: no guarded stacks in it. */
      aio_test_no_core_dumps ();
      g_setenv ("AIO_FIBER_GUARDED_STACKS", "0", TRUE);

      fiber = aio_fiber_new (frame_func, &frame, 0);
      resume_ok (fiber);
      g_assert_cmpuint (aio_fiber_get_n_guarded_stacks (), ==, 0);
      g_assert_cmpuint (aio_fiber_get_n_slab_stacks (), ==, 1);
      resume_ok (fiber);
      aio_fiber_free (fiber);

      /* Reuses that slab stack, the top one of its slab. */
      fiber = aio_fiber_new (canary_func, NULL, 0);
      resume_ok (fiber);
      g_assert_not_reached ();
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*aio-glib: fiber stack overflow*");
}

/* /aio/fiber/fork */

static void
fork_task (AioTask  *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (aio_await (aio_sleep (0), &error));
  g_assert_no_error (error);
  aio_task_return_int64 (task, 42);
}

/* Starts and finishes @n fibers on slab stacks: the helper gets work. */
static void
run_slab_fibers (guint n)
{
  AioFiber **fibers = g_new (AioFiber *, n);
  gpointer *frames = g_new0 (gpointer, n);

  for (guint i = 0; i < n; i++)
    {
      fibers[i] = aio_fiber_new (frame_func, &frames[i], 0);
      resume_ok (fibers[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      resume_ok (fibers[i]);
      aio_fiber_free (fibers[i]);
    }
  g_free (fibers);
  g_free (frames);
}

static void
test_fork (void)
{
  if (g_test_subprocess ())
    {
      gint64 deadline;
      int status;
      pid_t pid;

      /* AIO_FIBER_GUARDED_STACKS=0: slab stacks, so the helper runs. */
      run_slab_fibers (200);
      g_assert_cmpuint (aio_fiber_get_n_slab_stacks (), >, 0);

      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          g_autoptr(GError) error = NULL;
          AioTask *task;

          /* The child has no helper thread: new slabs (more fibers than
           * the pool keeps), their unmaps and the counts (which wait for
           * the helper) must work anyway. */
          run_slab_fibers (4 * POOL_MAX);
          (void) aio_fiber_get_n_slab_stacks ();
          task = aio_run_full (fork_task, NULL, NULL, &error);
          if (task == NULL || aio_future_get_int64 (AIO_FUTURE (task), NULL) != 42)
            _exit (2);
          g_object_unref (task);
          _exit (0);
        }

      /* A generous bound: the child hangs for good when it fails. */
      deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
      while (waitpid (pid, &status, WNOHANG) == 0)
        {
          if (g_get_monotonic_time () > deadline)
            {
              kill (pid, SIGKILL);
              waitpid (pid, &status, 0);
              g_error ("the forked child hung");
            }
          g_usleep (10000);
        }
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
      run_slab_fibers (200);
      (void) aio_fiber_get_n_slab_stacks ();
      return;
    }

  g_test_summary ("After fork(), the child (which has no slab helper thread) "
                  "runs fibers and fiber tasks, and counting its stacks "
                  "does not wait for a helper that is not there");
#if defined(__SANITIZE_THREAD__)
  g_test_skip ("ThreadSanitizer refuses to start threads after a "
               "multi-threaded fork()");
  return;
#endif

  g_setenv ("AIO_FIBER_GUARDED_STACKS", "0", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("AIO_FIBER_GUARDED_STACKS");
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  TEST_BARE ("/aio/fiber/run", test_run);
  TEST_BARE ("/aio/fiber/suspend-resume", test_suspend_resume);
  TEST_BARE ("/aio/fiber/registers", test_registers);
  TEST_BARE ("/aio/fiber/fp-control", test_fp_control);
  TEST_BARE ("/aio/fiber/nested", test_nested);
  TEST_BARE ("/aio/fiber/stack-reuse", test_stack_reuse);
  TEST_BARE ("/aio/fiber/stack-size", test_stack_size);
  TEST_BARE ("/aio/fiber/free-suspended", test_free_suspended);
  TEST_BARE ("/aio/fiber/many", test_many);
  TEST_BARE ("/aio/fiber/slab-helper", test_slab_helper);
  TEST_BARE ("/aio/fiber/guard-regions", test_guard_regions);
  TEST_BARE ("/aio/fiber/no-stack", test_no_stack);
  TEST_BARE ("/aio/fiber/misuse", test_misuse);
  TEST_BARE ("/aio/fiber/threads", test_threads);
  TEST_BARE ("/aio/fiber/fork", test_fork);
  TEST_BARE ("/aio/fiber/overflow/guard-page", test_overflow_guard);
  TEST_BARE ("/aio/fiber/overflow/canary", test_overflow_canary);
  TEST_BARE_DATA ("/aio/fiber/overflow/task-guarded", "4096", test_overflow_task);
  TEST_BARE_DATA ("/aio/fiber/overflow/task-slab", "0", test_overflow_task);

  return g_test_run ();
}
