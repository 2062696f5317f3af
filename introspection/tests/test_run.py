#!/usr/bin/python3
# test_run.py: Aio.run() and the explicit loop, as asyncio.run() and
# asyncio's event loop behave
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import signal
import threading

from aiotest import Aio, AioTestCase, GLib, main, raw, sleep_logging_cancel


class RunTest(AioTestCase):

    def test_returns_result(self):
        async def main():
            await Aio.sleep(0)
            return 42
        self.assertEqual(Aio.run(main()), 42)

    def test_raises_exception_of_main(self):
        class Boom(Exception):
            pass

        async def main():
            raise Boom('bang')
        with self.assertRaises(Boom):
            Aio.run(main())

    def test_not_a_coroutine(self):
        # asyncio.run() raises ValueError for anything but a coroutine.
        with self.assertRaises(ValueError):
            Aio.run(42)

        def plain():
            return 1
        with self.assertRaises(ValueError):
            Aio.run(plain)

    def test_inside_running_loop(self):
        async def inner():
            return 1

        async def main():
            coro = inner()
            with self.assertRaises(RuntimeError):
                Aio.run(coro)
            return 'ok'
        self.assertEqual(Aio.run(main()), 'ok')

    def test_inside_glib_main_loop(self):
        # asyncio.run() refuses inside a running loop; a GLib main loop (a
        # Gtk.Application's) is one, which Aio.run() would freeze.
        ran = []

        async def main():
            ran.append(True)

        errors = []
        main_loop = GLib.MainLoop()

        def in_callback():
            try:
                Aio.run(main())
            except RuntimeError as exc:
                errors.append(str(exc))
            main_loop.quit()
            return GLib.SOURCE_REMOVE
        GLib.idle_add(in_callback)
        main_loop.run()
        # Gio.Application.run() holds the default context while it emits
        # 'activate', outside any dispatch.
        context = GLib.MainContext.default()
        self.assertTrue(context.acquire())
        try:
            with self.assertRaises(RuntimeError) as raised:
                Aio.run(main())
            errors.append(str(raised.exception))
        finally:
            context.release()
        self.assertEqual(len(errors), 2)
        for message in errors:
            self.assertIn('create a task on the default loop', message)
        self.assertEqual(ran, [])
        # Afterwards it runs.
        Aio.run(main())
        self.assertEqual(ran, [True])

    def test_task_bound_to_object(self):
        # A task started for a window ends with it: bind_to_object()
        # cancels the task (CancelledError) when the object goes away.
        from gi.repository import GObject

        async def main():
            obj = GObject.Object()

            async def sleeper():
                await Aio.sleep(60)
            task = Aio.create_task(sleeper())
            task.bind_to_object(obj)
            await Aio.sleep(0.001)
            del obj
            with self.assertRaises(Aio.CancelledError) as raised:
                await task
            return str(raised.exception)
        self.assertEqual(Aio.run(main()), 'The GObject the task was bound to went away')

    def test_new_loop_each_time_closed_after(self):
        loops = []

        async def main():
            loops.append(Aio.get_running_loop())
            self.assertIs(Aio.get_event_loop(), loops[-1])
        Aio.run(main())
        Aio.run(main())
        self.assertNotEqual(loops[0], loops[1])
        self.assertTrue(loops[0].is_closed())
        self.assertTrue(loops[1].is_closed())
        self.assertIsNone(raw.Loop.get_running())

    def test_loop_context_is_thread_default(self):
        # GIO calls made by tasks report back to the loop's context.
        async def main():
            loop = Aio.get_running_loop()
            self.assertEqual(GLib.MainContext.ref_thread_default(), loop.get_context())
            self.assertNotEqual(loop.get_context(), GLib.MainContext.default())
        Aio.run(main())

    def test_cancels_leftover_tasks(self):
        log = []

        async def main():
            Aio.create_task(sleep_logging_cancel(log, 'cancelled'))
            Aio.create_task(sleep_logging_cancel(log, 'cancelled'))
            await Aio.sleep(0)
            return 'main done'
        self.assertEqual(Aio.run(main()), 'main done')
        self.assertEqual(log, ['cancelled', 'cancelled'])

    def test_leftover_task_cleanup_awaits(self):
        # A task may still await during its cleanup; run() waits for it.
        log = []

        async def main():
            Aio.create_task(sleep_logging_cancel(log, 'cleaned up', cleanup=0.01))
            await Aio.sleep(0)
        Aio.run(main())
        self.assertEqual(log, ['cleaned up'])

    def test_runs_in_threads_at_once(self):
        # Each thread has its own context, so its own loop.
        results = {}

        async def main(name):
            loop = Aio.get_running_loop()
            await Aio.sleep(0.02)
            await Aio.gather(*[Aio.sleep(0.001) for _ in range(10)])
            return name, loop

        def in_thread(name):
            results[name] = Aio.run(main(name))
        threads = [threading.Thread(target=in_thread, args=(n,)) for n in 'ab']
        for thread in threads:
            thread.start()
        here = Aio.run(main('main'))
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(results), ['a', 'b'])
        self.assertEqual(len({results['a'][1], results['b'][1], here[1]}), 3)

    def test_fatal_errors_stay_with_their_loop(self):
        # A SystemExit out of a task of loop A is for A's run_*() call to
        # raise: a loop running meanwhile in another thread must not see it.
        outcome = {}
        stepped = threading.Event()
        b_done = threading.Event()

        async def exits():
            raise SystemExit(7)

        async def fine():
            await Aio.sleep(0)
            return 42

        def in_a():
            loop = Aio.new_event_loop()
            context = loop.get_context()
            context.push_thread_default()
            try:
                # Stepped by hand, not by a run_*() call: the SystemExit
                # waits on the loop for its next run.
                task = loop.create_task(exits())
                while not task.done():
                    context.iteration(True)
                stepped.set()
                b_done.wait(10)
                try:
                    loop.run_until_complete(Aio.sleep(0))
                except SystemExit as exc:
                    outcome['a'] = exc.code
            finally:
                context.pop_thread_default()
                loop.close()

        def in_b():
            stepped.wait(10)
            try:
                outcome['b'] = Aio.run(fine())
            finally:
                b_done.set()
        threads = [threading.Thread(target=f) for f in (in_a, in_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(outcome, {'a': 7, 'b': 42})

    def test_get_running_loop_outside(self):
        with self.assertRaises(RuntimeError):
            Aio.get_running_loop()

    def test_keyboard_interrupt_in_task_propagates(self):
        # asyncio lets KeyboardInterrupt and SystemExit out of the loop.
        async def interrupted():
            raise KeyboardInterrupt()

        async def main():
            Aio.create_task(interrupted())
            await Aio.sleep(3600)
        with self.assertRaises(KeyboardInterrupt):
            Aio.run(main())

    def test_system_exit_in_main(self):
        async def main():
            raise SystemExit(3)
        with self.assertRaises(SystemExit) as caught:
            Aio.run(main())
        self.assertEqual(caught.exception.code, 3)

    def test_sigint_cancels_main_task(self):
        # asyncio.Runner: a first Ctrl-C cancels the main task, whose
        # cleanup runs, and run() then raises KeyboardInterrupt.
        log = []

        async def main():
            threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
            await sleep_logging_cancel(log, 'main cancelled', 10)
        with self.assertRaises(KeyboardInterrupt):
            Aio.run(main())
        self.assertEqual(log, ['main cancelled'])
        # Python's own handler is back.
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)


class ExplicitLoopTest(AioTestCase):

    def test_run_until_complete_coroutine(self):
        loop = self.new_loop()

        async def main():
            await Aio.sleep(0.01)
            return 'value'
        self.assertEqual(loop.run_until_complete(main()), 'value')
        self.assertFalse(loop.is_running())

    def test_run_until_complete_future(self):
        loop = self.new_loop()
        future = loop.create_future()
        loop.call_later(0.01, future.set_result, [1, 2])
        self.assertEqual(loop.run_until_complete(future), [1, 2])

    def test_call_soon_order_and_args(self):
        loop = self.new_loop()
        log = []
        future = loop.create_future()
        loop.call_soon(log.append, 1)
        loop.call_soon(log.append, 2)
        handle = loop.call_soon(log.append, 'cancelled')
        handle.cancel()
        self.assertTrue(handle.cancelled())
        loop.call_soon(future.set_result, None)
        loop.run_until_complete(future)
        self.assertEqual(log, [1, 2])

    def test_call_soon_not_callable(self):
        loop = self.new_loop()
        with self.assertRaises(TypeError):
            loop.call_soon(42)
        with self.assertRaises(TypeError):
            loop.call_later(1, 'nope')

    def test_call_soon_threadsafe(self):
        loop = self.new_loop()
        future = loop.create_future()
        threading.Thread(target=loop.call_soon_threadsafe,
                         args=(future.set_result, 'from a thread')).start()
        self.assertEqual(loop.run_until_complete(future), 'from a thread')

    def test_run_forever_and_stop(self):
        loop = self.new_loop()
        log = []
        loop.call_soon(log.append, 'ran')
        loop.call_later(0.01, loop.stop)
        loop.run_forever()
        self.assertEqual(log, ['ran'])

    def test_stopped_before_complete(self):
        loop = self.new_loop()
        future = loop.create_future()
        loop.call_soon(loop.stop)
        with self.assertRaises(RuntimeError):
            loop.run_until_complete(future)
        future.cancel()

    def test_closed_loop(self):
        # Every use of a closed loop raises; none crashes.
        loop = Aio.new_event_loop()
        loop.close()
        loop.close()  # closing twice does nothing, as in asyncio
        self.assertTrue(loop.is_closed())

        async def coro():
            pass
        c = coro()
        with self.assertRaises(RuntimeError):
            loop.create_task(c)
        with self.assertRaises(RuntimeError):
            loop.run_until_complete(coro())
        with self.assertRaises(RuntimeError):
            loop.run_forever()
        with self.assertRaises(RuntimeError):
            loop.create_future()
        with self.assertRaises(RuntimeError):
            loop.call_soon(print)
        with self.assertRaises(RuntimeError):
            loop.run_in_executor(None, print)

    def test_close_running_loop(self):
        async def main():
            with self.assertRaises(RuntimeError):
                Aio.get_running_loop().close()
        Aio.run(main())

    def test_nested_run_until_complete(self):
        async def main():
            loop = Aio.get_running_loop()

            async def other():
                pass
            coro = other()
            with self.assertRaises(RuntimeError):
                loop.run_until_complete(coro)
            coro.close()
        Aio.run(main())

    def test_time(self):
        async def main():
            loop = Aio.get_running_loop()
            start = loop.time()
            await Aio.sleep(0.05)
            self.assertGreaterEqual(loop.time() - start, 0.05)
        Aio.run(main())


if __name__ == '__main__':
    main()
