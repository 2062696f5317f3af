// test-combinators.js: gather, wait_for, shield and wait, from JS and from C
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, elapsed, until} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

function failing(message, delay = 0) {
    return aio.createTask(async () => {
        await Aio.sleep(delay);
        throw new Error(message);
    });
}

test('gather: values in order, of futures, tasks, promises, functions and values', async () => {
    const t0 = GLib.get_monotonic_time();
    const values = await aio.gather([
        aio.sleep(0.1, 'slow'),
        aio.createTask(async () => {
            await Aio.sleep(0.05);
            return [1, 2];
        }),
        Promise.resolve('promise'),
        async () => 'function',
        Aio.Future.new_for_int64(5),
        'plain',
    ]);
    assertEqual(values, ['slow', [1, 2], 'promise', 'function', 5, 'plain'], 'values');
    assert(elapsed(t0) < 0.5, 'concurrently');
    assertEqual(await aio.gather([]), [], 'nothing to gather');
});

test('gather: the first error fails it, the other children go on', async () => {
    let finished = false;
    const other = aio.createTask(async () => {
        await Aio.sleep(0.5);
        finished = true;
        return 'other';
    });
    const e = await assertRejects(aio.gather([failing('first'), other]));
    assertEqual(e.message, 'first', 'the JS error of the child');
    assert(!other.is_done(), 'the other child is still running');
    assertEqual(await other, 'other', 'and finishes');
    assert(finished, 'finished');
});

test('gather with returnExceptions: errors take their place', async () => {
    const values = await aio.gather([aio.sleep(0, 1), failing('boom'), Aio.Future.new_for_error(
        new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'busy'))], {returnExceptions: true});
    assertEqual(values[0], 1, 'value');
    assert(values[1] instanceof Error && values[1].message === 'boom', 'JS error in place');
    assert(values[2] instanceof GLib.Error && values[2].matches(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY),
        'GLib.Error in place');
});

test('cancelling a gather cancels its children; a cancelled child does not cancel the gather', async () => {
    const log = [];
    let started = 0;
    const child = name => aio.createTask(async () => {
        started++;
        try {
            await Aio.sleep(10);
        } catch (e) {
            log.push(`${name}: ${aio.isCancelled(e)}`);
            throw e;
        }
    }, {name});
    const group = aio.gather([child('a'), child('b')]);
    await until(() => started === 2, 'the children');
    await Aio.sleep(0.01);
    await cancelled(group, 'all of them');
    await Aio.sleep(0.01);
    assertEqual(log.sort(), ['a: true', 'b: true'], 'children saw the cancellation');

    const c = child('c');
    const d = aio.createTask(async () => {
        await Aio.sleep(0.2);
        return 'd';
    });
    const group2 = aio.gather([c, d], {returnExceptions: true});
    await until(() => started === 3, 'child c');
    await Aio.sleep(0.01);
    c.cancel(null);
    const values = await group2;
    assert(aio.isCancelled(values[0]), 'the cancelled child');
    assertEqual(values[1], 'd', 'the other child');
});

test('waitFor: a timeout rejects with TIMED_OUT and cancels the JS task', async () => {
    const log = [];
    const slow = aio.createTask(async () => {
        try {
            await Aio.sleep(10);
        } catch (e) {
            log.push(`slow: ${aio.isCancelled(e)}`);
            throw e;
        }
    });
    const t0 = GLib.get_monotonic_time();
    const e = await assertRejects(aio.waitFor(slow, 0.1), aio.isTimedOut);
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT), 'TIMED_OUT');
    assert(elapsed(t0) >= 0.09 && elapsed(t0) < 1, `after the timeout (${elapsed(t0)})`);
    assert(slow.is_cancelled(), 'the inner task is cancelled');
    assertEqual(log, ['slow: true'], 'and saw it');
    assertEqual(await aio.waitFor(async () => {
        await Aio.sleep(0.01);
        return 'quick';
    }, 1), 'quick', 'in time: the value');
    assertEqual(await aio.waitFor(aio.sleep(0.01, 'none'), null), 'none', 'no timeout');
});

test('C combinators over JS futures: Aio.wait_for, Aio.gather, Aio.shield, Aio.wait', async () => {
    const jsTask = aio.createTask(async () => {
        await Aio.sleep(0.02);
        return 'from js';
    });
    assertEqual(await Aio.wait_for(jsTask, 5), 'from js', 'Aio.wait_for');

    const tasks = [1, 2, 3].map(i => aio.createTask(async () => {
        await Aio.sleep(0.01 * (4 - i));
        return {i};
    }));
    const bridge = aio.ensureFuture(new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
        resolve('bridged');
        return GLib.SOURCE_REMOVE;
    })));
    const group = Aio.gather([...tasks, bridge], false);
    assertEqual(await group, [{i: 1}, {i: 2}, {i: 3}, 'bridged'], 'Aio.gather (gather_array)');
    assertEqual(group.get_futures().length, 4, 'get_futures()');

    const timedOut = aio.createTask(() => Aio.sleep(10));
    await assertRejects(Aio.wait_for(timedOut, 0.01), aio.isTimedOut, 'Aio.wait_for timing out');
    assert(timedOut.is_cancelled(), 'cancelled by Aio.wait_for');

    const guarded = aio.createTask(async () => {
        await Aio.sleep(0.05);
        return 'kept';
    });
    const shield = Aio.shield(guarded);
    await cancelled(shield, null, 'the shield');
    assertEqual(await guarded, 'kept', 'the shielded task goes on');
    assertEqual(await aio.shield(aio.gather([aio.sleep(0, 'x')])), ['x'], 'a shielded gather');

    const fast = aio.createTask(async () => 'fast');
    const slow = aio.createTask(() => Aio.sleep(10));
    const done = await aio.wait([fast, slow], {returnWhen: Aio.WaitMode.FIRST_COMPLETED});
    assertEqual(done.length, 1, 'wait: one done');
    assert(done[0] === fast, 'wait: the fast one');
    slow.cancel(null);
    const timed = await aio.wait([aio.sleep(10)], {timeout: 0.01});
    assertEqual(timed.length, 0, 'wait: nothing done by the timeout');
});

test('timeout(): TIMED_OUT in the same task, which goes on; nested scopes; outside cancels stay', async () => {
    const me = aio.currentTask();
    const t0 = GLib.get_monotonic_time();
    const e = await assertRejects(aio.timeout(0.05, async () => {
        await Aio.sleep(10);
    }), aio.isTimedOut);
    assert(elapsed(t0) < 1, 'at the deadline');
    assertEqual(me.cancelling(), 0, 'the task is not being cancelled any more');
    assertEqual(await aio.timeout(1, () => aio.sleep(0.01, 'in time')), 'in time', 'in time');
    assertEqual(await aio.timeout(null, async () => 'no limit'), 'no limit', 'no deadline');

    const inner = await aio.timeout(5, async () => {
        try {
            await aio.timeout(0.02, () => Aio.sleep(10));
        } catch (err) {
            return aio.isTimedOut(err) ? 'inner timed out' : `${err}`;
        }
        return 'no';
    });
    assertEqual(inner, 'inner timed out', 'only the scope whose deadline fired reports it');

    const task = aio.createTask(() => aio.timeout(5, () => Aio.sleep(10)));
    await Aio.sleep(0.01);
    await cancelled(task, 'from outside', 'an outside cancellation');
    assertEqual(e.message, 'The operation timed out', 'message');

    const outside = await new Promise(resolve => GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        aio.timeout(1, async () => 1).then(resolve, resolve);
        return GLib.SOURCE_REMOVE;
    }));
    assert(outside instanceof GLib.Error && outside.matches(Aio.Error, Aio.Error.NOT_IN_TASK),
        `NOT_IN_TASK outside of a task (${outside})`);
});

test('timeout(): a deadline the body never saw (it awaited a plain promise) is taken back with the scope', async () => {
    const me = aio.currentTask();
    let resolvePlain;
    const scoped = aio.timeout(0.01, async () => {
        await new Promise(r => (resolvePlain = r));
        return 'not cancelled';
    });
    await new Promise(r => GLib.timeout_add(GLib.PRIORITY_DEFAULT, 50, () => {
        r();
        return GLib.SOURCE_REMOVE;
    }));
    resolvePlain();
    assertEqual(await scoped, 'not cancelled', 'the body succeeded, as in asyncio');
    assertEqual(me.cancelling(), 0, 'no cancellation left');
    assertEqual(await aio.sleep(0.01, 'after'), 'after', 'the next await is not cancelled');
});

test('tasks in an Aio.TaskGroup: a failure cancels the others, wait() reports it', async () => {
    const group = Aio.TaskGroup.new();
    const log = [];
    let siblingStarted = false;
    aio.createTask(async () => {
        await until(() => siblingStarted, 'the sibling');
        await Aio.sleep(0.01);
        throw new Error('member failed');
    }, {group, name: 'failing'});
    aio.createTask(async () => {
        siblingStarted = true;
        try {
            await Aio.sleep(10);
        } catch (err) {
            log.push(`sibling: ${aio.isCancelled(err)}`);
            throw err;
        }
    }, {group, name: 'sibling'});
    const e = await assertRejects(group.wait());
    assert(/member failed/.test(e.message), `the failure (${e.message})`);
    assertEqual(log, ['sibling: true'], 'the sibling was cancelled');
});

runTests();
