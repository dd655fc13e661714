"""API load from a process of its own: `clients` concurrent users, each logging in once, then
listing events, fetching event snapshots and clips (the mix a busy dashboard makes) for
`seconds`; prints per request kind the latencies (ms) and the status counts as JSON.

    python bench/_load.py --base http://127.0.0.1:8000 --email E --password P --clients 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

import httpx

# Of every request a client makes: what share lists events, fetches a snapshot, a clip.
KINDS = ("events", "snapshot", "clip")
WEIGHTS = (0.5, 0.35, 0.15)


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.statuses: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
        self.login_failures = 0

    def add(self, kind: str, started: float, status: str) -> None:
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        counts = self.statuses[kind]
        counts[status] = counts.get(status, 0) + 1


async def _login(client: httpx.AsyncClient, email: str, password: str) -> bool:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        return False
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return True


async def _user(args: argparse.Namespace, tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=args.base, timeout=60) as client:
        if not await _login(client, args.email, args.password):
            tally.login_failures += 1
            return
        urls: dict[str, list[str]] = {"snapshot": [], "clip": []}
        while time.monotonic() < until:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            if kind != "events" and not urls[kind]:
                kind = "events"  # nothing of that kind to fetch yet
            started = time.perf_counter()
            try:
                if kind == "events":
                    response = await client.get("/api/v1/events", params={"limit": 50})
                    if response.status_code == 200:
                        items = response.json()["items"]
                        urls = {k: [e[f"{k}_url"] for e in items if e[f"{k}_url"]] for k in urls}
                else:
                    response = await client.get(rng.choice(urls[kind]))
                    await response.aread()
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            tally.add(kind, started, status)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    until = time.monotonic() + args.seconds
    started = time.monotonic()
    await asyncio.gather(*(_user(args, tally, until, seed) for seed in range(args.clients)))
    return {
        "clients": args.clients,
        "seconds": round(time.monotonic() - started, 1),
        "login_failures": tally.login_failures,
        "latencies_ms": tally.latencies,
        "statuses": tally.statuses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args(argv)
    json.dump(asyncio.run(run(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
