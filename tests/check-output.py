#!/usr/bin/env python3
# check-output.py: run an example and check its lines, their order and
# their timing.
#
# Usage: check-output.py [--tolerance S] [--late S] [--no-stamp] [--at DATE]
#                        -- TEXT@SECONDS... -- COMMAND [ARGS...]
#
# Each expected line is "TEXT@SECONDS": the program must print lines ending
# in TEXT, in this order, each SECONDS after the first line: never earlier
# than the tolerance allows (a sleep that ends early is a bug at any
# speed), and no more than --late S later (default 2 s: a loaded machine
# may be slow to schedule the program, which says nothing about it).  Unless --no-stamp is given, every line must start with a
# time.ctime()-style stamp such as "Sun Mar 13 15:47:37 2022".
#
# With --at "YYYY-MM-DD HH:MM:SS" the command runs with its wall clock set
# to that moment (UTC) by libfaketime, and each stamp must show that moment
# plus the time since the command started, so that the test checks one
# chosen date (a one-digit day, say) whatever today is.  libfaketime moves
# the monotonic clock along with it (it still advances at the real rate):
# left alone, its absolute sleeps (clock_nanosleep, which Python's
# time.sleep() uses) fail with EINVAL.  Without libfaketime the test is
# skipped (exit status 77).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import datetime
import os
import re
import subprocess
import sys
import sysconfig
import time

STAMP = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                   r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"[ \d]\d \d\d:\d\d:\d\d \d{4} (?P<text>.*)$")


SKIP = 77


def find_libfaketime():
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for libdir in (f"/usr/lib/{multiarch}/faketime", "/usr/lib/faketime",
                   "/usr/lib64/faketime", "/usr/local/lib/faketime"):
        path = os.path.join(libdir, "libfaketime.so.1")
        if os.path.exists(path):
            return path
    return None


def faked_env(at):
    """The environment that runs a command with its clock set to @at."""
    lib = find_libfaketime()
    if lib is None:
        print("libfaketime not found (Debian: apt-get install libfaketime): skipped")
        sys.exit(SKIP)
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [lib, env.get("LD_PRELOAD")]))
    env["FAKETIME"] = "@" + at.strftime("%Y-%m-%d %H:%M:%S")
    env["TZ"] = "UTC"
    # AddressSanitizer wants to be first in the library list; the preload
    # is harmless to it.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                 "verify_asan_link_order=0"]))
    return env


def main(argv):
    tolerance = 0.3
    late_by = 2.0
    stamped = True
    fake_at = None
    args = argv[1:]
    while args and args[0] != "--":
        if args[0] == "--tolerance":
            tolerance = float(args[1])
            args = args[2:]
        elif args[0] == "--late":
            late_by = float(args[1])
            args = args[2:]
        elif args[0] == "--no-stamp":
            stamped = False
            args = args[1:]
        elif args[0] == "--at":
            fake_at = datetime.datetime.strptime(args[1], "%Y-%m-%d %H:%M:%S")
            args = args[2:]
        else:
            sys.exit(f"unknown option {args[0]}")
    args = args[1:]
    split = args.index("--")
    expected = []
    for spec in args[:split]:
        text, _, at = spec.rpartition("@")
        expected.append((text, float(at)))
    command = args[split + 1:]

    env = faked_env(fake_at) if fake_at else None
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    seen = []
    for line in proc.stdout:
        seen.append((time.monotonic(), line.rstrip("\n")))
    status = proc.wait()
    elapsed = time.monotonic() - start

    for when, line in seen:
        print(f"{when - start:7.3f} s  {line}")

    failures = []
    if status != 0:
        failures.append(f"exit status {status}")
    if len(seen) != len(expected):
        failures.append(f"{len(seen)} lines, expected {len(expected)}")
    for (when, line), (text, at) in zip(seen, expected):
        body = line
        if stamped:
            match = STAMP.match(line)
            if not match:
                failures.append(f"no ctime-style stamp in {line!r}")
                continue
            body = match.group("text")
            if fake_at:
                shown = datetime.datetime.strptime(line[:24], "%a %b %d %H:%M:%S %Y")
                # whole seconds, and the process started a little before
                # Popen returned: one second of slack each way
                late = (shown - fake_at).total_seconds() - (when - start)
                if not -1.0 - tolerance <= late <= 1.0 + tolerance:
                    failures.append(f"stamp {line[:24]!r} is not the faked clock "
                                    f"{fake_at:%Y-%m-%d %H:%M:%S} + {when - start:.1f} s")
        if body != text:
            failures.append(f"line {line!r}: expected {text!r}")
            continue
        offset = when - seen[0][0]
        if not at - tolerance <= offset <= at + max(tolerance, late_by):
            failures.append(f"{text!r} came {offset:.3f} s after the first line, "
                            f"expected {at:.3f} s (- {tolerance} s, + {late_by} s)")

    print(f"ran in {elapsed:.3f} s")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
