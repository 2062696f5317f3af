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
// Run it with aio.js installed (in $datadir/gjs-1.0, on GJS's search path):
//
//     gjs helloworld.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {Aio} = aio;
const {GLib} = imports.gi;

// Prints @what after a timestamp like Python's time.ctime(), such as
// "Thu Dec  3 09:07:55 2026": English names whatever the locale, and a
// one-digit day padded with an ASCII space (GLib's %e would pad it with
// U+2007 FIGURE SPACE, and %a and %b follow the locale).
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun',
    'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function printStamped(what) {
    const now = GLib.DateTime.new_now_local();
    const day = String(now.get_day_of_month()).padStart(2, ' ');
    const stamp = `${DAYS[now.get_day_of_week() - 1]} ${MONTHS[now.get_month() - 1]} ` +
        `${day} ${now.format('%H:%M:%S %Y')}`;
    print(`${stamp} ${what}`);
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
