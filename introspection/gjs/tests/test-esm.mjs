// test-esm.mjs: aio.mjs, the ES module form of aio.js (`gjs -m`)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run with `gjs -m test-esm.mjs` and no -I: the module must find aio.js
// beside itself, whatever the search path.

import GLib from 'gi://GLib';

import aioDefault, * as aio from '../aio.mjs';
import {run, gather, Aio} from '../aio.mjs';

const results = [];
function check(what, func) {
    try {
        func();
        results.push(`ok ${results.length + 1} - ${what}`);
    } catch (e) {
        results.push(`not ok ${results.length + 1} - ${what}`);
        printerr(`# ${e}\n${e.stack}`);
    }
}
function assert(cond, what) {
    if (!cond)
        throw new Error(what);
}

const moduleDir = GLib.path_get_dirname(
    GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]));

check('every name aio.js exports is a named export, with the same value', () => {
    const [, bytes] = GLib.file_get_contents(`${moduleDir}/aio.js`);
    const source = new TextDecoder().decode(bytes);
    const comment = source.match(/\/\* exported ([^*]*)\*\//);
    assert(comment, 'aio.js has an `exported` comment');
    const names = comment[1].split(/[\s,]+/).filter(n => n);
    assert(names.length > 10, `names: ${names}`);
    for (const name of names) {
        assert(name in aio, `${name} is exported`);
        assert(aio[name] === aioDefault[name], `${name} is aio.js's own`);
        assert(aio[name] !== undefined, `${name} is defined`);
    }
});

check('one implementation: the default export is the legacy module', () => {
    assert(!imports.searchPath.includes(moduleDir) &&
           !imports.searchPath.some(p => p.startsWith('file://')),
    `the search path is left as it was: ${imports.searchPath}`);
    imports.searchPath.unshift(moduleDir);
    assert(imports.aio === aioDefault, 'imports.aio is the same object');
    imports.searchPath.shift();
    assert(aio.Aio === imports.gi.Aio, 'Aio is the gi namespace');
});

check('run() awaits a sleep and a gather', () => {
    const value = run(async () => {
        await Aio.sleep(0.01);
        const both = await gather([aio.sleep(0.01, 'a'), aio.sleep(0, 'b')]);
        return both.join('+');
    });
    assert(value === 'a+b', `value ${value}`);
});

print(`1..${results.length}`);
results.forEach(line => print(line));
