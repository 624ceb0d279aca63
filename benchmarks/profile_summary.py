#!/usr/bin/env python3
"""Summarize a py-spy "raw" (collapsed stacks) profile written with BENCH_PROFILE=1.

    python benchmarks/profile_summary.py benchmarks/out/profile-autosave.txt [--top 40]
        [--under FUNCTION]

Prints, over the samples taken inside a request (stacks that pass through
`Flask.wsgi_app`), the share of time spent *inside* each function (inclusive: the
function and what it called), once per stack even when a function recurs. Samples of
a worker waiting in `accept`/`select` between requests are counted apart as idle.
`--under NAME` limits the count to stacks that pass through a function whose name
contains NAME (for example `finish`), so one part of a request can be broken down.
"""
from __future__ import annotations

import argparse
import re
from collections import Counter

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*)\)$")


def frames(stack: str) -> list[str]:
    out = []
    for raw in stack.split(";"):
        match = FRAME.match(raw.strip())
        if match:
            file = match.group("file")
            # Keep the package part of the path: "sqlalchemy/orm/session.py".
            for marker in ("site-packages/", "/work/main/", "lib/python3"):
                if marker in file:
                    file = file.split(marker, 1)[1]
            out.append(f"{match.group('func')} ({file})")
        else:
            out.append(raw.strip())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", default=None)
    args = parser.parse_args()

    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in open(args.path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        names = frames(stack)
        if not any(n.split(" (")[0].endswith("wsgi_app") for n in names):
            idle += count
            continue
        if args.under and not any(args.under in n.split(" (")[0] for n in names):
            continue
        total += count
        for name in set(names):
            inclusive[name] += count

    scope = f" under '{args.under}'" if args.under else ""
    print(f"{total} samples inside requests{scope}; {idle} outside a request (idle, "
          f"accept, gunicorn)")
    if not total:
        return
    print(f"{'share':>6}  function (file)")
    for name, count in inclusive.most_common(args.top):
        print(f"{100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
