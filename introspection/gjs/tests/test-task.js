// test-task.js: JS async functions as Aio tasks, and their cancellation
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, ticks, until} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

Gio._promisify(Gio.Subprocess.prototype, 'wait_async', 'wait_finish');

test('createTask: starts on a later iteration, gives its value to JS and C', async () => {
    let started = false;
    const task = aio.createTask(async () => {
        started = true;
        await Aio.sleep(0.01);
        return 'done';
    });
    assert(task instanceof Aio.Task, 'an Aio.Task');
    assert(!started, 'not started inside createTask()');
    assertEqual(await task, 'done', 'value');
    assert(started, 'ran');
    assertEqual(task.get_string(), 'done', 'C reads it with get_string()');

    const number = aio.createTask(async () => 1.5);
    await number;
    assertEqual(number.get_double(), 1.5, 'JS numbers are doubles for C');
    const none = aio.createTask(async () => {});
    assertEqual(await none, undefined, 'no value');
    assert(none.is_resolved(), 'resolved');
    const sync = aio.createTask(() => 'not async');
    assertEqual(await sync, 'not async', 'a plain function works too');
});

test('a failing task: JS awaiters get the JS error, C gets AIO_ERROR_FAILED', async () => {
    const error = new RangeError('out of range');
    const task = aio.createTask(async () => {
        await Aio.sleep(0);
        throw error;
    });
    const e = await assertRejects(task);
    assert(e === error, 'the same error object');
    assert(task.is_rejected(), 'rejected');
    assert(task.get_error().matches(Aio.Error, Aio.Error.FAILED), 'AIO_ERROR_FAILED');
    assertEqual(task.get_error().message, 'RangeError: out of range', 'message');

    const glibError = aio.createTask(async () => {
        throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED, 'no');
    });
    const e2 = await assertRejects(glibError);
    assert(e2.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED), 'a GLib.Error goes through as is');
});

test('all_tasks() lists JS tasks; currentTask() follows the body across awaits', async () => {
    const main = aio.currentTask();
    assertEqual(main.get_name(), 'test', 'the test runs as a task');
    const seen = [];
    async function helper(task) {
        await Aio.sleep(0);
        seen.push(aio.currentTask() === task);
        return 1;
    }
    const worker = aio.createTask(async () => {
        const me = aio.currentTask();
        seen.push(me !== null);
        await Aio.sleep(0.01);
        seen.push(aio.currentTask() === me);
        await helper(me);
        seen.push(aio.currentTask() === me);
        await Promise.resolve();
        seen.push(aio.currentTask() === me);
        await Aio.sleep(0.5);
    }, {name: 'worker'});
    await until(() => seen.length === 5, 'the worker');
    const names = Aio.Loop.get_running().all_tasks().map(t => t.get_name());
    assertEqual(names, ['main', 'test', 'worker'], 'all_tasks()');
    assert(aio.allTasks().includes(worker), 'allTasks() has the same wrapper');
    assert(aio.currentTask() === main, 'the test task is current again');
    await worker;
    assertEqual(seen, [true, true, true, true, true], 'current task at each point');
    assertEqual(aio.allTasks().length, 2, 'a done task is gone from all_tasks()');
});

test('cancel(): the body sees CANCELLED where it awaits, cleans up, the task ends cancelled', async () => {
    const log = [];
    const task = aio.createTask(async () => {
        try {
            await Aio.sleep(10);
            log.push('woke');
        } catch (e) {
            log.push(`caught ${aio.isCancelled(e)} ${e.message}`);
            throw e;
        } finally {
            log.push('finally');
        }
    });
    await Aio.sleep(0.01);
    assert(task.cancel('enough'), 'cancel() returns true');
    assertEqual(task.cancelling(), 1, 'cancelling()');
    const e = await assertRejects(task, aio.isCancelled);
    assertEqual(e.message, 'enough', 'message');
    assertEqual(log, ['caught true enough', 'finally'], 'what the body did');
    assert(task.is_cancelled(), 'cancelled');
    assert(!task.cancel('again'), 'cancelling a done task returns false');
});

test('cancel(), caught and uncancel()ed: the task goes on and returns', async () => {
    const task = aio.createTask(async () => {
        try {
            await Aio.sleep(10);
        } catch (e) {
            if (!aio.isCancelled(e))
                throw e;
            aio.currentTask().uncancel();
        }
        await Aio.sleep(0.01);
        return 'survived';
    });
    await Aio.sleep(0.01);
    task.cancel(null);
    assertEqual(await task, 'survived', 'value');
    assertEqual(task.cancelling(), 0, 'no cancellation left');
});

test('cancel() caught and swallowed without uncancel(): the task is done, as in asyncio', async () => {
    const task = aio.createTask(async () => {
        try {
            await Aio.sleep(10);
        } catch {
        }
    });
    await Aio.sleep(0.01);
    task.cancel(null);
    assertEqual(await task, undefined, 'no value');
    assert(task.is_resolved(), 'resolved');
    assertEqual(task.cancelling(), 1, 'cancelling() still counts the request');
});

test('cancellation reaches awaits after nested async functions and Promise.all return', async () => {
    const log = [];
    async function inner() {
        await Aio.sleep(0.01);
        return 'inner';
    }
    async function middle() {
        return await inner();
    }
    const task = aio.createTask(async () => {
        log.push(await middle());
        log.push((await Promise.all([inner(), inner()])).length);
        await Aio.sleep(10);
        log.push('not cancelled');
    });
    await until(() => log.length === 2, 'the body');
    await Aio.sleep(0.01);
    await cancelled(task, 'stop');
    assertEqual(log, ['inner', 2], 'log');
});

// Runs a task that awaits a plain promise, then what @between() gives,
// then a long sleep; cancels it with @message while it waits on the plain
// promise, and returns what the body logged: the value it got from
// @between() and how the sleep ended.
async function cancelDuringPlainPromise(between, message) {
    let resolvePlain;
    const log = [];
    const task = aio.createTask(async () => {
        await new Promise(r => (resolvePlain = r));
        log.push(await between());
        try {
            await Aio.sleep(10);
        } catch (e) {
            log.push(`next await: ${aio.isCancelled(e)} ${e.message}`);
            throw e;
        }
    });
    await Aio.sleep(0.01);
    task.cancel(message);
    await ticks(3);
    assert(!task.is_done(), 'still running: it waits on a JS promise');
    resolvePlain();
    await assertRejects(task, aio.isCancelled);
    return log;
}

test('cancelled while awaiting a plain promise: delivered at the next Aio await', async () => {
    assertEqual(await cancelDuringPlainPromise(() => 'plain promise done', 'later'),
        ['plain promise done', 'next await: true later'], 'log');
});

test('a pending cancellation does not take the value of a done future: it comes at the next await (C\'s rule)', async () => {
    // Done already: the pending cancel() cannot cancel it.
    const done = Aio.Future.new_for_loop(Aio.Loop.get_running());
    done.resolve_int64(5);
    assertEqual(await cancelDuringPlainPromise(() => done, 'after'),
        [5, 'next await: true after'], 'log');
});

test('after a promise settled by a GLib callback, awaits still belong to the task', async () => {
    const log = [];
    const task = aio.createTask(async () => {
        await new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        }));
        log.push(aio.currentTask()?.get_name());
        try {
            await Aio.sleep(10);
        } catch (e) {
            log.push(`cancelled: ${aio.isCancelled(e)}`);
            throw e;
        }
    }, {name: 'timer-task'});
    await until(() => log.length === 1, 'the timer');
    await Aio.sleep(0.01);
    await cancelled(task, null);
    assertEqual(log, ['timer-task', 'cancelled: true'], 'log');
});

test('async code started by a GLib callback belongs to no task, even if written in one', async () => {
    let callbackTask, callbackSleep = null;
    const task = aio.createTask(async () => {
        GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
            (async () => {
                callbackTask = aio.currentTask();
                try {
                    await Aio.sleep(0.05);
                    callbackSleep = 'slept';
                } catch (e) {
                    callbackSleep = e;
                }
            })();
            return GLib.SOURCE_REMOVE;
        });
        await Aio.sleep(10);
    });
    await until(() => callbackTask !== undefined, 'the callback');
    await cancelled(task, null);
    assertEqual(callbackTask, null, 'no current task in the callback');
    await until(() => callbackSleep !== null, "the callback's sleep");
    assertEqual(callbackSleep, 'slept', "the callback's sleep was not cancelled with the task");
});

test('a cancellation the body never saw wins over its value', async () => {
    let resolvePlain;
    const task = aio.createTask(async () => {
        await new Promise(r => (resolvePlain = r));
        return 'value';
    });
    await Aio.sleep(0.01);
    task.cancel('never seen');
    await ticks(2);
    resolvePlain();
    const e = await assertRejects(task, aio.isCancelled);
    assertEqual(e.message, 'never seen', 'message');
});

test('a task cancelled before it starts never runs its body', async () => {
    let ran = false;
    const task = aio.createTask(async () => {
        ran = true;
    });
    await cancelled(task, 'too soon');
    assert(!ran, 'the body never ran');
});

test('a task cancelled after its first step, before its function started, never runs it', async () => {
    let ran = false;
    const task = aio.createTask(async () => {
        ran = true;
    });
    // Queued after the task's first step, in the same turn of the loop:
    // before the promise job that calls the function.
    Aio.Loop.get_running().call_soon(() => task.cancel('just too soon'));
    const e = await assertRejects(task, aio.isCancelled);
    assert(!ran, 'the function never ran');
    assertEqual(e.message, 'just too soon', 'the message');
});

test('cancelling one task leaves the awaits of the others alone', async () => {
    const log = [];
    const make = name => aio.createTask(async () => {
        for (let i = 0; i < 5; i++) {
            await Aio.sleep(0.01);
            await Promise.resolve();
        }
        ready++;
        try {
            await Aio.sleep(0.3);
            log.push(`${name} woke`);
        } catch (e) {
            log.push(`${name} ${aio.isCancelled(e) ? 'cancelled' : e}`);
            throw e;
        }
    }, {name});
    let ready = 0;
    const tasks = ['a', 'b', 'c', 'd'].map(make);
    await until(() => ready === 4, 'the tasks');
    tasks[1].cancel(null);
    tasks[3].cancel(null);
    const results = await aio.gather(tasks, {returnExceptions: true});
    assertEqual(log.sort(), ['a woke', 'b cancelled', 'c woke', 'd cancelled'], 'log');
    assertEqual(results.map(r => r === undefined ? 'ok' : aio.isCancelled(r) ? 'cancelled' : r),
        ['ok', 'cancelled', 'ok', 'cancelled'], 'outcomes');
});

test('awaiting another task: cancelling the outer one cancels the inner one (asyncio)', async () => {
    const inner = aio.createTask(() => Aio.sleep(10), {name: 'inner'});
    const outer = aio.createTask(async () => await inner, {name: 'outer'});
    await Aio.sleep(0.01);
    await cancelled(outer, null);
    assert(inner.is_cancelled(), 'inner cancelled');
});

test("the task's GCancellable stops GIO calls made in it", async () => {
    const log = [];
    const task = aio.createTask(async () => {
        const me = aio.currentTask();
        const proc = Gio.Subprocess.new(['sleep', '10'], Gio.SubprocessFlags.NONE);
        log.push('started');
        try {
            await proc.wait_async(me.get_cancellable());
        } catch (e) {
            log.push(`wait: ${aio.isCancelled(e)}`);
            proc.force_exit();
            throw e;
        }
    });
    await until(() => log.length === 1, 'the subprocess');
    await Aio.sleep(0.01);
    await cancelled(task, null);
    assertEqual(log, ['started', 'wait: true'], 'the GIO call was cancelled');
});

test('a task awaiting itself fails with INVALID_STATE', async () => {
    const task = aio.createTask(async () => {
        await aio.currentTask();
    });
    await assertRejects(task, e => e.matches(Aio.Error, Aio.Error.INVALID_STATE));
});

test('many concurrent tasks', async () => {
    const tasks = [];
    for (let i = 0; i < 200; i++) {
        tasks.push(aio.createTask(async () => {
            await Aio.sleep(0.01 * (i % 5));
            await Aio.sleep(0);
            return i;
        }));
    }
    const values = await aio.gather(tasks);
    assertEqual(values, [...Array(200).keys()], 'values');
});

runTests();
