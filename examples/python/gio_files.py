#!/usr/bin/python3
# gio_files.py: concurrent file reads, a read with a timeout, a cancelled read
#
# The Python form of examples/gio-files.c.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import tempfile

import gi
gi.require_version('Aio', '1.0')
from gi.repository import Aio, GLib, Gio

N_FILES = 3


async def read_pipe(stream):
    return await Aio.call_async(stream.read_bytes_async, 64, GLib.PRIORITY_DEFAULT)


async def main():
    with tempfile.TemporaryDirectory(prefix='aio-gio-files-') as folder:
        files = []
        for i in range(N_FILES):
            path = os.path.join(folder, f'file-{i}')
            with open(path, 'w') as f:
                f.write(f'the contents of file {i}')
            files.append(Gio.File.new_for_path(path))

        # 1. Three reads at once, within five seconds.
        async with Aio.timeout(5.0):
            results = await Aio.gather(*(Aio.call_async(f.load_contents_async)
                                         for f in files))
        for i, (ok, contents, etag) in enumerate(results):
            print(f'file {i}: {contents.decode()}')

    # 2. A read with a time limit: nobody writes to this pipe.
    read_fd, write_fd = os.pipe()
    stream = Gio.UnixInputStream.new(read_fd, True)
    try:
        await Aio.wait_for(read_pipe(stream), 0.2)
    except TimeoutError:
        print('pipe: timed out')

    # 3. A task reading the pipe, cancelled.
    reader = Aio.create_task(read_pipe(stream))
    await Aio.sleep(0)
    reader.cancel()
    try:
        await reader
    except Aio.CancelledError:
        print('reader: cancelled')

    # The cancelled reads are over in GIO: the pipe takes the next one.
    os.write(write_fd, b'late data')
    data = await read_pipe(stream)
    print(f'pipe: {data.get_data().decode()}')
    os.close(write_fd)


Aio.run(main())
