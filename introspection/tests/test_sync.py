#!/usr/bin/python3
# test_sync.py: queues, events, locks, semaphores, conditions and barriers,
# as asyncio's behave, with `async with` where asyncio has it
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import threading

from aiotest import Aio, AioTestCase, main


class Thing:
    pass


class QueueTest(AioTestCase):

    def test_fifo_python_objects(self):
        thing = Thing()
        items = [1, 'two', 3.0, None, thing, [4], {'five': 5}, (6,), 1 << 40, True, 'nul\0']

        async def main():
            queue = Aio.Queue()
            for item in items:
                await queue.put(item)
            self.assertEqual(queue.qsize(), len(items))
            got = [await queue.get() for _ in items]
            self.assertEqual(got, items)
            self.assertIs(got[items.index(thing)], thing)
            self.assertTrue(queue.empty())
        Aio.run(main())

    def test_producer_consumer_bounded(self):
        log = []

        async def producer(queue):
            for i in range(5):
                await queue.put(i)
                log.append(('put', i))
            await queue.put(None)

        async def consumer(queue):
            while (item := await queue.get()) is not None:
                log.append(('got', item))
                queue.task_done()
            queue.task_done()

        async def main():
            queue = Aio.Queue(maxsize=1)
            self.assertEqual(queue.maxsize, 1)
            await Aio.gather(producer(queue), consumer(queue))
            await queue.join()
        Aio.run(main())
        self.assertEqual([e for e in log if e[0] == 'got'], [('got', i) for i in range(5)])
        # A bounded queue makes the producer wait for the consumer.
        self.assertLess(log.index(('got', 0)), log.index(('put', 2)))

    def test_nowait(self):
        async def main():
            queue = Aio.Queue(maxsize=1)
            with self.assertRaises(Aio.QueueEmpty):
                queue.get_nowait()
            queue.put_nowait('a')
            self.assertTrue(queue.full())
            with self.assertRaises(Aio.QueueFull):
                queue.put_nowait('b')
            self.assertEqual(queue.get_nowait(), 'a')
        Aio.run(main())

    def test_task_done_and_join(self):
        async def main():
            queue = Aio.Queue()
            with self.assertRaises(ValueError):
                queue.task_done()
            await queue.put(1)
            joined = Aio.create_task(queue.join())
            await Aio.sleep(0)
            self.assertFalse(joined.done())
            await queue.get()
            queue.task_done()
            await joined
        Aio.run(main())

    def test_get_cancelled(self):
        async def main():
            queue = Aio.Queue()
            await self.cancel_started(queue.get())
            await queue.put('kept')
            self.assertEqual(queue.get_nowait(), 'kept')
        Aio.run(main())

    def test_get_with_timeout(self):
        async def main():
            queue = Aio.Queue()
            with self.assertRaises(TimeoutError):
                await Aio.wait_for(queue.get(), 0.01)
            queue.put_nowait('x')
            self.assertEqual(await Aio.wait_for(queue.get(), 1), 'x')
        Aio.run(main())

    def test_lifo_and_priority(self):
        async def main():
            lifo = Aio.LifoQueue()
            for i in range(3):
                await lifo.put(i)
            self.assertEqual([lifo.get_nowait() for _ in range(3)], [2, 1, 0])

            prio = Aio.PriorityQueue()
            for entry in [(3, 'c'), (1, 'a'), (2, 'b'), (1, 'a2')]:
                await prio.put(entry)
            prio.put_nowait((0, 'first'))
            self.assertEqual([(await prio.get())[1] for _ in range(5)],
                             ['first', 'a', 'a2', 'b', 'c'])
            with self.assertRaises(TypeError):
                await prio.put('no priority')
        Aio.run(main())

    def test_shutdown(self):
        async def main():
            queue = Aio.Queue()
            getter = Aio.create_task(queue.get())
            await Aio.sleep(0)
            queue.shutdown()
            with self.assertRaises(Aio.QueueShutDown):
                await getter
            with self.assertRaises(Aio.QueueShutDown):
                await queue.put(1)
        Aio.run(main())

    def test_put_threadsafe(self):
        async def main():
            queue = Aio.Queue()
            threading.Thread(target=queue.put_threadsafe, args=(['from', 'thread'],)).start()
            return await Aio.wait_for(queue.get(), 5)
        self.assertEqual(Aio.run(main()), ['from', 'thread'])


class EventTest(AioTestCase):

    def test_wait_and_set(self):
        log = []

        async def waiter(event, name):
            self.assertIs(await event.wait(), True)
            log.append(name)

        async def main():
            event = Aio.Event()
            self.assertFalse(event.is_set())
            tasks = [Aio.create_task(waiter(event, n)) for n in 'ab']
            await Aio.sleep(0)
            self.assertEqual(log, [])
            event.set()
            await Aio.gather(*tasks)
            self.assertTrue(event.is_set())
            self.assertIs(await event.wait(), True)
            event.clear()
            self.assertFalse(event.is_set())
        Aio.run(main())
        self.assertEqual(log, ['a', 'b'])


class LockTest(AioTestCase):

    def test_async_with_excludes(self):
        log = []

        async def worker(lock, name):
            async with lock:
                log.append(name + ' in')
                await Aio.sleep(0.01)
                log.append(name + ' out')

        async def main():
            lock = Aio.Lock()
            await Aio.gather(worker(lock, 'a'), worker(lock, 'b'))
            self.assertFalse(lock.locked())
        Aio.run(main())
        self.assertEqual(log, ['a in', 'a out', 'b in', 'b out'])

    def test_acquire_release(self):
        async def main():
            lock = Aio.Lock()
            self.assertIs(await lock.acquire(), True)
            self.assertTrue(lock.locked())
            lock.release()
            # C's answer (aio_lock_check_held()), as asyncio's error.
            with self.assertRaisesRegex(RuntimeError, 'not acquired'):
                lock.release()
        Aio.run(main())

    def test_release_by_other_task(self):
        async def main():
            lock = Aio.Lock()
            await lock.acquire()

            async def intruder():
                lock.release()
            with self.assertRaises(RuntimeError):
                await Aio.create_task(intruder())
            lock.release()
        Aio.run(main())

    def test_exception_releases(self):
        async def main():
            lock = Aio.Lock()
            with self.assertRaises(ZeroDivisionError):
                async with lock:
                    1 / 0
            self.assertFalse(lock.locked())
        Aio.run(main())


class SemaphoreTest(AioTestCase):

    def test_bounds_concurrency(self):
        running = [0]
        peak = [0]

        async def worker(sem):
            async with sem:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                await Aio.sleep(0.01)
                running[0] -= 1

        async def main():
            sem = Aio.Semaphore(2)
            await Aio.gather(*[worker(sem) for _ in range(6)])
            self.assertFalse(sem.locked())
        Aio.run(main())
        self.assertEqual(peak[0], 2)

    def test_bounded(self):
        async def main():
            sem = Aio.BoundedSemaphore(1)
            await sem.acquire()
            self.assertTrue(sem.locked())
            sem.release()
            with self.assertRaises(ValueError):
                sem.release()
            with self.assertRaises(ValueError):
                Aio.Semaphore(-1)
        Aio.run(main())

    def test_release_checked_in_c(self):
        async def main():
            # Made by C's constructor, not Aio.BoundedSemaphore(): the bound
            # is C's to know, and C's check answers.
            sem = Aio.bounded_semaphore_new(1)
            with self.assertRaises(ValueError):
                sem.release()
            self.assertEqual(sem.get_value(), 1)
            # asyncio's Semaphore has no bound; a gint has.
            sem = Aio.Semaphore(2 ** 31 - 1)
            with self.assertRaises(OverflowError):
                sem.release()
            self.assertEqual(sem.get_value(), 2 ** 31 - 1)
        Aio.run(main())


class ConditionTest(AioTestCase):

    def test_wait_notify(self):
        items = []

        async def consumer(cond):
            async with cond:
                await cond.wait_for(lambda: items)
                return items.pop(0)

        async def main():
            cond = Aio.Condition()
            task = Aio.create_task(consumer(cond))
            await Aio.sleep(0)
            async with cond:
                items.append('item')
                cond.notify()
            self.assertEqual(await task, 'item')
        Aio.run(main())

    def test_notify_all(self):
        woken = []

        async def waiter(cond, name):
            async with cond:
                self.assertIs(await cond.wait(), True)
                woken.append(name)

        async def main():
            cond = Aio.Condition(Aio.Lock())
            tasks = [Aio.create_task(waiter(cond, n)) for n in 'abc']
            await Aio.sleep(0.01)
            async with cond:
                cond.notify_all()
            await Aio.gather(*tasks)
        Aio.run(main())
        self.assertEqual(sorted(woken), ['a', 'b', 'c'])

    def test_unacquired(self):
        async def main():
            cond = Aio.Condition()
            with self.assertRaises(RuntimeError):
                cond.notify()
            with self.assertRaises(RuntimeError):
                cond.notify_all()
            with self.assertRaises(RuntimeError):
                await cond.wait()
        Aio.run(main())


class BarrierTest(AioTestCase):

    def test_parties_meet(self):
        async def party(barrier):
            async with barrier as index:
                return index

        async def main():
            barrier = Aio.Barrier(3)
            self.assertEqual(barrier.parties, 3)
            indexes = await Aio.gather(*[party(barrier) for _ in range(3)])
            self.assertEqual(sorted(indexes), [0, 1, 2])
            self.assertFalse(barrier.broken)
        Aio.run(main())

    def test_abort(self):
        async def main():
            barrier = Aio.Barrier(2)
            waiter = Aio.create_task(barrier.wait())
            await Aio.sleep(0)
            self.assertEqual(barrier.n_waiting, 1)
            barrier.abort()
            with self.assertRaises(Aio.BrokenBarrierError):
                await waiter
            self.assertTrue(barrier.broken)
            with self.assertRaises(ValueError):
                Aio.Barrier(0)
        Aio.run(main())


if __name__ == '__main__':
    main()
