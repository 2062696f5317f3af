#!/usr/bin/python3
# test_tasks.py: tasks and futures, as asyncio's Task and Future behave
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import contextvars
import types

from aiotest import Aio, AioTestCase, GObject, Gio, fail_after, main, raw


class Thing:
    pass


class TaskTest(AioTestCase):

    def test_create_task_runs_concurrently(self):
        log = []

        async def worker(name, delay):
            await Aio.sleep(delay)
            log.append(name)
            return name

        async def main():
            slow = Aio.create_task(worker('slow', 0.05))
            fast = Aio.create_task(worker('fast', 0.01))
            self.assertEqual(log, [])  # nothing runs before we await
            self.assertEqual(await slow, 'slow')
            self.assertEqual(await fast, 'fast')
        Aio.run(main())
        self.assertEqual(log, ['fast', 'slow'])

    def test_create_task_not_a_coroutine(self):
        async def main():
            with self.assertRaises(TypeError):
                Aio.create_task(42)
            with self.assertRaises(TypeError):
                Aio.create_task(lambda: None)
        Aio.run(main())

    def test_task_is_a_gobject_task(self):
        async def child():
            return 1

        async def main():
            task = Aio.create_task(child())
            self.assertIsInstance(task, Aio.Task)
            self.assertIsInstance(task, Aio.Future)
            self.assertIsInstance(task, raw.Task)
            self.assertIn(task, Aio.all_tasks())
            await task
            self.assertNotIn(task, Aio.all_tasks())
        Aio.run(main())

    def test_names(self):
        async def child():
            return Aio.current_task().get_name()

        async def main():
            named = Aio.create_task(child(), name='fetcher')
            unnamed = Aio.create_task(child())
            self.assertEqual(await named, 'fetcher')
            self.assertRegex(await unnamed, r'^Task-\d+$')
            named.set_name('renamed')
            self.assertEqual(named.get_name(), 'renamed')
        Aio.run(main())

    def test_current_task(self):
        async def main():
            task = Aio.current_task()
            self.assertIsInstance(task, Aio.Task)
            self.assertIn(task, Aio.all_tasks())
            return task
        task = Aio.run(main())
        self.assertTrue(task.done())
        self.assertIsNone(Aio.current_task())

    def test_result_and_done(self):
        async def child():
            await Aio.sleep(0)
            return 'x'

        async def main():
            task = Aio.create_task(child())
            self.assertFalse(task.done())
            with self.assertRaises(Aio.InvalidStateError):
                task.result()
            with self.assertRaises(Aio.InvalidStateError):
                task.exception()
            await task
            self.assertTrue(task.done())
            self.assertFalse(task.cancelled())
            self.assertEqual(task.result(), 'x')
            self.assertIsNone(task.exception())
        Aio.run(main())

    def test_return_values_round_trip(self):
        # Whatever a coroutine returns comes back as the very object.
        big = 1 << 80
        thing = Thing()
        gobj = Gio.Cancellable()
        values = [None, 0, -7, 1 << 62, big, 1.5, True, False, 'text', 'with\0nul',
                  b'bytes', [1, 'a'], {'k': 'v'}, (1, 2), thing, gobj]

        async def give(value):
            await Aio.sleep(0)
            return value

        async def main():
            tasks = [Aio.create_task(give(v)) for v in values]
            for task, value in zip(tasks, values):
                got = await task
                self.assertEqual(got, value)
                self.assertIs(type(got), type(value))
                self.assertEqual(task.result(), value)
            self.assertIs(tasks[values.index(thing)].result(), thing)
            self.assertIs(tasks[values.index(gobj)].result(), gobj)
            self.assertEqual(await Aio.gather(*[give(v) for v in values]), values)
        Aio.run(main())

    def test_exception_identity(self):
        error = ValueError('boom')

        async def main():
            task = Aio.create_task(fail_after(0, error))
            with self.assertRaises(ValueError) as caught:
                await task
            self.assertIs(caught.exception, error)
            self.assertIs(task.exception(), error)
            with self.assertRaises(ValueError):
                task.result()
        Aio.run(main())

    def test_timeout_error_is_builtin(self):
        async def fail():
            raise TimeoutError('too slow')

        async def main():
            task = Aio.create_task(fail())
            with self.assertRaises(TimeoutError):
                await task
            self.assertIs(Aio.TimeoutError, TimeoutError)
        Aio.run(main())

    def test_await_not_awaitable(self):
        async def main():
            with self.assertRaises(TypeError):
                await 42
        Aio.run(main())

    def test_bad_yield(self):
        @types.coroutine
        def bad():
            yield 'not a future'

        async def main():
            with self.assertRaises(TypeError):
                await bad()
            return 'went on'
        self.assertEqual(Aio.run(main()), 'went on')

    def test_await_asyncio_sleep_zero(self):
        # asyncio.sleep(0) is a bare yield: one iteration of the loop.
        log = []

        async def other():
            log.append('other')

        async def main():
            Aio.create_task(other())
            await asyncio.sleep(0)
            log.append('main')
        Aio.run(main())
        self.assertEqual(log, ['other', 'main'])

    def test_await_itself(self):
        async def main():
            with self.assertRaises(Aio.InvalidStateError):
                await Aio.current_task()
            return 'ok'
        self.assertEqual(Aio.run(main()), 'ok')

    def test_sleep_result(self):
        async def main():
            self.assertEqual(await Aio.sleep(0, 'r'), 'r')
            self.assertIsNone(await Aio.sleep(0.001))
            self.assertIsNone(await Aio.sleep(-1))
            with self.assertRaises(ValueError):
                Aio.sleep(float('nan'))
        Aio.run(main())

    def test_context_variables(self):
        # Each task runs in a copy of its creator's context.
        var = contextvars.ContextVar('var', default='unset')

        async def child():
            seen = var.get()
            var.set('child')
            await Aio.sleep(0)
            return seen, var.get()

        async def main():
            var.set('main')
            self.assertEqual(await Aio.create_task(child()), ('main', 'child'))
            self.assertEqual(var.get(), 'main')
        Aio.run(main())
        self.assertEqual(var.get(), 'unset')

    def test_add_done_callback(self):
        log = []

        async def child():
            await Aio.sleep(0)
            return 5

        async def main():
            task = Aio.create_task(child())
            task.add_done_callback(lambda t: log.append(('first', t.result())))
            task.add_done_callback(lambda t: log.append(('second', t is task)))
            await task
            # They were added before our own wake-up, so ran before it, in
            # order (asyncio schedules them all with call_soon).
            self.assertEqual(log, [('first', 5), ('second', True)])
            # Added to a done task: queued, as asyncio does.
            task.add_done_callback(lambda t: log.append('late'))
            self.assertEqual(log[-1], ('second', True))
            await Aio.sleep(0)
            self.assertEqual(log[-1], 'late')
        Aio.run(main())

    def test_remove_done_callback(self):
        log = []

        async def main():
            future = Aio.get_running_loop().create_future()
            future.add_done_callback(log.append)
            future.add_done_callback(log.append)
            self.assertEqual(future.remove_done_callback(log.append), 2)
            self.assertEqual(future.remove_done_callback(log.append), 0)
            future.set_result(1)
            await Aio.sleep(0)
            await Aio.sleep(0)
            self.assertEqual(log, [])
        Aio.run(main())

    def test_add_done_callback_not_callable(self):
        async def main():
            future = Aio.get_running_loop().create_future()
            with self.assertRaises(TypeError):
                future.add_done_callback(None)
            with self.assertRaises(TypeError):
                future.add_done_callback('print')
        Aio.run(main())

    def test_callback_exception_is_reported_not_raised(self):
        async def main():
            future = Aio.get_running_loop().create_future()

            def bad(_):
                raise RuntimeError('in a callback')
            future.add_done_callback(bad)
            future.set_result(None)
            await Aio.sleep(0)
            await Aio.sleep(0)
            return 'went on'
        self.assertEqual(Aio.run(main()), 'went on')

    def test_future_set_result_and_exception(self):
        async def main():
            loop = Aio.get_running_loop()
            future = loop.create_future()
            loop.call_later(0.01, future.set_result, {'a': 1})
            self.assertEqual(await future, {'a': 1})
            with self.assertRaises(Aio.InvalidStateError):
                future.set_result(2)

            failing = loop.create_future()
            error = KeyError('k')
            failing.set_exception(error)
            with self.assertRaises(KeyError) as caught:
                await failing
            self.assertIs(caught.exception, error)
            with self.assertRaises(TypeError):
                loop.create_future().set_exception('not an exception')
            stop = loop.create_future()
            with self.assertRaises(TypeError):
                stop.set_exception(StopIteration())
            stop.cancel()
        Aio.run(main())

    def test_future_from_c_values(self):
        async def main():
            self.assertEqual(await raw.Future.new_for_int64(3), 3)
            self.assertEqual(await raw.Future.new_for_string('s'), 's')
            self.assertEqual(await raw.Future.new_for_double(2.5), 2.5)
            self.assertIs(await raw.Future.new_for_boolean(True), True)
            obj = GObject.Object()
            self.assertIs(await raw.Future.new_for_object(obj), obj)
            self.assertIsNone(await raw.Future.new_resolved())
        Aio.run(main())

    def test_yield_from_future(self):
        # asyncio futures support `yield from` in generator-based coroutines.
        @types.coroutine
        def old_style(future):
            value = yield from future
            return value * 2

        async def main():
            future = Aio.get_running_loop().create_future()
            Aio.get_running_loop().call_soon(future.set_result, 21)
            return await old_style(future)
        self.assertEqual(Aio.run(main()), 42)

    def test_ensure_future(self):
        class Awaitable:
            def __await__(self):
                return (yield from Aio.sleep(0, 'awaited').__await__())

        async def coro():
            return 'coro'

        async def main():
            future = Aio.get_running_loop().create_future()
            self.assertIs(Aio.ensure_future(future), future)
            task = Aio.ensure_future(coro())
            self.assertIsInstance(task, Aio.Task)
            self.assertEqual(await task, 'coro')
            self.assertEqual(await Aio.ensure_future(Awaitable()), 'awaited')
            with self.assertRaises(TypeError):
                Aio.ensure_future(42)
            future.cancel()
        Aio.run(main())

    def test_future_constructor(self):
        # asyncio.Future() works: a future of the running loop.
        async def main():
            future = Aio.Future()
            self.assertEqual(future.get_loop(), Aio.get_running_loop())
            Aio.get_running_loop().call_soon(future.set_result, 'made directly')
            return await future
        self.assertEqual(Aio.run(main()), 'made directly')
        loop = Aio.new_event_loop()
        self.assertEqual(Aio.Future(loop=loop).get_loop(), loop)
        loop.close()
        with self.assertRaises(RuntimeError):
            Aio.Future(loop=loop)
        with self.assertRaises(TypeError):
            Aio.Task()

    def test_many_tasks(self):
        async def child(i):
            await Aio.sleep(0)
            return i * i

        async def main():
            tasks = [Aio.create_task(child(i)) for i in range(2000)]
            return await Aio.gather(*tasks)
        self.assertEqual(Aio.run(main()), [i * i for i in range(2000)])


if __name__ == '__main__':
    main()
