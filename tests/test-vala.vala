/* test-vala.vala: the fiber API that aio-glib-1.0.vapi adds to the GIR
 * (vapi/Aio-1.0-custom.vala), called from Vala as a Vala program would
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each declaration of the custom file is called here at least once, so a
 * wrong C name, parameter order or ownership fails to build, fails a
 * check, or leaks (CI runs this under Valgrind).
 */

/* An object whose finalization the tests watch, to see closures freed. */
class Witness : GLib.Object {
	public static int alive = 0;
	construct { alive++; }
	~Witness () { alive--; }
}

void test_run () {
	int64 seen = 0;
	var witness = new Witness ();

	try {
		var ok = Aio.run ((task) => {
			try {
				Aio.await (Aio.sleep (0.001));
				seen = Aio.await_int64 (new Aio.Future.for_int64 (42));
				/* the closure keeps what it captured */
				assert (witness is Witness);
			} catch (GLib.Error e) {
				task.return_error (e);
			}
		});
		assert (ok);
	} catch (GLib.Error e) {
		GLib.error ("run: %s", e.message);
	}
	assert (seen == 42);
	witness = null;
	assert (Witness.alive == 0);
}

void test_run_error () {
	try {
		Aio.run ((task) => {
			task.return_error (new GLib.IOError.NOT_FOUND ("nothing here"));
		});
		assert_not_reached ();
	} catch (GLib.IOError.NOT_FOUND e) {
		assert (e.message == "nothing here");
	} catch (GLib.Error e) {
		GLib.error ("run: the wrong error %s", e.message);
	}
}

void test_typed_awaits () {
	try {
		Aio.run ((task) => {
			try {
				assert (Aio.await_boolean (new Aio.Future.for_boolean (true)));
				assert (Aio.await_double (new Aio.Future.for_double (0.5)) == 0.5);
				assert (Aio.await_string (new Aio.Future.for_string ("vala")) == "vala");
				var object = new Witness ();
				assert (Aio.await_object (new Aio.Future.for_object (object)) == object);
				try {
					Aio.await (new Aio.Future.for_error (new GLib.IOError.TIMED_OUT ("late")));
					assert_not_reached ();
				} catch (GLib.IOError.TIMED_OUT e) {
					assert (e.message == "late");
				}
			} catch (GLib.Error e) {
				task.return_error (e);
			}
		});
	} catch (GLib.Error e) {
		GLib.error ("%s", e.message);
	}
	assert (Witness.alive == 0);
}

/* create_task, yield and a gather: two tasks take turns at each yield. */
void test_create_task_yield () {
	var order = new GLib.GenericArray<string> ();
	var witness = new Witness ();

	var status = Aio.run_main ((task) => {
		try {
			var children = new GLib.GenericArray<Aio.Future> ();
			foreach (var name in new string[] { "a", "b" }) {
				children.add (Aio.create_task ((child) => {
					try {
						for (var i = 0; i < 2; i++) {
							order.add (@"$name$i");
							Aio.@yield ();
						}
						assert (witness != null);
						child.return_int64 (name.length);
					} catch (GLib.Error e) {
						child.return_error (e);
					}
				}));
			}
			Aio.await (Aio.gather_array (children, false));
		} catch (GLib.Error e) {
			task.return_error (e);
		}
	});
	assert (status == 0);
	assert (string.joinv (" ", order.data) == "a0 b0 a1 b1");
	witness = null;
	assert (Witness.alive == 0);
}

/* Tasks whose closures alone hold a witness: it goes once each task's
 * destroy notify freed its closure. */
Aio.Task watched_task (Witness w) {
	return Aio.create_task ((t) => { assert (w is Witness); });
}

Aio.Task watched_loop_task (Aio.Loop loop, Witness w) {
	return loop.create_task ((t) => { assert (w is Witness); });
}

unowned Aio.Task watched_group_task (Aio.TaskGroup group, Witness w) {
	return group.create_task ((t) => { assert (w is Witness); });
}

void test_closures_freed () {
	var status = Aio.run_main ((task) => {
		try {
			Aio.await (watched_task (new Witness ()));
			var group = new Aio.TaskGroup ();
			watched_group_task (group, new Witness ());
			Aio.await (group.wait ());
		} catch (GLib.Error e) {
			task.return_error (e);
		}
	});
	assert (status == 0);
	assert (Witness.alive == 0);

	var loop = new Aio.Loop ();
	var loop_task = watched_loop_task (loop, new Witness ());
	assert (Witness.alive == 1);
	try {
		loop.run_until_complete (loop_task);
	} catch (GLib.Error e) {
		GLib.error ("%s", e.message);
	}
	loop.close ();
	assert (Witness.alive == 0);
}

void test_loop_create_task () {
	var loop = new Aio.Loop ();
	var task = loop.create_task ((t) => {
		t.return_int64 (7);
	});
	try {
		loop.run_until_complete (task);
		assert (task.get_int64 () == 7);
	} catch (GLib.Error e) {
		GLib.error ("%s", e.message);
	}
	loop.close ();
}

void test_task_group_create_task () {
	int done = 0;

	try {
		Aio.run ((task) => {
			var group = new Aio.TaskGroup ();
			for (var i = 0; i < 3; i++) {
				group.create_task ((t) => {
					try {
						Aio.await (Aio.sleep (0.001));
						done++;
					} catch (GLib.Error e) {
						t.return_error (e);
					}
				});
			}
			try {
				Aio.await (group.wait ());
			} catch (GLib.Error e) {
				task.return_error (e);
			}
		});
	} catch (GLib.Error e) {
		GLib.error ("%s", e.message);
	}
	assert (done == 3);
}

int main (string[] args) {
	GLib.Test.init (ref args);
	GLib.Test.add_func ("/aio/vala/run", test_run);
	GLib.Test.add_func ("/aio/vala/run-error", test_run_error);
	GLib.Test.add_func ("/aio/vala/typed-awaits", test_typed_awaits);
	GLib.Test.add_func ("/aio/vala/create-task-yield", test_create_task_yield);
	GLib.Test.add_func ("/aio/vala/loop-create-task", test_loop_create_task);
	GLib.Test.add_func ("/aio/vala/closures-freed", test_closures_freed);
	GLib.Test.add_func ("/aio/vala/task-group-create-task", test_task_group_create_task);
	return GLib.Test.run ();
}
