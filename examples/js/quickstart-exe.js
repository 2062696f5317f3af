// quickstart-exe.js: blocking work next to the loop, in GJS
//
// The third program of asyncio's quick start, in JavaScript:
//
//     def blocking():
//         time.sleep(0.5)
//         print(f"{time.ctime()} Hello from a thread!")
//
//     loop = asyncio.get_event_loop()
//     task = loop.create_task(main())
//     loop.run_in_executor(None, blocking)
//     loop.run_until_complete(task)
//     pending = asyncio.all_tasks(loop=loop)
//     for task in pending:
//         task.cancel()
//     group = asyncio.gather(*pending, return_exceptions=True)
//     loop.run_until_complete(group)
//     loop.close()
//
// One substitution: a JavaScript function can never run on a worker thread
// (GJS runs all JavaScript in the main thread), so there is no
// run_in_executor() from GJS. The blocking part, time.sleep(0.5), runs in a
// subprocess instead (`sleep 0.5`, through Gio.Subprocess), which starts at
// once, like a job in the executor; when it exits, JavaScript prints
// "Hello from a thread!" in the main thread. The job is a plain future,
// not a task, as run_in_executor()'s is. The output is the same as the C
// and Python versions'.
//
// Run it with aio.js installed (in $datadir/gjs-1.0, on GJS's search path):
//
//     gjs quickstart-exe.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio} = imports.gi;

Gio._promisify(Gio.Subprocess.prototype, 'wait_check_async', 'wait_check_finish');

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

// The blocking work, in another process; the main thread only waits for it.
async function blocking() {
    const proc = Gio.Subprocess.new(['sleep', '0.5'], Gio.SubprocessFlags.NONE);
    await proc.wait_check_async(null);
    printStamped('Hello from a thread!');
}

const loop = Aio.Loop.get_default();
const task = aio.createTask(main, {loop});
// The subprocess starts right away; the loop sees it finish when it runs.
const job = aio.ensureFuture(blocking(), {loop});

loop.run_until_complete(task);

const pending = loop.all_tasks();
for (const t of pending)
    t.cancel(null);
if (pending.length > 0)
    loop.run_until_complete(Aio.gather(pending, true));

loop.run_until_complete(job);
loop.close();
