#!/usr/bin/python3
# test_leaks.py: nothing outlives its use, on the Python side (weakref)
# or the C side (GObject weak references: the C object was finalized)
#
# AioTestCase.track() registers an object; tearDown() collects garbage and
# fails the test if any tracked object is still alive.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import threading

from aiotest import Aio, AioTestCase, collect, main


class Payload:
    pass


class TrackedError(ValueError):
    """Unlike built-in exceptions, a subclass can be weakly referenced."""


class LeakTest(AioTestCase):

    def test_run_frees_tasks_results_and_loop(self):
        async def child():
            await Aio.sleep(0)
            return self.track(Payload())

        async def main():
            self.track(Aio.get_running_loop())
            self.track(Aio.current_task())
            coro = self.track(child())
            task = self.track(Aio.create_task(coro))
            await task
            return 'done'
        self.assertEqual(Aio.run(main()), 'done')

    def test_dropped_task_runs_and_is_freed(self):
        # The loop holds pending tasks (unlike asyncio's weak set); once
        # done, nothing does.
        log = []

        async def child():
            await Aio.sleep(0.01)
            log.append('ran')

        async def main():
            self.track(Aio.create_task(child()))
            await Aio.sleep(0.05)
        Aio.run(main())
        self.assertEqual(log, ['ran'])

    def test_exception_cycle(self):
        # The exception's traceback holds the frame, which holds the task:
        # a cycle through the task's wrapper that the collector must see.
        async def child():
            me = Aio.current_task()  # noqa: F841 -- kept in the frame on purpose
            raise self.track(TrackedError('cycle'))

        async def main():
            task = self.track(Aio.create_task(child()))
            with self.assertRaises(ValueError):
                await task
        Aio.run(main())

    def test_cancelled_before_start(self):
        async def body():
            pass

        async def main():
            coro = self.track(body())
            task = self.track(Aio.create_task(coro))
            task.cancel()
            await Aio.gather(task, return_exceptions=True)
        Aio.run(main())

    def test_gather_and_combinators(self):
        async def child(i):
            await Aio.sleep(0)
            return self.track(Payload())

        async def main():
            results = await self.track(Aio.gather(*[child(i) for i in range(10)]))
            self.assertEqual(len(results), 10)
            await self.track(Aio.wait_for(child(0), 10))
            await self.track(Aio.shield(child(0)))
            done, pending = await Aio.wait([Aio.create_task(child(0))])
            for future in Aio.as_completed([child(0)]):
                await future
        Aio.run(main())

    def test_executor(self):
        def job(payload):
            return payload

        async def main():
            loop = Aio.get_running_loop()
            payload = self.track(Payload())
            future = self.track(loop.run_in_executor(None, job, payload))
            self.assertIs(await future, payload)
            self.track(job)
            error_future = self.track(loop.run_in_executor(None, int, 'x'))
            with self.assertRaises(ValueError):
                await error_future
        Aio.run(main())

    def test_queue_items(self):
        async def main():
            queue = self.track(Aio.Queue())
            got = self.track(Payload())
            await queue.put(got)
            self.assertIs(await queue.get(), got)
            await queue.put(self.track(Payload()))  # left in the queue
        Aio.run(main())

    def test_sync_primitives_and_groups(self):
        async def member():
            await Aio.sleep(0)
            return self.track(Payload())

        async def main():
            lock = self.track(Aio.Lock())
            async with lock:
                pass
            event = self.track(Aio.Event())
            event.set()
            await event.wait()
            async with self.track(Aio.TaskGroup()) as tg:
                tg.create_task(member())
            with self.assertRaises(TimeoutError):
                async with Aio.timeout(0.001):
                    await Aio.sleep(1)
        Aio.run(main())

    def test_done_callbacks(self):
        async def main():
            future = self.track(Aio.get_running_loop().create_future())
            callback = self.track(Payload())
            future.add_done_callback(lambda f, c=callback: None)
            future.set_result(None)
            await Aio.sleep(0)
            await Aio.sleep(0)
        Aio.run(main())

    def test_no_growth_over_runs(self):
        async def child(i):
            await Aio.sleep(0)
            return [i]

        async def main():
            queue = Aio.Queue()
            await queue.put({'x': 1})
            await queue.get()
            await Aio.to_thread(len, 'abc')
            return await Aio.gather(*[child(i) for i in range(20)])

        def count():
            collect()
            return len(gc.get_objects())

        for _ in range(20):
            Aio.run(main())
        before = count()
        for _ in range(200):
            Aio.run(main())
        after = count()
        self.assertLess(after - before, 50)
        self.assertEqual(threading.active_count() >= 1, True)


if __name__ == '__main__':
    main()
