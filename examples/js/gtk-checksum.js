// gtk-checksum.js: a GTK 4 window that checksums a folder with tasks, in GJS
//
// The JavaScript twin of examples/gtk/checksum.c: Start walks a folder with
// GIO from a task (aio.callAsync on enumerate_children_async and
// next_files_async), reads each file with load_contents_async and shows
// its SHA-256 as it arrives, with a progress bar; Cancel cancels the run
// at whichever await it stands, and a time limit (aio.waitFor) stops it
// too. Closing the window cancels the run. (Hashing stays on the main
// thread here: GJS runs no JavaScript on worker threads.)
//
// A plain Gtk.Application: app.run() iterates the default GMainContext,
// whose Aio loop runs the tasks; no aio.run().
//
//     gjs -I introspection/gjs examples/js/gtk-checksum.js [--self-test]
//
// With --self-test it checksums a folder of known files, cancels a run and
// closes its window, checking each step, then quits (for a check under
// Xvfb).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

imports.gi.versions.Gtk = '4.0';
const aio = imports.aio;
const {Aio} = aio;
const {GLib, Gio, Gtk} = imports.gi;

const ATTRIBUTES = 'standard::name,standard::type';

class ChecksumWindow {
    constructor(app) {
        this.window = new Gtk.ApplicationWindow({application: app, title: 'Folder checksums',
            default_width: 480, default_height: 360});
        this.job = null;
        this.limit = 30;
        this.sums = new Map();

        const box = new Gtk.Box({orientation: Gtk.Orientation.VERTICAL, spacing: 8,
            margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12});
        this.entry = new Gtk.Entry({text: GLib.get_home_dir(), hexpand: true});
        box.append(this.entry);
        const row = new Gtk.Box({spacing: 8});
        this.start = new Gtk.Button({label: 'Start'});
        this.cancel = new Gtk.Button({label: 'Cancel', sensitive: false});
        this.status = new Gtk.Label({label: 'Pick a folder and press Start', xalign: 0});
        row.append(this.start);
        row.append(this.cancel);
        row.append(this.status);
        box.append(row);
        this.progress = new Gtk.ProgressBar({show_text: true});
        box.append(this.progress);
        this.results = new Gtk.ListBox({selection_mode: Gtk.SelectionMode.NONE});
        box.append(new Gtk.ScrolledWindow({child: this.results, vexpand: true}));
        this.window.set_child(box);

        this.start.connect('clicked', () => this.onStart());
        this.cancel.connect('clicked', () => this.job?.cancel('the Cancel button'));
        // The tasks' closures hold the window, so it is disposed only once
        // they end: cancel the run when the window is closed.
        this.window.connect('close-request', () => {
            this.job?.cancel('the window was closed');
            return false;
        });
    }

    async scan() {
        const folder = Gio.File.new_for_path(this.entry.get_text());
        const enumerator = await aio.callAsync(folder, 'enumerate_children_async',
            ATTRIBUTES, Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, GLib.PRIORITY_DEFAULT);
        const files = [];
        for (;;) {
            // eslint-disable-next-line no-await-in-loop
            const infos = await aio.callAsync(enumerator, 'next_files_async', 32,
                GLib.PRIORITY_DEFAULT);
            if (infos.length === 0)
                break;
            for (const info of infos) {
                if (info.get_file_type() === Gio.FileType.REGULAR)
                    files.push(enumerator.get_child(info));
            }
        }
        for (const [i, file] of files.entries()) {
            // eslint-disable-next-line no-await-in-loop
            const [, contents] = await aio.callAsync(file, 'load_contents_async');
            const digest = GLib.compute_checksum_for_data(GLib.ChecksumType.SHA256, contents);
            const name = file.get_basename();
            this.sums.set(name, digest);
            this.results.append(new Gtk.Label({label: `${digest.slice(0, 16)}…  ${name}`,
                xalign: 0}));
            this.progress.set_fraction((i + 1) / files.length);
            this.progress.set_text(`${i + 1} of ${files.length} files`);
        }
        return files.length;
    }

    async run() {
        try {
            const n = await aio.waitFor(this.scan(), this.limit);
            this.status.set_label(`Done: ${n} files`);
        } catch (e) {
            if (aio.isTimedOut(e)) {
                this.status.set_label(`Stopped at the time limit (${this.limit} s)`);
            } else if (aio.isCancelled(e)) {
                this.status.set_label('Cancelled');
                throw e;
            } else {
                this.status.set_label(`Failed: ${e.message}`);
            }
        } finally {
            this.start.set_sensitive(true);
            this.cancel.set_sensitive(false);
        }
    }

    onStart() {
        let row;
        while ((row = this.results.get_first_child()) !== null)
            this.results.remove(row);
        this.sums.clear();
        this.progress.set_fraction(0);
        this.status.set_label('Working…');
        this.start.set_sensitive(false);
        this.cancel.set_sensitive(true);
        this.job = aio.createTask(() => this.run(), {name: 'checksum'});
        // Also ends when the window is disposed.
        this.job.bind_to_object(this.window);
        // A run cancelled before it began never runs its body.
        this.job.add_done_callback(job => {
            if (job.is_cancelled()) {
                this.status.set_label('Cancelled');
                this.start.set_sensitive(true);
                this.cancel.set_sensitive(false);
            }
        });
    }
}

async function waitDone(task) {
    while (!task.is_done())
        // eslint-disable-next-line no-await-in-loop
        await aio.sleep(0.01);
    await aio.sleep(0.01);
}

async function selfTest(win, app) {
    const seen = [];
    const folder = GLib.dir_make_tmp('aio-gjs-checksum-XXXXXX');
    const expected = new Map();
    for (let i = 0; i < 8; i++) {
        const name = `file-${i}.txt`;
        const contents = new TextEncoder().encode(`${i}\n`.repeat(i * 1000));
        GLib.file_set_contents(GLib.build_filenamev([folder, name]), contents);
        expected.set(name, GLib.compute_checksum_for_data(GLib.ChecksumType.SHA256, contents));
    }
    await aio.sleep(0.3);

    win.entry.set_text(folder);
    win.start.emit('clicked');                                 // to the end
    await waitDone(win.job);
    seen.push(win.status.get_label() === 'Done: 8 files');
    seen.push(win.sums.size === 8 &&
        [...expected].every(([name, digest]) => win.sums.get(name) === digest));

    win.start.emit('clicked');                                 // Cancel
    win.cancel.emit('clicked');
    await waitDone(win.job);
    seen.push(win.status.get_label() === 'Cancelled' && win.job.is_cancelled());

    win.start.emit('clicked');                                 // closing cancels
    const job = win.job;
    win.window.close();
    await waitDone(job);
    seen.push(job.is_cancelled());

    for (const name of expected.keys())
        GLib.unlink(GLib.build_filenamev([folder, name]));
    GLib.rmdir(folder);
    const ok = seen.every(x => x);
    print(`self-test: ${ok ? 'ok' : `FAILED ${JSON.stringify(seen)}`}`);
    app.exitStatus = ok ? 0 : 1;
    app.release();
}

const testing = ARGV.includes('--self-test');
const app = new Gtk.Application({application_id: 'org.aioglib.ChecksumJs',
    flags: Gio.ApplicationFlags.NON_UNIQUE});
app.exitStatus = 0;
app.connect('activate', () => {
    const win = new ChecksumWindow(app);
    win.window.present();
    if (testing) {
        app.hold();
        aio.createTask(() => selfTest(win, app), {name: 'self-test'});
    }
});
const status = app.run([imports.system.programInvocationName]);
imports.system.exit(status || app.exitStatus);
