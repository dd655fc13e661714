"""Run a simulated camera until Ctrl-C: `python -m vigil.simulator [--port 8554] [--stamp]`."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from vigil.simulator.manager import DEFAULT_FOOTAGE, RtspSimulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_FOOTAGE)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--mount", action="append", help="mount path, repeatable (/stream)")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--stamp", action="store_true", help="burn wall-clock time into frames")
    args = parser.parse_args()
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    mounts = tuple(args.mount or ["/stream"])
    with RtspSimulator(
        args.source,
        port=args.port,
        mounts=mounts,
        user=args.user,
        password=args.password,
        stamp=args.stamp,
    ) as sim:
        for mount in mounts:
            print(sim.url(mount), flush=True)
        done.wait()


if __name__ == "__main__":
    main()
