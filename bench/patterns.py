"""Benchmark of draftsman_runtime.pattern, the linear-time matcher of model patterns.

Measures (a) a typical pattern on a typical value, warm, against re; (b) pathological patterns
on long inputs, to show that time grows linearly with the length; (c) for contrast, re's
backtracking on one of them, which doubles every two characters.

usage: python bench/patterns.py [--quick]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Measure the working tree's runtime, whether or not the package is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runtime"))

from draftsman_runtime.pattern import Pattern

ACCOUNT = "(?:[A-Z]{2})[0-9]{2}[A-Z0-9]{4,30}"
ACCOUNT_VALUE = "GB82WEST1234"
EXPLOSIVE = "(?:[A-Z]|[A-Z]{2})*X"
RE_LIMIT_SECONDS = 2.0


def per_call(call: Callable[[], object], batches: int, batch_seconds: float) -> float:
    """Seconds per call: the median over batches, each long enough for the clock."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            call()
        if time.perf_counter() - start >= batch_seconds:
            break
        number *= 2
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def once(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def pathological_inputs(size: int) -> list[tuple[str, str]]:
    """(pattern, text) pairs of the given length that re would take exponential time on."""
    return [
        ("(a*)*b", "a" * size),
        ("(a|aa)*c", "a" * size),
        (EXPLOSIVE, "A" * size),
        (r"(\w+\s?)*$", ("ab " * size)[: size - 1] + "!"),
        ("(.*a){20}", "a" * (size - 1) + "b"),
    ]


def row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def bench_typical(batches: int, batch_seconds: float) -> None:
    ours = Pattern(ACCOUNT)
    compiled = re.compile(ACCOUNT)
    assert ours.fullmatch(ACCOUNT_VALUE) and compiled.fullmatch(ACCOUNT_VALUE)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("Pattern.fullmatch", lambda: ours.fullmatch(ACCOUNT_VALUE)),
        ("re.fullmatch(str)", lambda: re.fullmatch(ACCOUNT, ACCOUNT_VALUE)),
        ("re.Pattern.fullmatch", lambda: compiled.fullmatch(ACCOUNT_VALUE)),
    ]
    print(f"(a) {ACCOUNT} on {ACCOUNT_VALUE!r} (12 characters), warm")
    widths = [22, 12]
    print(row(["matcher", "per call"], widths))
    for name, call in cases:
        print(row([name, format_seconds(per_call(call, batches, batch_seconds))], widths))
    print()


def bench_pathological(sizes: list[int], batches: int, batch_seconds: float) -> None:
    print("(b) pathological patterns with Pattern: cold = first call of a new Pattern (builds")
    print("    the DFA states it meets), warm = later calls")
    widths = [22, 8, 12, 12, 14, 6]
    print(row(["pattern", "length", "cold", "warm", "warm per char", "match"], widths))
    for size in sizes:
        for source, text in pathological_inputs(size):
            fresh = Pattern(source)
            cold = once(lambda fresh=fresh, text=text: fresh.fullmatch(text))
            warm = per_call(
                lambda fresh=fresh, text=text: fresh.fullmatch(text), batches, batch_seconds
            )
            cells = [source, str(size), format_seconds(cold), format_seconds(warm)]
            cells += [f"{warm / size * 1e9:.0f} ns", str(fresh.fullmatch(text))]
            print(row(cells, widths))
    print()


def bench_backtracking(lengths: list[int]) -> None:
    print(f"(c) for contrast, re.fullmatch({EXPLOSIVE!r}, 'A' * n): backtracking")
    widths = [6, 12, 12]
    print(row(["n", "re", "Pattern"], widths))
    ours = Pattern(EXPLOSIVE)
    for length in lengths:
        text = "A" * length
        taken = once(lambda text=text: re.fullmatch(EXPLOSIVE, text))
        mine = per_call(lambda text=text: ours.fullmatch(text), 3, 0.01)
        print(row([str(length), format_seconds(taken), format_seconds(mine)], widths))
        if taken > RE_LIMIT_SECONDS:
            print(f"stopped: re took over {RE_LIMIT_SECONDS:.0f} s")
            break
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repetitions")
    args = parser.parse_args()
    batches, batch_seconds = (3, 0.02) if args.quick else (7, 0.1)
    print(f"Python {sys.version.split()[0]}; median of {batches} batches of >= {batch_seconds} s")
    print()
    bench_typical(batches, batch_seconds)
    bench_pathological([1_000, 10_000, 100_000], batches, batch_seconds)
    bench_backtracking([20, 22, 24] if args.quick else [20, 24, 28])


if __name__ == "__main__":
    main()
