// tests/installed/smoke.mjs: aio-glib from a GJS ES module (gjs -m), importing
// PREFIX/share/gjs-1.0/aio.mjs by its file URL as the docs show
//
// .ci/check-install, and the build of the installed test smoke-gjs-esm,
// write the URL in place of @AIO_MJS_URL@ (a static import: run() refuses
// to run in async code, which a module with a top-level await is); it runs
// with the variables of README's "Installing" section and no -I.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import System from 'system';

import legacy, {run, gather, createTask, Aio} from '@AIO_MJS_URL@';

if (legacy !== imports.aio)
    throw new Error('aio.mjs is not the module imports.aio gives');

const result = run(async () => {
    await Aio.sleep(0.01);
    const child = async (seconds, value) => {
        await Aio.sleep(seconds);
        return value;
    };
    return gather([createTask(() => child(0.02, 2)), createTask(() => child(0.01, 40))]);
});
if (result.join() !== '2,40') {
    printerr(`gather gave ${result}`);
    System.exit(1);
}
print(`${import.meta.url}: gather: ${result}`);
