#!/usr/bin/python3
# test_mixed.py: Python and C on one loop
#
# `raw` is the Aio namespace as the typelib alone gives it: these calls go
# straight to the C functions, as C code (or another binding) would make
# them, without the override in between.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

from aiotest import Aio, AioTestCase, GLib, Gio, GObject, fail_after, main, raw, sleep_logging_cancel


class Counter:
    """A C-style stepped task: a plain step function, no coroutine."""

    def __init__(self, steps, value):
        self.steps = steps
        self.value = value
        self.seen = []

    def step(self, task, completed, data):
        self.seen.append(None if completed is None else completed.get_state())
        if len(self.seen) > self.steps:
            raw.Task.return_int64(task, self.value)
            return None
        return raw.sleep(0.001)


class MixedTest(AioTestCase):

    def test_await_c_stepped_task(self):
        counter = Counter(3, 99)

        async def main():
            loop = Aio.get_running_loop()
            task = raw.Loop.create_stepped_task(loop, counter.step, None)
            self.assertIn(task, Aio.all_tasks())
            return await task
        self.assertEqual(Aio.run(main()), 99)
        self.assertEqual(counter.seen[0], None)
        self.assertEqual(counter.seen[1:], [raw.FutureState.RESOLVED] * 3)

    def test_await_c_gather_of_sleeps(self):
        # A gather made by C code of C sleep futures, awaited from Python.
        async def main():
            futures = [raw.sleep_value(0.01 * (3 - i), GObject.Value(GObject.TYPE_INT64, i))
                       for i in range(3)]
            gathering = raw.gather(futures, False)
            results = await gathering
            children = gathering.get_futures()
            self.assertEqual([raw.Future.get_value(child)[1] for child in children], [0, 1, 2])
            return results
        self.assertEqual(Aio.run(main()), [0, 1, 2])

    def test_python_tasks_in_c_all_tasks_cancelled_from_c(self):
        log = []

        async def sleeper(name):
            try:
                await Aio.sleep(3600)
            except Aio.CancelledError as exc:
                log.append((name, exc.args))
                raise

        async def main():
            loop = Aio.get_running_loop()
            mine = [Aio.create_task(sleeper(n), name=n) for n in ('a', 'b')]
            await Aio.sleep(0)
            # What C sees, through the typelib alone.
            pending = raw.Loop.all_tasks(loop)
            others = [t for t in pending if t != Aio.current_task()]
            self.assertEqual(sorted(raw.Task.get_name(t) for t in others), ['a', 'b'])
            for task in others:
                self.assertTrue(raw.Task.cancel(task, 'stopped by C'))
            gathering = raw.gather(others, True)
            await gathering
            self.assertTrue(all(raw.Future.is_cancelled(t) for t in mine))
        Aio.run(main())
        self.assertEqual(sorted(log), [('a', ('stopped by C',)), ('b', ('stopped by C',))])

    def test_c_wait_for_cancels_python_task(self):
        log = []

        async def main():
            task = Aio.create_task(sleep_logging_cancel(log, 'cancelled by the C timeout'))
            waiting = raw.wait_for(task, 0.01)
            with self.assertRaises(TimeoutError):
                await waiting
            self.assertTrue(raw.Future.is_cancelled(task))
            error = raw.Future.get_error(waiting)
            self.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT))
        Aio.run(main())
        self.assertEqual(log, ['cancelled by the C timeout'])

    def test_c_reads_python_results(self):
        async def give(value):
            return value

        async def main():
            tasks = [Aio.create_task(give(v)) for v in (7, 'str', 2.5, True, Gio.Cancellable())]
            await Aio.gather(*tasks)
            self.assertEqual(raw.Future.get_int64(tasks[0]), 7)
            self.assertEqual(raw.Future.get_string(tasks[1]), 'str')
            self.assertEqual(raw.Future.get_double(tasks[2]), 2.5)
            self.assertIs(raw.Future.get_boolean(tasks[3]), True)
            self.assertIsInstance(raw.Future.get_object(tasks[4]), Gio.Cancellable)
        Aio.run(main())

    def test_c_sees_python_errors(self):
        async def fail(exc):
            raise exc

        async def main():
            tasks = [Aio.create_task(fail(e)) for e in (
                ValueError('bad value'), TimeoutError('late'),
                GLib.Error.new_literal(Gio.io_error_quark(), 'gone', Gio.IOErrorEnum.NOT_FOUND))]
            await Aio.gather(*tasks, return_exceptions=True)
            errors = [raw.Future.get_error(t) for t in tasks]
            self.assertEqual(errors[0].domain, 'aio-python-error-quark')
            self.assertEqual(errors[0].message, 'ValueError: bad value')
            self.assertTrue(errors[1].matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT))
            self.assertTrue(errors[2].matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND))
            self.assertTrue(raw.Future.is_rejected(tasks[0]))

            cancelled = Aio.create_task(fail(Aio.CancelledError('by itself')))
            await Aio.gather(cancelled, return_exceptions=True)
            self.assertTrue(raw.Future.is_cancelled(cancelled))
        Aio.run(main())

    def test_python_error_through_c_combinator_copies(self):
        # gather, wait_for and shield copy a child's error; Python still
        # gets the very exception object back.
        error = ArithmeticError('original')

        async def main():
            for wrap in (lambda t: raw.gather([t], False), lambda t: raw.wait_for(t, 10),
                         raw.shield):
                task = Aio.create_task(fail_after(0, error))
                with self.assertRaises(ArithmeticError) as caught:
                    await wrap(task)
                self.assertIs(caught.exception, error)
        Aio.run(main())

    def test_c_queue_shared(self):
        # C puts GValues, Python gets them; Python puts, C reads.
        async def main():
            queue = Aio.Queue()
            await raw.Queue.put_value(queue, GObject.Value(GObject.TYPE_STRING, 'from C'))
            self.assertEqual(await queue.get(), 'from C')
            await queue.put(12)
            ok, value = raw.Queue.get_value_nowait(queue)
            self.assertEqual(value, 12)
        Aio.run(main())

    def test_c_future_resolved_from_python_callback(self):
        async def main():
            loop = Aio.get_running_loop()
            future = raw.Future.new_for_loop(loop)
            raw.Loop.call_later(loop, 0.01, lambda data: raw.Future.resolve_string(future, data),
                                'later')
            return await future
        self.assertEqual(Aio.run(main()), 'later')

    def test_python_task_in_c_task_group(self):
        async def member(i):
            await Aio.sleep(0.001 * i)
            return i

        async def main():
            group = raw.TaskGroup.new()
            tasks = [Aio.TaskGroup.create_task(group, member(i)) for i in range(3)]
            await raw.TaskGroup.wait(group)
            return [t.result() for t in tasks]
        self.assertEqual(Aio.run(main()), [0, 1, 2])


if __name__ == '__main__':
    main()
