// test-docs.js: the patterns of docs/javascript.md, run as the page shows
// them (each test names its section)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {Gio} = imports.gi;

Gio._promisify(Gio.Subprocess.prototype, 'wait_check_async', 'wait_check_finish');

// A stand-in for the page's fetchPage(): an async function that awaits.
async function fetchPage(name, delay = 0.01) {
    await Aio.sleep(delay);
    return `page ${name}`;
}

test('"The seven calls": createTask(() => sayAfter(...)) and gather', async () => {
    const said = [];
    async function sayAfter(delay, what) {
        await Aio.sleep(delay);
        said.push(what);
    }
    const task1 = aio.createTask(() => sayAfter(0.02, 'hello'));
    const task2 = aio.createTask(() => sayAfter(0.04, 'world'));
    await task1;
    await task2;
    assertEqual(said, ['hello', 'world'], 'said');
});

test('"Awaiting futures": queue.get(), then lock.acquire() / try / finally release()', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.FIFO, 0);
    const lock = new Aio.Lock();
    const handled = [];
    const workers = [1, 2, 3].map(n => aio.createTask(async () => {
        const line = await queue.get();
        await lock.acquire();
        try {
            handled.push(`${n}<${line}`);
            await Aio.sleep(0.01);
            handled.push(`${n}>`);
        } finally {
            lock.release();
        }
    }, {name: `worker-${n}`}));
    for (const line of ['a', 'b', 'c'])
        await queue.put_value(line);
    await aio.gather(workers);
    assertEqual(handled.length, 6, 'every line handled');
    for (let i = 0; i < 6; i += 2) {
        assertEqual(handled[i + 1], `${handled[i][0]}>`,
            'each body ran alone between acquire and release');
    }
});

test('"Awaiting futures": Promise.all, Promise.race, then() and wait_async()', async () => {
    const all = await Promise.all([Aio.sleep_value(0.01, 1), Aio.sleep_value(0.02, 2)]);
    assertEqual(all, [1, 2], 'Promise.all');
    const race = await Promise.race([Aio.sleep_value(0.01, 'fast'), Aio.sleep_value(5, 'slow')]);
    assertEqual(race, 'fast', 'Promise.race');
    assertEqual(await Aio.sleep_value(0, 3).then(v => v * 2), 6, 'then()');
    assertEqual(await Aio.sleep(0).wait_async(null), true, 'wait_async()');
});

test('"Errors": waitFor(fetchPage(url), 5.0), TIMED_OUT caught with matches()', async () => {
    let said = null;
    try {
        await aio.waitFor(fetchPage('slow', 10), 0.01);
    } catch (e) {
        if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT))
            throw e;
        said = 'too slow';
    }
    assertEqual(said, 'too slow', 'the timeout');
});

test('"Tasks": createTask(async () => {...}, {name}), its value, allTasks()', async () => {
    const task = aio.createTask(async () => {
        await Aio.sleep(0.01);
        return 'done';
    }, {name: 'worker'});
    assertEqual(task.get_name(), 'worker', 'name');
    assert(aio.allTasks().includes(task), 'in allTasks()');
    assertEqual(await task, 'done', 'value');
});

test('"Tasks": tasks in an Aio.TaskGroup, await group.wait()', async () => {
    const group = Aio.TaskGroup.new();
    const a = aio.createTask(() => fetchPage('a'), {group});
    const b = aio.createTask(() => fetchPage('b'), {group});
    await group.wait();
    assertEqual([a.result(), b.result()], ['page a', 'page b'], 'values');
});

test('"Cancellation": catch it, uncancel(), and carry on', async () => {
    const task = aio.createTask(async () => {
        try {
            await Aio.sleep(3600);
        } catch (e) {
            if (!aio.isCancelled(e))
                throw e;
            aio.currentTask().uncancel();   // we handled it
        }
        return 'carried on';
    });
    await Aio.sleep(0.01);
    task.cancel('reason');
    assertEqual(await task, 'carried on', 'value');
});

test('"Gathering, timeouts, shields": gather of pages; timeout() around two steps', async () => {
    const [a, b] = await aio.gather([fetchPage('a'), fetchPage('b')]);
    assertEqual([a, b], ['page a', 'page b'], 'gather');
    let timedOut = false;
    try {
        await aio.timeout(0.02, async () => {
            await fetchPage('connect', 0.01);
            await fetchPage('handshake', 10);
        });
    } catch (e) {
        if (!aio.isTimedOut(e))
            throw e;
        timedOut = true;
    }
    assert(timedOut, 'the timeout');
});

test('"Blocking work": a subprocess awaited through ensureFuture(blocking())', async () => {
    const log = [];
    async function blocking() {
        const proc = Gio.Subprocess.new(['sleep', '0.05'], Gio.SubprocessFlags.NONE);
        await proc.wait_check_async(null);
        log.push('Hello from a subprocess!');
    }
    const job = aio.ensureFuture(blocking());   // starts right away
    log.push('started');
    await job;
    assertEqual(log, ['started', 'Hello from a subprocess!'], 'order');
});

test('"Blocking work": CPU work cut into chunks with await Aio.sleep(0)', async () => {
    async function sumInChunks(n, chunk = 100000) {
        let total = 0;
        for (let i = 0; i < n; i += chunk) {
            for (let j = i; j < Math.min(n, i + chunk); j++)
                total += j;
            await Aio.sleep(0);
        }
        return total;
    }
    let ticks = 0;
    const ticker = aio.createTask(async () => {
        for (;;) {
            await Aio.sleep(0);
            ticks++;
        }
    });
    assertEqual(await sumInChunks(500000), 500000 * 499999 / 2, 'the sum');
    assert(ticks >= 3, `the other task ran between the chunks (${ticks})`);
    ticker.cancel(null);
});

test('"Promises and GIO": ensureFuture(promise) for the C combinators', async () => {
    const future = aio.ensureFuture(new Promise(resolve => resolve('from a promise')));
    assert(future instanceof Aio.Future, 'a future');
    assertEqual(await Aio.wait_for(future, 5), 'from a promise', 'through Aio.wait_for');
});

runTests();
