#!/usr/bin/python3
# test_parity.py: the same coroutines under real asyncio and under Aio must
# give the same values
#
# Each case below is written once against a namespace `ns`, which is either
# the `asyncio` module or `Aio`; the test runs it with asyncio.run() and with
# Aio.run() and compares what comes out: the values returned and awaited,
# what each method returns, whether each asyncio coroutine method gives an
# awaitable, and the type of each exception raised.  Values go through
# `shape()`, which keeps what asyncio documents (the list of a gather, the
# set of a wait, None from a method that returns nothing) and leaves out
# what cannot match (object identities, the loop's own classes).
#
# Differences that docs/python.md lists under "Differences from asyncio"
# are not cases here.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import concurrent.futures
import inspect
import unittest

from aiotest import Aio, AioTestCase, main


class Boom(Exception):
    """What the cases raise themselves: compared with its arguments."""


def shape(value):
    """@value, comparable between asyncio and Aio."""
    if isinstance(value, BaseException):
        if isinstance(value, (asyncio.CancelledError, Aio.CancelledError)):
            return ('cancelled',)
        if isinstance(value, Boom):
            return ('raised', 'Boom', value.args)
        # The library's own messages are text, not values: only the type.
        return ('raised', type(value).__name__)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(item) for item in value])
    if isinstance(value, (set, frozenset)):
        return ('set', sorted(repr(shape(item)) for item in value))
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, (asyncio.Future, Aio.Future)):
        return ('future',)
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    return ('object', type(value).__name__)


async def later(ns, value, delay=0):
    await ns.sleep(delay)
    return value


async def fail(ns, exc, delay=0):
    await ns.sleep(delay)
    raise exc


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# ---- combinators: the gather's list survives every wrapping ---------------

@case
async def gather_values(ns):
    """asyncio.gather: the results, in the order given."""
    return await ns.gather(later(ns, 1, 0.01), later(ns, 'b'), later(ns, [3]))


@case
async def gather_return_exceptions(ns):
    """asyncio.gather(return_exceptions=True): errors as values."""
    return await ns.gather(fail(ns, Boom('x')), later(ns, 3), return_exceptions=True)


@case
async def gather_of_gather(ns):
    """A gather inside a gather is a list inside the list."""
    return await ns.gather(ns.gather(later(ns, 1), later(ns, 2)), later(ns, 3))


@case
async def wait_for_gather(ns):
    """asyncio.wait_for(gather(...)): the gather's list."""
    return await ns.wait_for(ns.gather(later(ns, 1), later(ns, 'b')), 10)


@case
async def shield_gather(ns):
    """asyncio.shield(gather(...)): the gather's list."""
    return await ns.shield(ns.gather(later(ns, 1), later(ns, 'b')))


@case
async def wait_for_shield_gather(ns):
    """wait_for(shield(gather(...))): still the list."""
    return await ns.wait_for(ns.shield(ns.gather(later(ns, 1))), 10)


@case
async def shield_wait_for_gather_result(ns):
    """Future.result() of a shield of a wait_for of a gather: the list."""
    outer = ns.shield(ns.wait_for(ns.gather(later(ns, 1), later(ns, 2)), 10))
    await outer
    return outer.result()


@case
async def gather_of_wait_for_gather(ns):
    """A gather of a wait_for of a gather: a list inside the list."""
    return await ns.gather(ns.wait_for(ns.gather(later(ns, 1)), 10), later(ns, 2))


@case
async def as_completed_gathers(ns):
    """asyncio.as_completed of gathers: each gives its list."""
    gathers = [ns.gather(later(ns, 1, 0.05)), ns.gather(later(ns, 2))]
    return [await future for future in ns.as_completed(gathers)]


@case
async def as_completed_values(ns):
    """asyncio.as_completed: results in the order they complete."""
    return [await future for future in ns.as_completed([later(ns, 1, 0.05), later(ns, 2)])]


@case
async def wait_done_results(ns):
    """asyncio.wait: (done, pending) sets; done futures give their results,
    a shield of a gather its list."""
    shielded = ns.shield(ns.gather(later(ns, 1)))
    done, pending = await ns.wait([shielded, ns.ensure_future(later(ns, 2))])
    return done, pending, sorted(repr(future.result()) for future in done)


@case
async def wait_first_completed(ns):
    """asyncio.wait(return_when=FIRST_COMPLETED)."""
    slow = ns.ensure_future(later(ns, 1, 5))
    done, pending = await ns.wait([slow, ns.ensure_future(later(ns, 2))],
                                  return_when=ns.FIRST_COMPLETED)
    slow.cancel()
    return [future.result() for future in done], len(pending)


@case
async def wait_for_value(ns):
    """asyncio.wait_for: the value of the awaitable; None means no timeout."""
    return await ns.wait_for(later(ns, 5), 10), await ns.wait_for(later(ns, 6), None)


@case
async def wait_for_times_out(ns):
    """asyncio.wait_for raises TimeoutError past its timeout."""
    return await ns.wait_for(ns.sleep(10), 0.01)


@case
async def wait_for_error(ns):
    """asyncio.wait_for(gather(...)) passes the child's error on."""
    return await ns.wait_for(ns.gather(fail(ns, Boom('k'))), 10)


@case
async def shield_task_value(ns):
    """asyncio.shield(task): the task's value."""
    return await ns.shield(ns.create_task(later(ns, {'a': [1]})))


@case
async def shield_outer_cancel(ns):
    """Cancelling a shield leaves the shielded task running."""
    inner = ns.create_task(later(ns, 'inner', 0.01))
    outer = ns.shield(inner)
    outer.cancel()
    try:
        await outer
    except ns.CancelledError:
        pass
    return outer.cancelled(), await inner


@case
async def sleep_results(ns):
    """asyncio.sleep(delay, result) returns result; sleep(0) None."""
    return await ns.sleep(0, 'r'), await ns.sleep(0.001, 'q'), await ns.sleep(0)


@case
async def as_completed_timeout(ns):
    """asyncio.as_completed(timeout=): the futures still pending raise
    TimeoutError."""
    slow = ns.ensure_future(later(ns, 1, 10))
    results = []
    for future in ns.as_completed([later(ns, 2), slow], timeout=0.05):
        try:
            results.append(await future)
        except TimeoutError as error:
            results.append(type(error).__name__)
    slow.cancel()
    return results


@case
async def sleep_negative(ns):
    """asyncio.sleep() of a negative delay returns at once, with its result."""
    return await ns.sleep(-1, 'r')


@case
async def wait_timeout_pending(ns):
    """asyncio.wait(timeout=): what is not done by then is in pending."""
    slow = ns.ensure_future(later(ns, 1, 10))
    fast = ns.ensure_future(later(ns, 2))
    done, pending = await ns.wait([slow, fast], timeout=0.05)
    slow.cancel()
    return [future.result() for future in done], pending == {slow}


@case
async def call_soon_threadsafe_from_thread(ns):
    """loop.call_soon_threadsafe() from another thread sets a future."""
    import threading
    loop = ns.get_running_loop()
    future = loop.create_future()
    thread = threading.Thread(
        target=lambda: loop.call_soon_threadsafe(future.set_result, [1, 'x']))
    thread.start()
    value = await future
    thread.join()
    return value


@case
async def condition_with_lock(ns):
    """asyncio.Condition(lock): the condition uses that lock."""
    lock = ns.Lock()
    condition = ns.Condition(lock)
    async with condition:
        held = lock.locked()
    return held, lock.locked()


@case
async def lock_cancelled_acquire(ns):
    """A cancelled Lock.acquire() does not take the lock."""
    lock = ns.Lock()
    await lock.acquire()
    waiter = ns.create_task(lock.acquire())
    await ns.sleep(0)
    waiter.cancel()
    try:
        await waiter
    except ns.CancelledError:
        pass
    lock.release()
    return waiter.cancelled(), lock.locked()


@case
async def event_wait_cancelled(ns):
    """A cancelled Event.wait() raises CancelledError in its task."""
    event = ns.Event()
    waiter = ns.create_task(event.wait())
    await ns.sleep(0)
    waiter.cancel()
    try:
        await waiter
    except ns.CancelledError as error:
        return shape(error), waiter.cancelled(), event.is_set()


# ---- timeouts and task groups -----------------------------------------------

@case
async def timeout_at_reached(ns):
    """asyncio.timeout_at(): a deadline on the loop's clock."""
    loop = ns.get_running_loop()
    try:
        async with ns.timeout_at(loop.time() + 0.01) as scope:
            await ns.sleep(10)
    except TimeoutError:
        return 'timed out', scope.expired(), scope.when() <= loop.time()


@case
async def timeout_not_reached(ns):
    """asyncio.timeout: the body's value, expired() False, when() a float."""
    async with ns.timeout(10) as scope:
        value = await later(ns, 1)
    return value, scope.expired(), type(scope.when()).__name__


@case
async def timeout_reached(ns):
    """asyncio.timeout raises TimeoutError, expired() True."""
    scope = None
    try:
        async with ns.timeout(0.01) as scope:
            await ns.sleep(10)
    except TimeoutError as error:
        return 'timed out', type(error).__name__, scope.expired()


@case
async def timeout_none_and_reschedule(ns):
    """asyncio.timeout(None): no deadline until reschedule()."""
    async with ns.timeout(None) as scope:
        when = scope.when()
        scope.reschedule(None)
        await ns.sleep(0)
    return when, scope.expired()


@case
async def task_group_values(ns):
    """asyncio.TaskGroup: __aenter__ gives the group; the tasks' values."""
    async with ns.TaskGroup() as group:
        one = group.create_task(later(ns, 1))
        two = group.create_task(later(ns, [2]))
    return one.result(), await two


@case
async def task_group_gather_in_wait_for(ns):
    """A task of a group that awaits wait_for(gather(...)): the list."""
    async def inner():
        return await ns.wait_for(ns.gather(later(ns, 1)), 10)
    async with ns.TaskGroup() as group:
        task = group.create_task(inner())
    return task.result()


@case
async def task_group_failure(ns):
    """asyncio.TaskGroup raises an ExceptionGroup of the failures."""
    try:
        async with ns.TaskGroup() as group:
            group.create_task(fail(ns, Boom('v')))
            group.create_task(ns.sleep(10))
    except ExceptionGroup as group_error:
        return [shape(error) for error in group_error.exceptions]


@case
async def task_group_enter_exit(ns):
    """TaskGroup.__aenter__ returns the group, __aexit__ None."""
    group = ns.TaskGroup()
    entered = await group.__aenter__()
    return entered is group, await group.__aexit__(None, None, None)


# ---- queues --------------------------------------------------------------------

@case
async def queue_methods(ns):
    """asyncio.Queue: put/put_nowait/task_done/join return None, get the item."""
    queue = ns.Queue()
    put = await queue.put(1)
    put_nowait = queue.put_nowait(2)
    got = await queue.get(), queue.get_nowait()
    done = queue.task_done(), queue.task_done()
    joined = await queue.join()
    return put, put_nowait, got, done, joined, queue.qsize(), queue.empty(), \
        queue.full(), queue.maxsize


@case
async def queue_items(ns):
    """Items come out as they were put in, whatever their type."""
    queue = ns.Queue()
    items = [None, 1, 2 ** 40, 2 ** 70, 1.5, True, 'x', [1], (1, 2), {'a': 1}, b'b']
    for item in items:
        await queue.put(item)
    return [await queue.get() for _ in items]


@case
async def queue_full_and_empty(ns):
    """QueueFull and QueueEmpty."""
    queue = ns.Queue(1)
    await queue.put(1)
    try:
        queue.put_nowait(2)
    except ns.QueueFull as error:
        full = type(error).__name__
    queue.get_nowait()
    try:
        queue.get_nowait()
    except ns.QueueEmpty as error:
        return full, type(error).__name__


@case
async def queue_get_waits(ns):
    """get() waits for a put from another task."""
    queue = ns.Queue()
    getter = ns.create_task(queue.get())
    await ns.sleep(0)
    await queue.put([1])
    return await getter


@case
async def queue_join_waits(ns):
    """join() waits until every item was marked done."""
    queue = ns.Queue()
    queue.put_nowait(1)
    log = []

    async def worker():
        await queue.get()
        log.append('got')
        queue.task_done()
    ns.create_task(worker())
    log.append(await queue.join())
    return log


@case
async def queue_task_done_too_often(ns):
    """task_done() once too often raises ValueError."""
    ns.Queue().task_done()


@case
async def lifo_queue(ns):
    """asyncio.LifoQueue: last in, first out."""
    queue = ns.LifoQueue()
    for item in (1, 2, 3):
        queue.put_nowait(item)
    return [queue.get_nowait() for _ in range(3)]


@case
async def priority_queue(ns):
    """asyncio.PriorityQueue: lowest entry first."""
    queue = ns.PriorityQueue()
    for item in ((3, 'c'), (1, 'a'), (2, 'b')):
        await queue.put(item)
    return [await queue.get() for _ in range(3)]


# ---- locks, events, conditions, semaphores, barriers ------------------------

@case
async def lock_methods(ns):
    """asyncio.Lock: acquire() gives True, release() None, async with None."""
    lock = ns.Lock()
    acquired = await lock.acquire()
    locked = lock.locked()
    released = lock.release()
    async with lock as entered:
        inside = lock.locked()
    return acquired, locked, released, entered, inside, lock.locked()


@case
async def lock_serializes(ns):
    """Three tasks in `async with lock:` run their bodies one at a time."""
    lock = ns.Lock()
    log = []

    async def worker(name):
        await ns.sleep(0)
        async with lock:
            log.append(name + '+')
            await ns.sleep(0.001)
            log.append(name + '-')
    await ns.gather(worker('a'), worker('b'), worker('c'))
    return log


@case
async def lock_release_unlocked(ns):
    """Releasing a lock nobody holds raises RuntimeError."""
    ns.Lock().release()


@case
async def event_methods(ns):
    """asyncio.Event: set()/clear() None, wait() True."""
    event = ns.Event()
    was_set = event.is_set()
    set_ = event.set()
    waited = await event.wait()
    cleared = event.clear()
    return was_set, set_, waited, cleared, event.is_set()


@case
async def event_wait_in_wait_for(ns):
    """wait_for(event.wait()) gives True once set."""
    event = ns.Event()
    ns.get_running_loop().call_soon(event.set)
    return await ns.wait_for(event.wait(), 10)


@case
async def condition_methods(ns):
    """asyncio.Condition: wait() True, notify() None, wait_for() the
    predicate's value."""
    condition = ns.Condition()
    state = []

    async def notifier():
        async with condition:
            state.append(1)
            return condition.notify()

    async with condition:
        task = ns.create_task(notifier())
        waited = await condition.wait()
    async with condition:
        ns.create_task(notifier())
        predicate = await condition.wait_for(lambda: len(state) == 2 and 'ok')
    return waited, predicate, await task, condition.locked()


@case
async def condition_notify_unacquired(ns):
    """notify() without the lock raises RuntimeError."""
    ns.Condition().notify()


@case
async def semaphore_methods(ns):
    """asyncio.Semaphore: acquire() True, release() None, locked()."""
    semaphore = ns.Semaphore(2)
    acquired = await semaphore.acquire()
    locked = semaphore.locked()
    released = semaphore.release()
    async with semaphore as entered:
        pass
    return acquired, locked, released, entered, semaphore.locked()


@case
async def bounded_semaphore(ns):
    """asyncio.BoundedSemaphore: one release too many raises ValueError."""
    semaphore = ns.BoundedSemaphore(1)
    try:
        semaphore.release()
    except ValueError as error:
        return type(error).__name__, await semaphore.acquire()


@case
async def barrier_methods(ns):
    """asyncio.Barrier: wait() gives each party its index."""
    barrier = ns.Barrier(3)

    async def party():
        async with barrier as index:
            return index
    indexes = await ns.gather(party(), party(), party())
    return sorted(indexes), barrier.parties, barrier.n_waiting, barrier.broken


@case
async def barrier_abort(ns):
    """asyncio.Barrier.abort() is a coroutine: awaitable, None, and the
    waiters get BrokenBarrierError."""
    barrier = ns.Barrier(2)
    waiter = ns.create_task(barrier.wait())
    await ns.sleep(0)
    aborting = barrier.abort()
    result = await aborting
    try:
        await waiter
    except ns.BrokenBarrierError as error:
        broken = type(error).__name__
    return inspect.isawaitable(aborting), result, broken, barrier.broken


@case
async def barrier_reset(ns):
    """asyncio.Barrier.reset() is a coroutine: awaitable, None."""
    barrier = ns.Barrier(2)
    barrier_aborted = ns.Barrier(2)
    await barrier_aborted.abort()
    resetting = barrier_aborted.reset()
    result = await resetting
    return inspect.isawaitable(resetting), result, barrier_aborted.broken, \
        await barrier.reset()


# ---- threads -------------------------------------------------------------------

@case
async def to_thread_value(ns):
    """asyncio.to_thread: func(*args, **kwargs)'s value."""
    return await ns.to_thread(lambda a, b=0: [a, b], 1, b=2)


@case
async def to_thread_error(ns):
    """asyncio.to_thread: func's exception."""
    def boom():
        raise Boom('k')
    return await ns.to_thread(boom)


@case
async def run_in_executor_values(ns):
    """loop.run_in_executor, default and concurrent.futures executors."""
    loop = ns.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        return await loop.run_in_executor(None, pow, 2, 10), \
            await loop.run_in_executor(executor, divmod, 7, 2)


@case
async def shutdown_default_executor(ns):
    """loop.shutdown_default_executor() is a coroutine: awaitable, None."""
    loop = ns.get_running_loop()
    await loop.run_in_executor(None, pow, 2, 2)
    shutting = loop.shutdown_default_executor()
    return inspect.isawaitable(shutting), await shutting


# ---- tasks, futures and the loop -----------------------------------------------

@case
async def current_and_all_tasks(ns):
    """current_task() is the running task; all_tasks() a set holding it."""
    task = ns.create_task(ns.sleep(0.01))
    tasks = ns.all_tasks()
    found = type(tasks).__name__, task in tasks, ns.current_task() in tasks
    await task
    return found, ns.current_task() is ns.current_task(), task in ns.all_tasks()


@case
async def future_methods(ns):
    """asyncio.Future: done/cancelled/set_result/result/exception/cancel."""
    future = ns.get_running_loop().create_future()
    before = future.done(), future.cancelled()
    set_ = future.set_result([1])
    return before, set_, future.result(), future.exception(), future.done(), \
        await future, future.cancel()


@case
async def future_result_pending(ns):
    """Future.result() of a pending future raises InvalidStateError."""
    ns.get_running_loop().create_future().result()


@case
async def future_set_twice(ns):
    """Future.set_result() on a done future raises InvalidStateError."""
    future = ns.get_running_loop().create_future()
    future.set_result(1)
    future.set_result(2)


@case
async def future_cancelled(ns):
    """Future.cancel(): True, cancelled(), result() raises CancelledError."""
    future = ns.get_running_loop().create_future()
    cancel = future.cancel('m')
    try:
        future.result()
    except ns.CancelledError as error:
        return cancel, future.cancelled(), shape(error)


@case
async def future_exception(ns):
    """Future.set_exception(): exception() gives it, await raises it."""
    future = ns.get_running_loop().create_future()
    future.set_exception(Boom('v'))
    return future.exception(), await future


@case
async def future_callbacks(ns):
    """add_done_callback(): None, called once with the future; remove 0 after."""
    future = ns.get_running_loop().create_future()
    seen = []
    added = future.add_done_callback(seen.append)
    future.set_result(1)
    await ns.sleep(0)
    await ns.sleep(0)
    return added, len(seen), seen[0] is future, future.remove_done_callback(seen.append)


@case
async def task_methods(ns):
    """asyncio.Task: names, done, result, exception, cancelled."""
    task = ns.create_task(later(ns, [1], 0.01), name='n')
    before = task.get_name(), task.done(), task.cancelling()
    renamed = task.set_name('m')
    value = await task
    return before, renamed, task.get_name(), value, task.result(), task.exception(), \
        task.cancelled(), task.done()


@case
async def task_cancel(ns):
    """Task.cancel(): True, cancelling() 1, CancelledError, then False."""
    task = ns.create_task(ns.sleep(10))
    await ns.sleep(0)
    cancel = task.cancel('bye')
    cancelling = task.cancelling()
    try:
        await task
    except ns.CancelledError:
        pass
    return cancel, cancelling, task.cancelled(), task.cancel()


@case
async def task_uncancel(ns):
    """Task.uncancel() lets a task go on after a cancellation."""
    async def stubborn():
        try:
            await ns.sleep(10)
        except ns.CancelledError:
            return ns.current_task().uncancel(), 'went on'
    task = ns.create_task(stubborn())
    await ns.sleep(0)
    task.cancel()
    return await task


@case
async def task_default_name(ns):
    """Tasks are named Task-N unless named."""
    task = ns.create_task(later(ns, 1))
    await task
    return task.get_name().startswith('Task-')


@case
async def loop_methods(ns):
    """call_soon/call_later/call_at run in time order; handles; time()."""
    loop = ns.get_running_loop()
    seen = []
    soon = loop.call_soon(seen.append, 1)
    later_ = loop.call_later(0.001, seen.append, 2)
    at = loop.call_at(loop.time() + 0.002, seen.append, 3)
    cancelled = loop.call_soon(seen.append, 4)
    cancelled.cancel()
    await ns.sleep(0.05)
    return seen, soon.cancelled(), cancelled.cancelled(), type(loop.time()).__name__, \
        loop.is_running(), loop.is_closed(), at.when() >= later_.when()


@case
async def loop_create_task_and_future(ns):
    """loop.create_task(name=) and loop.create_future()."""
    loop = ns.get_running_loop()
    task = loop.create_task(later(ns, [2]), name='x')
    future = loop.create_future()
    loop.call_soon(future.set_result, 'f')
    return await task, task.get_name(), await future


@case
async def ensure_future_coroutine(ns):
    """ensure_future(coro) gives a task; ensure_future(task) the task."""
    future = ns.ensure_future(later(ns, 1))
    return await future, ns.ensure_future(future) is future


@case
async def iscoroutine(ns):
    """iscoroutine(): True for a coroutine, False for a future."""
    coro = later(ns, 1)
    result = ns.iscoroutine(coro), ns.iscoroutine(ns.get_running_loop().create_future())
    coro.close()
    return result


def run_refuses_non_coroutine(ns):
    """asyncio.run() of something that is not a coroutine: ValueError."""
    return ns.run(42)


def run_forever_and_stop(ns):
    """loop.run_forever() until a callback calls loop.stop(); get_loop()."""
    loop = ns.new_event_loop()
    seen = []
    try:
        future = loop.create_future()
        loop.call_soon(seen.append, 'called')
        loop.call_soon(loop.stop)
        result = loop.run_forever()
        seen.append(future.get_loop() is loop)
        future.cancel()
    finally:
        loop.close()
    return result, seen, loop.is_running()


def run_loop_methods(ns):
    """The explicit loop: run_until_complete of a coroutine and of
    shutdown_default_executor(), then close()."""
    loop = ns.new_event_loop()
    try:
        value = loop.run_until_complete(later(ns, [1]))
        shut = loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    return value, shut, loop.is_closed()


def outcome(run, ns, fn):
    try:
        return ('returned', shape(run(fn(ns))))
    except BaseException as error:  # noqa: B902 -- the outcome is compared
        return shape(error)


class ParityTest(AioTestCase):
    """One test per case: asyncio.run() and Aio.run() must agree."""

    def test_explicit_loop(self):
        self.assertEqual(outcome(lambda f: f, Aio, run_loop_methods),
                         outcome(lambda f: f, asyncio, run_loop_methods))

    def test_run_refuses_non_coroutine(self):
        self.assertEqual(outcome(lambda f: f, Aio, run_refuses_non_coroutine),
                         outcome(lambda f: f, asyncio, run_refuses_non_coroutine))

    def test_run_forever_and_stop(self):
        self.assertEqual(outcome(lambda f: f, Aio, run_forever_and_stop),
                         outcome(lambda f: f, asyncio, run_forever_and_stop))


def _make_test(fn):
    def test(self):
        expected = outcome(asyncio.run, asyncio, fn)
        got = outcome(Aio.run, Aio, fn)
        self.assertEqual(got, expected, fn.__doc__)
    test.__doc__ = fn.__doc__
    return test


for _fn in CASES:
    setattr(ParityTest, 'test_' + _fn.__name__, _make_test(_fn))


if __name__ == '__main__':
    main()
