#!/usr/bin/python3
# gio_echo.py: a TCP echo server and its clients, one task per connection
#
# The Python form of examples/gio-echo.c: a Gio.SocketService on
# 127.0.0.1 (a port the system picks), a task per connection it accepts,
# and five client tasks at once, within a time limit. Every GIO call is
# awaited with Aio.call_async().
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gi
gi.require_version('Aio', '1.0')
from gi.repository import Aio, GLib, Gio

N_CLIENTS = 5
N_LINES = 3


async def serve(connection):
    instream = connection.get_input_stream()
    outstream = connection.get_output_stream()
    while True:
        chunk = await Aio.call_async(instream.read_bytes_async, 4096, GLib.PRIORITY_DEFAULT)
        if chunk.get_size() == 0:
            break                           # the client closed
        await Aio.call_async(outstream.write_all_async, chunk.get_data(),
                             GLib.PRIORITY_DEFAULT)


def on_incoming(service, connection, source):
    Aio.create_task(serve(connection))     # the loop keeps it
    return True


async def client(number, port):
    connection = await Aio.call_async(Gio.SocketClient().connect_to_host_async,
                                      '127.0.0.1', port)
    instream = connection.get_input_stream()
    outstream = connection.get_output_stream()
    echoed = 0
    for i in range(N_LINES):
        line = f'line {i} of client {number}\n'.encode()
        await Aio.call_async(outstream.write_all_async, line, GLib.PRIORITY_DEFAULT)
        back = b''
        while len(back) < len(line):        # TCP may cut the echo in pieces
            chunk = await Aio.call_async(instream.read_bytes_async, 4096,
                                         GLib.PRIORITY_DEFAULT)
            if chunk.get_size() == 0:
                raise ConnectionError('the server closed the connection')
            back += chunk.get_data()
        if back != line:
            raise ValueError(f'echo mismatch: {back!r}')
        echoed += len(back)
    await Aio.call_async(connection.close_async, GLib.PRIORITY_DEFAULT)
    return echoed


async def main():
    service = Gio.SocketService()
    ok, bound = service.add_address(Gio.InetSocketAddress.new_from_string('127.0.0.1', 0),
                                    Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, None)
    service.connect('incoming', on_incoming)
    service.start()
    print('echo server listening on 127.0.0.1 (an ephemeral port)')

    clients = [client(i, bound.get_port()) for i in range(N_CLIENTS)]
    results = await Aio.wait_for(Aio.gather(*clients), 10.0)
    for i, echoed in enumerate(results):
        print(f'client {i}: {echoed} bytes echoed')

    service.stop()
    service.close()
    print('done')


Aio.run(main())
