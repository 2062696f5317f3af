// gio-echo.js: a TCP echo server and its clients, one task per connection
//
// The JavaScript form of examples/gio-echo.c: a Gio.SocketService on
// 127.0.0.1 (a port the system picks), a task per connection it accepts,
// and five client tasks at once, within a time limit. Every GIO call is
// awaited with aio.callAsync(), which a timeout or a cancel stops in GIO.
//
//     gjs gio-echo.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {GLib, Gio} = imports.gi;

const N_CLIENTS = 5;
const N_LINES = 3;

async function serve(connection) {
    const input = connection.get_input_stream();
    const output = connection.get_output_stream();
    for (;;) {
        const chunk = await aio.callAsync(input, 'read_bytes_async', 4096, GLib.PRIORITY_DEFAULT);
        if (chunk.get_size() === 0)
            break;                          // the client closed
        await aio.callAsync(output, 'write_all_async', chunk.toArray(), GLib.PRIORITY_DEFAULT);
    }
}

async function client(number, port) {
    const connection = await aio.callAsync(new Gio.SocketClient(), 'connect_to_host_async',
        '127.0.0.1', port);
    const input = connection.get_input_stream();
    const output = connection.get_output_stream();
    let echoed = 0;
    for (let i = 0; i < N_LINES; i++) {
        const line = `line ${i} of client ${number}\n`;
        await aio.callAsync(output, 'write_all_async', new TextEncoder().encode(line),
            GLib.PRIORITY_DEFAULT);
        let back = '';
        while (back.length < line.length) {  // TCP may cut the echo in pieces
            // eslint-disable-next-line no-await-in-loop
            const chunk = await aio.callAsync(input, 'read_bytes_async', 4096,
                GLib.PRIORITY_DEFAULT);
            if (chunk.get_size() === 0)
                throw new Error('the server closed the connection');
            back += new TextDecoder().decode(chunk.toArray());
        }
        if (back !== line)
            throw new Error(`echo mismatch: ${back}`);
        echoed += back.length;
    }
    await aio.callAsync(connection, 'close_async', GLib.PRIORITY_DEFAULT);
    return echoed;
}

aio.run(async () => {
    const service = new Gio.SocketService();
    const [, bound] = service.add_address(
        Gio.InetSocketAddress.new_from_string('127.0.0.1', 0),
        Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, null);
    service.connect('incoming', (_service, connection) => {
        aio.createTask(() => serve(connection));   // the loop keeps it
        return true;
    });
    service.start();
    print('echo server listening on 127.0.0.1 (an ephemeral port)');

    const clients = [];
    for (let i = 0; i < N_CLIENTS; i++)
        clients.push(() => client(i, bound.get_port()));
    const results = await aio.waitFor(aio.gather(clients), 10);
    results.forEach((echoed, i) => print(`client ${i}: ${echoed} bytes echoed`));

    service.stop();
    service.close();
    print('done');
});
