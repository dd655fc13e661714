"""Run every benchmark, then write bench/results/SUMMARY.md from their JSON results.

    .venv/bin/python -m bench                 # every benchmark at its full size (long)
    .venv/bin/python bench/run_all.py         # the same
    .venv/bin/python -m bench --quick         # small workloads, results in bench/results/quick/
    .venv/bin/python -m bench --only rules clips
    .venv/bin/python -m bench --summary-only  # regenerate SUMMARY.md from the saved JSON

Each benchmark runs as its own process (`bench/bench_<name>.py`, as when run by hand), one after
the other so they do not compete for the cores they measure; a failing one is reported and the
rest still run. --quick writes into bench/results/quick/ so toy figures never replace real ones.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from summary import RESULTS, write_summary  # bench/ is on the path, as for every benchmark
from tqdm import tqdm

BENCH = Path(__file__).resolve().parent

# name -> (arguments of a quick run); full runs use each benchmark's own defaults.
QUICK: dict[str, list[str]] = {
    "rules": ["--hours", "1", "--repeat", "1"],
    "replay_lake": ["--hours", "2"],
    "lake_size": ["--hours", "2"],
    "retention": ["--objects", "2000", "--s3-objects", "500"],
    "clips": ["--repeat", "1"],
    "ingest": ["--seconds", "10", "--cameras", "2"],
    "analysis": ["--frames", "20", "--idle-frames", "10"],
    "detector_precision": ["--frames", "10"],
    "dataflow": ["--seconds", "3", "--live-seconds", "8", "--max-cameras", "1", "--repeat", "1"],
    "event_latency": ["--seconds", "30", "--min-events", "1", "--max-seconds", "90"],
    "soak": ["--cameras", "2", "--minutes", "2", "--warmup-seconds", "30", "--load-seconds", "10"],
}


def command(name: str, quick: bool, out_dir: Path) -> list[str]:
    script = BENCH / f"bench_{name}.py"
    args = QUICK[name] if quick else []
    return [sys.executable, str(script), *args, "--out", str(out_dir / f"{name}.json")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, separate results")
    parser.add_argument("--summary-only", action="store_true", help="only rewrite SUMMARY.md")
    parser.add_argument("--only", nargs="+", choices=sorted(QUICK), metavar="NAME")
    parser.add_argument("--results", type=Path, help="results directory (default per mode)")
    args = parser.parse_args(argv)
    out_dir = args.results or (RESULTS / "quick" if args.quick else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    if not args.summary_only:
        names = args.only or list(QUICK)
        for name in tqdm(names, desc="benchmarks", unit="bench"):
            tqdm.write(f"--- {name}")
            if subprocess.run(command(name, args.quick, out_dir), check=False).returncode:
                failed.append(name)
    path = write_summary(out_dir)
    print(f"wrote {path}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
