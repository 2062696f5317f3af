#!/usr/bin/python3
# helloworld.py: the "Hello World" of aio-glib, in Python
#
# The first program of asyncio's quick start, with Aio in place of asyncio
# (examples/helloworld.c is the same in C).
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


Aio.run(main())
