// tests/installed/smoke.js PREFIX: aio-glib from GJS's legacy importer, from PREFIX
//
// Run by .ci/check-install, and as the installed test smoke-gjs, with
// XDG_DATA_DIRS, GI_TYPELIB_PATH and
// LD_LIBRARY_PATH set as README's "Installing" section says, and no -I:
// imports.aio must be found in PREFIX/share/gjs-1.0 and nowhere else.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

const {GLib} = imports.gi;
const prefix = ARGV[0];

const folders = [...new Set(imports.searchPath)].filter(dir =>
    !dir.includes('://') && GLib.file_test(`${dir}/aio.js`, GLib.FileTest.EXISTS));
if (folders.length !== 1 || folders[0] !== `${prefix}/share/gjs-1.0`)
    throw new Error(`aio.js is in ${folders} (search path ${imports.searchPath})`);
print(`aio.js: ${folders[0]}`);

const aio = imports.aio;
const {Aio} = aio;

const result = aio.run(async () => {
    await Aio.sleep(0.01);
    const child = async (seconds, value) => {
        await Aio.sleep(seconds);
        return value;
    };
    return aio.gather([aio.createTask(() => child(0.02, 2)),
        aio.createTask(() => child(0.01, 40))]);
});
if (result.join() !== '2,40')
    throw new Error(`gather gave ${result}`);
print(`gather: ${result}`);

const [, maps] = GLib.file_get_contents('/proc/self/maps');
const libs = new Set(new TextDecoder().decode(maps).split('\n')
    .filter(line => line.includes('libaio-glib-1.0.so')).map(line => line.split(/\s+/).pop()));
if (libs.size !== 1 || ![...libs][0].startsWith(`${prefix}/`))
    throw new Error(`the library loaded is ${[...libs]}`);
print(`the library: ${[...libs][0]}`);
