# tests/installed/smoke.py PREFIX: aio-glib from Python, all of it from PREFIX
#
# Run by .ci/check-install, and as the installed test smoke-python, with
# PYTHONPATH, GI_TYPELIB_PATH and LD_LIBRARY_PATH set as README's
# "Installing" section says. Checks that
# the override, the typelib and the library all come from PREFIX, then
# runs a main task that creates two tasks, sleeps and gathers them.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

prefix = os.path.realpath(sys.argv[1]) + os.sep

import gi  # noqa: E402
gi.require_version('Aio', '1.0')
from gi.repository import Aio  # noqa: E402


def under_prefix(what, path):
    path = os.path.realpath(path)
    assert path.startswith(prefix), f'{what} is {path}, not under {prefix}'
    print(f'{what}: {path}')


under_prefix('the override', sys.modules['gi.overrides.Aio'].__file__)
under_prefix('the typelib', gi.Repository.get_default().get_typelib_path('Aio'))


async def child(seconds, value):
    await Aio.sleep(seconds)
    return value


async def main():
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1] for line in maps if 'libaio-glib-1.0.so' in line}
    assert len(libs) == 1, libs
    under_prefix('the library', libs.pop())
    await Aio.sleep(0.01)
    return await Aio.gather(Aio.create_task(child(0.02, 2)),
                            Aio.create_task(child(0.01, 40)))


result = Aio.run(main())
assert result == [2, 40], result
print(f'gather: {result}')
