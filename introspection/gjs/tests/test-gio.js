// test-gio.js: GIO calls awaited with aio.callAsync(), cancelled in GIO
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects, cancelled, until} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

// Two ends of a TCP connection over loopback, on an ephemeral port.
async function connectedPair() {
    const listener = new Gio.SocketListener();
    const [, bound] = listener.add_address(
        Gio.InetSocketAddress.new_from_string('127.0.0.1', 0),
        Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, null);
    const client = new Gio.SocketClient();
    const [accepted, far] = await aio.gather([
        aio.callAsync(listener, 'accept_async'),
        aio.callAsync(client, 'connect_async', bound),
    ]);
    listener.close();
    return [Array.isArray(accepted) ? accepted[0] : accepted, far];
}

function text(bytes) {
    return new TextDecoder().decode(bytes.toArray());
}

// GIO has reported: nothing is pending on the stream, and the next read
// gets what the peer writes.
async function checkFree(near, far) {
    const input = near.get_input_stream();
    assert(!input.has_pending(), 'no operation left pending');
    far.get_output_stream().write_all(new TextEncoder().encode('ping'), null);
    const bytes = await aio.callAsync(input, 'read_bytes_async', 16, GLib.PRIORITY_DEFAULT);
    assertEqual(text(bytes), 'ping', 'the next read works');
}

test('callAsync: the value of the _finish, or its error', async () => {
    const [near, far] = await connectedPair();
    far.get_output_stream().write_all(new TextEncoder().encode('hello'), null);
    const bytes = await aio.callAsync(near.get_input_stream(), 'read_bytes_async', 16,
        GLib.PRIORITY_DEFAULT);
    assert(bytes instanceof GLib.Bytes, 'a GLib.Bytes');
    assertEqual(text(bytes), 'hello', 'read');
    const missing = Gio.File.new_for_path('/nonexistent/aio-test-gio');
    await assertRejects(aio.callAsync(missing, 'load_contents_async'),
        e => e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND));
});

test('waitFor() around a GIO call cancels it in GIO before it throws', async () => {
    const [near, far] = await connectedPair();
    const call = aio.callAsync(near.get_input_stream(), 'read_bytes_async', 16,
        GLib.PRIORITY_DEFAULT);
    assert(call instanceof Aio.GioCall, 'an Aio.GioCall');
    await assertRejects(aio.waitFor(call, 0.01), aio.isTimedOut);
    await checkFree(near, far);
});

test('timeout() around a GIO call cancels it in GIO before it throws', async () => {
    const [near, far] = await connectedPair();
    await assertRejects(aio.timeout(0.01, async () => {
        await aio.callAsync(near.get_input_stream(), 'read_bytes_async', 16,
            GLib.PRIORITY_DEFAULT);
    }), aio.isTimedOut);
    await checkFree(near, far);
});

test('task.cancel(): the task sees CANCELLED once GIO has', async () => {
    const [near, far] = await connectedPair();
    const input = near.get_input_stream();
    const log = [];
    const task = aio.createTask(async () => {
        try {
            await aio.callAsync(input, 'read_bytes_async', 16, GLib.PRIORITY_DEFAULT);
        } catch (e) {
            log.push(`${aio.isCancelled(e)} pending=${input.has_pending()}`);
            throw e;
        }
    });
    await until(() => input.has_pending(), 'the read');
    await cancelled(task, null);
    assertEqual(log, ['true pending=false'], 'cancelled in GIO first');
    await checkFree(near, far);
});

test('callAsync: a method that is not there is a TypeError', async () => {
    let error = null;
    try {
        aio.callAsync(Gio.File.new_for_path('/'), 'no_such_async');
    } catch (e) {
        error = e;
    }
    assert(error instanceof TypeError, 'TypeError');
});

runTests();
