#!/usr/bin/python3
# test_socket.py: GSocket I/O awaited from coroutines (Aio.socket_*)
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import socket

from aiotest import Aio, AioTestCase, GLib, Gio, collect, main


def socket_pair():
    a, b = socket.socketpair()
    return Gio.Socket.new_from_fd(a.detach()), Gio.Socket.new_from_fd(b.detach())


def tcp_socket():
    return Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM,
                          Gio.SocketProtocol.TCP)


def tcp_listener():
    loopback = Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
    listener = tcp_socket()
    listener.bind(Gio.InetSocketAddress.new(loopback, 0), True)
    listener.listen()
    return listener, listener.get_local_address()


class SocketTest(AioTestCase):

    def test_round_trips(self):
        # Each reply is read from a future nobody keeps: the bytes must
        # outlive it (the future goes back to its pool at once).
        async def main():
            a, b = socket_pair()
            replies = []
            for i in range(20):
                message = b'message %d' % i
                sent = await Aio.socket_send_all(a, GLib.Bytes.new(message))
                self.assertEqual(sent, len(message))
                replies.append((await Aio.socket_receive(b, 100)).get_data())
                collect()
            a.close()
            end = await Aio.socket_receive(b, 100)
            return replies, end.get_data()
        replies, end = Aio.run(main())
        self.assertEqual(replies, [b'message %d' % i for i in range(20)])
        self.assertEqual(end, b'')

    def test_exported(self):
        # The override binds the socket calls itself (no proxy lookup per
        # call), as the typelib's GBytes forms under the plain names.
        for name in ('socket_receive', 'socket_send', 'socket_send_all',
                     'socket_accept', 'socket_connect'):
            self.assertIn(name, vars(Aio))
        self.assertEqual(Aio.socket_receive.get_arguments()[1].get_name(), 'max_size')

    def test_boxed_value_outlives_future(self):
        async def main():
            value = await Aio.sleep_value(0, GLib.Bytes.new(b'kept'))
            collect()
            for _ in range(5):
                await Aio.sleep_value(0, GLib.Bytes.new(b'other'))
            return value.get_data()
        self.assertEqual(Aio.run(main()), b'kept')

    def test_accept_connect_timeout(self):
        # A receive cut by wait_for read nothing: the data sent after it
        # goes to the next receive.
        async def main():
            listener, address = tcp_listener()
            client = tcp_socket()
            connecting = Aio.socket_connect(client, address)
            server = await Aio.socket_accept(listener)
            await connecting
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(Aio.socket_receive(server, 10), 0.01)
            await Aio.socket_send(client, GLib.Bytes.new(b'after'))
            data = (await Aio.socket_receive(server, 10)).get_data()
            client.close()
            server.close()
            listener.close()
            return data
        self.assertEqual(Aio.run(main()), b'after')


if __name__ == '__main__':
    main()
