#!/usr/bin/python3
# quickstart_exe.py: a blocking function in the default executor
#
# The third program of asyncio's quick start (examples/quickstart-exe.c is
# the same in C).  The blocking function starts on a worker thread at
# once; the loop sees its result when it runs.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import time

import gi

gi.require_version('Aio', '1.0')
from gi.repository import Aio  # noqa: E402


def blocking():
    time.sleep(0.5)
    print(f"{time.ctime()} Hello from a thread!", flush=True)


async def main():
    print(f"{time.ctime()} Hello!", flush=True)
    await Aio.sleep(1.0)
    print(f"{time.ctime()} Goodbye!", flush=True)


loop = Aio.get_event_loop()
task = loop.create_task(main())
loop.run_in_executor(None, blocking)
loop.run_until_complete(task)

pending = Aio.all_tasks(loop=loop)
for task in pending:
    task.cancel()
group = Aio.gather(*pending, return_exceptions=True)
loop.run_until_complete(group)
loop.shutdown_default_executor()
loop.close()
