#!/usr/bin/python3
# test_combinators.py: gather, wait, wait_for, shield and as_completed, as
# asyncio documents them
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from aiotest import Aio, AioTestCase, fail_after, main, sleep_logging_cancel, value_after


class GatherTest(AioTestCase):

    def test_results_in_given_order(self):
        async def main():
            return await Aio.gather(value_after(0.03, 'a'), value_after(0.01, 'b'),
                                    value_after(0.02, 'c'))
        self.assertEqual(Aio.run(main()), ['a', 'b', 'c'])

    def test_mixed_awaitables(self):
        async def main():
            loop = Aio.get_running_loop()
            future = loop.create_future()
            loop.call_soon(future.set_result, 'future')
            task = Aio.create_task(value_after(0, 'task'))
            return await Aio.gather(future, task, value_after(0, 'coro'), Aio.sleep(0, 'sleep'))
        self.assertEqual(Aio.run(main()), ['future', 'task', 'coro', 'sleep'])

    def test_empty(self):
        async def main():
            return await Aio.gather()
        self.assertEqual(Aio.run(main()), [])

    def test_same_coroutine_twice(self):
        # asyncio runs one task for an awaitable given twice.
        runs = []

        async def once():
            runs.append(1)
            return 'x'

        async def main():
            coro = once()
            return await Aio.gather(coro, coro)
        self.assertEqual(Aio.run(main()), ['x', 'x'])
        self.assertEqual(runs, [1])

    def test_first_error_propagates_others_go_on(self):
        error = ValueError('first')
        finished = []

        async def slow():
            await Aio.sleep(0.05)
            finished.append('slow')
            return 'slow'

        async def main():
            slow_task = Aio.create_task(slow())
            with self.assertRaises(ValueError) as caught:
                await Aio.gather(fail_after(0.01, error), slow_task)
            self.assertIs(caught.exception, error)
            self.assertFalse(slow_task.done())
            self.assertEqual(await slow_task, 'slow')
        Aio.run(main())
        self.assertEqual(finished, ['slow'])

    def test_return_exceptions(self):
        error = KeyError('k')

        async def main():
            cancelled = Aio.create_task(value_after(3600, 'never'))
            await Aio.sleep(0)
            cancelled.cancel()
            results = await Aio.gather(value_after(0, 1), fail_after(0, error), cancelled,
                                       return_exceptions=True)
            self.assertEqual(results[0], 1)
            self.assertIs(results[1], error)
            self.assertIsInstance(results[2], Aio.CancelledError)
        Aio.run(main())

    def test_child_cancelled_without_return_exceptions(self):
        # asyncio: the gather raises CancelledError, but is not cancelled.
        async def main():
            child = Aio.create_task(value_after(3600, 'never'))
            gathering = Aio.gather(child, value_after(0.01, 'x'))
            await Aio.sleep(0)
            child.cancel()
            with self.assertRaises(Aio.CancelledError):
                await gathering
            self.assertFalse(gathering.cancelled())
        Aio.run(main())

    def test_cancel_gather_cancels_children(self):
        async def main():
            children = [Aio.create_task(value_after(3600, i)) for i in range(3)]
            gathering = Aio.gather(*children, return_exceptions=True)
            await Aio.sleep(0)
            self.assertTrue(gathering.cancel())
            with self.assertRaises(Aio.CancelledError):
                await gathering
            self.assertTrue(all(child.cancelled() for child in children))
        Aio.run(main())

    def test_cancelling_awaiter_cancels_gather(self):
        async def parent(children):
            await Aio.gather(*children)

        async def main():
            children = [Aio.create_task(value_after(3600, i)) for i in range(2)]
            await self.cancel_started(parent(children))
            await Aio.sleep(0)
            self.assertTrue(all(child.cancelled() for child in children))
        Aio.run(main())

    def test_bad_argument(self):
        async def main():
            with self.assertRaises(TypeError):
                Aio.gather(1, 2)
        Aio.run(main())


class WaitTest(AioTestCase):

    def test_all_completed(self):
        async def main():
            tasks = [Aio.create_task(value_after(d, d)) for d in (0.01, 0.02)]
            done, pending = await Aio.wait(tasks)
            self.assertEqual(done, set(tasks))
            self.assertEqual(pending, set())
        Aio.run(main())

    def test_first_completed(self):
        async def main():
            fast = Aio.create_task(value_after(0.01, 'fast'))
            slow = Aio.create_task(value_after(3600, 'slow'))
            done, pending = await Aio.wait([fast, slow], return_when=Aio.FIRST_COMPLETED)
            self.assertEqual(done, {fast})
            self.assertEqual(pending, {slow})
            slow.cancel()
        Aio.run(main())

    def test_first_exception(self):
        async def main():
            bad = Aio.create_task(fail_after(0.01, ValueError()))
            ok = Aio.create_task(value_after(0.005, 'ok'))
            slow = Aio.create_task(value_after(3600, 'slow'))
            done, pending = await Aio.wait([bad, ok, slow], return_when=Aio.FIRST_EXCEPTION)
            self.assertEqual(done, {bad, ok})
            self.assertEqual(pending, {slow})
            self.assertIsInstance(bad.exception(), ValueError)
            slow.cancel()
        Aio.run(main())

    def test_timeout_returns_and_cancels_nothing(self):
        async def main():
            slow = Aio.create_task(value_after(3600, 'slow'))
            done, pending = await Aio.wait([slow], timeout=0.01)
            self.assertEqual(done, set())
            self.assertEqual(pending, {slow})
            self.assertFalse(slow.cancelled())
            slow.cancel()
        Aio.run(main())

    def test_bad_arguments(self):
        async def main():
            with self.assertRaises(ValueError):
                await Aio.wait([])
            task = Aio.create_task(value_after(0, 1))
            with self.assertRaises(ValueError):
                await Aio.wait([task], return_when='SOMETIMES')
            with self.assertRaises(TypeError):
                await Aio.wait(task)
            await task
        Aio.run(main())


class WaitForTest(AioTestCase):

    def test_in_time(self):
        async def main():
            return await Aio.wait_for(value_after(0.01, 'v'), 1)
        self.assertEqual(Aio.run(main()), 'v')

    def test_no_timeout(self):
        async def main():
            return await Aio.wait_for(value_after(0.01, 'v'), None)
        self.assertEqual(Aio.run(main()), 'v')

    def test_timeout_cancels_inner_task(self):
        log = []

        async def main():
            task = Aio.create_task(sleep_logging_cancel(log, 'inner cancelled'))
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(task, 0.01)
            self.assertTrue(task.cancelled())
        Aio.run(main())
        self.assertEqual(log, ['inner cancelled'])

    def test_timeout_waits_for_inner_cleanup(self):
        log = []

        async def main():
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(sleep_logging_cancel(log, 'stopped', cleanup=0.02), 0.01)
            self.assertEqual(log, ['stopped'])
        Aio.run(main())

    def test_inner_error_wins(self):
        error = OSError('disk')

        async def main():
            with self.assertRaises(OSError) as caught:
                await Aio.wait_for(fail_after(0.01, error), 1)
            self.assertIs(caught.exception, error)
        Aio.run(main())

    def test_cancelling_outer_cancels_inner(self):
        async def main():
            inner = Aio.create_task(value_after(3600, 'never'))

            async def waiter():
                return await Aio.wait_for(inner, 3600)
            await self.cancel_started(waiter())
            self.assertTrue(inner.cancelled())
        Aio.run(main())

    def test_zero_timeout(self):
        async def main():
            loop = Aio.get_running_loop()
            done = loop.create_future()
            done.set_result('ready')
            self.assertEqual(await Aio.wait_for(done, 0), 'ready')
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(value_after(1, 'late'), 0)
        Aio.run(main())


class ShieldTest(AioTestCase):

    def test_shield_protects_inner(self):
        async def main():
            inner = Aio.create_task(value_after(0.02, 'safe'))

            async def waiter():
                return await Aio.shield(inner)
            await self.cancel_started(waiter())
            self.assertFalse(inner.cancelled())
            self.assertEqual(await inner, 'safe')
        Aio.run(main())

    def test_shield_result(self):
        async def main():
            return await Aio.shield(value_after(0, [1]))
        self.assertEqual(Aio.run(main()), [1])


class AsCompletedTest(AioTestCase):

    def test_order_of_completion(self):
        async def main():
            results = []
            for next_done in Aio.as_completed([value_after(0.03, 'c'), value_after(0.01, 'a'),
                                               value_after(0.02, 'b')]):
                results.append(await next_done)
            return results
        self.assertEqual(Aio.run(main()), ['a', 'b', 'c'])

    def test_timeout(self):
        async def main():
            slow = Aio.create_task(value_after(3600, 'slow'))
            iterator = Aio.as_completed([value_after(0, 'fast'), slow], timeout=0.02)
            self.assertEqual(await next(iterator), 'fast')
            with self.assertRaises(TimeoutError):
                await next(iterator)
            self.assertFalse(slow.cancelled())
            slow.cancel()
        Aio.run(main())

    def test_errors(self):
        async def main():
            error = ValueError('x')
            iterator = Aio.as_completed([fail_after(0, error)])
            with self.assertRaises(ValueError) as caught:
                await next(iterator)
            self.assertIs(caught.exception, error)
        Aio.run(main())


if __name__ == '__main__':
    main()
