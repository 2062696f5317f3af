#!/usr/bin/python3
# test_executor.py: loop.run_in_executor() and Aio.to_thread(), Python
# callables on worker threads, as asyncio runs them
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import concurrent.futures
import contextvars
import threading
import time

from aiotest import Aio, AioTestCase, main, raw


class ExecutorTest(AioTestCase):

    def test_run_in_executor_default(self):
        main_thread = threading.get_ident()

        def blocking(a, b):
            time.sleep(0.01)
            return a + b, threading.get_ident() != main_thread

        async def main():
            loop = Aio.get_running_loop()
            future = loop.run_in_executor(None, blocking, 2, 3)
            self.assertIsInstance(future, Aio.Future)
            self.assertNotIsInstance(future, Aio.Task)  # a plain future
            self.assertNotIn(future, Aio.all_tasks())
            return await future
        self.assertEqual(Aio.run(main()), (5, True))

    def test_loop_keeps_running(self):
        # While a worker thread blocks for 0.2 s, the loop goes on ticking.
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.monotonic())
                await Aio.sleep(0.01)

        async def main():
            tick_task = Aio.create_task(ticker())
            await Aio.to_thread(time.sleep, 0.2)
            tick_task.cancel()
        Aio.run(main())
        self.assertGreaterEqual(len(ticks), 5)

    def test_exception_identity(self):
        error = OSError('worker failed')

        def blocking():
            raise error

        async def main():
            with self.assertRaises(OSError) as caught:
                await Aio.get_running_loop().run_in_executor(None, blocking)
            self.assertIs(caught.exception, error)
        Aio.run(main())

    def test_to_thread_kwargs_and_context(self):
        var = contextvars.ContextVar('var', default='unset')

        def blocking(x, *, y):
            return x, y, var.get()

        async def main():
            var.set('copied')
            return await Aio.to_thread(blocking, 1, y=2)
        self.assertEqual(Aio.run(main()), (1, 2, 'copied'))

    def test_many_jobs(self):
        async def main():
            loop = Aio.get_running_loop()
            futures = [loop.run_in_executor(None, sum, range(i)) for i in range(200)]
            return await Aio.gather(*futures)
        self.assertEqual(Aio.run(main()), [sum(range(i)) for i in range(200)])

    def test_python_object_results(self):
        payload = {'list': [1, 2], 'none': None}

        async def main():
            self.assertIs(await Aio.to_thread(lambda: payload), payload)
            self.assertIsNone(await Aio.to_thread(lambda: None))
            self.assertEqual(await Aio.to_thread(lambda: 1 << 100), 1 << 100)
        Aio.run(main())

    def test_concurrent_futures_executor(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            async def main():
                loop = Aio.get_running_loop()
                return await Aio.gather(loop.run_in_executor(pool, pow, 2, 10),
                                        loop.run_in_executor(pool, str.upper, 'x'))
            self.assertEqual(Aio.run(main()), [1024, 'X'])

    def test_aio_thread_pool_executor(self):
        executor = Aio.ThreadPoolExecutor.new(2)
        self.assertEqual(executor.get_max_workers(), 2)
        running = [0]
        peak = [0]
        lock = threading.Lock()

        def job():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.01)
            with lock:
                running[0] -= 1

        async def main():
            loop = Aio.get_running_loop()
            await Aio.gather(*[loop.run_in_executor(executor, job) for _ in range(6)])
        Aio.run(main())
        executor.shutdown(True)
        self.assertEqual(peak[0], 2)

    def test_not_callable(self):
        async def main():
            loop = Aio.get_running_loop()
            with self.assertRaises(TypeError):
                loop.run_in_executor(None, 'not callable')
            with self.assertRaises(TypeError):
                Aio.to_thread(None)
            with self.assertRaises(TypeError):
                loop.run_in_executor('executor?', print)
        Aio.run(main())

    def test_cancelled_before_start_never_runs(self):
        ran = []
        gate = threading.Event()
        executor = Aio.ThreadPoolExecutor.new(1)

        async def main():
            loop = Aio.get_running_loop()
            blocker = loop.run_in_executor(executor, gate.wait)
            queued = loop.run_in_executor(executor, ran.append, 'ran')
            queued.cancel()
            gate.set()
            await blocker
            with self.assertRaises(Aio.CancelledError):
                await queued
        Aio.run(main())
        executor.shutdown(True)
        self.assertEqual(ran, [])

    def test_run_waits_for_jobs(self):
        # Aio.run() shuts the default executor down, waiting for its jobs.
        done = []

        def slow():
            time.sleep(0.05)
            done.append(True)

        async def main():
            Aio.get_running_loop().run_in_executor(None, slow)
        Aio.run(main())
        self.assertEqual(done, [True])

    def test_raw_executor_future_from_c(self):
        # The function receives the future and a GCancellable, as C's.
        async def main():
            def job(future, cancellable, data):
                raw.Future.resolve_int64(future, data * 2)
            return await raw.run_in_executor(None, job, 21)
        self.assertEqual(Aio.run(main()), 42)


if __name__ == '__main__':
    main()
