"""Timing loops: a bounded number of GET requests to the local server, sequential or from a few threads.

Each request is timed on the client (``perf_counter`` around ``httpx.Client.get``, keep-alive connection);
a few warm-up requests run first and are not counted. Any unexpected status stops the bench: timing error
pages would measure the wrong thing. A scenario with several ``paths`` (search terms) goes through them in
turn, so that no single cached answer is timed over and over.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.server import HOST, BenchError


@dataclass(frozen=True)
class Scenario:
    """One endpoint to time (a GET unless ``method`` says otherwise). ``floor`` marks the scenario the
    others are compared with.

    ``paths``: when given, the requests go through them in turn (``path`` is then the first of them).
    ``sql_floor``: the name of the raw SQL query (``bench/inprocess.py``) that is the floor of this one.
    ``count_queries``: also count the SQL queries of one request, in-process. ``goal_p95_ms``: the target.
    ``body``: the JSON body of request ``i`` (POST scenarios); ``prepare``: called with the client before
    the warm-up (untimed, e.g. to read a version); ``on_response``: called with each answer (untimed,
    e.g. to keep the version it returns); ``concurrent=False``: sequential only (stateful scenarios).
    """

    name: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    expected_status: int = 200
    floor: bool = False
    paths: tuple[str, ...] = ()
    sql_floor: str = ""
    count_queries: bool = False
    goal_p95_ms: float | None = None
    method: str = "GET"
    body: Callable[[int], Any] | None = None
    prepare: Callable[[httpx.Client], None] | None = None
    on_response: Callable[[httpx.Response], None] | None = None
    concurrent: bool = True

    def path_at(self, i: int) -> str:
        return self.paths[i % len(self.paths)] if self.paths else self.path


@dataclass
class Timing:
    """The measured requests of one scenario at one concurrency."""

    scenario: str
    concurrency: int
    latencies_ms: list[float]
    wall_s: float

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95_ms(self) -> float:
        return percentile_95(self.latencies_ms)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s > 0 else float("inf")

    def summary(self, floor_median_ms: float | None) -> dict[str, Any]:
        """The numbers of the report (``ratio``: this median over the floor's, same run and concurrency)."""
        ratio = self.median_ms / floor_median_ms if floor_median_ms else None
        return {
            "scenario": self.scenario,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "median_ms": round(self.median_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "requests_per_s": round(self.requests_per_s, 1),
            "ratio_to_floor": round(ratio, 2) if ratio is not None else None,
        }


def percentile_95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def _require_loopback(base_url: str) -> None:
    if httpx.URL(base_url).host != HOST:
        raise BenchError(f"the bench only targets {HOST}, not {base_url}")


def _client(base_url: str) -> httpx.Client:
    # trust_env=False: no proxy from the environment between the bench and the server.
    return httpx.Client(base_url=base_url, timeout=30, follow_redirects=False, trust_env=False)


def _timed_get(client: httpx.Client, scenario: Scenario, i: int = 0) -> float:
    path = scenario.path_at(i)
    body = scenario.body(i) if scenario.body is not None else None
    start = time.perf_counter()
    response = client.request(scenario.method, path, headers=dict(scenario.headers), json=body)
    elapsed_ms = (time.perf_counter() - start) * 1000
    if response.status_code != scenario.expected_status:
        raise BenchError(
            f"{scenario.name}: {scenario.method} {path} answered {response.status_code}, "
            f"expected {scenario.expected_status}: {response.text[:300]!r}"
        )
    if scenario.on_response is not None:
        scenario.on_response(response)
    return elapsed_ms


def _sequential(base_url: str, scenario: Scenario, requests: int, warmup: int) -> Timing:
    with _client(base_url) as client:
        if scenario.prepare is not None:
            scenario.prepare(client)
        for i in range(warmup):
            _timed_get(client, scenario, i)
        start = time.perf_counter()
        latencies = [_timed_get(client, scenario, i) for i in range(requests)]
        wall = time.perf_counter() - start
    return Timing(scenario.name, 1, latencies, wall)


def _concurrent(base_url: str, scenario: Scenario, requests: int, warmup: int, threads: int) -> Timing:
    """``threads`` clients, each warmed up, then released together on their share of the requests."""
    shares = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    ready = threading.Barrier(threads + 1)
    stop = threading.Event()  # set when one client failed or the bench is interrupted: the others give up

    def worker(offset: int, share: int) -> list[float]:
        with _client(base_url) as client:
            try:
                for i in range(max(1, warmup // threads)):
                    _timed_get(client, scenario, offset + i)
            finally:
                ready.wait()  # never leave the others waiting, even when a warm-up request failed
            latencies = []
            for i in range(share):
                if stop.is_set():
                    break
                latencies.append(_timed_get(client, scenario, offset + i))
            return latencies

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench") as pool:
        futures = [pool.submit(worker, n * 7, share) for n, share in enumerate(shares)]
        try:
            ready.wait()
            start = time.perf_counter()
            latencies = [ms for future in futures for ms in future.result()]
            wall = time.perf_counter() - start
        except BaseException:
            stop.set()
            ready.abort()
            raise
    return Timing(scenario.name, threads, latencies, wall)


def measure(base_url: str, scenario: Scenario, *, requests: int, warmup: int, concurrency: int) -> Timing:
    """Time ``requests`` requests of ``scenario`` after ``warmup`` untimed ones, ``concurrency`` threads."""
    _require_loopback(base_url)
    if requests < 1:
        raise BenchError("--requests must be at least 1")
    if concurrency > 1 and not scenario.concurrent:
        raise BenchError(f"{scenario.name}: sequential only")
    if concurrency <= 1:
        return _sequential(base_url, scenario, requests, warmup)
    return _concurrent(base_url, scenario, requests, warmup, concurrency)
