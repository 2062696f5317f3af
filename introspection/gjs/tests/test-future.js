// test-future.js: awaiting Aio futures from GJS, and their values
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, elapsed} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

test('await Aio.sleep(0.2) waits 0.2 s of loop time, and gives undefined', async () => {
    const loop = Aio.Loop.get_running();
    assert(loop !== null, 'a running loop');
    const start = loop.time();
    const t0 = GLib.get_monotonic_time();
    const value = await Aio.sleep(0.2);
    assertEqual(value, undefined, 'value of a sleep');
    assert(loop.time() - start >= 0.19, `loop time advanced (${loop.time() - start})`);
    assert(elapsed(t0) < 1.0, `not too long (${elapsed(t0)})`);
});

test('await gives the value of futures of each C type', async () => {
    assertEqual(await Aio.Future.new_for_boolean(true), true, 'boolean');
    assertEqual(await Aio.Future.new_for_int64(-42), -42, 'int64');
    assertEqual(await Aio.Future.new_for_double(2.5), 2.5, 'double');
    assertEqual(await Aio.Future.new_for_string('héllo'), 'héllo', 'string');
    const cancellable = new Gio.Cancellable();
    assert(await Aio.Future.new_for_object(cancellable) === cancellable, 'object');
    assertEqual(await Aio.Future.new_resolved(), undefined, 'no value');
});

test('get_value() and result() read a done future, with or without a value', async () => {
    const f = Aio.Future.new_for_int64(7);
    assertEqual(f.get_value(), [true, 7], 'get_value()');
    assertEqual(f.result(), 7, 'result()');
    const none = Aio.Future.new_resolved();
    assertEqual(none.get_value(), [true, undefined], 'get_value() of no value');
    assertEqual(none.result(), undefined, 'result() of no value');
    const pending = Aio.Future.new();
    const e = await assertRejects((async () => pending.result())(), null, 'result() of a pending future');
    assert(e.matches(Aio.Error, Aio.Error.INVALID_STATE), 'INVALID_STATE');
    pending.resolve();
});

test('JS values travel through C futures: sleep(delay, value), resolve_value', async () => {
    const object = {a: [1, 2, 3]};
    assert(await aio.sleep(0.01, object) === object, 'an object, the same one');
    const array = [1, 'two', {three: 3}];
    assert(await aio.sleep(0, array) === array, 'an array (boxed on the way), the same one');
    const f = Aio.Future.new();
    f.resolve_value(['x']);
    assertEqual(await f, ['x'], 'resolve_value() of an array');
    assertEqual(await aio.sleep(0, 'text'), 'text', 'a string');
    assertEqual(await aio.sleep(0, 12), 12, 'a number');
    assertEqual(await aio.ensureFuture(null), null, 'null');
    assertEqual(await aio.ensureFuture(2n ** 40n), 2 ** 40, 'a BigInt becomes an int64');
});

test('await a rejected future throws its GLib.Error', async () => {
    const f = Aio.Future.new();
    f.reject(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND, 'no such thing'));
    const e = await assertRejects(f, err => err instanceof GLib.Error);
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'NOT_FOUND');
    assertEqual(e.message, 'no such thing', 'message');
    assert(f.is_rejected(), 'the future is rejected');
    const e2 = await assertRejects((async () => f.get_value())(), null, 'get_value() of it');
    assert(e2.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), 'get_value() throws the same error');
});

test('await a cancelled future throws CANCELLED with its message', async () => {
    const f = Aio.Future.new();
    const e = await cancelled(f, 'not needed');
    assertEqual(e.message, 'not needed', 'message');
    assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), 'matches(Gio.IOErrorEnum, CANCELLED)');
});

test('a future completed later wakes its awaiter, from a GLib timeout', async () => {
    const f = Aio.Future.new();
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 50, () => {
        f.resolve_string('late');
        return GLib.SOURCE_REMOVE;
    });
    assertEqual(await f, 'late', 'value');
});

test('futures work with promise machinery: then(), Promise.all, Promise.race', async () => {
    const doubled = await Aio.Future.new_for_int64(21).then(v => v * 2);
    assertEqual(doubled, 42, 'then()');
    const all = await Promise.all([Aio.Future.new_for_string('a'), aio.sleep(0.02, 'b'), 'c']);
    assertEqual(all, ['a', 'b', 'c'], 'Promise.all');
    const slow = Aio.sleep(5);
    const first = await Promise.race([slow, aio.sleep(0.01, 'fast')]);
    assertEqual(first, 'fast', 'Promise.race');
    slow.cancel(null);
    const caught = await Aio.Future.new_for_error(new GLib.Error(Aio.Error, Aio.Error.FAILED, 'x'))
        .then(() => 'resolved', e => `rejected: ${e.message}`);
    assertEqual(caught, 'rejected: x', 'then(_, onRejected)');
});

test('wait_async is promisified', async () => {
    const f = aio.sleep(0.01, 5);
    assertEqual(await f.wait_async(null), true, 'wait_async() without a callback');
    assertEqual(f.result(), 5, 'value');
    const failed = Aio.Future.new_for_error(new GLib.Error(Aio.Error, Aio.Error.FAILED, 'nope'));
    await assertRejects(failed.wait_async(null), e => e.matches(Aio.Error, Aio.Error.FAILED));
});

test('done callbacks run on a later iteration, in order', async () => {
    const f = Aio.Future.new();
    const seen = [];
    f.add_done_callback(() => seen.push(1));
    f.add_done_callback(future => seen.push(future.result()));
    f.resolve_int64(2);
    assertEqual(seen, [], 'not inside resolve');
    await Aio.sleep(0);
    await Aio.sleep(0);
    assertEqual(seen, [1, 2], 'callbacks');
});

test('a promise bridged to a future: value, JS error, cancelled bridge', async () => {
    assertEqual(await aio.ensureFuture(Promise.resolve({k: 1})), {k: 1}, 'value');

    const error = new TypeError('bad type');
    const f = aio.ensureFuture(Promise.reject(error));
    const e = await assertRejects(f);
    assert(e === error, 'JS awaiters get the same JS error');
    const cError = f.get_error();
    assert(cError.matches(Aio.Error, Aio.Error.FAILED), 'C sees AIO_ERROR_FAILED');
    assertEqual(cError.message, 'TypeError: bad type', 'C message');

    let resolveLater;
    const bridge = aio.ensureFuture(new Promise(r => (resolveLater = r)));
    bridge.cancel('gave up');
    resolveLater('too late');
    await assertRejects(bridge, aio.isCancelled);
    await Aio.sleep(0.01);
    assert(bridge.is_cancelled(), 'stays cancelled');
});

runTests();
