// helloworld.js: the "Hello World" of aio-glib, in GJS
//
// The first program of asyncio's quick start, in JavaScript:
//
//     async def main():
//         print(f"{time.ctime()} Hello!")
//         await asyncio.sleep(1.0)
//         print(f"{time.ctime()} Goodbye!")
//
//     asyncio.run(main())
//
// Run it with the folder of aio.js on the search path:
//
//     gjs -I /usr/share/aio-glib-1.0/gjs helloworld.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {Aio} = aio;
const {GLib} = imports.gi;

// Prints @what after a timestamp like Python's time.ctime().
function printStamped(what) {
    print(`${GLib.DateTime.new_now_local().format('%a %b %e %H:%M:%S %Y')} ${what}`);
}

async function main() {
    printStamped('Hello!');
    await Aio.sleep(1.0);
    printStamped('Goodbye!');
}

// aio.run() runs main() as a task on the default loop until it is done,
// cancels whatever is left, shuts down the default executor and closes the
// loop; it returns main()'s value or throws its error.
aio.run(main);
