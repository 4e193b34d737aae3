"""Benchmarks: the generated service against the eventsourcing library and raw sqlite3, and
the generator's own speed. Every measurement runs in a fresh process; contenders alternate
their order between repetitions, and ratios are computed within each repetition.

usage: python bench/run.py [--quick] [--reps N] [--only runtime|generator] [--json PATH]
(install with: pip install -e '.[bench]')
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = ["generated", "eventsourcing", "raw"]
PYTHON = sys.executable


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
        info["cpu"] = model
    except (OSError, StopIteration):
        pass
    for package in ("eventsourcing", "black"):
        try:
            from importlib.metadata import version

            info[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            info[package] = None
    return info


def run_json(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# -- runtime -----------------------------------------------------------------------------
ALL_CASES = ["w1/NORMAL", "w1/FULL", "w2/NORMAL", "w2-snapshots/NORMAL"]


def runtime(work: Path, reps: int, accounts: int, only: list[str]) -> dict[str, Any]:
    banking = work / "banking"
    build = subprocess.run([PYTHON, "-m", "draftsman_gen", "build", str(ROOT / "examples/banking"),
                            "--out", str(banking)], capture_output=True, text=True, check=False)
    if build.returncode != 0:
        raise RuntimeError(build.stderr)
    env = {**os.environ, "PYTHONPATH": str(banking)}
    results: dict[str, Any] = {}
    cases = [tuple(case.split("/")) for case in only]
    for workload, sync in cases:
        name = f"{workload}/{sync}"
        samples: dict[str, list[float]] = {c: [] for c in CONTENDERS}
        ratios: dict[str, list[float]] = {"generated/eventsourcing": [], "generated/raw": []}
        for rep in range(reps):
            order = CONTENDERS[rep % 3:] + CONTENDERS[: rep % 3]
            value: dict[str, float] = {}
            for contender in order:
                db = work / f"{contender}-{rep}.sqlite3"
                for leftover in work.glob(f"{db.name}*"):
                    leftover.unlink()
                args = [PYTHON, str(ROOT / "bench/contenders.py"), contender, workload, sync, str(db)]
                if workload == "w1":
                    args.append(str(accounts))
                result = run_json(args, env)
                value[contender] = result["per_second"] if workload == "w1" else result["median_ms"]
                samples[contender].append(value[contender])
            if workload == "w1":  # throughput: higher is better
                ratios["generated/eventsourcing"].append(value["generated"] / value["eventsourcing"])
                ratios["generated/raw"].append(value["generated"] / value["raw"])
            else:  # load time: the ratio says how many times slower than the other
                ratios["generated/eventsourcing"].append(value["generated"] / value["eventsourcing"])
                ratios["generated/raw"].append(value["generated"] / value["raw"])
        results[name] = {
            "unit": "commands/s" if workload == "w1" else "ms per load",
            "contenders": {c: summary(v) for c, v in samples.items()},
            "ratios": {k: summary(v) for k, v in ratios.items()},
        }
        print_runtime(name, results[name])
    return results


def print_runtime(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name} ({result['unit']}, median [min-max])")
    for contender, s in result["contenders"].items():
        print(f"  {contender:14s} {s['median']:12.3f}  [{s['min']:.3f} - {s['max']:.3f}]")
    for ratio, s in result["ratios"].items():
        print(f"  {ratio:24s} {s['median']:8.2f}x [{s['min']:.2f} - {s['max']:.2f}]")


# -- generator ---------------------------------------------------------------------------
def timed(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return elapsed


def generator(work: Path, reps: int, sizes: list[int], run_tests: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    cli = [PYTHON, "-m", "draftsman_gen"]
    help_times = [timed([str(Path(PYTHON).parent / "draftsman-gen"), "--help"]) for _ in range(5)]
    results["help"] = summary(help_times)
    print(f"\n--help: {results['help']['median']:.3f}s")
    for n in sizes:
        model = work / f"synthetic{n}"
        subprocess.run([PYTHON, str(ROOT / "bench/synthetic.py"), str(n), str(model)], check=True)
        times: dict[str, list[float]] = {"cold build": [], "no-change build": [], "check": [],
                                         "full check (warm cache)": []}
        out = work / f"out{n}"
        for rep in range(reps):
            cache = work / f"cache{n}-{rep}"
            env = {**os.environ, "DRAFTSMAN_GEN_CACHE_DIR": str(cache)}
            shutil.rmtree(out, ignore_errors=True)
            times["cold build"].append(timed([*cli, "build", str(model), "--out", str(out)], env))
            times["no-change build"].append(timed([*cli, "build", str(model), "--out", str(out)], env))
            times["check"].append(timed([*cli, "check", str(model), "--out", str(out)], env))
            times["full check (warm cache)"].append(
                timed([*cli, "check", "--full", str(model), "--out", str(out)], env))
            shutil.rmtree(cache, ignore_errors=True)
        results[f"N={n}"] = {k: summary(v) for k, v in times.items()}
        print(f"\nN = {n}")
        for k, s in results[f"N={n}"].items():
            print(f"  {k:26s} {s['median']:8.2f}s [{s['min']:.2f} - {s['max']:.2f}]")
        if run_tests:
            env = {**os.environ, "PYTHONPATH": str(out)}
            tests = [timed([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env, out)
                     for _ in range(reps)]
            results[f"N={n}"]["generated tests"] = summary(tests)
            print(f"  {'generated tests':26s} {statistics.median(tests):8.2f}s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--only", choices=["runtime", "generator"])
    parser.add_argument("--json", default=str(ROOT / "bench/results/latest.json"))
    parser.add_argument("--cases", nargs="+", choices=ALL_CASES, default=ALL_CASES,
                        help="runtime cases to run (default: all)")
    args = parser.parse_args()
    reps = args.reps or (2 if args.quick else 3)
    report: dict[str, Any] = {"machine": machine(), "reps": reps, "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="draftsman-bench-") as tmp:
        work = Path(tmp)
        if args.only != "generator":
            report["runtime"] = runtime(work, reps, 100 if args.quick else 1000, args.cases)
        if args.only != "runtime":
            report["generator"] = generator(work, reps, [10] if args.quick else [10, 100],
                                            run_tests=True)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
