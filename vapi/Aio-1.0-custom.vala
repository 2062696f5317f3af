/* Aio-1.0-custom.vala: what the GIR leaves out and Vala can use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fiber API is (skip) in the GIR: a fiber body calls aio_await() deep
 * in its own stack, which Python and GJS cannot do, but Vala, compiled to
 * C, can. vapigen merges these declarations into aio-glib-1.0.vapi. A
 * Vala lambda is an AioTaskFunc whose closure is the user_data:
 *
 *     Aio.run_main ((task) => {
 *         try {
 *             Aio.await (Aio.sleep (1.0));
 *         } catch (GLib.Error e) {
 *             task.return_error (e);
 *         }
 *     });
 */

namespace Aio {
	/* Tasks with a fiber body (aio-task.h, aio-run.h, aio-task-group.h) */

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_create_task")]
	public static Aio.Task create_task (owned Aio.TaskFunc func);

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_run")]
	public static bool run (Aio.TaskFunc func) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_run_main")]
	public static int run_main (Aio.TaskFunc func);

	/* Awaiting, from a fiber body; each takes the future (transfer full) */

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await")]
	public static bool await (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await_boolean")]
	public static bool await_boolean (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await_int64")]
	public static int64 await_int64 (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await_double")]
	public static double await_double (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await_string")]
	public static string? await_string (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_await_object")]
	public static GLib.Object? await_object (owned Aio.Future future) throws GLib.Error;

	[CCode (cheader_filename = "aio-glib.h", cname = "aio_yield")]
	public static bool @yield () throws GLib.Error;

	public class Loop : GLib.Object {
		[CCode (cheader_filename = "aio-glib.h", cname = "aio_loop_create_task")]
		public Aio.Task create_task (owned Aio.TaskFunc func);
	}

	public class TaskGroup : GLib.Object {
		/* (transfer none): the group holds the task until it is done */
		[CCode (cheader_filename = "aio-glib.h", cname = "aio_task_group_create_task")]
		public unowned Aio.Task? create_task (owned Aio.TaskFunc func);
	}
}
