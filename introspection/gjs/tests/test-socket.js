// test-socket.js: GSocket I/O awaited with Aio.socket_*()
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

function tcpSocket() {
    return Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM,
        Gio.SocketProtocol.TCP);
}

// Two ends of a TCP connection over loopback, made with Aio.socket_accept()
// and Aio.socket_connect().
async function connectedPair() {
    const listener = tcpSocket();
    listener.bind(Gio.InetSocketAddress.new_from_string('127.0.0.1', 0), true);
    listener.listen();
    const client = tcpSocket();
    const connecting = Aio.socket_connect(client, listener.get_local_address());
    const server = await Aio.socket_accept(listener);
    await connecting;
    listener.close();
    return [client, server];
}

const encode = s => new GLib.Bytes(new TextEncoder().encode(s));
const decode = bytes => new TextDecoder().decode(bytes.toArray());

test('send_all and receive carry bytes both ways; the end is empty bytes', async () => {
    const [client, server] = await connectedPair();
    for (let i = 0; i < 10; i++) {
        assertEqual(await Aio.socket_send_all(client, encode(`message ${i}`)),
            `message ${i}`.length, 'all sent');
        assertEqual(decode(await Aio.socket_receive(server, 100)), `message ${i}`,
            'received');
    }
    client.close();
    assertEqual((await Aio.socket_receive(server, 100)).get_size(), 0, 'end of stream');
    server.close();
});

test('waitFor() cuts a receive, which read nothing', async () => {
    const [client, server] = await connectedPair();
    await assertRejects(aio.waitFor(Aio.socket_receive(server, 10), 0.01), aio.isTimedOut);
    await Aio.socket_send(client, encode('after'));
    assertEqual(decode(await Aio.socket_receive(server, 10)), 'after', 'nothing lost');
    client.close();
    server.close();
});

runTests();
