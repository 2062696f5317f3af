# Aio.py: the PyGObject override for aio-glib (gi.overrides.Aio)
#
# It gives Python code asyncio's everyday API on aio-glib's loop:
#
#     from gi.repository import Aio
#
#     async def main():
#         task = Aio.create_task(other())
#         await Aio.sleep(1.0)
#         print(await task)
#
#     Aio.run(main())
#
# How it works, in three points (docs/python.md tells the rest):
#
# - Every Aio.Future (and so every Aio.Task) is awaitable: its __await__
#   yields the future itself to the task that awaits it.
# - A coroutine runs as a *stepped* AioTask whose step function is _step():
#   it resumes the coroutine, which suspends again by yielding the next
#   future; _step() hands that future back to C, which calls it again once
#   the future is done.  So C code sees Python tasks as tasks like any
#   other: in aio_loop_all_tasks(), cancellable, gatherable.
# - Outcomes live in C.  A value that C can hold (None, int, float, bool,
#   str, GObject) is stored as such, so C code can read it too; any other
#   Python object travels in a GValue of type PyObject.  A Python exception
#   becomes a GError (G_IO_ERROR_CANCELLED for CancelledError,
#   G_IO_ERROR_TIMED_OUT for TimeoutError, the GError itself for
#   GLib.Error, and otherwise the "aio-python-error-quark" domain) and the
#   exception object is kept on the Python side, so that awaiting the task
#   raises the very object that was raised.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import collections.abc
import concurrent.futures
import contextvars
import functools
import itertools
import signal
import sys
import threading
import traceback
import types
import weakref

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override

_Aio = get_introspection_module('Aio')

__all__ = []


def _export(obj, name=None):
    __all__.append(name or obj.__name__)
    return obj


# ---- exceptions ------------------------------------------------------------

@_export
class CancelledError(BaseException):
    """The task or future was cancelled (asyncio.CancelledError).

    Like asyncio's, it derives from BaseException, so that `except
    Exception` does not swallow a cancellation."""


@_export
class InvalidStateError(Exception):
    """The future is not in a state that allows this (asyncio.InvalidStateError)."""


@_export
class QueueEmpty(Exception):
    """Queue.get_nowait() found the queue empty (asyncio.QueueEmpty)."""


@_export
class QueueFull(Exception):
    """Queue.put_nowait() found the queue full (asyncio.QueueFull)."""


@_export
class QueueShutDown(Exception):
    """The queue was shut down (asyncio.QueueShutDown, Python 3.13)."""


@_export
class BrokenBarrierError(RuntimeError):
    """The barrier was aborted or reset (asyncio.BrokenBarrierError)."""


TimeoutError = TimeoutError  # the built-in one, as asyncio's since 3.11
__all__.append('TimeoutError')

_IO_DOMAIN = 'g-io-error-quark'
_IO_QUARK = Gio.io_error_quark()
_IO_CANCELLED = int(Gio.IOErrorEnum.CANCELLED)
_IO_TIMED_OUT = int(Gio.IOErrorEnum.TIMED_OUT)
_AIO_DOMAIN = 'aio-error-quark'
_PY_DOMAIN = 'aio-python-error-quark'
_PY_QUARK = GLib.quark_from_string(_PY_DOMAIN)

_E = _Aio.Error
_AIO_ERRORS = {
    int(_E.QUEUE_EMPTY): QueueEmpty,
    int(_E.QUEUE_FULL): QueueFull,
    int(_E.QUEUE_SHUT_DOWN): QueueShutDown,
    int(_E.BROKEN_BARRIER): BrokenBarrierError,
    int(_E.INVALID_STATE): InvalidStateError,
    int(_E.CLOSED): RuntimeError,
    int(_E.RUNNING): RuntimeError,
    int(_E.NOT_IN_TASK): RuntimeError,
    int(_E.STOPPED): RuntimeError,
}


class _ExcBox:
    """Holds a Python exception for a future rejected from Python.

    The box lives in the future's wrapper (`_aio_exc`); the GError given to
    C carries the box's token as its code, and _boxes finds the box again
    from any copy of that GError (gather, wait_for and shield copy their
    children's errors), as long as the future lives."""

    __slots__ = ('exc', '__weakref__')

    def __init__(self, exc):
        self.exc = exc


_boxes = weakref.WeakValueDictionary()
_tokens = itertools.count(1)


def _gerror_for(exc, future):
    """The GError that stands for @exc in C; keeps @exc on @future."""
    if isinstance(exc, CancelledError):
        return GLib.Error.new_literal(_IO_QUARK, _cancel_text(exc), _IO_CANCELLED)

    box = _ExcBox(exc)
    future._aio_exc = box
    if isinstance(exc, GLib.Error):
        return exc
    if isinstance(exc, TimeoutError):
        return GLib.Error.new_literal(_IO_QUARK, str(exc) or 'The operation timed out',
                                      _IO_TIMED_OUT)
    token = next(_tokens) & 0x3fffffff or 1
    _boxes[token] = box
    text = str(exc)
    name = type(exc).__qualname__
    return GLib.Error.new_literal(_PY_QUARK, name + ': ' + text if text else name, token)


def _cancel_text(exc):
    return str(exc.args[0]) if exc.args and exc.args[0] is not None else 'The task was cancelled'


def _exception_from_gerror(err):
    """The Python exception for a GError read from C."""
    domain = err.domain
    if domain == _IO_DOMAIN:
        if err.code == _IO_CANCELLED:
            return CancelledError(err.message)
        if err.code == _IO_TIMED_OUT:
            return TimeoutError(err.message)
    elif domain == _PY_DOMAIN:
        box = _boxes.get(err.code)
        if box is not None:
            return box.exc
    elif domain == _AIO_DOMAIN:
        cls = _AIO_ERRORS.get(err.code)
        if cls is not None:
            return cls(err.message)
    return err


def _exception_of(future):
    """The exception @future failed with (marking it retrieved), or None."""
    err = _Aio.Future.get_error(future)
    if err is None:
        return None
    box = future._aio_exc
    if box is not None:
        return box.exc
    return _exception_from_gerror(err)


def _raise_gerror(err):
    raise _exception_from_gerror(err) from None


# ---- values ----------------------------------------------------------------

class _Item:
    """A Python object that C cannot hold as a plain value.

    It travels through C in a GValue of type PyObject; _value_of() unwraps
    it.  The wrapper keeps PyGObject from turning the object into some other
    GValue type (a str into G_TYPE_STRING, an int into G_TYPE_INT)."""

    __slots__ = ('value',)

    def __init__(self, value):
        self.value = value


_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1


def _complete(setters, target, value):
    """Completes @target with the Python object @value, through the one of
    @setters (the typed calls of _SETTER_KINDS, for a future or a task)
    that C can read it back from: a plain value as such, anything else as
    an _Item in a GValue."""
    t = type(value)
    if value is None:
        setters[0](target)
    elif t is int and _I64_MIN <= value <= _I64_MAX:
        setters[1](target, value)
    elif t is bool:
        setters[2](target, value)
    elif t is float:
        setters[3](target, value)
    elif t is str and '\0' not in value:
        setters[4](target, value)
    elif isinstance(value, GObject.Object):
        setters[5](target, value)
    else:
        setters[6](target, _Item(value))


_SETTER_KINDS = ('', 'int64', 'boolean', 'double', 'string', 'object', 'value')

# Resolves a future with a Python object (thread-safe): _resolve(future, value).
_resolve = functools.partial(_complete, tuple(
    getattr(_Aio.Future, ('resolve_' + kind).rstrip('_')) for kind in _SETTER_KINDS))


_get_value = _Aio.Future.get_value
_gpointer = GObject.GPointer  # what PyGObject makes of a G_TYPE_POINTER GValue
_GBoxed = GObject.GBoxed


def _value_of(future):
    """The value of the resolved @future, as a Python object."""
    try:
        value = _get_value(future)[1]
    except TypeError:
        # A future resolved with no value leaves the GValue unset, which
        # PyGObject refuses to convert.
        return None
    t = type(value)
    if t is _Item:
        return value.value
    if t is _gpointer:
        return _pointer_value(future, value)
    if isinstance(value, _GBoxed):
        # PyGObject wraps the boxed value of an out GValue without a
        # reference of its own: once the future lets go of its value (it
        # is recycled as soon as nothing holds it), the wrapper would point
        # at freed memory.  Give Python a copy it owns.
        return value.copy()
    return value


def _pointer_value(future, value):
    """The value of a future that resolved with a C pointer: gathers and
    waits resolve with an array of futures; other pointers mean nothing to
    Python and come back as they are."""
    name = type(future).__gtype__.name
    if name == 'AioGatherFuture':
        return [_outcome(child) for child in future.get_futures()]
    if name == 'AioWaitFuture':
        return future.get_futures()
    # wait_for(), shield() and as_completed() complete their futures with a
    # copy of another future's outcome, and a pointer's copy is the same
    # pointer: read the value from the future it came from, which
    # _mirrors() recorded (the gather's list, say, as asyncio gives it).
    for source in future._aio_sources or ():
        if source is not future and _is_resolved(source):
            try:
                if _get_value(source)[1] == value:
                    return _value_of(source)
            except TypeError:
                pass
    # A bare C pointer: nothing Python can read.
    return value


def _mirrors(future, sources):
    """Records on @future, a C future that will complete with a copy of
    one of @sources' outcomes, where its value may come from."""
    if future is not None:
        future._aio_sources = tuple(sources)
    return future


def _outcome(future):
    """The value of the done @future, or its exception (return_exceptions)."""
    if _Aio.Future.is_resolved(future):
        return _value_of(future)
    return _exception_of(future)


def _item_value(value):
    """@value as an item for a GValue-based C queue."""
    t = type(value)
    if (t is int and _I32_MIN <= value <= _I32_MAX) or t is float or t is bool \
            or (t is str and '\0' not in value):
        return value
    return _Item(value)


# ---- futures and tasks -----------------------------------------------------

@override
class Future(_Aio.Future):
    """A result that arrives later (asyncio.Future), awaitable from async code.

    Create one with loop.create_future().  Any Aio.Future, whoever made it
    (C code included), can be awaited in a coroutine run by Aio."""

    _aio_exc = None
    _aio_callbacks = None
    _aio_sources = None

    def __new__(cls, *, loop=None):
        # As asyncio.Future(loop=None): a future of @loop, or of the running
        # (else the default) loop.  The bare GObject constructor would make
        # a future without a loop, which the C library cannot use.
        if cls is not Future:
            raise TypeError('%s cannot be created directly' % cls.__name__)
        if loop is None:
            loop = get_event_loop()
        _check_open(loop)
        return _Aio.Future.new_for_loop(loop)

    def __init__(self, *, loop=None):
        pass  # made by __new__

    def __await__(self):
        if not _is_done(self):
            # The task that runs us waits for this future; once it is
            # done, _step() resumes us here with it (see _Driver).
            completed = yield self
            if completed is not self:
                raise _exception_of(completed)
        if _is_resolved(self):
            return _value_of(self)
        raise _exception_of(self)

    __iter__ = __await__

    def done(self):
        return _Aio.Future.is_done(self)

    def cancelled(self):
        return _Aio.Future.is_cancelled(self)

    def result(self):
        if _Aio.Future.is_resolved(self):
            return _value_of(self)
        if not _Aio.Future.is_done(self):
            raise InvalidStateError('Result is not set.')
        raise _exception_of(self)

    def exception(self):
        if not _Aio.Future.is_done(self):
            raise InvalidStateError('Exception is not set.')
        exc = _exception_of(self)
        if isinstance(exc, CancelledError):
            raise exc
        return exc

    def cancel(self, msg=None):
        return _Aio.Future.cancel(self, None if msg is None else str(msg))

    def set_result(self, result):
        if _Aio.Future.is_done(self):
            raise InvalidStateError('invalid state: the future is done')
        _resolve(self, result)

    def set_exception(self, exception):
        if _Aio.Future.is_done(self):
            raise InvalidStateError('invalid state: the future is done')
        if isinstance(exception, type):
            exception = exception()
        if not isinstance(exception, BaseException):
            raise TypeError('exception must be an exception, not %s' % type(exception).__name__)
        if isinstance(exception, StopIteration):
            raise TypeError('StopIteration interacts badly with generators '
                            'and cannot be raised into a Future')
        _Aio.Future.reject(self, _gerror_for(exception, self))

    def add_done_callback(self, fn, *, context=None):
        """Calls fn(future) once the future is done, from the loop."""
        if not callable(fn):
            raise TypeError('a callable object was expected, got %r' % (fn,))
        if context is None:
            context = contextvars.copy_context()
        cid = _Aio.Future.add_done_callback(self, _run_done_callback, (fn, context))
        callbacks = self._aio_callbacks
        if callbacks is None:
            callbacks = self._aio_callbacks = []
        callbacks.append((fn, cid))

    def remove_done_callback(self, fn):
        """Removes every registration of fn; returns how many there were."""
        callbacks = self._aio_callbacks or []
        removed = 0
        for entry in list(callbacks):
            if entry[0] == fn:
                callbacks.remove(entry)
                if _Aio.Future.remove_done_callback(self, entry[1]):
                    removed += 1
        return removed

    def get_loop(self):
        return _Aio.Future.get_loop(self)

    def _state_name(self):
        return _Aio.Future.get_state(self).value_nick.upper()

    def __repr__(self):
        return '<%s %s>' % (type(self).__name__, self._state_name())


_exports_later = ['Future']


def _done_future():
    """A future already resolved with None: what the override's stand-ins
    for asyncio's coroutine methods return once they have done their work."""
    future = _Aio.Future.new_for_loop(get_event_loop())
    _Aio.Future.resolve(future)
    return future


def _run_done_callback(future, data):
    fn, context = data
    try:
        context.run(fn, future)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        _report('Exception in callback %r' % (fn,), exc)


def _report(message, exc):
    print(message, file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


@override
class Task(_Aio.Task):
    """A coroutine (or a C body) running on the loop (asyncio.Task).

    Make one with Aio.create_task(coro).  C tasks are Aio.Tasks as well:
    everything here works on them too."""

    def __new__(cls, *args, **kwargs):
        raise TypeError('create tasks with Aio.create_task() or loop.create_task()')

    def cancel(self, msg=None):
        return _Aio.Task.cancel(self, None if msg is None else str(msg))

    def __repr__(self):
        return '<%s %s name=%r>' % (type(self).__name__, self._state_name(),
                                    _Aio.Task.get_name(self))


_exports_later.append('Task')

# Returns a Python object from a stepped task as its step ends:
# _task_return(task, value).  Even None is returned explicitly: C takes a
# stepped body that just ends while a cancellation stands as cancelled
# (how C bodies let one through), but a coroutine that caught
# CancelledError and returned is done, as in asyncio.  (Made here, not
# before the Future override exists: the first look at _Aio.Task makes its
# class, whose base must be our Future.  aio_task_return() is return_ in
# Python.)
_task_return = functools.partial(_complete, tuple(
    getattr(_Aio.Task, 'return_' + kind) for kind in _SETTER_KINDS))


@override
class Handle(_Aio.Handle):
    """A callback scheduled with call_soon() and relatives (asyncio.Handle)."""

    def cancelled(self):
        return self.is_cancelled()

    def when(self):
        return self.get_when()


_exports_later.append('Handle')


# ---- driving coroutines ----------------------------------------------------

_CoroutineType = types.CoroutineType
_GeneratorType = types.GeneratorType


def iscoroutine(obj):
    """Whether Aio can run @obj as a task (asyncio.iscoroutine)."""
    return type(obj) is _CoroutineType or isinstance(
        obj, (_CoroutineType, _GeneratorType, collections.abc.Coroutine))


_export(iscoroutine)


class _Driver:
    """The user data of a Python task's step function: its coroutine.

    The coroutine suspends by yielding an Aio.Future, and _step() resumes it
    with coro.send(completed): the future it yielded, now done (in any
    state) -- a cancellation that arrived after it was done waits for the
    next await, so that its outcome is never lost -- or, for a cancellation
    that arrived while the task slept or yielded, another future,
    cancelled.  The awaiting code (Future.__await__ and the
    override's own awaitables) reads the outcome itself, from the future it
    knows, which costs one call into C less per step than reading it here.
    A bare `yield` (what asyncio.sleep(0) does) gets one loop iteration, and
    the step reads that outcome itself (`bare`)."""

    # As few slots as will do: a sleeping task holds its driver, and every
    # byte counts for many tasks (a bound coro.send would cost 88).
    __slots__ = ('coro', 'ctx', 'bare')

    def __init__(self, coro, context):
        self.coro = coro
        self.ctx = context if context is not None else contextvars.copy_context()
        self.bare = False

    def __del__(self):
        # A task cancelled before it started never runs its body, as in
        # asyncio; closing the coroutine says so to Python, which would
        # otherwise warn that it was never awaited.
        try:
            self.coro.close()
        except BaseException:
            pass


_sleep = _Aio.sleep
_is_resolved = _Aio.Future.is_resolved
_is_done = _Aio.Future.is_done


def _fatal_of(loop):
    """The exceptions that must leave @loop's run_*() call (KeyboardInterrupt,
    SystemExit), oldest first.

    Kept on the loop's wrapper (PyGObject keeps a wrapper that has
    attributes alive as long as its GObject), so that a loop in one thread
    never sees another loop's."""
    fatal = loop._aio_fatal
    if fatal is None:
        fatal = loop._aio_fatal = []
    return fatal


def _step(task, completed, driver):
    """AioStepFunc of Python tasks: resumes the coroutine, returns what it awaits."""
    try:
        if not driver.bare:
            result = driver.ctx.run(driver.coro.send, completed)
        else:
            driver.bare = False
            if _is_resolved(completed):
                result = driver.ctx.run(driver.coro.send, None)
            else:
                result = driver.ctx.run(driver.coro.throw, _exception_of(completed))
        while True:
            if isinstance(result, Future):
                return result
            if result is None:
                # A bare yield: one iteration of the loop.
                driver.bare = True
                return _sleep(0)
            result = driver.ctx.run(driver.coro.throw, TypeError(
                'a task of aio-glib cannot wait for %r: await an Aio.Future, '
                'a task or a coroutine' % (result,)))
    except StopIteration as stop:
        _task_return(task, stop.value)
    except BaseException as exc:
        _Aio.Task.return_error(task, _gerror_for(exc, task))
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            # asyncio lets these out of the loop: stop it, and let the
            # run_*() call that runs it raise them.
            loop = _Aio.Future.get_loop(task)
            _fatal_of(loop).append((exc, task))
            if _Aio.Loop.is_running(loop):
                _Aio.Loop.stop(loop)
    return None


def _check_fatal(loop):
    """Raises the first exception that stopped @loop (see _fatal_of())."""
    fatal = loop._aio_fatal
    if fatal:
        exc, task = fatal[0]
        del fatal[:]
        if task is not None:
            _Aio.Future.get_error(task)  # raising it here is retrieving it
        raise exc


def _as_coroutine(aw):
    """@aw as something a task can run: a coroutine as it is, an awaitable
    in a coroutine that awaits it; TypeError for anything else."""
    if iscoroutine(aw):
        return aw
    if hasattr(type(aw), '__await__'):
        return _wrap_awaitable(aw)
    raise TypeError('a coroutine was expected, got %r' % (aw,))


def _refuse(coro, exc):
    """Raises @exc for a coroutine that will never run, closing it first so
    that Python does not also warn that it was never awaited."""
    if iscoroutine(coro):
        coro.close()
    raise exc


def _new_task(task, coro, driver, name):
    if task is None:
        driver.coro = None
        coro.close()
        raise RuntimeError('cannot create a task here (is the loop closed, '
                           'or the task group finished?)')
    if name is not None:
        _Aio.Task.set_name(task, str(name))
    return task


_create_stepped_task = _Aio.create_stepped_task


def create_task(coro, *, name=None, context=None):
    """Runs the coroutine @coro as a task (asyncio.create_task).

    The task runs on the running loop, or on the default loop when none
    runs (a GTK application's loop, say).  Unlike asyncio, any awaitable is
    taken (an Aio.Future too): several methods that are coroutines in
    asyncio (Queue.join(), Event.wait(), Lock.acquire()...) return futures
    here."""
    if type(coro) is not _CoroutineType:
        coro = _as_coroutine(coro)
    driver = _Driver(coro, context)
    task = _create_stepped_task(_step, driver)
    if task is None:
        return _new_task(task, coro, driver, name)
    if name is not None:
        _Aio.Task.set_name(task, str(name))
    return task


_export(create_task)


def ensure_future(obj, *, loop=None):
    """@obj as an Aio.Future: a future as it is, a coroutine as a task."""
    if isinstance(obj, Future):
        return obj
    if iscoroutine(obj):
        if loop is None:
            return create_task(obj)
        return loop.create_task(obj)
    if hasattr(obj, '__await__'):
        return ensure_future(_wrap_awaitable(obj), loop=loop)
    raise TypeError('an Aio.Future, a coroutine or an awaitable is required, got %r' % (obj,))


_export(ensure_future)


async def _wrap_awaitable(awaitable):
    return await awaitable


def current_task(loop=None):
    """The task whose body runs now, or None (asyncio.current_task)."""
    return _Aio.Task.get_current()


_export(current_task)


def all_tasks(loop=None):
    """The set of tasks of the loop not done yet (asyncio.all_tasks)."""
    if loop is None:
        loop = get_running_loop()
    return set(loop.all_tasks())


_export(all_tasks)


# ---- the loop --------------------------------------------------------------

def _check_open(loop):
    if _Aio.Loop.is_closed(loop):
        raise RuntimeError('Event loop is closed')


@override
class Loop(_Aio.Loop):
    """The event loop over a GMainContext (asyncio's event loop)."""

    _aio_fatal = None  # see _fatal_of()

    def create_task(self, coro, *, name=None, context=None):
        coro = _as_coroutine(coro)
        if _Aio.Loop.is_closed(self):
            _refuse(coro, RuntimeError('Event loop is closed'))
        driver = _Driver(coro, context)
        return _new_task(_Aio.Loop.create_stepped_task(self, _step, driver), coro, driver, name)

    def create_future(self):
        _check_open(self)
        return _Aio.Future.new_for_loop(self)

    def run_until_complete(self, future):
        """Runs the loop until @future (a future or a coroutine) is done; its result."""
        if _Aio.Loop.is_closed(self):
            _refuse(future, RuntimeError('Event loop is closed'))
        if _Aio.Loop.get_running() is not None:
            _refuse(future, RuntimeError('Cannot run the event loop while another loop is running'))
        future = ensure_future(future, loop=self)
        if _Aio.Future.get_loop(future) != self:
            raise ValueError('The future belongs to another loop')
        try:
            _Aio.Loop.run_until_complete(self, future)
        except GLib.Error:
            pass  # the outcome is read below
        _check_fatal(self)
        if not _Aio.Future.is_done(future):
            raise RuntimeError('Event loop stopped before Future completed.')
        return future.result()

    def run_forever(self):
        _check_open(self)
        if _Aio.Loop.get_running() is not None:
            raise RuntimeError('Cannot run the event loop while another loop is running')
        _Aio.Loop.run_forever(self)
        _check_fatal(self)

    def close(self):
        if _Aio.Loop.is_running(self):
            raise RuntimeError('Cannot close a running event loop')
        _Aio.Loop.close(self)

    def is_running(self):
        return _Aio.Loop.is_running(self)

    def is_closed(self):
        return _Aio.Loop.is_closed(self)

    def call_soon(self, callback, *args, context=None):
        return self._schedule(_Aio.Loop.call_soon, (), callback, args, context)

    def call_soon_threadsafe(self, callback, *args, context=None):
        return self._schedule(_Aio.Loop.call_soon_threadsafe, (), callback, args, context)

    def call_later(self, delay, callback, *args, context=None):
        return self._schedule(_Aio.Loop.call_later, (float(delay),), callback, args, context)

    def call_at(self, when, callback, *args, context=None):
        return self._schedule(_Aio.Loop.call_at, (float(when),), callback, args, context)

    def _schedule(self, method, when, callback, args, context):
        if not callable(callback):
            raise TypeError('a callable object was expected, got %r' % (callback,))
        _check_open(self)
        if context is None:
            context = contextvars.copy_context()
        return method(self, *when, _run_callback, (callback, args, context))

    def run_in_executor(self, executor, func, *args):
        """Runs func(*args) on a worker thread; a future for its result.

        @executor is None for the loop's default executor (GTask's thread
        pool), an Aio.Executor, or a concurrent.futures.Executor."""
        if not callable(func):
            raise TypeError('a callable object was expected, got %r' % (func,))
        _check_open(self)
        if isinstance(executor, concurrent.futures.Executor):
            return _run_in_cf_executor(self, executor, func, args)
        if executor is not None and not isinstance(executor, _Aio.Executor):
            raise TypeError('executor must be None, an Aio.Executor or a '
                            'concurrent.futures.Executor, got %r' % (executor,))
        return _Aio.Loop.run_in_executor(self, executor, _run_job, (func, args))

    def shutdown_default_executor(self):
        """Shuts the default executor down, waiting for its jobs (asyncio's
        coroutine loop.shutdown_default_executor()); returns a done future,
        so that both a bare call and `run_until_complete()` or `await` of
        it work."""
        _check_open(self)
        _Aio.Loop.shutdown_default_executor(self)
        future = _Aio.Future.new_for_loop(self)
        _Aio.Future.resolve(future)
        return future

    def all_tasks(self):
        return _Aio.Loop.all_tasks(self)

    def get_debug(self):
        return False

    def set_debug(self, enabled):
        pass


_exports_later.append('Loop')


def _run_callback(data):
    callback, args, context = data
    try:
        context.run(callback, *args)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        _report('Exception in callback %r' % (callback,), exc)


def _run_job(future, cancellable, job):
    """AioExecutorFunc: runs a Python callable on a worker thread."""
    func, args = job
    try:
        value = func(*args)
    except BaseException as exc:
        if not _Aio.Future.is_done(future):
            _Aio.Future.reject(future, _gerror_for(exc, future))
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            raise
    else:
        _resolve(future, value)


def _run_in_cf_executor(loop, executor, func, args):
    future = _Aio.Future.new_for_loop(loop)
    cf_future = executor.submit(func, *args)

    def copy_outcome():
        if _Aio.Future.is_done(future):
            return
        if cf_future.cancelled():
            _Aio.Future.cancel(future, None)
            return
        exc = cf_future.exception()
        if exc is not None:
            _Aio.Future.reject(future, _gerror_for(exc, future))
        else:
            _resolve(future, cf_future.result())

    def on_cf_done(_):
        if not _Aio.Loop.is_closed(loop):
            _Aio.Loop.call_soon_threadsafe(loop, lambda _data: copy_outcome(), None)

    def on_done(fut, _data):
        if _Aio.Future.is_cancelled(fut):
            cf_future.cancel()

    _Aio.Future.add_done_callback(future, on_done, None)
    cf_future.add_done_callback(on_cf_done)
    return future


def get_running_loop():
    """The running loop; RuntimeError when none runs (asyncio.get_running_loop)."""
    loop = _Aio.Loop.get_running()
    if loop is None:
        raise RuntimeError('no running event loop')
    return loop


def get_event_loop():
    """The running loop, or else the thread's default loop."""
    return _Aio.Loop.get_running() or _Aio.Loop.get_default()


def new_event_loop():
    """A new loop on a new GMainContext (asyncio.new_event_loop)."""
    return _Aio.Loop.new()


_export(get_running_loop)
_export(get_event_loop)
_export(new_event_loop)


# ---- Aio.run ---------------------------------------------------------------

def _main_loop_is_running():
    """Whether a GLib main loop runs in this thread: a source is being
    dispatched, or the thread-default context is held, as
    Gio.Application.run() holds it even while it emits 'activate'."""
    return GLib.main_depth() > 0 or GLib.MainContext.ref_thread_default().is_owner()


def run(main, *, debug=None):
    """Runs the coroutine @main on a new loop and returns its result (asyncio.run).

    As asyncio.run() does, it refuses to run inside a running loop, makes a
    new loop (on a new GMainContext, the thread-default one while it runs),
    runs @main to completion, cancels the tasks left and waits for them,
    shuts down the default executor and closes the loop.  A first Ctrl-C
    cancels the main task and raises KeyboardInterrupt."""
    if _Aio.Loop.get_running() is not None:
        if iscoroutine(main):
            main.close()
        raise RuntimeError('Aio.run() cannot be called from a running event loop')
    if _main_loop_is_running():
        if iscoroutine(main):
            main.close()
        raise RuntimeError('Aio.run() cannot be called while a main loop is running '
                           'in this thread (Gtk.Application.run(), GLib.MainLoop.run()), '
                           'as it would block that loop until done; create a task on '
                           'the default loop instead (Aio.create_task())')
    if not iscoroutine(main):
        raise ValueError('a coroutine was expected, got %r' % (main,))

    loop = new_event_loop()
    interrupted = []
    task = None
    try:
        task = loop.create_task(main)
        with _sigint_cancels(loop, task, interrupted):
            try:
                return loop.run_until_complete(task)
            except CancelledError:
                if interrupted and _Aio.Task.uncancel(task) == 0:
                    raise KeyboardInterrupt() from None
                raise
    finally:
        try:
            _cancel_all_tasks(loop)
            _Aio.Loop.shutdown_default_executor(loop)
        finally:
            _Aio.Loop.close(loop)


_export(run)


class _sigint_cancels:
    """asyncio.Runner's Ctrl-C: the first cancels the main task, the next
    one raises KeyboardInterrupt.

    Python runs its own signal handlers only when Python code runs, and
    none may while the loop sleeps in C; so in the main thread, while the
    loop runs, GLib catches SIGINT with a source on the loop's context."""

    def __init__(self, loop, task, interrupted):
        self.loop = loop
        self.task = task
        self.interrupted = interrupted
        self.source = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.source = GLib.unix_signal_source_new(signal.SIGINT)
            self.source.set_callback(self._on_sigint)
            self.source.attach(_Aio.Loop.get_context(self.loop))

    def _on_sigint(self, *args):
        self.interrupted.append(signal.SIGINT)
        if len(self.interrupted) == 1 and not _Aio.Future.is_done(self.task):
            _Aio.Task.cancel(self.task, None)
        else:
            _fatal_of(self.loop).append((KeyboardInterrupt(), None))
            _Aio.Loop.stop(self.loop)
        return True

    def __exit__(self, *exc_info):
        if self.source is not None:
            self.source.destroy()
            # Removing GLib's handler leaves SIGINT's default action;
            # put Python's back.
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _cancel_all_tasks(loop):
    pending = _Aio.Loop.all_tasks(loop)
    if not pending:
        return
    for task in pending:
        _Aio.Task.cancel(task, None)
    _Aio.Loop.run_until_complete(loop, _Aio.gather(pending, True))
    _check_fatal(loop)
    for task in pending:
        if _Aio.Future.is_cancelled(task):
            continue
        exc = _exception_of(task)
        if exc is not None:
            _report('unhandled exception during Aio.run() shutdown in %r' % (task,), exc)


# ---- sleeping and combinators ----------------------------------------------

def sleep(delay, result=None):
    """Suspends the task for @delay seconds, then returns @result (asyncio.sleep).

    Returns an awaitable (not a coroutine: see _Sleeping); as with asyncio,
    the time counts from the moment it is awaited."""
    if delay <= 0:
        return _Sleeping(0.0, result)
    if delay == delay:
        return _Sleeping(float(delay), result)
    raise ValueError('sleep length must not be NaN')


class _Sleeping:
    """What `await Aio.sleep(s)` waits on.

    A small iterator rather than a generator, because a sleeping task holds
    it for the whole sleep: 64 bytes instead of a generator's 208, which is
    what keeps 100 000 sleeping tasks within asyncio's memory.  The C sleep
    starts when it is awaited; until then `_state` is the delay, then the
    future, then None once the sleep is over."""

    __slots__ = ('_state', '_result')

    def __init__(self, delay, result):
        self._state = delay
        self._result = result

    def __await__(self):
        return self

    __iter__ = __await__

    def __next__(self):
        delay = self._state
        if type(delay) is not float:
            raise RuntimeError('cannot reuse an awaited sleep')
        self._state = future = _sleep(delay)
        return future

    def send(self, completed):
        if completed is None:
            return self.__next__()
        future = self._state
        self._state = None
        if completed is future and _is_resolved(future):
            raise StopIteration(self._result)
        raise _exception_of(completed)


_export(sleep)


def _as_futures(aws):
    """The awaitables @aws as futures, one per distinct awaitable, in order."""
    futures = []
    seen = {}
    for aw in aws:
        if isinstance(aw, Future):
            futures.append(aw)
            continue
        key = id(aw)
        future = seen.get(key)
        if future is None:
            future = seen[key] = ensure_future(aw)
        futures.append(future)
    return futures


def _check_one_loop(futures):
    loop = None
    for future in futures:
        other = _Aio.Future.get_loop(future)
        if loop is None:
            loop = other
        elif other != loop:
            raise ValueError('the futures must belong to one loop')
    return loop


def gather(*aws, return_exceptions=False):
    """A future for the results of all @aws, in order (asyncio.gather).

    Coroutines among them are run as tasks.  Without @return_exceptions the
    first error is raised (the others go on); with it, errors come back as
    values.  Cancelling the gather cancels its children."""
    futures = _as_futures(aws)
    _check_one_loop(futures)
    return _Aio.gather(futures, bool(return_exceptions))


_export(gather)
gather_array = _Aio.gather  # aio_gather_array() itself, for C-style callers
__all__.append('gather_array')

# ---- sockets ----------------------------------------------------------------

# The GSocket calls of aio-socket.c, as the typelib gives them (the GBytes
# forms, under the plain names).  Bound here so that each call finds them
# in this module instead of going through the overrides proxy's
# __getattr__ (a few µs per call, several per round trip of a protocol).
socket_receive = _Aio.socket_receive
socket_send = _Aio.socket_send
socket_send_all = _Aio.socket_send_all
socket_accept = _Aio.socket_accept
socket_connect = _Aio.socket_connect
__all__ += ['socket_receive', 'socket_send', 'socket_send_all', 'socket_accept',
            'socket_connect']


FIRST_COMPLETED = 'FIRST_COMPLETED'
FIRST_EXCEPTION = 'FIRST_EXCEPTION'
ALL_COMPLETED = 'ALL_COMPLETED'
__all__ += ['FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED']

_WAIT_MODES = {
    FIRST_COMPLETED: _Aio.WaitMode.FIRST_COMPLETED,
    FIRST_EXCEPTION: _Aio.WaitMode.FIRST_EXCEPTION,
    ALL_COMPLETED: _Aio.WaitMode.ALL_COMPLETED,
}


def _timeout_value(timeout):
    if timeout is None:
        return float('inf')
    timeout = float(timeout)
    if timeout != timeout:
        raise ValueError('timeout must not be NaN')
    return max(timeout, 0.0)


async def wait(aws, *, timeout=None, return_when=ALL_COMPLETED):
    """Waits for some of @aws; returns two sets: (done, pending) (asyncio.wait)."""
    if isinstance(aws, (Future, types.CoroutineType)):
        raise TypeError('expected an iterable of futures, not %s' % type(aws).__name__)
    mode = _WAIT_MODES.get(return_when, return_when)
    if not isinstance(mode, _Aio.WaitMode):
        raise ValueError('Invalid return_when value: %r' % (return_when,))
    futures = list(dict.fromkeys(_as_futures(aws)))
    if not futures:
        raise ValueError('Set of Tasks/Futures is empty.')
    _check_one_loop(futures)
    waiter = _Aio.wait(futures, _timeout_value(timeout), mode)
    done = set(await waiter)
    return done, set(futures) - done


_export(wait)


def wait_for(aw, timeout):
    """A future for @aw's result within @timeout seconds (asyncio.wait_for).

    When the time is up, @aw is cancelled, and once it has stopped the
    future raises TimeoutError.  Cancelling the future cancels @aw."""
    future = ensure_future(aw)
    if timeout is None:
        return future
    return _mirrors(_Aio.wait_for(future, _timeout_value(timeout)), (future,))


_export(wait_for)


def shield(aw):
    """A future for @aw that cancelling does not pass on to @aw (asyncio.shield)."""
    future = ensure_future(aw)
    return _mirrors(_Aio.shield(future), (future,))


_export(shield)


def as_completed(aws, *, timeout=None):
    """An iterator of futures for the results of @aws, in the order they
    complete (asyncio.as_completed); past @timeout, they raise TimeoutError."""
    if isinstance(aws, (Future, types.CoroutineType)):
        raise TypeError('expected an iterable of futures, not %s' % type(aws).__name__)
    futures = list(dict.fromkeys(_as_futures(aws)))
    _check_one_loop(futures)
    return iter([_mirrors(future, futures)
                 for future in _Aio.as_completed(futures, _timeout_value(timeout))])


_export(as_completed)


def run_in_executor(executor, func, *args):
    """loop.run_in_executor() on the running loop, or the default loop."""
    return get_event_loop().run_in_executor(executor, func, *args)


_export(run_in_executor)


def to_thread(func, /, *args, **kwargs):
    """Runs func(*args, **kwargs) on a worker thread (asyncio.to_thread).

    Returns an awaitable future; the function sees a copy of the caller's
    context variables, as with asyncio."""
    if not callable(func):
        raise TypeError('a callable object was expected, got %r' % (func,))
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return get_event_loop().run_in_executor(None, call)


_export(to_thread)


# ---- GIO's _async/_finish methods -------------------------------------------

def _finish_for(method):
    """The _finish function of the GIO-style _async @method, as a callable
    taking (source_object, result)."""
    name = getattr(method, '__name__', '')
    base = name[:-len('_async')] if name.endswith('_async') else name
    finish_name = base + '_finish'
    owner = getattr(method, '__self__', None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        # A Python bound method.
        finish = getattr(owner, finish_name, None)
        if finish is not None:
            return lambda source, result: finish(result)
    elif hasattr(method, 'get_container') and hasattr(method, 'get_namespace'):
        # A PyGObject function: its _finish is next to it, in the same
        # class, interface or namespace.  PyGObject does not tell the
        # instance a method was bound to, but GIO gives it back to the
        # callback as the source object.
        import importlib
        module = importlib.import_module('gi.repository.' + method.get_namespace())
        container = method.get_container()
        holder = getattr(module, container.get_name()) if container is not None else module
        finish = getattr(holder, finish_name, None)
        if finish is not None:
            if method.is_method():
                return finish
            return lambda source, result: finish(result)
    raise TypeError('cannot find the _finish function of %r; pass finish=' % (method,))


def _call_finish(finish, source, result):
    return finish(result)


def call_async(method, *args, finish=None, **kwargs):
    """Calls a GIO-style _async method and returns a future for its outcome.

        contents = await Aio.call_async(file.load_contents_async)

    @method is called with @args, @kwargs, a cancellable= that is cancelled
    when the future is (so cancelling the task that awaits it stops the
    operation) and a callback= that calls the matching _finish function and
    completes the future with what it returns, or with the error it raises.
    That function is found next to @method (its name with _finish for
    _async); pass @finish, a callable taking the GAsyncResult, otherwise.

    The future is an Aio.GioCall: once cancelled (by task.cancel(), a
    wait_for() or timeout() deadline, ...) it stays pending until GIO has
    reported, so the object the call used is free when the await raises.
    A cancellable= of your own cancels the operation too."""
    if not callable(method):
        raise TypeError('a callable object was expected, got %r' % (method,))
    if finish is None:
        finish = _finish_for(method)
    elif callable(finish):
        finish = functools.partial(_call_finish, finish)
    else:
        raise TypeError('finish must be callable, got %r' % (finish,))
    loop = get_event_loop()
    _check_open(loop)
    future = _Aio.GioCall.new_for_loop(loop)
    cancellable = future.get_cancellable()
    theirs = kwargs.pop('cancellable', None)
    linked = 0
    if theirs is not None:
        if theirs.is_cancelled():
            cancellable.cancel()
        else:
            linked = theirs.connect(lambda *_: cancellable.cancel())

    def on_ready(source, result, *user_data):
        if linked:
            theirs.disconnect(linked)
        try:
            value = finish(source, result)
        except BaseException as exc:
            if _Aio.Future.is_done(future):
                return
            if (cancellable.is_cancelled() and isinstance(exc, GLib.Error)
                    and (theirs is None or not theirs.is_cancelled())
                    and exc.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)):
                # Cancelled through the future: it ends cancelled, with the
                # message of that cancellation.
                _Aio.GioCall.return_result(future, result)
            else:
                _Aio.Future.reject(future, _gerror_for(exc, future))
        else:
            if not _Aio.Future.is_done(future):
                _resolve(future, value)

    method(*args, cancellable=cancellable, callback=on_ready, **kwargs)
    return future


_export(call_async)


# ---- timeouts ----------------------------------------------------------------

class _TimeoutScope:
    """What Aio.timeout() returns: an `async with` scope (asyncio.Timeout)."""

    def __init__(self, when, relative):
        self._when = when
        self._relative = relative
        self._scope = None
        self._task = None
        self._cancelling = 0

    def when(self):
        if self._scope is not None:
            when = self._scope.when()
            return None if when >= sys.float_info.max else when
        return self._when

    def reschedule(self, when):
        if self._scope is None:
            self._when = when
            self._relative = False
            return
        if self._scope.expired():
            raise RuntimeError('Cannot reschedule an expired timeout')
        self._scope.reschedule(float('inf') if when is None else float(when))

    def expired(self):
        return self._scope is not None and self._scope.expired()

    async def __aenter__(self):
        task = _Aio.Task.get_current()
        if task is None:
            raise RuntimeError('Timeout should be used inside a task')
        if self._scope is not None:
            raise RuntimeError('Timeout has already been entered')
        self._task = task
        self._cancelling = _Aio.Task.cancelling(task)
        if self._when is None:
            self._scope = _Aio.Timeout.enter(float('inf'))
        elif self._relative:
            self._scope = _Aio.Timeout.enter(max(float(self._when), 0.0))
        else:
            self._scope = _Aio.Timeout.enter_at(float(self._when))
        return self

    async def __aexit__(self, exc_type, exc, tb):
        scope = self._scope
        body_cancelled = exc_type is not None and issubclass(exc_type, CancelledError)
        # exit_with() disarms the timer and, when it fired, takes the
        # scope's cancellation back from the task (asyncio's uncancel()); it
        # fails with TIMED_OUT when the cancellation was the scope's own.
        try:
            scope.exit_with(body_cancelled)
        except GLib.Error as error:
            if error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                raise TimeoutError() from exc
        return None


def timeout(delay):
    """`async with Aio.timeout(delay):` cancels its body after @delay seconds
    and raises TimeoutError (asyncio.timeout).  None: no deadline."""
    return _TimeoutScope(delay, True)


def timeout_at(when):
    """Aio.timeout() with a deadline on the loop's clock (asyncio.timeout_at)."""
    return _TimeoutScope(when, False)


_export(timeout)
_export(timeout_at)


# ---- coordination primitives ---------------------------------------------------

def _check_held(lock, what):
    """RuntimeError unless the current task holds @lock, as asyncio raises
    for a lock it does not hold.  The rule is C's (aio_lock_check_held(),
    which aio_lock_release() and the condition's calls enforce too): this
    only turns its answer into Python's error, where C would log a
    critical."""
    try:
        _Aio.Lock.check_held(lock)
    except GLib.Error as err:
        raise RuntimeError('cannot %s: %s' % (what, err.message)) from None


class _ContextLock:
    """`async with` for the primitives that have acquire() and release()."""

    async def __aenter__(self):
        await self.acquire()
        return None

    async def __aexit__(self, exc_type, exc, tb):
        self.release()


@override
class Lock(_ContextLock, _Aio.Lock):
    """A mutual exclusion lock for tasks (asyncio.Lock); `async with lock:`."""

    def locked(self):
        return self.is_locked()

    def release(self):
        _check_held(self, 'release')
        _Aio.Lock.release(self)


_exports_later.append('Lock')


@override
class Semaphore(_ContextLock, _Aio.Semaphore):
    """A counter of free slots (asyncio.Semaphore); `async with sem:`."""

    def __init__(self, value=1, **kwargs):
        if value < 0:
            raise ValueError('Semaphore initial value must be >= 0')
        kwargs.setdefault('value', value)
        super().__init__(**kwargs)

    def locked(self):
        return self.is_locked()

    def release(self):
        # The rule is C's (aio_semaphore_check_release()); this only turns
        # its answer into asyncio's error, where C would log a critical.
        try:
            _Aio.Semaphore.check_release(self)
        except GLib.Error as err:
            if self.is_bounded():
                raise ValueError('BoundedSemaphore released too many times') from None
            raise OverflowError(err.message) from None
        _Aio.Semaphore.release(self)


_exports_later.append('Semaphore')


def BoundedSemaphore(value=1):
    """A semaphore that refuses to be released beyond @value (asyncio.BoundedSemaphore)."""
    return Semaphore(value, bounded=True)


_export(BoundedSemaphore)


@override
class Event(_Aio.Event):
    """A flag tasks wait for (asyncio.Event); await event.wait()."""


_exports_later.append('Event')


@override
class Condition(_ContextLock, _Aio.Condition):
    """A condition variable (asyncio.Condition); `async with cond:`."""

    def __init__(self, lock=None, **kwargs):
        if lock is not None:
            kwargs['lock'] = lock
        super().__init__(**kwargs)

    def locked(self):
        return self.is_locked()

    def release(self):
        self.get_lock().release()

    def wait(self):
        _check_held(self.get_lock(), 'wait')
        return _Aio.Condition.wait(self)

    async def wait_for(self, predicate):
        result = predicate()
        while not result:
            await self.wait()
            result = predicate()
        return result

    def notify(self, n=1):
        _check_held(self.get_lock(), 'notify')
        _Aio.Condition.notify(self, n)

    def notify_all(self):
        _check_held(self.get_lock(), 'notify')
        _Aio.Condition.notify_all(self)


_exports_later.append('Condition')


@override
class Barrier(_Aio.Barrier):
    """A meeting point for @parties tasks (asyncio.Barrier)."""

    def __init__(self, parties=None, **kwargs):
        if parties is not None:
            if parties < 1:
                raise ValueError('parties must be > 0')
            kwargs['parties'] = parties
        super().__init__(**kwargs)

    @property
    def parties(self):
        return self.get_parties()

    @property
    def n_waiting(self):
        return self.get_n_waiting()

    @property
    def broken(self):
        return self.is_broken()

    # asyncio's reset() and abort() are coroutines: these act at once, as
    # the C barrier does, and return a done future, so that `await
    # barrier.abort()` works as in asyncio (and so does a bare call).

    def reset(self):
        _Aio.Barrier.reset(self)
        return _done_future()

    def abort(self):
        _Aio.Barrier.abort(self)
        return _done_future()

    async def __aenter__(self):
        return await self.wait()

    async def __aexit__(self, *exc_info):
        pass


_exports_later.append('Barrier')


@override
class Queue(_Aio.Queue):
    """A queue of Python objects between tasks (asyncio.Queue).

    Items travel through the C queue as GValues, so C code can put and get
    simple values (ints, floats, strings) on the same queue."""

    def __init__(self, maxsize=0, **kwargs):
        kwargs.setdefault('maxsize', maxsize)
        super().__init__(**kwargs)

    @property
    def maxsize(self):
        return self.get_maxsize()

    def qsize(self):
        return self.get_size()

    def empty(self):
        return self.is_empty()

    def full(self):
        return self.is_full()

    _aio_priority = False

    @types.coroutine
    def put(self, item):
        """Puts @item in the queue, waiting while the queue is full."""
        if self._aio_priority:
            future = _put_value_with_priority(self, _item_value(item), _priority_of(item))
        else:
            t = type(item)
            if not ((t is int and _I32_MIN <= item <= _I32_MAX) or t is float or t is bool):
                item = _item_value(item)
            if not _queue_is_full(self):
                # Room now: no future to make and wait for, as asyncio's
                # put() goes straight to put_nowait().
                try:
                    _put_value_nowait(self, item)
                except GLib.Error as err:
                    _raise_gerror(err)
                return None
            future = _put_value(self, item)
        if _is_resolved(future):
            return None
        if _is_done(future):
            raise _exception_of(future)
        completed = yield future
        if completed is not future or not _is_resolved(future):
            raise _exception_of(completed)

    def put_nowait(self, item):
        try:
            if self._aio_priority:
                # There is no put_value_nowait_with_priority: a queue with
                # room takes the item at once, a full one raises.
                if self.is_full():
                    raise QueueFull()
                _Aio.Queue.put_value_with_priority(self, _item_value(item),
                                                   _priority_of(item)).result()
            else:
                _Aio.Queue.put_value_nowait(self, _item_value(item))
        except GLib.Error as err:
            _raise_gerror(err)

    def put_threadsafe(self, item):
        _Aio.Queue.put_value_threadsafe(self, _item_value(item))

    @types.coroutine
    def get(self):
        """Takes the next item out of the queue, waiting while it is empty."""
        future = _queue_get(self)
        if not _is_done(future):
            completed = yield future
            if completed is not future:
                raise _exception_of(completed)
        try:
            value = _get_value(future)[1]
        except GLib.Error:
            raise _exception_of(future) from None
        except TypeError:
            return None
        return value.value if type(value) is _Item else value

    def get_nowait(self):
        try:
            value = _Aio.Queue.get_value_nowait(self)[1]
        except GLib.Error as err:
            _raise_gerror(err)
        return value.value if type(value) is _Item else value

    def task_done(self):
        if self.get_unfinished() == 0:
            raise ValueError('task_done() called too many times')
        _Aio.Queue.task_done(self)

    def shutdown(self, immediate=False):
        _Aio.Queue.shutdown(self, bool(immediate))


_exports_later.append('Queue')
_put_value = _Aio.Queue.put_value
_put_value_nowait = _Aio.Queue.put_value_nowait
_queue_is_full = _Aio.Queue.is_full
_put_value_with_priority = _Aio.Queue.put_value_with_priority
_queue_get = _Aio.Queue.get


def LifoQueue(maxsize=0):
    """A queue that gives out its last item first (asyncio.LifoQueue)."""
    return Queue(maxsize, order=_Aio.QueueOrder.LIFO)


def PriorityQueue(maxsize=0):
    """A queue that gives out its lowest entry first (asyncio.PriorityQueue).

    Entries are (priority, data) tuples with an integer priority; equal
    priorities come out first in, first out (see docs/python.md)."""
    queue = Queue(maxsize, order=_Aio.QueueOrder.PRIORITY)
    queue._aio_priority = True
    return queue


def _priority_of(item):
    try:
        priority = item[0]
    except (TypeError, IndexError, KeyError):
        priority = None
    if type(priority) is not int or not (_I32_MIN <= priority <= _I32_MAX):
        raise TypeError('PriorityQueue entries are (priority, data) tuples with '
                        'an int priority, got %r' % (item,))
    return priority


_export(LifoQueue)
_export(PriorityQueue)


# ---- task groups ---------------------------------------------------------------

@override
class TaskGroup(_Aio.TaskGroup):
    """Tasks that finish together (asyncio.TaskGroup):

        async with Aio.TaskGroup() as tg:
            tg.create_task(one())
            tg.create_task(two())

    When one task fails, the others and the body are cancelled, and the
    block raises an ExceptionGroup of every failure."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._aio_state = _GroupState()

    def _state(self):
        state = getattr(self, '_aio_state', None)
        if state is None:
            state = self._aio_state = _GroupState()
        return state

    async def __aenter__(self):
        state = self._state()
        if state.entered:
            raise RuntimeError('TaskGroup %r has already been entered' % (self,))
        state.parent = _Aio.Task.get_current()
        if state.parent is None:
            raise RuntimeError('TaskGroup %r cannot determine the parent task' % (self,))
        state.entered = True
        return self

    def create_task(self, coro, *, name=None, context=None):
        state = self._state()
        coro = _as_coroutine(coro)
        if state.exited:
            coro.close()
            raise RuntimeError('TaskGroup %r is finished' % (self,))
        driver = _Driver(coro, context)
        task = _new_task(_Aio.TaskGroup.create_stepped_task(self, _step, driver),
                         coro, driver, name)
        _Aio.Future.add_done_callback(task, _group_task_done, weakref.ref(self))
        return task

    async def __aexit__(self, exc_type, exc, tb):
        state = self._state()
        state.exiting = True
        parent = state.parent
        propagate_cancel = None
        if exc_type is not None and issubclass(exc_type, CancelledError):
            propagate_cancel = exc
        if exc is not None and not isinstance(exc, CancelledError):
            state.errors.append(exc)

        waiter = _Aio.TaskGroup.wait(self)
        if exc_type is not None:
            # The body failed or was cancelled: stop the tasks (asyncio's
            # _abort()), then wait for them all the same.
            _Aio.Future.cancel(waiter, None)
        while not _is_done(waiter):
            try:
                await shield(waiter)
            except CancelledError as cancelled:
                if _is_done(waiter):
                    break  # the wait itself ended, cancelled
                # Our task was cancelled while waiting: pass it on to the
                # tasks, and wait on (asyncio does the same).
                if propagate_cancel is None:
                    propagate_cancel = cancelled
                _Aio.Future.cancel(waiter, None)
            except BaseException:
                break  # failures are collected from the tasks themselves
        _Aio.Future.get_error(waiter)  # the tasks' errors are reported below
        state.exited = True

        if state.parent_cancel_requested:
            # We cancelled our own task because a member failed: take it back.
            if _Aio.Task.uncancel(parent) == 0:
                propagate_cancel = None
        if propagate_cancel is not None and not state.errors:
            raise propagate_cancel
        if state.errors:
            errors = state.errors
            state.errors = []
            raise BaseExceptionGroup('unhandled errors in a TaskGroup', errors) from None
        return None


class _GroupState:
    __slots__ = ('parent', 'entered', 'exiting', 'exited', 'errors',
                 'parent_cancel_requested')

    def __init__(self):
        self.parent = None
        self.entered = self.exiting = self.exited = False
        self.errors = []
        self.parent_cancel_requested = False


def _group_task_done(task, group_ref):
    group = group_ref()
    if group is None or _Aio.Future.is_cancelled(task) or _Aio.Future.is_resolved(task):
        return
    state = group._state()
    exc = _exception_of(task)
    state.errors.append(exc)
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        return
    if not state.exiting and not state.parent_cancel_requested and state.parent is not None:
        # asyncio: a failure cancels the body of the `async with` too.
        state.parent_cancel_requested = True
        _Aio.Task.cancel(state.parent, None)


_exports_later.append('TaskGroup')

__all__ += _exports_later
