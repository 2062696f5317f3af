#!/usr/bin/python3
# test_cancel.py: cancellation, as asyncio's Task.cancel() and uncancel()
# behave, at every point: before start, while suspended, after completion
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from aiotest import Aio, AioTestCase, main, raw, sleep_logging_cancel, value_after


class CancelTest(AioTestCase):

    def test_cancelled_error_is_base_exception(self):
        self.assertTrue(issubclass(Aio.CancelledError, BaseException))
        self.assertFalse(issubclass(Aio.CancelledError, Exception))

    def test_cancel_while_sleeping(self):
        log = []

        async def sleeper():
            try:
                await Aio.sleep(3600)
            except Aio.CancelledError as exc:
                log.append(exc.args)
                raise

        async def main():
            task = Aio.create_task(sleeper())
            await Aio.sleep(0)
            self.assertTrue(task.cancel('enough'))
            self.assertEqual(task.cancelling(), 1)
            with self.assertRaises(Aio.CancelledError) as caught:
                await task
            self.assertEqual(caught.exception.args, ('enough',))
            self.assertTrue(task.cancelled())
            self.assertTrue(task.done())
            with self.assertRaises(Aio.CancelledError):
                task.result()
            with self.assertRaises(Aio.CancelledError):
                task.exception()
        Aio.run(main())
        self.assertEqual(log, [('enough',)])

    def test_except_exception_does_not_catch_it(self):
        async def sleeper():
            try:
                await Aio.sleep(3600)
            except Exception:  # noqa: B014 -- what asyncio code does
                return 'swallowed'

        async def main():
            await self.cancel_started(sleeper())
        Aio.run(main())

    def test_cancel_before_start(self):
        # asyncio: a task cancelled before it runs never runs its body, and
        # Python does not warn that the coroutine was never awaited.
        log = []

        async def body():
            log.append('ran')

        async def main():
            task = Aio.create_task(body())
            self.assertTrue(task.cancel())
            with self.assertRaises(Aio.CancelledError):
                await task
        Aio.run(main())
        self.assertEqual(log, [])

    def test_cancel_done_task(self):
        async def quick():
            return 1

        async def main():
            task = Aio.create_task(quick())
            await task
            self.assertFalse(task.cancel())
            self.assertFalse(task.cancelled())
            self.assertEqual(task.result(), 1)
        Aio.run(main())

    def test_cancel_self(self):
        async def main():
            Aio.current_task().cancel('me')
            try:
                await Aio.sleep(0)
            except Aio.CancelledError as exc:
                self.assertEqual(exc.args, ('me',))
                Aio.current_task().uncancel()
            return 'still here'
        self.assertEqual(Aio.run(main()), 'still here')

    def test_uncancel_goes_on(self):
        async def resilient():
            try:
                await Aio.sleep(3600)
            except Aio.CancelledError:
                self.assertEqual(Aio.current_task().uncancel(), 0)
            await Aio.sleep(0.01)
            return 'recovered'

        async def main():
            task = Aio.create_task(resilient())
            await Aio.sleep(0)
            task.cancel()
            self.assertEqual(await task, 'recovered')
            self.assertFalse(task.cancelled())
            self.assertEqual(task.cancelling(), 0)
        Aio.run(main())

    def test_caught_and_returned_is_not_cancelled(self):
        # As in asyncio, a coroutine that catches CancelledError and returns
        # is done with that value, even without uncancel(), and even None.
        async def swallow(value):
            try:
                await Aio.sleep(3600)
            except Aio.CancelledError:
                return value

        async def main():
            for value in ('kept', None):
                task = Aio.create_task(swallow(value))
                await Aio.sleep(0)
                task.cancel()
                self.assertEqual(await task, value)
                self.assertFalse(task.cancelled())
        Aio.run(main())

    def test_cancel_after_awaited_future_done(self):
        # The future it waited for completed, but the cancellation came
        # before the task resumed: the task gets the result (which may be
        # a queue item or a lock), and CancelledError at its next await.
        async def waiter(future):
            value = await future
            try:
                await Aio.sleep(3600)
            except Aio.CancelledError:
                return ('cancelled after', value)
            return ('not cancelled', value)

        async def main():
            future = Aio.get_running_loop().create_future()
            task = Aio.create_task(waiter(future))
            await Aio.sleep(0)
            future.set_result(1)
            task.cancel()
            self.assertEqual(await task, ('cancelled after', 1))
        Aio.run(main())

    def test_cancel_waiting_on_task_cancels_inner(self):
        # Cancelling a task that awaits another cancels that one too.
        log = []

        async def outer(task):
            try:
                await task
            except Aio.CancelledError:
                log.append('outer')
                raise

        async def main():
            inner_task = Aio.create_task(sleep_logging_cancel(log, 'inner'))
            outer_task = Aio.create_task(outer(inner_task))
            await Aio.sleep(0)
            outer_task.cancel()
            await Aio.gather(outer_task, inner_task, return_exceptions=True)
            self.assertTrue(inner_task.cancelled())
            self.assertTrue(outer_task.cancelled())
        Aio.run(main())
        self.assertEqual(log, ['inner', 'outer'])

    def test_cancelling_counts(self):
        async def main():
            task = Aio.create_task(value_after(3600, None))
            await Aio.sleep(0)
            task.cancel()
            task.cancel()
            self.assertEqual(task.cancelling(), 2)
            await Aio.gather(task, return_exceptions=True)
            self.assertTrue(task.cancelled())
        Aio.run(main())

    def test_cancel_plain_future(self):
        async def main():
            future = Aio.get_running_loop().create_future()
            self.assertTrue(future.cancel('gone'))
            self.assertTrue(future.cancelled())
            self.assertFalse(future.cancel())
            with self.assertRaises(Aio.CancelledError):
                await future
        Aio.run(main())

    def test_task_cancellable_cancels_task(self):
        # Cancelling a task's GCancellable, from any thread, cancels it.
        import threading

        async def main():
            task = Aio.create_task(value_after(3600, None))
            await Aio.sleep(0)
            cancellable = task.get_cancellable()
            threading.Thread(target=cancellable.cancel).start()
            with self.assertRaises(Aio.CancelledError):
                await task
        Aio.run(main())

    def test_cancel_message_from_c(self):
        async def main():
            task = Aio.create_task(value_after(3600, None))
            await Aio.sleep(0)
            raw.Task.cancel(task, 'from C')
            with self.assertRaises(Aio.CancelledError) as caught:
                await task
            self.assertEqual(caught.exception.args, ('from C',))
        Aio.run(main())


if __name__ == '__main__':
    main()
