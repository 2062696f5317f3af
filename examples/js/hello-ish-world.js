// hello-ish-world.js: what aio.run() does for you, spelled out, in GJS
//
// The second program of asyncio's quick start, in JavaScript:
//
//     loop = asyncio.get_event_loop()
//     task = loop.create_task(main())
//     loop.run_until_complete(task)
//     pending = asyncio.all_tasks(loop=loop)
//     for task in pending:
//         task.cancel()
//     group = asyncio.gather(*pending, return_exceptions=True)
//     loop.run_until_complete(group)
//     loop.close()
//
// Run it with aio.js installed (in $datadir/gjs-1.0, on GJS's search path):
//
//     gjs hello-ish-world.js
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

// The loop of the default GMainContext: the one GJS runs its promise jobs
// on, so iterating it runs both Aio's tasks and JavaScript's awaits.
const loop = Aio.Loop.get_default();
const task = aio.createTask(main, {loop});

let failed = false;
try {
    loop.run_until_complete(task);
} catch (e) {
    printerr(`main task failed: ${e.message}`);
    failed = true;
}

// Whatever main() left running is cancelled, then waited for.
const pending = loop.all_tasks();
for (const t of pending)
    t.cancel(null);
if (pending.length > 0)
    loop.run_until_complete(Aio.gather(pending, true));

loop.close();
if (failed)
    imports.system.exit(1);
