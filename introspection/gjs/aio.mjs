// aio.mjs: aio-glib for GJS as an ES module (`gjs -m`, GNOME Shell
// extensions and other code written in modules)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//     import {run, Aio} from 'file:///usr/share/gjs-1.0/aio.mjs';
//
//     run(async () => {
//         print('Hello!');
//         await Aio.sleep(1.0);
//         print('Goodbye!');
//     });
//
// It is aio.js, the legacy module beside this file, loaded through the
// legacy importer and re-exported name by name: both forms share one
// implementation and, in one process, one patched Aio namespace. The
// names are those of aio.js's `exported` comment; the default export is
// the legacy module object itself.

const folder = import.meta.url.slice(0, import.meta.url.lastIndexOf('/'));

imports.searchPath.unshift(folder);
let legacy;
try {
    legacy = imports.aio;
} finally {
    imports.searchPath.splice(imports.searchPath.indexOf(folder), 1);
}

export default legacy;
export const {
    Aio, run, createTask, callAsync, ensureFuture, gather, sleep, waitFor, shield, wait,
    timeout, currentTask, allTasks, isCancelled, isTimedOut, runInExecutor,
    version,
} = legacy;
