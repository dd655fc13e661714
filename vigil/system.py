"""The platform's health and figures as its services report them: each service's health
endpoint, and the Prometheus metrics the ingest and dataflow services serve on /metrics
(parsed with prometheus_client's own text parser, so Prometheus stays the single source)."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from vigil.settings import Settings

TIMEOUT = httpx.Timeout(2.0)
Samples = dict[str, dict[str, float]]  # sample name -> camera_id label (or "") -> value


@dataclass(frozen=True)
class Probe:
    name: str
    url: str
    healthy: bool
    detail: str | None = None


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a bind address)


def health_urls(settings: Settings) -> dict[str, str]:
    """The health endpoint of every service `vigil up` runs, besides the API."""
    urls = {
        "ingest": f"{settings.resolved_ingest_url}/healthz",
        "dataflow": f"{settings.resolved_dataflow_url}/healthz",
        "dagster": f"http://{_loopback(settings.dagster_host)}:{settings.dagster_port}/server_info",
        "dagster daemon": f"http://127.0.0.1:{settings.dagster_daemon_health_port}/healthz",
        "dashboard": (
            f"http://{_loopback(settings.dashboard_host)}:{settings.dashboard_port}/_stcore/health"
        ),
    }
    if settings.alerts_health_port:  # 0: the alert service serves no health endpoint
        urls["alerts"] = f"http://127.0.0.1:{settings.alerts_health_port}/healthz"
    return urls


def broker_address(settings: Settings) -> tuple[str, int]:
    """The first bootstrap server: the configured Kafka, else the embedded Tansu."""
    if settings.kafka_bootstrap:
        host, _, port = settings.kafka_bootstrap.split(",")[0].strip().rpartition(":")
        return host or "127.0.0.1", int(port)
    return "127.0.0.1", settings.kafka_embedded_port


def object_store_url(settings: Settings) -> str | None:
    """The S3 endpoint, when objects are not a local directory (AWS itself: not probed)."""
    if settings.object_store == "embedded":
        return f"http://127.0.0.1:{settings.seaweedfs_s3_port}"
    return settings.s3_endpoint_url if settings.object_store == "s3" else None


def probe_tcp(name: str, host: str, port: int) -> Probe:
    url = f"tcp://{host}:{port}"
    try:
        socket.create_connection((host, port), timeout=TIMEOUT.connect).close()
    except OSError as exc:
        return Probe(name, url, False, f"unreachable: {type(exc).__name__}")
    return Probe(name, url, True)


def probe_s3(name: str, url: str) -> Probe:
    """Up when the endpoint answers HTTP at all: an anonymous request is refused (403)."""
    try:
        httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return Probe(name, url, False, f"unreachable: {type(exc).__name__}")
    return Probe(name, url, True)


def probe(name: str, url: str) -> Probe:
    try:
        response = httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return Probe(name, url, False, f"unreachable: {type(exc).__name__}")
    if response.status_code == 200:
        return Probe(name, url, True)
    return Probe(name, url, False, f"HTTP {response.status_code}")


def scrape(url: str) -> Samples:
    """Every sample of a /metrics page by name and camera; {} when unreachable."""
    try:
        response = httpx.get(url, timeout=TIMEOUT)
        response.raise_for_status()
    except httpx.HTTPError:
        return {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            camera = sample.labels.get("camera_id", "")
            key = sample.name
            if "area" in sample.labels:  # vigil_storage_bytes: one series per area
                key = f"{sample.name}:{sample.labels['area']}"
            samples.setdefault(key, {})[camera] = sample.value
    return samples


@dataclass(frozen=True)
class Snapshot:
    probes: list[Probe]
    dataflow: Samples
    ingest: Samples


def take_snapshot(settings: Settings, extra: Iterable[Probe] = ()) -> Snapshot:
    """Every probe and both scrapes at once, so a dead service costs one timeout, not several."""
    urls = health_urls(settings)
    with ThreadPoolExecutor(max_workers=len(urls) + 4) as pool:
        probes = [pool.submit(probe, name, url) for name, url in urls.items()]
        probes.append(pool.submit(probe_tcp, "broker", *broker_address(settings)))
        if (store := object_store_url(settings)) is not None:
            probes.append(pool.submit(probe_s3, "object store", store))
        dataflow = pool.submit(scrape, f"{settings.resolved_dataflow_url}/metrics")
        ingest = pool.submit(scrape, f"{settings.resolved_ingest_url}/metrics")
        return Snapshot([*extra, *(p.result() for p in probes)], dataflow.result(), ingest.result())
