// test-run.js: run(), the loop around it, and what GJS cannot do
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

function expectThrow(func, check, what) {
    try {
        func();
    } catch (e) {
        if (check && !check(e))
            throw new Error(`${what}: unexpected error ${e}`);
        return e;
    }
    throw new Error(`${what} did not throw`);
}

test('run() returns the value of the main function, on a fresh default loop each time', () => {
    const first = aio.run(async () => {
        await Aio.sleep(0.01);
        return Aio.Loop.get_running();
    });
    assert(first.is_closed(), 'run() closed its loop');
    const second = aio.run(async () => {
        await Aio.sleep(0);
        return {loop: Aio.Loop.get_running(), tasks: aio.allTasks().map(t => t.get_name())};
    }, {name: 'custom'});
    assert(second.loop !== first, 'a new loop');
    assertEqual(second.tasks, ['custom'], 'the main task, named');
}, {outsideLoop: true});

test('run() throws the error of the main function, the same JS object', () => {
    const error = new SyntaxError('oops');
    const e = expectThrow(() => aio.run(async () => {
        await Aio.sleep(0);
        throw error;
    }), null, 'run()');
    assert(e === error, 'same error');
    const c = expectThrow(() => aio.run(async () => {
        aio.currentTask().cancel('main cancelled');
        await Aio.sleep(1);
    }), aio.isCancelled, 'run() of a cancelled main');
    assertEqual(c.message, 'main cancelled', 'message');
}, {outsideLoop: true});

test('run() cancels the tasks left over and waits for them', () => {
    const log = [];
    aio.run(async () => {
        aio.createTask(async () => {
            try {
                await Aio.sleep(10);
            } finally {
                log.push('cleanup ran');
            }
        }, {name: 'leftover'});
        await Aio.sleep(0.01);
        log.push('main done');
    });
    assertEqual(log, ['main done', 'cleanup ran'], 'log');
}, {outsideLoop: true});

test('run() inside a running loop fails with AIO_ERROR_RUNNING', async () => {
    let error = null;
    try {
        aio.run(async () => {});
    } catch (e) {
        error = e;
    }
    assert(error !== null && error.matches(Aio.Error, Aio.Error.RUNNING), `AIO_ERROR_RUNNING (${error})`);
});

test('run() from async code run by a plain GLib.MainLoop fails with AIO_ERROR_RUNNING', () => {
    const mainLoop = new GLib.MainLoop(null, false);
    let error = null;
    (async () => {
        await Promise.resolve();
        try {
            aio.run(async () => {});
        } catch (e) {
            error = e;
        }
        mainLoop.quit();
    })();
    mainLoop.run();
    assert(error !== null && error.matches(Aio.Error, Aio.Error.RUNNING), `AIO_ERROR_RUNNING (${error})`);
}, {outsideLoop: true});

test('run() from a GLib.MainLoop callback or in Gio.Application\'s activate fails with AIO_ERROR_RUNNING, saying to create a task', () => {
    const isRefusal = e => e !== null && e.matches(Aio.Error, Aio.Error.RUNNING) &&
        /create a task on the default loop/.test(e.message);
    const mainLoop = new GLib.MainLoop(null, false);
    let ran = false;
    let error = null;
    GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
        try {
            aio.run(async () => {
                ran = true;
            });
        } catch (e) {
            error = e;
        }
        mainLoop.quit();
        return GLib.SOURCE_REMOVE;
    });
    mainLoop.run();
    assert(isRefusal(error), `AIO_ERROR_RUNNING from a callback (${error})`);
    // g_application_run() holds the default context while it emits activate.
    error = null;
    GLib.MainContext.default().acquire();
    try {
        aio.run(async () => {
            ran = true;
        });
    } catch (e) {
        error = e;
    } finally {
        GLib.MainContext.default().release();
    }
    assert(isRefusal(error), `AIO_ERROR_RUNNING with the context held (${error})`);
    assert(!ran, 'the main function never ran');
}, {outsideLoop: true});

test('no JS function on a worker thread: runInExecutor and the executor calls throw', () => {
    const check = e => /worker thread/.test(e.message) && /Gio\.Subprocess/.test(e.message);
    expectThrow(() => aio.runInExecutor(() => 1), check, 'aio.runInExecutor');
    expectThrow(() => Aio.run_in_executor(null, () => 1), check, 'Aio.run_in_executor');
    const loop = Aio.Loop.new();
    expectThrow(() => loop.run_in_executor(null, () => 1), check, 'Aio.Loop.run_in_executor');
    const executor = Aio.ThreadPoolExecutor.new(1);
    expectThrow(() => executor.submit(() => 1), check, 'Aio.Executor.submit');
    executor.shutdown(true);
    loop.close();
}, {outsideLoop: true});

test('tasks run wherever the default context is iterated: a GLib.MainLoop, no run()', () => {
    const mainLoop = new GLib.MainLoop(null, false);
    const log = [];
    const task = aio.createTask(async () => {
        log.push('start');
        await Aio.sleep(0.02);
        const other = aio.createTask(async () => {
            await Aio.sleep(0.01);
            return 'other';
        });
        log.push(await other);
        return 'done';
    });
    task.wait_async(null, () => mainLoop.quit());
    const guard = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5000, () => {
        mainLoop.quit();
        return GLib.SOURCE_REMOVE;
    });
    mainLoop.run();
    GLib.source_remove(guard);
    assertEqual(task.result(), 'done', 'value');
    assertEqual(log, ['start', 'other'], 'log');
    Aio.Loop.get_default().close();
}, {outsideLoop: true});

test('Aio and the rest of GJS interleave: setTimeout, GLib timeouts, promisified GIO', async () => {
    Gio._promisify(Gio.Subprocess.prototype, 'communicate_utf8_async', 'communicate_utf8_finish');
    const order = [];
    const timer = new Promise(resolve => setTimeout(() => {
        order.push('setTimeout');
        resolve();
    }, 30));
    const sleeper = (async () => {
        await Aio.sleep(0.01);
        order.push('Aio.sleep');
    })();
    const proc = Gio.Subprocess.new(['echo', 'from a subprocess'],
        Gio.SubprocessFlags.STDOUT_PIPE);
    const [stdout] = await proc.communicate_utf8_async(null, null);
    await Promise.all([timer, sleeper]);
    assertEqual(stdout.trim(), 'from a subprocess', 'subprocess output');
    assertEqual(order.sort(), ['Aio.sleep', 'setTimeout'], 'both ran');
});

runTests();
