/* page-cost: what the kernel charges for a fresh fiber stack page
 *
 * Usage: page-cost [N]
 *
 * Maps N (default 100 000) stacks of aio-glib's default size (256 KiB),
 * as fiber stack slabs are mapped, writes one byte into the top page of
 * each (what a fiber's first frame does), then unmaps them, and prints
 * the microseconds per stack of each phase as one line of JSON.  No
 * library code is involved: this is the floor under any design that
 * gives each suspended fiber a stack of its own, for docs/performance.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define STACK_SIZE (256 * 1024)
#define PAGE       4096
#define SLAB       64

static double
now (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int
main (int   argc,
      char *argv[])
{
  size_t n = argc > 1 ? strtoul (argv[1], NULL, 10) : 100000;
  size_t n_slabs = (n + SLAB - 1) / SLAB;
  char **slabs = calloc (n_slabs, sizeof *slabs);
  double t0, t1, t2;

  if (n == 0 || slabs == NULL)
    return 1;

  t0 = now ();
  for (size_t s = 0; s < n_slabs; s++)
    {
      slabs[s] = mmap (NULL, (size_t) SLAB * STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (slabs[s] == MAP_FAILED)
        return 1;
#ifdef MADV_NOHUGEPAGE
      madvise (slabs[s], (size_t) SLAB * STACK_SIZE, MADV_NOHUGEPAGE);
#endif
      for (size_t i = 0; i < SLAB && s * SLAB + i < n; i++)
        slabs[s][(i + 1) * STACK_SIZE - PAGE / 2] = 1;
    }
  t1 = now ();
  for (size_t s = 0; s < n_slabs; s++)
    munmap (slabs[s], (size_t) SLAB * STACK_SIZE);
  t2 = now ();

  printf ("{\"stacks\": %zu, \"first_touch_us\": %.3f, \"unmap_us\": %.3f, \"total_us\": %.3f}\n",
          n, (t1 - t0) * 1e6 / n, (t2 - t1) * 1e6 / n, (t2 - t0) * 1e6 / n);
  free (slabs);
  return 0;
}
