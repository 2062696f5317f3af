#!/usr/bin/python3
# test_taskgroup_timeout.py: `async with Aio.TaskGroup()` and
# `async with Aio.timeout()`, as asyncio's TaskGroup and timeout() behave
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from aiotest import Aio, AioTestCase, fail_after, main, sleep_logging_cancel, value_after


class TaskGroupTest(AioTestCase):

    def test_all_succeed(self):
        async def main():
            async with Aio.TaskGroup() as tg:
                one = tg.create_task(value_after(0.02, 1))
                two = tg.create_task(value_after(0.01, 2), name='two')
                self.assertEqual(two.get_name(), 'two')
            # The block ends once every task is done.
            return one.result(), two.result()
        self.assertEqual(Aio.run(main()), (1, 2))

    def test_failure_cancels_siblings_and_body(self):
        log = []
        error = ValueError('member failed')

        async def main():
            with self.assertRaises(ExceptionGroup) as caught:
                async with Aio.TaskGroup() as tg:
                    tg.create_task(sleep_logging_cancel(log, 'sibling cancelled'))
                    tg.create_task(fail_after(0.01, error))
                    await sleep_logging_cancel(log, 'body cancelled')
            self.assertEqual(caught.exception.exceptions, (error,))
            # The group took back the cancellation it made of our task.
            self.assertEqual(Aio.current_task().cancelling(), 0)
            return 'after the group'
        self.assertEqual(Aio.run(main()), 'after the group')
        self.assertEqual(sorted(log), ['body cancelled', 'sibling cancelled'])

    def test_several_failures(self):
        errors = [KeyError('a'), OSError('b')]

        async def main():
            with self.assertRaises(ExceptionGroup) as caught:
                async with Aio.TaskGroup() as tg:
                    tg.create_task(fail_after(0.01, errors[0]))
                    tg.create_task(fail_after(0.01, errors[1]))
            self.assertEqual(list(caught.exception.exceptions), errors)
        Aio.run(main())

    def test_body_error_cancels_tasks(self):
        log = []

        async def main():
            with self.assertRaises(ExceptionGroup) as caught:
                async with Aio.TaskGroup() as tg:
                    tg.create_task(sleep_logging_cancel(log, 'member cancelled'))
                    await Aio.sleep(0)
                    raise ZeroDivisionError('body')
            self.assertIsInstance(caught.exception.exceptions[0], ZeroDivisionError)
        Aio.run(main())
        self.assertEqual(log, ['member cancelled'])

    def test_outer_cancellation(self):
        async def grouped():
            async with Aio.TaskGroup() as tg:
                member = tg.create_task(value_after(3600, 'never'))
                await Aio.sleep(3600)
            return member

        async def main():
            await self.cancel_started(grouped(), 0.01)
        Aio.run(main())

    def test_finished_group_takes_no_task(self):
        async def main():
            async with Aio.TaskGroup() as tg:
                pass

            async def late():
                pass
            with self.assertRaises(RuntimeError):
                tg.create_task(late())
        Aio.run(main())


class TimeoutTest(AioTestCase):

    def test_expires(self):
        async def main():
            with self.assertRaises(TimeoutError):
                async with Aio.timeout(0.01) as scope:
                    await Aio.sleep(3600)
            self.assertTrue(scope.expired())
            self.assertEqual(Aio.current_task().cancelling(), 0)
            return 'went on'
        self.assertEqual(Aio.run(main()), 'went on')

    def test_in_time(self):
        async def main():
            async with Aio.timeout(1) as scope:
                await Aio.sleep(0.01)
            self.assertFalse(scope.expired())
            return 'fine'
        self.assertEqual(Aio.run(main()), 'fine')

    def test_none_and_reschedule(self):
        async def main():
            loop = Aio.get_running_loop()
            async with Aio.timeout(None) as scope:
                self.assertIsNone(scope.when())
                scope.reschedule(loop.time() + 0.01)
                self.assertIsNotNone(scope.when())
                with self.assertRaises(Aio.CancelledError):
                    await Aio.sleep(3600)
                # Still inside: the scope turns it into TimeoutError on exit.
                raise Aio.CancelledError()
        with self.assertRaises(TimeoutError):
            Aio.run(main())

    def test_timeout_at(self):
        async def main():
            loop = Aio.get_running_loop()
            with self.assertRaises(TimeoutError):
                async with Aio.timeout_at(loop.time() + 0.01):
                    await Aio.sleep(3600)
        Aio.run(main())

    def test_nested_only_inner_reports(self):
        async def main():
            async with Aio.timeout(3600):
                with self.assertRaises(TimeoutError):
                    async with Aio.timeout(0.01):
                        await Aio.sleep(3600)
                return 'outer untouched'
        self.assertEqual(Aio.run(main()), 'outer untouched')

    def test_outside_cancel_stays_cancel(self):
        # A cancellation from elsewhere is not turned into a timeout.
        async def guarded():
            async with Aio.timeout(3600):
                await Aio.sleep(3600)

        async def main():
            await self.cancel_started(guarded())
        Aio.run(main())

    def test_outside_a_task(self):
        scope = Aio.timeout(1)
        coro = scope.__aenter__()
        with self.assertRaises(RuntimeError):
            coro.send(None)


if __name__ == '__main__':
    main()
