// test-errors.js: the error paths of aio.js — what a JS developer sees when
// something goes wrong: bad arguments, reads too early, async chains too
// deep for the module to follow, and failing tasks that nobody awaits
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, ticks} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

Gio._promisify(Gio.Subprocess.prototype, 'communicate_utf8_async', 'communicate_utf8_finish');

function isAioError(code) {
    return e => e instanceof GLib.Error && e.matches(Aio.Error, code);
}

function throwsSync(func) {
    try {
        func();
    } catch (e) {
        return e;
    }
    throw new Error('it did not throw');
}

// Runs @source as a GJS script with the module on its path; its stderr.
async function stderrOf(source) {
    const argv = ['timeout', '30', 'gjs'];
    for (const dir of imports.searchPath)
        argv.push('-I', dir);
    argv.push('-c', source);
    const proc = Gio.Subprocess.new(argv,
        Gio.SubprocessFlags.STDOUT_SILENCE | Gio.SubprocessFlags.STDERR_PIPE);
    const [, stderr] = await proc.communicate_utf8_async(null, null);
    return stderr;
}

test('createTask() of something that is not a function throws TypeError', async () => {
    for (const value of [Promise.resolve(1), 42, null]) {
        const e = throwsSync(() => aio.createTask(value));
        assert(e instanceof TypeError, `a TypeError for ${value} (${e})`);
    }
});

test('result() of a pending future throws INVALID_STATE', async () => {
    const future = aio.ensureFuture(Aio.sleep(10));
    const e = throwsSync(() => future.result());
    assert(isAioError(Aio.Error.INVALID_STATE)(e), `INVALID_STATE (${e})`);
    future.cancel(null);
});

test('get_value_nowait() on an empty queue: QUEUE_EMPTY, then QUEUE_SHUT_DOWN once shut down', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.FIFO, 0);
    assert(isAioError(Aio.Error.QUEUE_EMPTY)(throwsSync(() => queue.get_value_nowait())),
        'QUEUE_EMPTY');
    queue.shutdown(false);
    assert(isAioError(Aio.Error.QUEUE_SHUT_DOWN)(throwsSync(() => queue.get_value_nowait())),
        'QUEUE_SHUT_DOWN');
});

test('run() whose loop is stopped before main is done throws AIO_ERROR_STOPPED; the next run() works', () => {
    let error = null;
    try {
        aio.run(async () => {
            await Aio.sleep(0);
            Aio.Loop.get_running().stop();
            await Aio.sleep(10);
        });
    } catch (e) {
        error = e;
    }
    assert(isAioError(Aio.Error.STOPPED)(error), `AIO_ERROR_STOPPED (${error})`);
    assertEqual(aio.run(async () => 5), 5, 'the next run()');
}, {outsideLoop: true});

// ---- async chains deeper than SpiderMonkey's async stack -------------------

async function nested(depth, log) {
    await Aio.sleep(0);
    if (depth > 0)
        return nested(depth - 1, log);
    log.push('bottom');
    await Aio.sleep(10);
    return 'woke';
}

test('20 nested async calls: the bottom await is still the task\'s, cancel reaches it', async () => {
    const log = [];
    const task = aio.createTask(() => nested(20, log), {name: 'deep'});
    while (log.length === 0)
        await Aio.sleep(0.001);
    await cancelled(task, null, 'the task');
});

test('60 nested async calls: the await fails clearly instead of escaping its task', async () => {
    const log = [];
    const task = aio.createTask(() => nested(60, log), {name: 'too-deep'});
    const e = await assertRejects(aio.waitFor(task, 5), null, 'the task');
    assert(/cannot tell which task/.test(e.message), `the error says why (${e})`);
    assertEqual(log, [], 'it failed on its way down');
});

test('a task too deep to follow does not hang run(): it fails at that await, run() returns', async () => {
    // Before, the await escaped its task: a body looping down there never
    // saw the cancellation that run() sends at its end, and run() hung.
    const stderr = await stderrOf(`
        const aio = imports.aio;
        const {Aio} = aio;
        async function nested(n) {
            await Aio.sleep(0);
            if (n > 0)
                return nested(n - 1);
            for (;;)
                await Aio.sleep(0.01);
        }
        aio.run(async () => {
            const task = aio.createTask(() => nested(60), {name: 'deep'});
            await aio.wait([task]);
            try {
                task.result();
            } catch (e) {
                printerr('task: ' + e.message);
            }
        });
        printerr('run returned');
    `);
    assert(/task: aio-glib: cannot tell which task/.test(stderr), `the task failed clearly: ${stderr}`);
    assert(/run returned/.test(stderr), `run() returned: ${stderr}`);
}, {timeout: 60});

// ---- failures nobody awaits ----------------------------------------------------

test('a failing task nobody awaits is reported with logError and its JS stack', async () => {
    const stderr = await stderrOf(`
        const aio = imports.aio;
        const {Aio} = aio;
        function failHere() {
            throw new RangeError('nobody sees me');
        }
        aio.run(async () => {
            const lonely = aio.createTask(async () => {
                await Aio.sleep(0);
                failHere();
            }, {name: 'lonely'});
            // Turns of the loop, not time: is_done() observes nothing.
            while (!lonely.is_done())
                await Aio.sleep(0);
            for (let i = 0; i < 3; i++)
                await Aio.sleep(0);
            printerr('main goes on');
        });
    `);
    assert(/JS ERROR: aio-glib: unhandled error in task "lonely"/.test(stderr),
        `the report names the task: ${stderr}`);
    assert(/RangeError: nobody sees me/.test(stderr), `it gives the error: ${stderr}`);
    assert(/failHere@/.test(stderr), `it gives the JS stack: ${stderr}`);
    assert(stderr.indexOf('unhandled error') < stderr.indexOf('main goes on'),
        `reported while the loop runs: ${stderr}`);
    assert(!/was rejected and its error/.test(stderr), `no second, C report: ${stderr}`);
}, {timeout: 60});

test('failing tasks that are awaited, gathered, timed or in a group are not reported', async () => {
    const stderr = await stderrOf(`
        const aio = imports.aio;
        const {Aio} = aio;
        const failing = name => aio.createTask(async () => {
            await Aio.sleep(0);
            throw new Error(name);
        }, {name});
        aio.run(async () => {
            const awaited = failing('awaited');
            try { await awaited; } catch (e) {}
            const gathered = aio.gather([failing('gathered')], {returnExceptions: true});
            await gathered;
            try { await aio.waitFor(failing('timed'), 5); } catch (e) {}
            const group = Aio.TaskGroup.new();
            aio.createTask(async () => { throw new Error('member'); }, {group});
            try { await group.wait(); } catch (e) {}
            const read = failing('read');
            await aio.wait([read]);
            try { read.result(); } catch (e) {}
            await Aio.sleep(0.05);
        });
        printerr('done');
    `);
    assert(/done/.test(stderr), `the script ran: ${stderr}`);
    assert(!/unhandled error/.test(stderr), `no report: ${stderr}`);
}, {timeout: 60});

test('a failure not yet observed when run() ends is reported then', async () => {
    const stderr = await stderrOf(`
        const aio = imports.aio;
        const {Aio} = aio;
        aio.run(async () => {
            aio.createTask(async () => {
                throw new Error('at the end');
            }, {name: 'last'});
            await Aio.sleep(0);
        });
        printerr('after run');
    `);
    assert(/unhandled error in task "last"/.test(stderr), `reported: ${stderr}`);
    assert(stderr.indexOf('unhandled error') < stderr.indexOf('after run'),
        `before run() returns: ${stderr}`);
}, {timeout: 60});

runTests();
