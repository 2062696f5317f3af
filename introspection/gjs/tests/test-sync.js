// test-sync.js: the coordination primitives from JS tasks, written as
// docs/javascript.md shows them (asyncio's Lock, Event, Condition,
// Semaphore, BoundedSemaphore, Barrier, LifoQueue)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, ticks} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib} = imports.gi;

function isAioError(code) {
    return e => e instanceof GLib.Error && e.matches(Aio.Error, code);
}

// ---- Lock ------------------------------------------------------------------

// The pattern of docs/javascript.md, "Awaiting futures", in three tasks.
async function lockedWorker(lock, name, log, before) {
    if (before)
        await Aio.sleep(0);
    await lock.acquire();
    try {
        log.push(`${name}+`);
        await Aio.sleep(0.01);
        log.push(`${name}-`);
    } finally {
        lock.release();
    }
}

for (const [before, name] of [
    [false, 'Lock: three tasks in acquire/try/finally release run one at a time (asyncio.Lock)'],
    [true, 'Lock: the same when each body awaits before acquiring'],
]) {
    test(name, async () => {
        const lock = new Aio.Lock();
        const log = [];
        await aio.gather(['a', 'b', 'c'].map(worker =>
            () => lockedWorker(lock, worker, log, before)));
        assertEqual(log, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-'], 'one body at a time');
        assert(!lock.is_locked(), 'the lock is free at the end');
    });
}

test('Lock: get_owner() is the JS task that holds it, across awaits', async () => {
    const lock = new Aio.Lock();
    let seen = null;
    const task = aio.createTask(async () => {
        await Aio.sleep(0);
        await lock.acquire();
        await Aio.sleep(0);
        seen = lock.get_owner();
        lock.release();
    }, {name: 'holder'});
    await task;
    assert(seen === task, `the owner is the task (${seen})`);
    assertEqual(lock.get_owner(), null, 'no owner once released');
});

test('Lock: releasing a lock another task holds throws, and changes nothing', async () => {
    const lock = new Aio.Lock();
    const holder = aio.createTask(async () => {
        await lock.acquire();
        await Aio.sleep(10);
    }, {name: 'holder'});
    await ticks(3);
    assert(lock.is_locked(), 'the holder has it');
    const e = await assertRejects(aio.createTask(async () => {
        await Aio.sleep(0);
        lock.release();
    }, {name: 'thief'}));
    assert(/held by task "holder", not by task "thief"/.test(e.message), e.message);
    assert(lock.is_locked() && lock.get_owner() === holder, 'still held by the holder');
    await cancelled(holder, null);
});

test('Lock: releasing an unlocked lock throws (asyncio RuntimeError)', async () => {
    const lock = new Aio.Lock();
    let error = null;
    try {
        lock.release();
    } catch (e) {
        error = e;
    }
    assert(error !== null && /not acquired/.test(error.message), `an error (${error})`);
});

test('Lock: a cancelled acquisition does not hold the lock; the next waiter gets it', async () => {
    const lock = new Aio.Lock();
    await lock.acquire();
    const waiter = aio.createTask(async () => {
        await lock.acquire();
        lock.release();
    }, {name: 'cancelled-waiter'});
    const next = aio.createTask(async () => {
        await lock.acquire();
        try {
            return 'got it';
        } finally {
            lock.release();
        }
    }, {name: 'next'});
    await ticks(3);
    await cancelled(waiter, null);
    lock.release();
    assertEqual(await next, 'got it', 'the next waiter');
    assert(!lock.is_locked(), 'free at the end');
});

// ---- Event -----------------------------------------------------------------

test('Event: waiters wake on set(); wait() gives true; clear() resets (asyncio.Event)', async () => {
    const event = new Aio.Event();
    const woken = [];
    const waiters = [1, 2, 3].map(n => aio.createTask(async () => {
        const value = await event.wait();
        woken.push(n);
        return value;
    }));
    await ticks(3);
    assertEqual(woken, [], 'nobody before set()');
    event.set();
    assertEqual(await aio.gather(waiters), [true, true, true], 'wait() values');
    assertEqual(woken.sort(), [1, 2, 3], 'all woken');
    assert(event.is_set(), 'set');
    event.clear();
    assert(!event.is_set(), 'cleared');
    await assertRejects(aio.waitFor(event.wait(), 0.01), aio.isTimedOut,
        'a wait on a cleared event');
});

// ---- Condition ---------------------------------------------------------------

test('Condition: a consumer waits, a producer notifies under the lock (asyncio.Condition)', async () => {
    const condition = new Aio.Condition();
    const items = [];
    const consumed = [];
    const consumer = aio.createTask(async () => {
        await condition.acquire();
        try {
            while (consumed.length < 3) {
                while (items.length === 0)
                    await condition.wait();
                consumed.push(items.shift());
            }
        } finally {
            condition.release();
        }
        return consumed;
    }, {name: 'consumer'});
    for (const item of ['x', 'y', 'z']) {
        await Aio.sleep(0.005);
        await condition.acquire();
        try {
            items.push(item);
            condition.notify(1);
        } finally {
            condition.release();
        }
    }
    assertEqual(await consumer, ['x', 'y', 'z'], 'consumed');
    assert(!condition.is_locked(), 'free at the end');
});

test('Condition: wait_for(predicate) returns once it holds; notify_all wakes all', async () => {
    const condition = new Aio.Condition();
    let ready = false;
    const waiters = [1, 2].map(n => aio.createTask(async () => {
        await condition.acquire();
        try {
            await condition.wait_for(() => ready);
            return `${n}: ${ready}, owner ${condition.get_lock().get_owner() === aio.currentTask()}`;
        } finally {
            condition.release();
        }
    }, {name: `waiter-${n}`}));
    await ticks(3);
    await condition.acquire();
    ready = true;
    condition.notify_all();
    condition.release();
    assertEqual(await aio.gather(waiters), ['1: true, owner true', '2: true, owner true'],
        'both waiters, each holding the lock');
});

test('Condition: notify() and wait() without the lock throw', async () => {
    const condition = new Aio.Condition();
    for (const call of [() => condition.notify(1), () => condition.notify_all(),
        () => condition.wait()]) {
        let error = null;
        try {
            call();
        } catch (e) {
            error = e;
        }
        assert(error !== null && /not acquired/.test(error.message), `an error (${error})`);
    }
    const holder = aio.createTask(async () => {
        await condition.acquire();
        await Aio.sleep(10);
    }, {name: 'holder'});
    await ticks(3);
    let error = null;
    try {
        condition.notify(1);
    } catch (e) {
        error = e;
    }
    assert(error !== null && /held by task "holder"/.test(error.message), `an error (${error})`);
    await cancelled(holder, null);
});

test('Condition: a cancelled wait holds the lock again before it throws', async () => {
    const condition = new Aio.Condition();
    const waiter = aio.createTask(async () => {
        await condition.acquire();
        try {
            await condition.wait();
        } catch (e) {
            return `${aio.isCancelled(e)}, held: ${condition.get_lock().get_owner() === aio.currentTask()}`;
        } finally {
            condition.release();
        }
        return 'not cancelled';
    }, {name: 'waiter'});
    await ticks(3);
    waiter.cancel(null);
    assertEqual(await waiter, 'true, held: true', 'cancelled with the lock held');
    assert(!condition.is_locked(), 'free at the end');
});

// ---- Semaphore ---------------------------------------------------------------

test('Semaphore(2): at most two bodies at a time (asyncio.Semaphore)', async () => {
    const semaphore = Aio.Semaphore.new(2);
    let inside = 0, most = 0;
    await aio.gather([1, 2, 3, 4, 5].map(() => async () => {
        await semaphore.acquire();
        try {
            inside++;
            most = Math.max(most, inside);
            await Aio.sleep(0.01);
            inside--;
        } finally {
            semaphore.release();
        }
    }));
    assertEqual(most, 2, 'the most inside at once');
    assertEqual(semaphore.get_value(), 2, 'all slots back');
});

for (const [how, make] of [
    ['bounded_semaphore_new(1)', () => Aio.bounded_semaphore_new(1)],
    ['new Aio.Semaphore({value: 1, bounded: true})',
        () => new Aio.Semaphore({value: 1, bounded: true})],
]) {
test(`BoundedSemaphore, made with ${how}: one release too many throws (asyncio ValueError)`, async () => {
    const semaphore = make();
    assert(semaphore.is_bounded(), 'bounded');
    assertEqual(await semaphore.acquire(), true, 'acquire() value');
    assert(semaphore.is_locked(), 'locked');
    semaphore.release();
    let error = null;
    try {
        semaphore.release();
    } catch (e) {
        error = e;
    }
    assert(error !== null && /released too many times/.test(error.message), `an error (${error})`);
    assertEqual(semaphore.get_value(), 1, 'the value did not go past the bound');
});
}

// ---- Barrier -----------------------------------------------------------------

test('Barrier(3): the parties meet, each gets its index (asyncio.Barrier)', async () => {
    const barrier = Aio.Barrier.new(3);
    const indexes = await aio.gather([1, 2, 3].map(() => async () => {
        await Aio.sleep(0);
        return barrier.wait();
    }));
    assertEqual([...indexes].sort(), [0, 1, 2], 'indexes');
    assert(!barrier.is_broken(), 'not broken');
});

test('Barrier: abort() breaks the waiters with BROKEN_BARRIER; reset() mends it', async () => {
    const barrier = Aio.Barrier.new(2);
    const waiter = aio.createTask(() => barrier.wait());
    await ticks(3);
    assertEqual(barrier.get_n_waiting(), 1, 'one waiting');
    barrier.abort();
    await assertRejects(waiter, isAioError(Aio.Error.BROKEN_BARRIER), 'the waiter');
    assert(barrier.is_broken(), 'broken');
    await assertRejects(barrier.wait(), isAioError(Aio.Error.BROKEN_BARRIER), 'a new wait');
    barrier.reset();
    assert(!barrier.is_broken(), 'mended');
    const both = await aio.gather([() => barrier.wait(), () => barrier.wait()]);
    assertEqual([...both].sort(), [0, 1], 'the parties meet again');
});

// ---- the queue family ----------------------------------------------------------

test('LifoQueue: last in, first out (asyncio.LifoQueue)', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.LIFO, 0);
    for (const item of ['a', 'b', 'c'])
        await queue.put_value(item);
    assertEqual([await queue.get(), await queue.get(), await queue.get()],
        ['c', 'b', 'a'], 'order');
});

test('Queue: a getter waiting in one task gets what another task puts', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.FIFO, 1);
    const getter = aio.createTask(() => queue.get());
    await ticks(2);
    await queue.put_value([1, 2]);
    assertEqual(await getter, [1, 2], 'the item');
});

runTests();
