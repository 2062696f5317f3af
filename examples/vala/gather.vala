/* gather.vala: tasks in Vala, with aio-glib-1.0.vapi
 *
 * asyncio's
 *
 *     async def child(seconds, value):
 *         await asyncio.sleep(seconds)
 *         return value
 *
 *     async def main():
 *         print("Hello!")
 *         await asyncio.sleep(0.5)
 *         a, b = await asyncio.gather(child(0.5, 2), child(0.25, 40))
 *         print(f"gather: {a} + {b} = {a + b}")
 *         print("Goodbye!")
 *
 *     asyncio.run(main())
 *
 * in Vala: each lambda is a fiber body, so Aio.await() suspends it where
 * it stands. Build with `valac --pkg aio-glib-1.0 gather.vala`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A task that sleeps, then returns @value. The lambda keeps @seconds and
 * @value (its closure, freed when the task is over). */
Aio.Task child (double seconds, int64 value) {
	return Aio.create_task ((task) => {
		try {
			Aio.await (Aio.sleep (seconds));
			task.return_int64 (value);
		} catch (GLib.Error e) {
			task.return_error (e);
		}
	});
}

int main () {
	return Aio.run_main ((task) => {
		try {
			print ("Hello!\n");
			Aio.await (Aio.sleep (0.5));

			var children = new GLib.GenericArray<Aio.Future> ();
			children.add (child (0.5, 2));
			children.add (child (0.25, 40));
			var gather = Aio.gather_array (children, false);
			Aio.await (gather);

			/* The children, in the order given; the array is the gather's. */
			unowned var results = gather.get_futures ();
			var a = results[0].get_int64 ();
			var b = results[1].get_int64 ();
			print (@"gather: $a + $b = $(a + b)\n");
			print ("Goodbye!\n");
		} catch (GLib.Error e) {
			task.return_error (e);
		}
	});
}
