// gio-files.js: concurrent file reads, a read with a timeout, a cancelled read
//
// The JavaScript form of examples/gio-files.c.
//
//     gjs gio-files.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {GLib, Gio} = imports.gi;

const N_FILES = 3;

function readPipe(stream) {
    return aio.callAsync(stream, 'read_bytes_async', 64, GLib.PRIORITY_DEFAULT);
}

aio.run(async () => {
    const folder = GLib.dir_make_tmp('aio-gio-files-XXXXXX');
    const files = [];
    for (let i = 0; i < N_FILES; i++) {
        const file = Gio.File.new_for_path(GLib.build_filenamev([folder, `file-${i}`]));
        file.replace_contents(new TextEncoder().encode(`the contents of file ${i}`), null,
            false, Gio.FileCreateFlags.NONE, null);
        files.push(file);
    }

    // 1. Three reads at once, within five seconds.
    const results = await aio.timeout(5, () =>
        aio.gather(files.map(file => aio.callAsync(file, 'load_contents_async'))));
    results.forEach(([, contents], i) =>
        print(`file ${i}: ${new TextDecoder().decode(contents)}`));
    for (const file of files)
        file.delete(null);
    Gio.File.new_for_path(folder).delete(null);

    // 2. A read with a time limit: `cat` gets nothing to copy, so its
    //    output pipe stays silent.
    const cat = Gio.Subprocess.new(['cat'],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const stream = cat.get_stdout_pipe();
    try {
        await aio.waitFor(readPipe(stream), 0.2);
    } catch (e) {
        if (!aio.isTimedOut(e))
            throw e;
        print('pipe: timed out');
    }

    // 3. A task reading the pipe, cancelled.
    const reader = aio.createTask(() => readPipe(stream));
    await aio.sleep(0);
    reader.cancel(null);
    try {
        await reader;
    } catch (e) {
        if (!aio.isCancelled(e))
            throw e;
        print('reader: cancelled');
    }

    // The cancelled reads are over in GIO: the pipe takes the next one.
    const out = cat.get_stdin_pipe();
    out.write_all(new TextEncoder().encode('late data'), null);
    const bytes = await readPipe(stream);
    print(`pipe: ${new TextDecoder().decode(bytes.toArray())}`);
    out.close(null);
    await aio.callAsync(cat, 'wait_async');
});
