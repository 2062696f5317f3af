# aiotest.py: shared set-up for the tests of the PyGObject override
#
# Importing this module makes `from gi.repository import Aio` load the
# override from the source tree (introspection/Aio.py) rather than an
# installed copy, and checks that the typelib comes from the build tree
# named by GI_TYPELIB_PATH (meson test sets it, with LD_LIBRARY_PATH).
#
# Run a test file by hand from the top of the source tree with:
#
#   GI_TYPELIB_PATH=build/aio-glib LD_LIBRARY_PATH=build/aio-glib \
#       /usr/bin/python3 introspection/tests/test_run.py
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import os
import sys
import unittest
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))
INTROSPECTION = os.path.dirname(HERE)
SOURCE_ROOT = os.path.dirname(INTROSPECTION)

import gi  # noqa: E402
import gi.overrides  # noqa: E402

if INTROSPECTION not in gi.overrides.__path__:
    gi.overrides.__path__.insert(0, INTROSPECTION)

gi.require_version('Aio', '1.0')
gi.require_version('Gio', '2.0')

from gi.repository import Aio, GLib, GObject, Gio  # noqa: E402,F401 -- for the tests

# The one from the source tree, not an installed one.
assert os.path.dirname(os.path.abspath(sys.modules['gi.overrides.Aio'].__file__)) == INTROSPECTION

raw = gi.module.get_introspection_module('Aio')
"""The Aio namespace as the typelib alone gives it, without the override:
what C code and other bindings see."""


async def value_after(delay, value):
    """Returns @value after @delay seconds."""
    await Aio.sleep(delay)
    return value


async def fail_after(delay, exc):
    """Raises @exc after @delay seconds."""
    await Aio.sleep(delay)
    raise exc


async def sleep_logging_cancel(log, entry, delay=3600, cleanup=None):
    """Sleeps for @delay seconds; if cancelled meanwhile, appends @entry to
    @log and lets the cancellation through, as a task that cleans up does;
    with @cleanup, that cleanup first awaits a sleep of @cleanup seconds."""
    try:
        await Aio.sleep(delay)
    except Aio.CancelledError:
        if cleanup is not None:
            await Aio.sleep(cleanup)
        log.append(entry)
        raise


def collect():
    for _ in range(3):
        gc.collect()


class AioTestCase(unittest.TestCase):
    """Checks, after each test, that no loop is left running and that
    nothing a test registered with self.track() is still alive."""

    def setUp(self):
        self._tracked = []

    def track(self, obj):
        """Asserts at the end of the test that @obj was freed.

        For a GObject, that means the C object was finalized, not just the
        Python wrapper collected."""
        if isinstance(obj, GObject.Object):
            finalized = []
            obj.weak_ref(finalized.append, True)
            self._tracked.append((repr(obj), lambda: not finalized))
        else:
            ref = weakref.ref(obj)
            self._tracked.append((repr(obj), lambda: ref() is not None))
        return obj

    def tearDown(self):
        self.assertIsNone(raw.Loop.get_running())
        collect()
        alive = [name for name, is_alive in self._tracked if is_alive()]
        self.assertEqual(alive, [], 'still alive after the test')

    def new_loop(self):
        """A new loop (Aio.new_event_loop()), closed once the test is over."""
        loop = Aio.new_event_loop()
        self.addCleanup(loop.close)
        return loop

    async def cancel_started(self, aw, delay=0):
        """Runs @aw as a task, lets it start (and run for @delay seconds),
        cancels it and asserts that awaiting it raises CancelledError.

        Returns: the task"""
        task = Aio.create_task(aw)
        await Aio.sleep(delay)
        task.cancel()
        with self.assertRaises(Aio.CancelledError):
            await task
        return task

    def run_async(self, coro):
        return Aio.run(coro)


def main():
    unittest.main(verbosity=2)
