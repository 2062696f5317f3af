#!/usr/bin/python3
# gtk_counter.py: a GTK 4 window that stays responsive while tasks run
#
# A clock ticks in the window from a task that never blocks; "Count" starts
# a slow job (a count with a pause after each step, and a blocking sum run
# on a worker thread with Aio.to_thread) under a time limit (Aio.wait_for),
# and "Cancel" stops it, at whichever await it stands.  Closing the window
# cancels its tasks.  (They are bound to the window too, with
# Task.bind_to_object, which cancels them when the window is disposed; but
# from Python the tasks' coroutines hold the window, so it is only
# disposed once they end: cancel them on close-request.)  GTK's own main loop runs the tasks: it iterates the
# default GMainContext, whose Aio loop does the work, so there is no
# Aio.run() here, only Aio.create_task() from signal handlers.
#
# Needs GTK 4's typelib (Debian: gir1.2-gtk-4.0).  From the source tree:
#
#   GI_TYPELIB_PATH=build/aio-glib LD_LIBRARY_PATH=build/aio-glib \
#       /usr/bin/python3 introspection/tests/run-example.py examples/python/gtk_counter.py
#
# With --self-test it clicks its own buttons, prints what it saw and quits
# (for a check under Xvfb).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys
import time

import gi

gi.require_version('Aio', '1.0')
gi.require_version('Gtk', '4.0')
from gi.repository import Aio, Gio, Gtk  # noqa: E402


def blocking_sum(n):
    """Work that would freeze the window if it ran in the loop's thread."""
    total = 0
    for i in range(n):
        total += i
    return total


class CounterWindow(Gtk.ApplicationWindow):

    def __init__(self, app, limit=30.0):
        super().__init__(application=app, title='aio-glib counter')
        self.set_default_size(320, 160)
        self.job = None
        self.limit = limit

        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8,
                      margin_top=12, margin_bottom=12, margin_start=12, margin_end=12)
        self.clock = Gtk.Label(label='0.0 s')
        self.status = Gtk.Label(label='Idle')
        self.progress = Gtk.ProgressBar()
        buttons = Gtk.Box(spacing=8, halign=Gtk.Align.CENTER)
        self.count_button = Gtk.Button(label='Count')
        self.cancel_button = Gtk.Button(label='Cancel', sensitive=False)
        self.count_button.connect('clicked', self.on_count)
        self.cancel_button.connect('clicked', self.on_cancel)
        buttons.append(self.count_button)
        buttons.append(self.cancel_button)
        for widget in (self.clock, self.status, self.progress, buttons):
            box.append(widget)
        self.set_child(box)

        # Runs as long as the window does: it shows the loop never stalls.
        self.ticker = Aio.create_task(self.tick())
        self.ticker.bind_to_object(self)
        self.connect('close-request', self.on_close)

    async def tick(self):
        start = time.monotonic()
        while True:
            self.clock.set_label('%.1f s' % (time.monotonic() - start))
            await Aio.sleep(0.1)

    async def count(self, steps):
        for i in range(1, steps + 1):
            self.status.set_label('Counting: %d of %d' % (i, steps))
            self.progress.set_fraction(i / steps)
            await Aio.sleep(0.2)
        self.status.set_label('Summing on a worker thread...')
        return await Aio.to_thread(blocking_sum, 3_000_000)

    async def job_body(self, steps):
        try:
            total = await Aio.wait_for(self.count(steps), self.limit)
            self.status.set_label('Done: the sum is %d' % total)
            return total
        except TimeoutError:
            self.status.set_label('Stopped at the time limit (%g s)' % self.limit)
            return None
        except Aio.CancelledError:
            self.status.set_label('Cancelled')
            raise
        finally:
            self.count_button.set_sensitive(True)
            self.cancel_button.set_sensitive(False)

    def on_count(self, button):
        self.count_button.set_sensitive(False)
        self.cancel_button.set_sensitive(True)
        self.job = Aio.create_task(self.job_body(10), name='count')
        self.job.bind_to_object(self)

    def on_cancel(self, button):
        if self.job is not None:
            self.job.cancel('the Cancel button')

    def on_close(self, window):
        self.ticker.cancel('the window was closed')
        if self.job is not None:
            self.job.cancel('the window was closed')
        return False


async def self_test(window, app):
    """Clicks the buttons as a person would, and checks what the window shows."""
    seen = []
    await Aio.sleep(0.35)
    seen.append(window.clock.get_label() != '0.0 s')          # the clock ticks
    window.count_button.emit('clicked')
    await Aio.sleep(0.5)
    seen.append(window.status.get_label().startswith('Counting'))
    window.cancel_button.emit('clicked')
    await Aio.sleep(0.05)
    seen.append(window.status.get_label() == 'Cancelled')
    seen.append(window.job.cancelled())
    window.count_button.emit('clicked')                        # again, to the end
    total = await window.job
    seen.append(total == blocking_sum(3_000_000))
    window.limit = 0.5                                         # the time limit
    window.count_button.emit('clicked')
    seen.append(await window.job is None)
    seen.append(window.status.get_label().startswith('Stopped at the time limit'))
    window.count_button.emit('clicked')                        # closing cancels
    job, ticker = window.job, window.ticker
    await Aio.sleep(0.05)
    window.close()
    await Aio.sleep(0.05)
    seen.append(job.cancelled() and ticker.cancelled())
    print('self-test:', 'ok' if all(seen) else 'FAILED %r' % (seen,), flush=True)
    app.exit_status = 0 if all(seen) else 1
    app.release()


def main(argv):
    app = Gtk.Application(application_id='org.example.AioCounter',
                          flags=Gio.ApplicationFlags.NON_UNIQUE)
    app.exit_status = 0
    testing = '--self-test' in argv

    def on_activate(app):
        window = CounterWindow(app)
        window.present()
        if testing:
            app.hold()   # until the self-test is over, the window or not
            Aio.create_task(self_test(window, app))

    app.connect('activate', on_activate)
    status = app.run([argv[0]])
    return status or app.exit_status


if __name__ == '__main__':
    sys.exit(main(sys.argv))
