// aio.js: aio-glib for GJS — await Aio futures, run async functions as tasks
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Load it with the legacy importer; it is installed in $datadir/gjs-1.0, on
// GJS's search path (aio.mjs beside it is the ES module form):
//
//     const aio = imports.aio;
//     const {Aio} = aio;
//
//     aio.run(async () => {
//         print('Hello!');
//         await Aio.sleep(1.0);
//         print('Goodbye!');
//     });
//
// Importing it patches the Aio namespace once per process:
//
// - Aio.Future (and so Aio.Task) is thenable: `await future` gives its value
//   or throws its error (a GLib.Error; cancellation is
//   Gio.IOErrorEnum.CANCELLED, a timeout Gio.IOErrorEnum.TIMED_OUT).
// - Aio.Future.prototype.wait_async is promisified (Gio._promisify), as is
//   any other `_async`/`_finish` pair of the namespace.
// - Aio.Future.prototype.result() reads a done future's value as a JS value;
//   get_value() no longer trips over futures that hold no value.
// - Helpers in asyncio's image: run(), createTask(), ensureFuture(),
//   gather(), sleep(), waitFor(), timeout(), shield(), wait(),
//   currentTask(), allTasks(), isCancelled(), isTimedOut().
// - Values that GJS cannot put in a GValue by itself (arrays, functions) are
//   boxed in a JS object on their way into C and unboxed on their way out.
// - The executor entry points throw: a JS function must never run on a
//   worker thread (see runInExecutor()).
//
// See docs/javascript.md for the tutorial.
//
// Where JavaScript's limits force the design (read this first). Checked
// against GJS 1.74 / SpiderMonkey 102:
//
// - Finding the running task takes the stack. JavaScript has no per-task
//   context (no AsyncContext; SpiderMonkey 102 has none, and GJS offers no
//   hook around the promise jobs it runs), and an async function resumes
//   from GJS's promise job queue, which the module neither drives nor can
//   run inside a C step. So a JS body cannot be made C's current task
//   around each resumption, and the module must find "the task running
//   this code" itself. The only trace the engine keeps of it is the async
//   stack, which `new Error().stack` shows: the module starts each body
//   from a function named after its task (`__aio_task_<id>`: one method
//   with a computed name, which stacks show, see taskFrame()) and looks for
//   that frame. SpiderMonkey keeps about 60 frames of async stack, so past
//   about 25 nested async calls the frame is lost; the module then throws
//   at the await rather than let it escape its task's cancellation.
// - For the same reason a JS body is never C's current task, not even
//   before its first await: it starts from a promise job, outside the C
//   step. C's rules that use the current task would otherwise see a body
//   as a task before its first await and as "outside of tasks" after it.
//   For the C calls that bind to the current task and may take a turn of
//   the loop, the module has the task make them in a step of its own
//   (TaskRecord.callInStep()): timeout() is C's Aio.Timeout, entered and
//   exited there. A lock cannot be served that way: release() must act at
//   once, in the body's own synchronous code, which runs outside any step;
//   so the module keeps a lock's JS owner itself and checks releases
//   against it (see "locks held by JS tasks").
// - Cancellation is C's where C can see it: cancel(), uncancel() and
//   cancelling() are the C task's, and so are its GCancellable, timeouts
//   (Aio.Timeout), a cancellation before the first step, the message, and
//   the end of a task whose body settled while a cancellation it never saw
//   stands (the step ends without a value, and C makes the task cancelled
//   with its message). What C cannot see is what the body awaits: a C stepped task
//   waits on the one future its step returns, while a JS body awaits from
//   promise jobs, plain promises C knows nothing of, and several futures
//   at once (Promise.all). So the step returns a private "wake" future,
//   and C delivers a cancellation to that; the module passes it on to the
//   futures the body awaits, or keeps it for the body's next await of a
//   future, by C's rules for stepped tasks (aio_task_wait_on(),
//   aio_task_run_step()): the next future awaited is cancelled; a future
//   already done keeps its outcome. And since the body starts from a
//   promise job after the first step, a cancellation in between is the
//   module's to honour: the function is then never called.
// - A JS function cannot run on a worker thread: the executor entry points
//   throw (see runInExecutor()).
//
// How tasks work. createTask() makes a *stepped* Aio.Task (C sees it in
// all_tasks(), it has a name, a GCancellable, cancel()/uncancel()). The C
// side waits on a private "wake" future that the module resolves when the
// JS body settles. The body's own awaits go through Aio.Future's `then`.
// To deliver a cancellation into the body, as asyncio does, the module must
// know which task each `await future` belongs to: every later segment of
// the body, and of the async functions it calls, has the task's frame at
// the bottom of its (async) stack. `then` is a getter, so it runs
// synchronously where the `await` is, and finds the task there. An `await
// future` of the task's body is thus tied to the task: task.cancel()
// cancels that future, and the body sees CANCELLED where it stands. Code
// that does not descend from the body — a signal handler, a GLib callback,
// the top level — awaits on behalf of no task.

/* exported Aio, run, createTask, callAsync, ensureFuture, gather, sleep, waitFor,
   shield, wait, timeout, currentTask, allTasks, isCancelled, isTimedOut,
   runInExecutor, version */

'use strict';

if (!imports.gi.versions.Aio)
    imports.gi.versions.Aio = '1.0';

const {GLib, GObject, Gio} = imports.gi;
var Aio = imports.gi.Aio;

var version = '1.0';

// ---- private keys --------------------------------------------------------

// Expando properties on GObject wrappers: GJS keeps a wrapper that has some
// alive as long as its GObject, so they survive a JS garbage collection.
const PATCHED = Symbol.for('aio-glib.gjs.patched');
const RECORD = Symbol('aio-glib task record');
const JS_ERROR = Symbol('aio-glib original JS error');
const KIND = Symbol('aio-glib future kind');
const SOURCES = Symbol('aio-glib futures a future mirrors');
const BOXED = Symbol('aio-glib boxed value');

const NO_EXECUTOR_MESSAGE =
    'aio-glib: JavaScript functions cannot run on a worker thread, so ' +
    'run_in_executor() and executor submit() are not available from GJS. ' +
    'Run blocking work as a subprocess (Gio.Subprocess), call a C or ' +
    'Python function that uses the executor, use the _async variant of the ' +
    'GIO call, or split the work into GLib idle chunks (see ' +
    'docs/javascript.md, "Blocking work").';

// ---- errors --------------------------------------------------------------

function cancelledError(message) {
    return new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED,
        message ?? GLib.dgettext('aio-glib', 'The task was cancelled'));
}

function describeError(e) {
    if (e instanceof Error)
        return `${e.name}: ${e.message}`;
    try {
        return String(e);
    } catch {
        return 'JavaScript error';
    }
}

/**
 * isCancelled:
 * @error: anything caught
 *
 * Returns: whether @error is a cancellation (Gio.IOErrorEnum.CANCELLED,
 *   asyncio's CancelledError)
 */
function isCancelled(error) {
    return error instanceof GLib.Error &&
        error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

/**
 * isTimedOut:
 * @error: anything caught
 *
 * Returns: whether @error is a timeout (Gio.IOErrorEnum.TIMED_OUT, asyncio's
 *   TimeoutError), as waitFor() rejects with
 */
function isTimedOut(error) {
    return error instanceof GLib.Error &&
        error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.TIMED_OUT);
}

// The original JS error behind @glibError, the error of @future: set on
// @future itself when a JS body or promise failed, or found on the future
// it mirrors (the child a gather failed with, the future of a wait_for or a
// shield).
function jsErrorOf(future, glibError) {
    const own = future[JS_ERROR];
    if (own !== undefined)
        return own;
    for (const source of future[SOURCES] ?? []) {
        if (!source.is_rejected())
            continue;
        const e = source.get_error();
        if (e !== null && e.domain === glibError.domain &&
            e.code === glibError.code && e.message === glibError.message) {
            const original = jsErrorOf(source, e);
            if (original !== undefined)
                return original;
        }
    }
    return undefined;
}

// The error a JS awaiter sees for a failed future: the original JS error
// when a JS body or promise failed with one, else the GLib.Error.
function errorOf(future, glibError) {
    if (glibError === undefined) {
        try {
            future.propagate();
            return new GLib.Error(Aio.Error, Aio.Error.INVALID_STATE,
                'The future did not fail');
        } catch (e) {
            glibError = e;
        }
    }
    if (!(glibError instanceof GLib.Error))
        return glibError;
    return jsErrorOf(future, glibError) ?? glibError;
}

// ---- values --------------------------------------------------------------

function box(value) {
    return {[BOXED]: value};
}

function unbox(value) {
    if (value !== null && typeof value === 'object' && BOXED in value)
        return value[BOXED];
    return value;
}

function isGuessError(e) {
    return !(e instanceof GLib.Error) && e instanceof Error &&
        /guess|convert/i.test(e.message);
}

// Calls @func with @value at @index, boxed if GJS cannot guess its GValue
// type. Nothing reaches C when the guess fails, so the retry is safe.
function callWithValue(func, self, args, index) {
    try {
        return func.apply(self, args);
    } catch (e) {
        if (!isGuessError(e))
            throw e;
        const boxed = [...args];
        boxed[index] = box(args[index]);
        return func.apply(self, boxed);
    }
}

function kindOf(future) {
    const kind = future[KIND];
    if (kind !== undefined)
        return kind;
    // Futures made in C carry no tag: their (private) GType tells.
    const match = /GType:(\w+)/.exec(String(future));
    if (match?.[1] === 'AioGatherFuture')
        return 'gather';
    if (match?.[1] === 'AioWaitFuture')
        return 'wait';
    return 'plain';
}

// Remembers what a combinator's @future holds and which futures it mirrors.
function tag(future, kind, sources) {
    if (!future)
        return future;
    if (kind !== 'plain')
        future[KIND] = kind;
    future[SOURCES] = [...sources];
    return future;
}

const originalGetValue = Aio.Future.prototype.get_value;

// aio_future_get_value() leaves its (caller-allocated) GValue unset for a
// future resolved with no value; GJS then logs two GLib-GObject criticals
// and throws. The library has no way yet to say "no value" beforehand, so
// silence those two criticals around the call. (This is the one place to
// change once it has.)
function rawValue(future) {
    const handler = GLib.log_set_handler('GLib-GObject',
        GLib.LogLevelFlags.LEVEL_CRITICAL, () => {});
    try {
        return originalGetValue.call(future)[1];
    } catch (e) {
        if (!(e instanceof GLib.Error) && /GType \(null\)/.test(e.message))
            return undefined;
        throw e;
    } finally {
        GLib.log_remove_handler('GLib-GObject', handler);
    }
}

// The JS value of a resolved future. Throws its error if it failed.
function readValue(future) {
    switch (kindOf(future)) {
    case 'gather':
        return future.get_futures().map(child =>
            child.is_resolved() ? readValue(child) : errorOf(child));
    case 'wait':
        return future.get_futures();
    }
    try {
        return unbox(rawValue(future));
    } catch (e) {
        if (e instanceof GLib.Error)
            throw e;
        throw new TypeError(`aio-glib: cannot read the value of ${future}: ${e.message}`);
    }
}

// Completes a future (or returns from a task) with a JS value.
function complete(target, value, isTask) {
    const m = isTask
        ? ['return', 'return_boolean', 'return_double', 'return_int64',
            'return_string', 'return_object', 'return_value']
        : ['resolve', 'resolve_boolean', 'resolve_double', 'resolve_int64',
            'resolve_string', 'resolve_object', 'resolve_value'];

    if (value === undefined)
        target[m[0]]();
    else if (typeof value === 'boolean')
        target[m[1]](value);
    else if (typeof value === 'number')
        target[m[2]](value);
    else if (typeof value === 'bigint')
        target[m[3]](value);
    else if (typeof value === 'string')
        target[m[4]](value);
    else if (value instanceof GObject.Object)
        target[m[5]](value);
    else
        target[m[6]](value);   // patched: boxes what GJS cannot guess
}

function fail(target, error, isTask) {
    let glibError = error;
    if (!(error instanceof GLib.Error)) {
        target[JS_ERROR] = error;
        glibError = new GLib.Error(Aio.Error, Aio.Error.FAILED,
            describeError(error));
    }
    if (isTask)
        target.return_error(glibError);
    else
        target.reject(glibError);
}

// ---- which task is awaiting ----------------------------------------------

// The function every task's body is started from, named after the task:
// every later segment of the body has its frame at the bottom of its async
// stack (see the top of the file). A method with a computed name gets that
// name when it is made, and stack traces show it: one compiled function
// serves every task.
function taskFrame(id, func) {
    const name = `__aio_task_${id}`;
    return {async [name]() {
        return await func();
    }}[name];
}

const TASK_FRAME = /__aio_task_(\d+)@/;
const records = new Map();   // id → WeakRef(TaskRecord), while the body runs
const recordCleanup = new FinalizationRegistry(id => {
    if (records.get(id)?.deref() === undefined)
        records.delete(id);
});
let nextRecordId = 1;

// SpiderMonkey keeps about 60 frames of async stack; past that it keeps
// only the innermost ones, which all continue an `await` ("async*" frames).
// A stack without a task frame that ends in a long run of those may have
// lost its task's frame.
const ASYNC_FRAME = /^async\*/;
const TRUNCATED_AT = 15;

function looksTruncated(stack) {
    const frames = stack.split('\n').filter(line => line !== '');
    if (frames.length === 0 || !ASYNC_FRAME.test(frames[frames.length - 1]))
        return false;
    return frames.filter(line => ASYNC_FRAME.test(line)).length >= TRUNCATED_AT;
}

// The task record whose body (or an async function it called) is running:
// the innermost task frame of the current, async-aware, stack. Throws when
// the stack is too deep to tell: the await would otherwise escape its
// task's cancellation, and a cancelled task would never stop.
function currentRecord() {
    const stack = new Error().stack;
    const match = TASK_FRAME.exec(stack);
    if (match === null) {
        if (looksTruncated(stack)) {
            throw new Error('aio-glib: cannot tell which task this code ' +
                'belongs to: it runs deeper in nested async calls (about 25) ' +
                'than the async stack SpiderMonkey keeps. Run the deep part ' +
                'as a task of its own (await aio.createTask(...)), or make ' +
                'the chain shallower (see docs/javascript.md, "Which awaits ' +
                'belong to a task").');
        }
        return null;
    }
    return records.get(Number(match[1]))?.deref() ?? null;
}

// Waits for @future on behalf of @record (a task record or null), then calls
// deliver(ok, valueOrError) in the loop's thread.
function waitOn(future, record, deliver) {
    if (record !== null && future === record.task) {
        deliver(false, new GLib.Error(Aio.Error, Aio.Error.INVALID_STATE,
            'A task cannot await itself'));
        return;
    }

    observe(future);
    const entry = {future};
    if (record !== null) {
        record.waits.add(entry);
        // asyncio: a cancellation that found nothing to cancel cancels the
        // next future the body waits for.
        if (record.cancelPending && future.cancel(record.cancelMessage))
            record.cancelPending = false;
    }

    future.wait_async(null, (f, res) => {
        let ok, value;
        try {
            f.wait_finish(res);
            value = readValue(f);
            ok = true;
        } catch (e) {
            value = errorOf(f, e);
            ok = false;
        }
        if (record !== null) {
            record.waits.delete(entry);
            // C's rule for stepped tasks (aio_task_run_step()): a future
            // cancelled while a cancellation was pending delivers the
            // task's; one that completed with an outcome (a queue's item,
            // a lock) keeps it, and the cancellation comes at the next
            // await.
            if (record.cancelPending && f.is_cancelled()) {
                record.cancelPending = false;
                value = cancelledError(record.cancelMessage);
            }
        }
        deliver(ok, value);
    });
}

function futureThen(future, record, onFulfilled, onRejected) {
    let resolveOut, rejectOut;
    const out = new Promise((resolve, reject) => {
        resolveOut = resolve;
        rejectOut = reject;
    });
    waitOn(future, record, (ok, value) => {
        const handler = ok ? onFulfilled : onRejected;
        if (typeof handler !== 'function') {
            (ok ? resolveOut : rejectOut)(value);
            return;
        }
        try {
            resolveOut(handler(value));
        } catch (e) {
            rejectOut(e);
        }
    });
    return out;
}

// ---- failures nobody awaits ------------------------------------------------

// A JS task whose function threw, and that nothing observes (no await, no
// combinator, no TaskGroup, no read of its outcome), is reported as GJS
// reports a promise rejection nobody handles: with logError() and the JS
// stack of the error, once the loop has turned after the failure (or when
// run() ends). The C library's own "never retrieved" warning comes only
// when the task is finalized, which for a JS task may be at exit, and it
// has no JS stack.
const OBSERVED = Symbol('aio-glib outcome observed');
const unobserved = new Set();   // failed JS tasks to check

function observe(future) {
    if (future instanceof Aio.Future) {
        future[OBSERVED] = true;
        unobserved.delete(future);
    }
    return future;
}

function reportUnobserved(task) {
    if (!unobserved.delete(task) || task[OBSERVED])
        return;
    const error = task[JS_ERROR] ?? task.get_error();
    logError(error, `aio-glib: unhandled error in task "${task.get_name()}", ` +
        'which nobody awaits (asyncio: "Task exception was never retrieved"). ' +
        'Await the task, gather it, or catch the error in its function');
    // Reported once: the C library need not warn again.
    task.get_error();
}

function watchFailure(task) {
    if (task[OBSERVED])
        return;
    unobserved.add(task);
    const loop = task.get_loop();
    // One turn of the loop, then the promise jobs it ran: what an awaiter
    // registered by then has seen the failure.
    loop.call_soon(() => Promise.resolve().then(() => reportUnobserved(task)));
}

// ---- tasks ---------------------------------------------------------------

class TaskRecord {
    constructor(func) {
        this.id = nextRecordId++;
        this.func = func;
        this.task = null;
        this.wake = null;
        this.outcome = null;
        this.waits = new Set();
        this.cancelPending = false;
        this.cancelMessage = null;
        this.inStep = [];
    }

    // Calls @func inside the task's next step, where the task is C's
    // current task, as a JS body never is (see the top of the file): for
    // the C calls that bind to the current task (Aio.Timeout). The step
    // comes on the loop's next iteration. Returns a promise of what @func
    // returns or throws.
    callInStep(func) {
        return new Promise((resolve, reject) => {
            this.inStep.push({func, resolve, reject});
            if (this.wake !== null && !this.wake.is_done())
                this.wake.resolve();
        });
    }

    _runCallsInStep() {
        for (const call of this.inStep.splice(0)) {
            try {
                call.resolve(call.func());
            } catch (e) {
                call.reject(e);
            }
        }
    }

    // C takes back a cancellation the body has not seen yet once no
    // request is left (aio_task_uncancel()): so does the module.
    uncancelled() {
        if (this.task.cancelling() === 0)
            this.cancelPending = false;
    }

    _newWake(task) {
        this.wake = Aio.Future.new_for_loop(task.get_loop());
        return this.wake;
    }

    // The AioStepFunc.
    step(task, completed) {
        if (completed === null) {
            this._newWake(task);
            // The body starts from a promise job, never inside this step:
            // so it is never C's current task, not even until its first
            // await (see the top of the file).
            Promise.resolve().then(() => this._start());
            return this.wake;
        }

        this._runCallsInStep();
        if (completed.is_cancelled()) {
            if (this.outcome === null) {
                this._deliverCancel(completed.get_error()?.message ?? null);
                return this._newWake(task);
            }
            // The body settled before the cancellation reached it.
            this._finish(task, true);
            return null;
        }

        if (this.outcome === null) {
            // Only the module resolves the wake future: once the body
            // settled, or for calls to make in a step (callInStep()).
            return this._newWake(task);
        }
        this._finish(task, this.cancelPending);
        return null;
    }

    _start() {
        if (this.outcome !== null)
            return;
        if (this.cancelPending) {
            // Cancelled after its first step but before the promise job
            // that starts it: as in asyncio, the function is never called
            // (the step ends the task cancelled, see _finish()).
            this._settle({ok: true, value: undefined});
            return;
        }
        records.set(this.id, new WeakRef(this));
        recordCleanup.register(this, this.id);
        taskFrame(this.id, this.func)().then(
            value => this._settle({ok: true, value}),
            error => this._settle({ok: false, error}));
    }

    _settle(outcome) {
        this.outcome = outcome;
        this.func = null;
        if (!this.wake.is_done())
            this.wake.resolve();
    }

    _deliverCancel(message) {
        let delivered = false;
        for (const entry of [...this.waits]) {
            if (entry.future.cancel(message))
                delivered = true;
        }
        if (!delivered) {
            this.cancelPending = true;
            this.cancelMessage = message;
        }
    }

    // Ends the task with the body's outcome, unless a cancellation reached
    // the task that the body never saw (@cancelWins): then the step just
    // ends without a value, and C makes the task cancelled, with the
    // message of its last cancel(): C's rule for a body that returns while
    // a delivered cancellation stands, and asyncio's "a cancel() the body
    // never saw wins over its return value".
    _finish(task, cancelWins) {
        const outcome = this.outcome;
        records.delete(this.id);
        this.waits.clear();
        this.wake = null;
        if (cancelWins) {
            return;
        } else if (outcome.ok) {
            // Even undefined is returned explicitly: C takes a body that
            // just ends while a cancellation stands as cancelled (that is
            // how C bodies let one through), but a JS function that caught
            // the cancellation and returned is done, as a coroutine is in
            // asyncio (and in the Python override).
            complete(task, outcome.value, true);
        } else {
            fail(task, outcome.error, true);
            watchFailure(task);
        }
    }
}

function defaultLoop() {
    return Aio.Loop.get_running() ?? Aio.Loop.get_default();
}

/**
 * createTask:
 * @func: an async function (or any function returning a promise, an
 *   Aio.Future or a value), called with no arguments
 * @options: optional; `name` (the task's name), `loop` (the Aio.Loop,
 *   by default the running one, else the default one) or `group` (an
 *   Aio.TaskGroup to create the task in, asyncio's TaskGroup.create_task())
 *
 * Runs @func as an Aio.Task (asyncio's create_task()). @func starts on the
 * loop's next iteration, not inside createTask(). The task is a stepped
 * task, so C code sees it: in all_tasks(), through cancel() and
 * get_cancellable(); but never as Aio.Task.get_current() (use
 * currentTask()). A failure that nothing awaits is reported with
 * logError(), as GJS reports a promise rejection nobody handles. Its value is what @func
 * returns; its error what @func throws.
 *
 * Returns: (Aio.Task) the task, which is thenable
 */
function createTask(func, options = {}) {
    if (typeof func !== 'function') {
        throw new TypeError('createTask() takes a function, such as an async ' +
            'function (use ensureFuture() for a promise)');
    }
    const record = new TaskRecord(func);
    const step = (t, completed) => record.step(t, completed);
    const task = options.group
        ? options.group.create_stepped_task(step)
        : (options.loop ?? defaultLoop()).create_stepped_task(step);
    record.task = task;
    task[RECORD] = record;
    if (options.group)
        observe(task);   // the group reports its members' failures
    if (options.name !== undefined && options.name !== null)
        task.set_name(String(options.name));
    return task;
}

/**
 * currentTask:
 *
 * Returns: (Aio.Task or null) the task running the caller (asyncio's
 *   current_task()): the JS task whose function, or an async function it
 *   called, is running; else the C task stepping; else null
 */
function currentTask() {
    return currentRecord()?.task ?? Aio.Task.get_current();
}

/**
 * allTasks:
 * @loop: optional Aio.Loop, by default the running one, else the default
 *
 * Returns: (Aio.Task[]) the pending tasks of @loop (asyncio's all_tasks())
 */
function allTasks(loop) {
    return (loop ?? defaultLoop()).all_tasks();
}

// ---- futures from JS -----------------------------------------------------

function isThenable(value) {
    return value !== null &&
        (typeof value === 'object' || typeof value === 'function') &&
        typeof value.then === 'function';
}

function futureFromPromise(promise, loop) {
    const future = Aio.Future.new_for_loop(loop ?? defaultLoop());
    Promise.resolve(promise).then(value => {
        if (!future.is_done())
            complete(future, value, false);
    }, error => {
        if (!future.is_done())
            fail(future, error, false);
    });
    return future;
}

/**
 * callAsync:
 * @object: the object, interface or namespace holding the method
 * @method: the name of a GIO-style `_async` method of @object
 * @args: its arguments up to, not including, the cancellable
 *
 * Calls @object[@method](...@args, cancellable, callback) and returns an
 * Aio.GioCall, a future for what the matching `_finish` returns (or
 * throws). Unlike a promisified call, it is cancelled in GIO by whatever
 * cancels the future — task.cancel(), waitFor(), timeout() — and stays
 * pending until GIO has reported, so the object it used is free when the
 * await throws.
 *
 *     const bytes = await aio.waitFor(
 *         aio.callAsync(stream, 'read_bytes_async', 4096, GLib.PRIORITY_DEFAULT), 5);
 *
 * Returns: (Aio.GioCall) the call
 */
function callAsync(object, method, ...args) {
    const finishName = method.replace(/_async$/, '_finish');
    if (typeof object?.[method] !== 'function' || typeof object[finishName] !== 'function')
        throw new TypeError(`${method}/${finishName} are not methods of ${object}`);
    const call = Aio.GioCall.new_for_loop(defaultLoop());
    const cancellable = call.get_cancellable();
    object[method](...args, cancellable, (source, result) => {
        let value;
        try {
            value = object[finishName](result);
        } catch (e) {
            if (call.is_done())
                return;
            if (cancellable.is_cancelled() && isCancelled(e))
                call.return_result(result);   // cancelled, with its message
            else
                fail(call, e, false);
            return;
        }
        if (!call.is_done())
            complete(call, value, false);
    });
    return call;
}

/**
 * ensureFuture:
 * @value: an Aio.Future, a function (run as a task), a promise or other
 *   thenable, or a plain value
 * @options: optional; `loop`, and `name` for a task
 *
 * Returns: (Aio.Future) @value as a future (asyncio's ensure_future()): an
 *   Aio.Future as is, a function through createTask(), a promise bridged
 *   to a new future that settles with it, anything else a resolved future.
 *   Cancelling a promise's future does not stop the promise, which has no
 *   way to be stopped; its outcome is then dropped.
 */
function ensureFuture(value, options = {}) {
    if (value instanceof Aio.Future)
        return value;
    if (typeof value === 'function')
        return createTask(value, options);
    if (isThenable(value))
        return futureFromPromise(value, options.loop);
    const future = Aio.Future.new_for_loop(options.loop ?? defaultLoop());
    complete(future, value, false);
    return future;
}

function toFutures(awaitables, options) {
    return Array.from(awaitables, a => ensureFuture(a, options));
}

/**
 * gather:
 * @awaitables: an iterable of futures, tasks, promises, functions or values
 * @options: optional; `returnExceptions` (default false)
 *
 * asyncio's gather(), on aio_gather_array(): a future whose value is the
 * array of the children's values, in order. Without returnExceptions, the
 * first error fails it while the others go on; with it, errors take their
 * child's place in the array. Cancelling it cancels the children.
 *
 * Returns: (Aio.Future) the gathering future
 */
function gather(awaitables, options = {}) {
    return Aio.gather(toFutures(awaitables, options),
        Boolean(options.returnExceptions));
}

/**
 * sleep:
 * @seconds: the delay
 * @value: optional value the future resolves with (asyncio's
 *   sleep(delay, result))
 *
 * Returns: (Aio.Future) a future that resolves after @seconds
 */
function sleep(seconds, value) {
    if (value === undefined)
        return Aio.sleep(seconds);
    return Aio.sleep_value(seconds, value);
}

function timeoutArg(timeout) {
    return timeout === undefined || timeout === null ? Infinity : timeout;
}

/**
 * waitFor:
 * @awaitable: what to wait for (see ensureFuture())
 * @timeout: seconds, or null/undefined/Infinity for none
 *
 * asyncio's wait_for(): a future with @awaitable's outcome, or rejected with
 * Gio.IOErrorEnum.TIMED_OUT once @timeout expires, which cancels
 * @awaitable.
 *
 * Returns: (Aio.Future)
 */
function waitFor(awaitable, timeout) {
    return Aio.wait_for(ensureFuture(awaitable), timeoutArg(timeout));
}

/**
 * shield:
 * @awaitable: what to protect (see ensureFuture())
 *
 * Returns: (Aio.Future) asyncio's shield(): cancelling it leaves @awaitable
 *   running
 */
function shield(awaitable) {
    return Aio.shield(ensureFuture(awaitable));
}

/**
 * wait:
 * @awaitables: an iterable of awaitables (see ensureFuture())
 * @options: optional; `timeout` (seconds) and `returnWhen` (an
 *   Aio.WaitMode, default ALL_COMPLETED)
 *
 * asyncio's wait(): a future whose value is the array of the futures done
 * when it returns.
 *
 * Returns: (Aio.Future)
 */
function wait(awaitables, options = {}) {
    return Aio.wait(toFutures(awaitables, options), timeoutArg(options.timeout),
        options.returnWhen ?? Aio.WaitMode.ALL_COMPLETED);
}

/**
 * timeout:
 * @seconds: the delay, or null/undefined/Infinity for none
 * @func: an async function, run in the current task
 *
 * asyncio's `async with timeout(seconds)`: runs @func in the current task
 * (not in a task of its own, unlike waitFor()). If @seconds pass first, the
 * task is cancelled, so @func sees CANCELLED where it awaits; if that
 * cancellation comes out of @func, timeout() takes it back and rejects with
 * Gio.IOErrorEnum.TIMED_OUT instead. A cancellation from elsewhere stays a
 * cancellation. Scopes nest. The scope is C's Aio.Timeout, entered and
 * exited in the task's steps (one turn of the loop each), where the task
 * is C's current task.
 *
 * Returns: (a promise of) @func's value
 */
async function timeout(seconds, func) {
    const record = currentRecord();
    if (record === null) {
        throw new GLib.Error(Aio.Error, Aio.Error.NOT_IN_TASK,
            'timeout() must be awaited in a task');
    }
    const scope = await record.callInStep(() => Aio.Timeout.enter(timeoutArg(seconds)));
    let value, error = null;
    try {
        value = await func();
    } catch (e) {
        error = e;
    }
    // exit_with() disarms the timer and, when it fired, takes the scope's
    // cancellation back from the task; it throws TIMED_OUT when the
    // cancellation was the scope's own, and CANCELLED when it came from
    // elsewhere (then the body's own error goes on).
    try {
        await record.callInStep(() => {
            try {
                return scope.exit_with(error !== null && isCancelled(error));
            } finally {
                record.uncancelled();
            }
        });
    } catch (e) {
        if (isTimedOut(e))
            throw e;
    }
    if (error !== null)
        throw error;
    return value;
}

/**
 * runInExecutor:
 *
 * Always throws: JavaScript functions cannot run on worker threads.
 */
function runInExecutor() {
    throw new Error(NO_EXECUTOR_MESSAGE);
}

// ---- run -----------------------------------------------------------------

function cancelAll(loop) {
    const pending = loop.all_tasks();
    if (pending.length === 0)
        return;
    for (const task of pending)
        task.cancel(null);
    try {
        loop.run_until_complete(Aio.gather(pending, true));
    } catch (e) {
        logError(e, 'aio-glib: while cancelling the remaining tasks');
    }
}

/**
 * run:
 * @main: an async function (see createTask())
 * @options: optional; `name` of the main task
 *
 * asyncio's run(): runs @main as a task on the default loop until it is
 * done, cancels the tasks still pending and waits for them, shuts down the
 * default executor, closes the loop (the next run() gets a fresh one), and
 * returns @main's value or throws its error.
 *
 * It iterates the default GMainContext, which also runs GJS's promise jobs
 * and every other GLib source. Call it from the top level of a script,
 * never from async code or a callback of the running loop.
 *
 * Returns: @main's value
 */
function run(main, options = {}) {
    if (Aio.Loop.get_running() !== null) {
        throw new GLib.Error(Aio.Error, Aio.Error.RUNNING,
            'run() cannot be called from a running loop');
    }
    // In a GTK application no Aio loop "runs", but GJS may be running
    // promise jobs, and could not run the main function's from in there.
    if (GLib.main_current_source()?.get_name() === 'GjsPromiseJobQueueSource') {
        throw new GLib.Error(Aio.Error, Aio.Error.RUNNING,
            'run() cannot be called from async code');
    }
    // Nor from a callback of a GLib main loop (an application's signal
    // handler), or while Gio.Application.run() holds the default context:
    // it would block that loop until done.
    if (GLib.main_depth() > 0 || GLib.MainContext.ref_thread_default().is_owner()) {
        throw new GLib.Error(Aio.Error, Aio.Error.RUNNING,
            'run() cannot be called while a main loop is running in this ' +
            'thread (Gtk.Application.run(), GLib.MainLoop.run()), as it ' +
            'would block that loop until done; create a task on the ' +
            'default loop instead (createTask())');
    }
    const loop = Aio.Loop.get_default();
    const task = createTask(main, {loop, name: options.name ?? 'main'});
    try {
        let stopped = null;
        try {
            loop.run_until_complete(task);
        } catch (e) {
            stopped = e;
        }
        if (!task.is_done())
            throw stopped;
        return task.result();
    } finally {
        observe(task);
        cancelAll(loop);
        loop.shutdown_default_executor();
        for (const failed of [...unobserved]) {
            if (failed.get_loop() === loop)
                reportUnobserved(failed);
        }
        loop.close();
    }
}

// ---- locks held by JS tasks ----------------------------------------------

// The acquisitions of a lock made from JS, oldest first: {future, record,
// wait}. C serves a lock's acquisitions in order, so the holder is the
// first one served (a resolved acquire() future, or a done Condition
// wait(), which always ends with the lock held again), until it releases.
const HOLDS = Symbol('aio-glib acquisitions of a lock');

function taskName(record) {
    return record === null ? 'code outside of tasks'
        : `task "${record.task.get_name()}"`;
}

function addHold(lock, future, record, wait) {
    if (!future)
        return future;
    lock[HOLDS] ??= [];
    lock[HOLDS].push({future, record, wait});
    return future;
}

// The JS holder of @lock: its entry, or undefined when the lock is free or
// held by C code.
function holderOf(lock) {
    const holds = lock[HOLDS];
    if (holds === undefined || !lock.is_locked())
        return undefined;
    // Acquisitions withdrawn (cancelled before they were served) never
    // hold the lock.
    for (let i = holds.length - 1; i >= 0; i--) {
        const h = holds[i];
        if (!h.wait && h.future.is_done() && !h.future.is_resolved())
            holds.splice(i, 1);
    }
    return holds.find(h => h.wait ? h.future.is_done() : h.future.is_resolved());
}

// Throws unless the running JS code holds @lock; returns its entry.
function checkHeld(lock, what) {
    const holder = holderOf(lock);
    if (holder === undefined) {
        if (!lock.is_locked())
            throw new Error(`aio-glib: ${what}: the lock is not acquired`);
        return undefined;   // held by C code: C checks
    }
    const current = currentRecord();
    if (holder.record !== current) {
        throw new Error(`aio-glib: ${what}: the lock is held by ` +
            `${taskName(holder.record)}, not by ${taskName(current)}`);
    }
    return holder;
}

function dropHold(lock, holder) {
    if (holder !== undefined)
        lock[HOLDS].splice(lock[HOLDS].indexOf(holder), 1);
}

// A JS body is never C's current task (see the top of the file), so C
// records every acquisition from JS as made "outside of tasks" and lets
// any caller release it. The module keeps the owner instead: the JS task
// whose body acquired, found as every await finds its task.
function patchLocks() {
    const Lock = Aio.Lock.prototype;
    const acquire = Lock.acquire;
    const release = Lock.release;
    const getOwner = Lock.get_owner;
    Lock.acquire = function () {
        return addHold(this, acquire.call(this), currentRecord(), false);
    };
    Lock.release = function () {
        const holder = checkHeld(this, 'Lock.release()');
        dropHold(this, holder);
        release.call(this);
    };
    Lock.get_owner = function () {
        const holder = holderOf(this);
        return holder === undefined ? getOwner.call(this)
            : holder.record?.task ?? null;
    };

    const Condition = Aio.Condition.prototype;
    const wait = Condition.wait;
    const waitFor = Condition.wait_for;
    const notify = Condition.notify;
    const notifyAll = Condition.notify_all;
    Condition.acquire = function () {
        return this.get_lock().acquire();
    };
    Condition.release = function () {
        this.get_lock().release();
    };
    // wait() gives the lock up and takes it again before its future
    // completes, however it completes: the waiter holds it again then.
    const waiting = (original, what) => function (...args) {
        const lock = this.get_lock();
        const holder = checkHeld(lock, what);
        const future = original.apply(this, args);
        if (future && holder !== undefined) {
            dropHold(lock, holder);
            addHold(lock, future, holder.record, true);
        }
        return future;
    };
    Condition.wait = waiting(wait, 'Condition.wait()');
    Condition.wait_for = waiting(waitFor, 'Condition.wait_for()');
    Condition.notify = function (n) {
        checkHeld(this.get_lock(), 'Condition.notify()');
        notify.call(this, n);
    };
    Condition.notify_all = function () {
        checkHeld(this.get_lock(), 'Condition.notify_all()');
        notifyAll.call(this);
    };
}

// A release too many: the rule is C's (aio_semaphore_check_release()),
// whose GLib.Error is thrown here where C would only log a critical.
function patchSemaphores() {
    const Semaphore = Aio.Semaphore.prototype;
    const release = Semaphore.release;
    Semaphore.release = function () {
        this.check_release();
        release.call(this);
    };
}

// ---- patching the namespace ----------------------------------------------

function patch() {
    const Future = Aio.Future.prototype;
    if (Object.prototype.hasOwnProperty.call(Future, PATCHED))
        return;
    Object.defineProperty(Future, PATCHED, {value: true});

    // Thenable. `then` is a getter so that it runs synchronously where the
    // `await` is, and sees which task is running.
    Object.defineProperty(Future, 'then', {
        configurable: true,
        enumerable: false,
        get() {
            const future = this;
            const record = currentRecord();
            return function then(onFulfilled, onRejected) {
                return futureThen(future, record, onFulfilled, onRejected);
            };
        },
    });

    Future.result = function result() {
        observe(this);
        if (!this.is_done()) {
            throw new GLib.Error(Aio.Error, Aio.Error.INVALID_STATE,
                'The future is not done yet');
        }
        if (!this.is_resolved())
            throw errorOf(this);
        return readValue(this);
    };

    // GJS 1.74 converts a caller-allocated GValue even when the call failed,
    // which loses the GError: check the state first.
    Future.get_value = function get_value() {
        observe(this);
        if (!this.is_resolved())
            this.propagate();   // throws the future's error
        return [true, readValue(this)];
    };

    // Whatever reads a future's outcome, or will, has observed it.
    // (Not wait_async(): Gio._promisify() tells its forms apart by the
    // method's arity; awaits observe in waitOn().)
    for (const name of ['get_error', 'propagate', 'add_done_callback',
        'get_futures']) {
        const original = Future[name];
        Future[name] = function (...args) {
            observe(this);
            return original.apply(this, args);
        };
    }

    const resolveValue = Future.resolve_value;
    Future.resolve_value = function resolve_value(value) {
        return callWithValue(resolveValue, this, [value], 0);
    };
    const returnValue = Aio.Task.prototype.return_value;
    Aio.Task.prototype.return_value = function return_value(value) {
        return callWithValue(returnValue, this, [value], 0);
    };
    const newForValue = Aio.Future.new_for_value;
    Aio.Future.new_for_value = function new_for_value(value) {
        return callWithValue(newForValue, this, [value], 0);
    };
    const sleepValue = Aio.sleep_value;
    Aio.sleep_value = function sleep_value(seconds, value) {
        return callWithValue(sleepValue, this, [seconds, value], 1);
    };

    const Queue = Aio.Queue.prototype;
    for (const name of ['put_value', 'put_value_nowait',
        'put_value_with_priority', 'put_value_threadsafe']) {
        const original = Queue[name];
        Queue[name] = function (...args) {
            return callWithValue(original, this, args, 0);
        };
    }
    // As for get_value(): an empty queue has to be caught before the call.
    const getValueNowait = Queue.get_value_nowait;
    Queue.get_value_nowait = function get_value_nowait() {
        if (this.is_empty()) {
            if (this.is_shut_down()) {
                throw new GLib.Error(Aio.Error, Aio.Error.QUEUE_SHUT_DOWN,
                    GLib.dgettext('aio-glib', 'The queue is shut down'));
            }
            throw new GLib.Error(Aio.Error, Aio.Error.QUEUE_EMPTY,
                GLib.dgettext('aio-glib', 'The queue is empty'));
        }
        const [ok, value] = getValueNowait.call(this);
        return [ok, unbox(value)];
    };

    // uncancel() that takes back the last request also takes back one the
    // module still had to deliver.
    const uncancel = Aio.Task.prototype.uncancel;
    Aio.Task.prototype.uncancel = function () {
        const left = uncancel.call(this);
        this[RECORD]?.uncancelled();
        return left;
    };

    // Combinators: remember what kind of value their future holds.
    // A future given to a combinator is observed: the combinator reads it.
    const cGather = Aio.gather;
    Aio.gather = function (futures, returnExceptions = false) {
        futures.forEach(observe);
        return tag(cGather(futures, returnExceptions), 'gather', futures);
    };
    const cWait = Aio.wait;
    Aio.wait = function (futures, timeout = Infinity,
        returnWhen = Aio.WaitMode.ALL_COMPLETED) {
        futures.forEach(observe);
        return tag(cWait(futures, timeout, returnWhen), 'wait', []);
    };
    const cShield = Aio.shield;
    Aio.shield = function (future) {
        return tag(cShield(observe(future)), kindOf(future), [future]);
    };
    const cWaitFor = Aio.wait_for;
    Aio.wait_for = function (future, timeout = Infinity) {
        return tag(cWaitFor(observe(future), timeout), kindOf(future), [future]);
    };
    const cAsCompleted = Aio.as_completed;
    Aio.as_completed = function (futures, ...rest) {
        futures.forEach(observe);
        return cAsCompleted(futures, ...rest);
    };

    patchLocks();
    patchSemaphores();

    // No JS function on a worker thread.
    const refuse = function () {
        throw new Error(NO_EXECUTOR_MESSAGE);
    };
    Aio.run_in_executor = refuse;
    Aio.Loop.prototype.run_in_executor = refuse;
    Aio.Executor.prototype.submit = refuse;

    // Promise-returning forms of every _async/_finish pair.
    for (const name of Object.keys(Aio)) {
        const klass = Aio[name];
        const proto = typeof klass === 'function' ? klass.prototype : null;
        if (!proto || !(proto instanceof GObject.Object || klass === Aio.Future))
            continue;
        for (const method of Object.getOwnPropertyNames(proto)) {
            if (!method.endsWith('_async'))
                continue;
            const finish = method.replace(/_async$/, '_finish');
            if (typeof proto[finish] === 'function')
                Gio._promisify(proto, method, finish);
        }
    }
}

patch();
