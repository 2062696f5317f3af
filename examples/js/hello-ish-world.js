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
// Run it with the folder of aio.js on the search path:
//
//     gjs -I /usr/share/aio-glib-1.0/gjs hello-ish-world.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {Aio} = aio;
const {GLib} = imports.gi;

function printStamped(what) {
    print(`${GLib.DateTime.new_now_local().format('%a %b %e %H:%M:%S %Y')} ${what}`);
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
