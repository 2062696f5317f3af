// tap.js: a tiny TAP runner for the GJS tests of aio-glib
//
// Each test is an async function run as a task named "test", awaited with a
// timeout by the main task of its own aio.run() (so on a fresh default
// loop). The script prints
// "ok N - name" or "not ok N - name" per test, then the plan "1..N", and
// exits with status 1 if any test failed.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

/* exported test, runTests, assert, assertEqual, assertRejects, cancelled,
   elapsed, ticks, until */

'use strict';

const aio = imports.aio;
const {GLib} = imports.gi;

const tests = [];

/**
 * test:
 * @name: what the test checks
 * @func: an async function; for `{outsideLoop: true}` a plain one, called
 *   outside of any loop
 * @options: `timeout` in seconds (default 20), `outsideLoop`
 */
function test(name, func, options = {}) {
    tests.push({name, func, options});
}

function format(value) {
    try {
        if (value instanceof Error || value instanceof GLib.Error)
            return String(value);
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

function deepEqual(a, b) {
    if (Object.is(a, b))
        return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
        return false;
    if (Array.isArray(a) !== Array.isArray(b))
        return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => deepEqual(a[k], b[k]));
}

function assert(condition, what = 'assertion') {
    if (!condition)
        throw new Error(`${what} failed`);
}

function assertEqual(actual, expected, what = 'value') {
    if (!deepEqual(actual, expected))
        throw new Error(`${what}: got ${format(actual)}, expected ${format(expected)}`);
}

/**
 * assertRejects:
 * @awaitable: a promise or an Aio.Future
 * @check: optional predicate on the error
 *
 * Returns: (a promise of) the error
 */
async function assertRejects(awaitable, check, what = 'awaitable') {
    let value;
    try {
        value = await awaitable;
    } catch (e) {
        if (check && !check(e))
            throw new Error(`${what} failed with an unexpected error: ${format(e)}`);
        return e;
    }
    throw new Error(`${what} did not fail, it gave ${format(value)}`);
}

/**
 * cancelled:
 * @future: an Aio.Future or Aio.Task
 * @message: the reason given to cancel(), or null
 * @what: what is cancelled, for the error
 *
 * Cancels @future, then awaits it, failing unless it ends cancelled.
 *
 * Returns: (a promise of) its cancellation error
 */
async function cancelled(future, message, what = 'awaitable') {
    future.cancel(message);
    return await assertRejects(future, aio.isCancelled, what);
}

/**
 * elapsed:
 * @since: a GLib.get_monotonic_time() value
 *
 * Returns: the seconds since @since
 */
function elapsed(since) {
    return (GLib.get_monotonic_time() - since) / 1e6;
}

/**
 * ticks:
 * @n: how many
 *
 * Returns: a promise that settles after @n turns of the loop (Aio.sleep(0)
 *   each)
 */
async function ticks(n) {
    const {Aio} = aio;
    for (let i = 0; i < n; i++)
        await Aio.sleep(0);
}

/**
 * until:
 * @predicate: a function
 * @what: what is waited for, for the error
 *
 * Returns: a promise that settles once @predicate() is true, checking every
 *   5 ms of loop time; it fails after 10 s
 */
async function until(predicate, what = 'condition') {
    const {Aio} = aio;
    for (let i = 0; i < 2000; i++) {
        if (predicate())
            return;
        await Aio.sleep(0.005);
    }
    throw new Error(`timed out waiting for ${what}`);
}

function runTests() {
    let n = 0, failed = 0;
    for (const t of tests) {
        n++;
        try {
            if (t.options.outsideLoop)
                t.func();
            else
                aio.run(() => aio.waitFor(aio.createTask(t.func, {name: 'test'}),
                    t.options.timeout ?? 20));
            print(`ok ${n} - ${t.name}`);
        } catch (e) {
            failed++;
            print(`not ok ${n} - ${t.name}`);
            for (const line of `${format(e)}\n${e?.stack ?? ''}`.trimEnd().split('\n'))
                print(`# ${line}`);
        }
    }
    print(`1..${n}`);
    if (failed > 0)
        imports.system.exit(1);
}
