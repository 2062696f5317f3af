#!/usr/bin/python3
# test_gio.py: awaiting GIO's _async/_finish methods with Aio.call_async()
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import tempfile

from aiotest import Aio, AioTestCase, GLib, Gio, main


class CallAsyncTest(AioTestCase):

    def setUp(self):
        super().setUp()
        fd, self.path = tempfile.mkstemp(prefix='aio-test-')
        os.write(fd, b'hello from a file')
        os.close(fd)

    def tearDown(self):
        os.unlink(self.path)
        super().tearDown()

    def test_bound_method(self):
        async def main():
            file = Gio.File.new_for_path(self.path)
            ok, contents, etag = await Aio.call_async(file.load_contents_async)
            self.assertTrue(ok)
            return contents
        self.assertEqual(Aio.run(main()), b'hello from a file')

    def test_positional_arguments(self):
        async def main():
            file = Gio.File.new_for_path(self.path)
            stream = await Aio.call_async(file.read_async, GLib.PRIORITY_DEFAULT)
            data = await Aio.call_async(stream.read_bytes_async, 5, GLib.PRIORITY_DEFAULT)
            await Aio.call_async(stream.close_async, GLib.PRIORITY_DEFAULT)
            return data.get_data()
        self.assertEqual(Aio.run(main()), b'hello')

    def test_static_function(self):
        # A constructor-style _async function finds its _finish too.
        async def main():
            file, stream = await Aio.call_async(Gio.File.new_tmp_async, None,
                                                GLib.PRIORITY_DEFAULT)
            path = file.get_path()
            stream.close()
            file.delete()
            return path
        self.assertTrue(Aio.run(main()).startswith(GLib.get_tmp_dir()))

    def test_explicit_finish(self):
        async def main():
            file = Gio.File.new_for_path(self.path)
            return await Aio.call_async(file.query_info_async, 'standard::size',
                                        Gio.FileQueryInfoFlags.NONE, GLib.PRIORITY_DEFAULT,
                                        finish=file.query_info_finish)
        self.assertEqual(Aio.run(main()).get_size(), len(b'hello from a file'))

    def test_error(self):
        async def main():
            file = Gio.File.new_for_path(self.path + '.missing')
            with self.assertRaises(GLib.Error) as caught:
                await Aio.call_async(file.load_contents_async)
            self.assertTrue(caught.exception.matches(Gio.io_error_quark(),
                                                     Gio.IOErrorEnum.NOT_FOUND))
        Aio.run(main())

    def test_cancelling_task_cancels_operation(self):
        # accept_async() waits until someone connects: only cancelling
        # the task stops it.
        finished = []

        async def accept(listener):
            try:
                await Aio.call_async(listener.accept_async)
            finally:
                finished.append(True)

        async def main():
            listener = Gio.SocketListener()
            address = Gio.InetSocketAddress.new_from_string('127.0.0.1', 0)
            listener.add_address(address, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, None)
            await self.cancel_started(accept(listener), 0.01)
            self.assertEqual(finished, [True])
            listener.close()
        Aio.run(main())

    def test_timeout_cancels_operation(self):
        async def main():
            listener = Gio.SocketListener()
            address = Gio.InetSocketAddress.new_from_string('127.0.0.1', 0)
            listener.add_address(address, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP, None)
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(Aio.call_async(listener.accept_async), 0.01)
            listener.close()
        Aio.run(main())

    def _socket_pair(self):
        import socket
        pair = []
        for sock in socket.socketpair():
            gsock = Gio.Socket.new_from_fd(sock.detach())
            pair.append(gsock.connection_factory_create_connection())
        return pair

    def _check_cancelled_then_free(self, near, far):
        # GIO has reported: nothing is pending on the stream, and the next
        # read gets what the peer writes.
        stream = near.get_input_stream()
        self.assertFalse(stream.has_pending())
        far.get_output_stream().write_all(b'ping', None)

    def test_timeout_cancels_read_in_gio(self):
        # asyncio.timeout() and wait_for() around a GIO call: the call is
        # cancelled in GIO, and the exception comes once GIO has reported.
        async def main():
            near, far = self._socket_pair()
            stream = near.get_input_stream()
            with self.assertRaises(TimeoutError):
                async with Aio.timeout(0.01):
                    await Aio.call_async(stream.read_bytes_async, 16, GLib.PRIORITY_DEFAULT)
            self._check_cancelled_then_free(near, far)
            data = await Aio.call_async(stream.read_bytes_async, 16, GLib.PRIORITY_DEFAULT)
            self.assertEqual(data.get_data(), b'ping')

            with self.assertRaises(TimeoutError):
                await Aio.wait_for(Aio.call_async(stream.read_bytes_async, 16,
                                                  GLib.PRIORITY_DEFAULT), 0.01)
            self._check_cancelled_then_free(near, far)
            data = await Aio.call_async(stream.read_bytes_async, 16, GLib.PRIORITY_DEFAULT)
            self.assertEqual(data.get_data(), b'ping')
        Aio.run(main())

    def test_task_cancel_waits_for_gio(self):
        # task.cancel(): the task sees CancelledError only once GIO has.
        async def main():
            near, far = self._socket_pair()
            stream = near.get_input_stream()
            seen = []

            async def reader():
                try:
                    await Aio.call_async(stream.read_bytes_async, 16, GLib.PRIORITY_DEFAULT)
                except Aio.CancelledError:
                    seen.append(stream.has_pending())
                    raise

            task = Aio.create_task(reader())
            while not stream.has_pending():
                await Aio.sleep(0)
            task.cancel()
            with self.assertRaises(Aio.CancelledError):
                await task
            self.assertEqual(seen, [False])
        Aio.run(main())

    def test_own_cancellable(self):
        # A cancellable= of the caller's cancels the operation too.
        async def main():
            near, far = self._socket_pair()
            stream = near.get_input_stream()
            mine = Gio.Cancellable()
            Aio.get_running_loop().call_later(0.01, mine.cancel)
            # GIO's own error, as the _finish raised it: not the future's
            # cancellation.
            with self.assertRaises(GLib.Error) as caught:
                await Aio.call_async(stream.read_bytes_async, 16, GLib.PRIORITY_DEFAULT,
                                     cancellable=mine)
            self.assertTrue(caught.exception.matches(Gio.io_error_quark(),
                                                     Gio.IOErrorEnum.CANCELLED))
            self.assertFalse(stream.has_pending())
        Aio.run(main())

    def test_not_callable(self):
        async def main():
            with self.assertRaises(TypeError):
                Aio.call_async('load_contents_async')
            file = Gio.File.new_for_path(self.path)
            with self.assertRaises(TypeError):
                Aio.call_async(file.load_contents_async, finish=42)
        Aio.run(main())

    def test_future_wait_async(self):
        # The other direction: GIO-style code waits for an Aio.Future.
        async def main():
            loop = Aio.get_running_loop()
            future = loop.create_future()
            loop.call_later(0.01, future.set_result, 'done')
            waited = loop.create_future()

            def on_ready(source, result):
                waited.set_result(source.wait_finish(result))
            future.wait_async(None, on_ready)
            return await waited
        self.assertIs(Aio.run(main()), True)


if __name__ == '__main__':
    main()
