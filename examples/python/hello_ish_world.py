#!/usr/bin/python3
# hello_ish_world.py: what Aio.run() does for you, spelled out
#
# The second program of asyncio's quick start (examples/hello-ish-world.c
# is the same in C): the default loop, a task, run_until_complete, then
# what Aio.run() would do on its way out.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import time

import gi

gi.require_version('Aio', '1.0')
from gi.repository import Aio  # noqa: E402


async def main():
    print(f"{time.ctime()} Hello!", flush=True)
    await Aio.sleep(1.0)
    print(f"{time.ctime()} Goodbye!", flush=True)


loop = Aio.get_event_loop()
task = loop.create_task(main())
loop.run_until_complete(task)

# Whatever main() left running is cancelled, then waited for.
pending = Aio.all_tasks(loop=loop)
for task in pending:
    task.cancel()
group = Aio.gather(*pending, return_exceptions=True)
loop.run_until_complete(group)
loop.close()
