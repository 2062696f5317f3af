#!/usr/bin/env python3
# check-output.py: run an example and check its lines, their order and
# their timing.
#
# Usage: check-output.py [--tolerance S] [--no-stamp] -- TEXT@SECONDS... -- COMMAND [ARGS...]
#
# Each expected line is "TEXT@SECONDS": the program must print lines ending
# in TEXT, in this order, each SECONDS after the first line (within the
# tolerance).  Unless --no-stamp is given, every line must start with a
# time.ctime()-style stamp such as "Sun Mar 13 15:47:37 2022".
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import re
import subprocess
import sys
import time

STAMP = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                   r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"[ \d]\d \d\d:\d\d:\d\d \d{4} (?P<text>.*)$")


def main(argv):
    tolerance = 0.3
    stamped = True
    args = argv[1:]
    while args and args[0] != "--":
        if args[0] == "--tolerance":
            tolerance = float(args[1])
            args = args[2:]
        elif args[0] == "--no-stamp":
            stamped = False
            args = args[1:]
        else:
            sys.exit(f"unknown option {args[0]}")
    args = args[1:]
    split = args.index("--")
    expected = []
    for spec in args[:split]:
        text, _, at = spec.rpartition("@")
        expected.append((text, float(at)))
    command = args[split + 1:]

    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
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
        if body != text:
            failures.append(f"line {line!r}: expected {text!r}")
            continue
        offset = when - seen[0][0]
        if abs(offset - at) > tolerance:
            failures.append(f"{text!r} came {offset:.3f} s after the first line, "
                            f"expected {at:.3f} s (± {tolerance} s)")

    print(f"ran in {elapsed:.3f} s")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
