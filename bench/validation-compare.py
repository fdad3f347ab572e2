#!/usr/bin/env python3
"""Compare two sets of OCI runtime-tools validation results.

Each directory holds, per validation program NAME, the program's TAP output
(NAME.tap) and optionally its exit status (NAME.rc, containing "rc=N").
This script only reads those files and prints a table; it neither fetches nor
builds nor runs anything.

A program passes when it exited 0, printed a TAP plan and no "not ok" line
(skips count as passes, as node-tap counts them). "failures" counts the "not ok"
lines plus one for each failed program that printed none (it died before its
tests ran), which is how a TAP harness totals them.

usage: validation-compare.py DIR_A DIR_B [--names A B]
"""
import argparse
import os
import re
import sys

PLAN_RE = re.compile(r"^1\.\.(\d+)")
NOT_OK_RE = re.compile(r"^not ok\b")
OK_RE = re.compile(r"^ok\b")


def read_result(directory, name):
    """Return (passed, ok_count, not_ok_count, rc) for one program."""
    tap_path = os.path.join(directory, name + ".tap")
    rc_path = os.path.join(directory, name + ".rc")
    try:
        with open(tap_path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    rc = None
    try:
        with open(rc_path, encoding="utf-8") as f:
            m = re.search(r"rc=(\d+)", f.read())
            if m:
                rc = int(m.group(1))
    except FileNotFoundError:
        pass
    ok = sum(1 for line in lines if OK_RE.match(line))
    not_ok = sum(1 for line in lines if NOT_OK_RE.match(line))
    has_plan = any(PLAN_RE.match(line) for line in lines)
    passed = has_plan and not_ok == 0 and rc in (0, None)
    return passed, ok, not_ok, rc


def program_names(*dirs):
    names = set()
    for d in dirs:
        for entry in os.listdir(d):
            if entry.endswith(".tap"):
                names.add(entry[: -len(".tap")])
    return sorted(names)


def cell(result):
    if result is None:
        return "missing"
    passed, ok, not_ok, rc = result
    verdict = "PASS" if passed else "FAIL"
    extra = "" if rc in (0, None) else f" rc={rc}"
    return f"{verdict} {ok}/{ok + not_ok}{extra}"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    ap.add_argument("--names", nargs=2, metavar=("A", "B"))
    args = ap.parse_args(argv)
    name_a, name_b = args.names or (os.path.basename(args.dir_a.rstrip("/")),
                                    os.path.basename(args.dir_b.rstrip("/")))

    names = program_names(args.dir_a, args.dir_b)
    width = max([len(n) for n in names] + [7])
    print(f"{'program':<{width}}  {name_a:<18}  {name_b:<18}  note")
    totals = {name_a: [0, 0, 0], name_b: [0, 0, 0]}
    for n in names:
        ra = read_result(args.dir_a, n)
        rb = read_result(args.dir_b, n)
        note = ""
        if ra and rb and ra[0] != rb[0]:
            note = f"only {name_a}" if ra[0] else f"only {name_b}"
        print(f"{n:<{width}}  {cell(ra):<18}  {cell(rb):<18}  {note}")
        for label, r in ((name_a, ra), (name_b, rb)):
            if r:
                totals[label][0] += 1 if r[0] else 0
                totals[label][1] += r[2]
                totals[label][2] += r[2] + (1 if not r[0] and r[2] == 0 else 0)
    print()
    for label, (passed, not_ok, failures) in totals.items():
        print(f"{label}: {passed} of {len(names)} programs pass, "
              f"{not_ok} 'not ok' TAP lines, {failures} failures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
