/* test-stress.h: what the stress test's driver and its operations share
 *
 * test-stress.c runs the workers, the chaos and the checks of the ledger;
 * test-stress-ops.c holds the operations the workers draw at random, one
 * per primitive.  See test-stress.c for what the test proves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <aio-glib.h>

G_BEGIN_DECLS

#define N_WORKERS        12     /* running at once */
#define OPS_PER_WORKER   40     /* at most, before a worker makes way */
#define QUEUE_MAX        4
#define SEM_SLOTS        3
#define BSEM_SLOTS       2
#define PARTIES          3
#define SHORT            0.002  /* the timeouts of bounded waits, at most */
#define CANCEL_EVERY     16     /* operations, on average */

#define STRESS_ERROR (g_quark_from_static_string ("stress-error"))

typedef struct _Stress Stress;
typedef struct _Worker Worker;

/* ---- the ledger of items -------------------------------------------------- */

typedef enum
{
  ITEM_QUEUE,       /* put by a task */
  ITEM_THREAD,      /* put by the thread with aio_queue_put_threadsafe() */
  ITEM_EXECUTOR,    /* an executor job's result */
  ITEM_TASK,        /* a child task's result */
  N_ITEM_KINDS
} ItemKind;

enum
{
  LEDGER_CONFIRMED = 1 << 0,   /* its producer was told it went in */
  LEDGER_LEFTOVER  = 1 << 1,   /* still queued at the end */
  LEDGER_REFUSED   = 1 << 2,   /* freed by a resolve that came too late */
};

/* One per item; any thread may touch it, so every field is atomic. */
typedef struct
{
  gint kind;
  gint flags;
  gint received_by;   /* 0, or the receiving worker's number + 1 */
  gint n_frees;
} Record;

typedef struct
{
  Stress *s;
  guint   id;
} Item;

struct _Stress
{
  guint          seed;
  guint          n_ops;
  GRand         *rand;          /* the driver's */

  /* The primitives. */
  AioQueue      *queue;
  AioLock       *lock;
  AioSemaphore  *semaphore;
  AioSemaphore  *bounded;
  AioCondition  *condition;
  AioBarrier    *barrier;
  AioEvent      *event;
  AioExecutor   *executor;

  /* What the invariants are checked against; loop thread only, but for
   * the ledger and the counters marked atomic. */
  Record        *ledger;
  gint           n_items;       /* atomic */
  guint          ledger_size;
  guint          lock_holders;
  guint          sem_holders;
  guint          bounded_holders;
  guint          tokens;
  guint          tokens_made;
  guint          tokens_taken;
  guint         *barrier_indices;
  guint          n_violations;

  /* Tasks: a reference on each until the end, and the ones not done. */
  GPtrArray     *tasks;
  GPtrArray     *live;
  guint          n_finished;
  guint          live_workers;
  guint          unassigned;    /* operations no worker took yet */
  guint          next_worker;
  AioEvent      *worker_gone;
  gboolean       winding_down;

  /* The threads. */
  GThread       *canceller;
  GAsyncQueue   *cancel_orders;
  GThread       *putter;
  GAsyncQueue   *put_orders;

  /* Figures. */
  guint          ops_done;
  guint          n_received[N_ITEM_KINDS];
  guint          n_leftover;
  guint          n_refused;
  guint          n_loop_cancels;
  guint          n_thread_cancel_orders;
  gint           n_thread_cancels;     /* atomic: aio_task_cancel() said TRUE */
  guint          n_cancelled_waits;
  guint          n_timeouts;
  guint          n_lock;
  guint          n_sem;
  guint          n_rounds;
  guint          n_groups;
  guint          n_children;
  guint          n_jobs;
  guint          n_combinators;
};

/* Set while an executor job resolves its future (test-stress-ops.c): an
 * item freed then was refused by a future cancelled first. */
extern __thread gboolean resolving;

void     violation          (Stress       *s,
                             const char   *format,
                             ...) G_GNUC_PRINTF (2, 3);
Item    *item_new           (Stress       *s,
                             ItemKind      kind);
void     ledger_mark        (Stress       *s,
                             guint         id,
                             gint          flag);
void     item_mark          (Item         *item,
                             gint          flag);
void     item_free          (gpointer      data);

/* ---- workers -------------------------------------------------------------- */

/* An operation: called with the error of the wait it returned last (NULL
 * for none, or when the wait succeeded), it returns the next future to
 * wait for, or NULL when it is over.  The same code runs in fiber and in
 * stepped tasks. */
typedef AioFuture *(*OpFunc) (Worker       *w,
                              const GError *error);

struct _Worker
{
  Stress       *s;
  guint         number;
  gboolean      stepped;
  AioTask      *task;          /* borrowed: s->tasks holds it */
  GRand        *rand;
  guint         quota;
  gboolean      stop;

  /* The operation under way. */
  OpFunc        op;
  guint         phase;
  AioFuture    *fut;           /* owned: what it waits for, to read */
  GPtrArray    *kept;          /* owned: futures it keeps to settle */
  GPtrArray    *outputs;       /* owned: of as_completed() */
  AioTimeout   *scope;
  AioTask      *child;         /* owned */
  AioTaskGroup *group;         /* owned */
  GPtrArray    *children;      /* owned */
  Item         *item;          /* until it is put */
  guint         item_id;
  guint         flags;
};

gboolean   coin               (Worker       *w);
gdouble    short_timeout      (Worker       *w);
AioFuture *wait_kept          (Worker       *w,
                               AioFuture    *future);
void       receive            (Worker       *w,
                               gpointer      data);
void       count_error        (Worker       *w,
                               const GError *error);
void       count_scoped_error (Worker       *w,
                               const GError *error);
AioFuture *settle_kept        (Worker       *w);
AioTask   *track              (Stress       *s,
                               AioTask      *task);

/* The operations (test-stress-ops.c), each with its weight in the draw. */
typedef struct
{
  OpFunc func;
  guint  weight;
} Op;

extern const Op stress_ops[];
extern const guint stress_n_ops;

G_END_DECLS
