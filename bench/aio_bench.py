#!/usr/bin/python3
"""aio-glib from Python (the PyGObject override) on the benchmark workloads.

Runs one of the seven workloads of shared/bench/WORKLOADS.md, written the way
an asyncio programmer would write them, with `Aio` in place of `asyncio`
(Aio.create_task, Aio.gather, Aio.sleep, Aio.Queue(maxsize=1), Task.cancel,
loop.run_in_executor(None, ...), Aio.run), and prints exactly one line of
JSON on stdout (impl "aio-python").  Exit status is 0 when the workload's
own check passed.

Usage, from the top of the source tree, against the build tree:

    GI_TYPELIB_PATH=build/aio-glib LD_LIBRARY_PATH=build/aio-glib \\
        /usr/bin/python3 bench/aio_bench.py WORKLOAD [N]

    WORKLOAD  spawn | sleepers | pingpong | cancel | executor | timers | echo
    N         number of items (default: the workload's default)

Environment:
    GI_TYPELIB_PATH    the folder of Aio-1.0.typelib (build/aio-glib)
    LD_LIBRARY_PATH    the folder of libaio-glib-1.0.so (build/aio-glib)
    AIO_OVERRIDES_DIR  the folder of the override Aio.py; default: the
                       introspection/ folder next to this file, when it has
                       one, else the installed override

Beside the peers:

    ../shared/bench/peers/run-peers --with aio-python="env \\
        GI_TYPELIB_PATH=build/aio-glib LD_LIBRARY_PATH=build/aio-glib \\
        /usr/bin/python3 bench/aio_bench.py" spawn

Only the measured phase is timed, as in the asyncio peer: from just before
the first item is created until the gather (or the last round trip)
completes.
"""

import json
import os
import resource
import socket
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_overrides = os.environ.get('AIO_OVERRIDES_DIR') or os.path.join(
    os.path.dirname(_here), 'introspection')

import gi  # noqa: E402
import gi.overrides  # noqa: E402

if os.path.isfile(os.path.join(_overrides, 'Aio.py')):
    gi.overrides.__path__.insert(0, _overrides)
gi.require_version('Aio', '1.0')
from gi.repository import Aio, Gio, GLib  # noqa: E402

DEFAULT_N = {
    "spawn": 100_000,
    "sleepers": 100_000,
    "pingpong": 200_000,
    "cancel": 100_000,
    "executor": 20_000,
    "timers": 100_000,
    "echo": 200_000,
}

SLEEPERS_DELAY = 0.2
CANCEL_DELAY = 60.0
EXECUTOR_LIMIT = 1000
EXECUTOR_EXPECTED = EXECUTOR_LIMIT * (EXECUTOR_LIMIT - 1) // 2
TIMERS_STRIDE = 7919
TIMER_SLACK = 0.002
ECHO_CLIENTS = 100
ECHO_SIZE = 64
ECHO_READ = 4096

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def current_rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE_KB


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- spawn ------------------------------------------------------------------

async def spawn_child(i):
    await Aio.sleep(0)
    return i


async def spawn(n):
    tasks = [Aio.create_task(spawn_child(i)) for i in range(n)]
    results = await Aio.gather(*tasks)

    def verify(seconds):
        return results == list(range(n)), {}
    return verify


# --- sleepers -----------------------------------------------------------------

class Gauge:
    __slots__ = ("current", "peak")

    def __init__(self):
        self.current = 0
        self.peak = 0

    def enter(self):
        self.current += 1
        if self.current > self.peak:
            self.peak = self.current

    def leave(self):
        self.current -= 1


async def sleeper(i, gauge):
    gauge.enter()
    await Aio.sleep(SLEEPERS_DELAY)
    gauge.leave()
    return i


async def sleepers(n):
    gauge = Gauge()
    tasks = [Aio.create_task(sleeper(i, gauge)) for i in range(n)]
    results = await Aio.gather(*tasks)

    def verify(seconds):
        budget = SLEEPERS_DELAY + 1.0 + n * 50e-6
        ok = (results == list(range(n)) and gauge.peak == n
              and SLEEPERS_DELAY <= seconds < budget)
        return ok, {}
    return verify


# --- pingpong -----------------------------------------------------------------

async def pingpong(n):
    to_b = Aio.Queue(maxsize=1)
    to_a = Aio.Queue(maxsize=1)

    async def player_a():
        token, good_trips = 0, 0
        for _ in range(n):
            await to_b.put(token)
            reply = await to_a.get()
            good_trips += reply == token + 1
            token = reply
        return token, good_trips

    async def player_b():
        for _ in range(n):
            token = await to_b.get()
            await to_a.put(token + 1)

    (token, good_trips), _ = await Aio.gather(
        Aio.create_task(player_a()), Aio.create_task(player_b()))

    def verify(seconds):
        return good_trips == n and token == n, {}
    return verify


# --- cancel -------------------------------------------------------------------

async def long_sleeper():
    await Aio.sleep(CANCEL_DELAY)


async def cancel(n):
    tasks = [Aio.create_task(long_sleeper()) for _ in range(n)]
    await Aio.sleep(0)
    for task in tasks:
        task.cancel()
    results = await Aio.gather(*tasks, return_exceptions=True)

    def verify(seconds):
        ok = (len(results) == n
              and all(isinstance(r, Aio.CancelledError) for r in results)
              and seconds < CANCEL_DELAY / 2)
        return ok, {}
    return verify


# --- executor -----------------------------------------------------------------

def blocking_sum(limit):
    total = 0
    for i in range(limit):
        total += i
    return total


async def executor(n):
    loop = Aio.get_running_loop()
    futures = [loop.run_in_executor(None, blocking_sum, EXECUTOR_LIMIT)
               for _ in range(n)]
    results = await Aio.gather(*futures)

    def verify(seconds):
        return len(results) == n and all(r == EXECUTOR_EXPECTED for r in results), {}
    return verify


# --- timers -------------------------------------------------------------------

async def timer_item(i, delay, woken, deadline, woke_at):
    start = time.monotonic()
    deadline[i] = start + delay
    await Aio.sleep(delay)
    woke_at[i] = time.monotonic()
    woken.append(i)


async def timers(n):
    woken = []
    deadline = [0.0] * n
    woke_at = [0.0] * n
    tasks = [Aio.create_task(
                 timer_item(i, (i * TIMERS_STRIDE % n) / n, woken, deadline, woke_at))
             for i in range(n)]
    await Aio.gather(*tasks)

    def verify(seconds):
        return check_timers(n, woken, deadline, woke_at)
    return verify


def check_timers(n, woken, deadline, woke_at):
    if len(woken) != n or sorted(woken) != list(range(n)):
        return False, {}
    latest = float("-inf")
    max_early = max_inversion = 0.0
    for i in woken:
        max_early = max(max_early, deadline[i] - woke_at[i])
        max_inversion = max(max_inversion, latest - deadline[i])
        latest = max(latest, deadline[i])
    late_ms = sum(w - d for w, d in zip(woke_at, deadline)) * 1000 / n
    ok = max_early <= TIMER_SLACK and max_inversion <= TIMER_SLACK
    return ok, {"mean_late_ms": round(late_ms, 3),
                "max_early_ms": round(max_early * 1000, 3),
                "max_inversion_ms": round(max_inversion * 1000, 3)}


# --- echo ---------------------------------------------------------------------

# Written on Aio.socket_receive / Aio.socket_send_all (GSockets awaited on
# the loop's own descriptor watches), with a small reader as asyncio's
# StreamReader does: a receive asks for what room there is, and
# readexactly() takes whole messages out of what came.

_new_bytes = GLib.Bytes.new


def echo_message(client, seq):
    return b"%6d %56d\n" % (client, seq)


def tcp_socket():
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM,
                          Gio.SocketProtocol.TCP)
    return sock


def nodelay(sock):
    sock.set_option(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Reader:
    __slots__ = ("sock", "buffer")

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    async def readexactly(self, n):
        """n bytes, or the b"" or partial bytes left at the end of the stream."""
        while len(self.buffer) < n:
            data = (await Aio.socket_receive(self.sock, ECHO_READ)).get_data()
            if not data:
                partial, self.buffer = self.buffer, b""
                return partial
            self.buffer += data
        message, self.buffer = self.buffer[:n], self.buffer[n:]
        return message


class EchoServer:
    def __init__(self):
        self.served = 0
        self.clean = 0
        loopback = Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4)
        self.listener = tcp_socket()
        self.listener.set_listen_backlog(ECHO_CLIENTS)
        self.listener.bind(Gio.InetSocketAddress.new(loopback, 0), True)
        self.listener.listen()
        self.address = self.listener.get_local_address()

    async def handle(self, sock):
        reader = Reader(sock)
        try:
            while True:
                message = await reader.readexactly(ECHO_SIZE)
                if len(message) < ECHO_SIZE:
                    self.clean += not message
                    break
                await Aio.socket_send_all(sock, _new_bytes(message))
                self.served += 1
        except GLib.Error:
            pass              # reset: finished but not clean
        finally:
            sock.close()

    async def serve(self):
        handlers = []
        for _ in range(ECHO_CLIENTS):
            sock = await Aio.socket_accept(self.listener)
            nodelay(sock)
            handlers.append(Aio.create_task(self.handle(sock)))
        await Aio.gather(*handlers)


async def echo_client(client, trips, address):
    sock = tcp_socket()
    await Aio.socket_connect(sock, address)
    nodelay(sock)
    reader = Reader(sock)
    good = 0
    for seq in range(trips):
        message = echo_message(client, seq)
        await Aio.socket_send_all(sock, _new_bytes(message))
        good += await reader.readexactly(ECHO_SIZE) == message
    sock.close()
    return good


async def echo(n, server):
    q, r = divmod(n, ECHO_CLIENTS)
    serving = Aio.create_task(server.serve())
    clients = [Aio.create_task(echo_client(c, q + (c < r), server.address))
               for c in range(ECHO_CLIENTS)]
    goods = await Aio.gather(*clients)
    await serving

    def verify(seconds):
        ok = (sum(goods) == n and server.served == n
              and server.clean == ECHO_CLIENTS)
        return ok, {}
    return verify


WORKLOADS = {
    "spawn": spawn,
    "sleepers": sleepers,
    "pingpong": pingpong,
    "cancel": cancel,
    "executor": executor,
    "timers": timers,
    "echo": echo,
}


async def measure(name, n):
    workload = WORKLOADS[name]
    if name == "echo":
        # The listening socket is part of the program, not of the measured
        # phase.
        server = EchoServer()
        workload = lambda n: echo(n, server)  # noqa: E731
    base = current_rss_kb()
    t0 = time.perf_counter()
    verify = await workload(n)
    seconds = time.perf_counter() - t0
    peak = peak_rss_kb()
    ok, extra = verify(seconds)
    return {
        "workload": name,
        "impl": "aio-python",
        "n": n,
        "seconds": round(seconds, 6),
        "per_item_us": round(seconds * 1e6 / n, 3),
        "base_rss_kb": base,
        "peak_rss_kb": peak,
        "ok": bool(ok),
        **extra,
    }


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in WORKLOADS:
        print("usage: aio_bench.py {%s} [N]" % "|".join(WORKLOADS), file=sys.stderr)
        return 2
    n = int(argv[2]) if len(argv) == 3 else DEFAULT_N[argv[1]]
    if n <= 0:
        print("aio_bench.py: N must be positive", file=sys.stderr)
        return 2
    record = Aio.run(measure(argv[1], n))
    print(json.dumps(record), flush=True)
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
