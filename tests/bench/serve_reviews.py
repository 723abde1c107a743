"""Benchmark: `GET /reviews` of `omareview serve` for a subject with 500 receipt-backed reviews (500 attesters),
from a warm store, under a bounded load generator on loopback (8 keep-alive clients, 2,000 requests). Shown
beside the same server's `/healthz` (the HTTP floor of that process) and the query in-process; the
server runs in a process of its own, as `omareview serve` does, without access logs."""

from __future__ import annotations

import multiprocessing
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import uvicorn

from omareview.eas.client import EasClient, review_request
from omareview.index import ReviewIndex
from omareview.keys import signer_from_key
from omareview.networks import Network
from omareview.review import review_from_receipt
from omareview.serve import ProviderConfig, ReviewProvider, create_app
from tests.bench._world import SUBJECT, subject_world
from tests.helpers import free_port
from tests.reviews import artifact, receipt_for

REVIEWS = 500
CLIENTS = 8
REQUESTS = 2_000


def _load(url: str) -> tuple[list[float], float]:
    """Latencies (ms) of REQUESTS GETs from CLIENTS keep-alive clients, and the wall time (s)."""
    per_client = REQUESTS // CLIENTS

    def client(_: int) -> list[float]:
        times: list[float] = []
        with httpx.Client(timeout=10) as http:
            for _ in range(per_client):
                started = time.perf_counter()
                response = http.get(url)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        latencies = [t for batch in pool.map(client, range(CLIENTS)) for t in batch]
    return latencies, time.perf_counter() - started


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _serve(network: Network, home: Path, port: int) -> None:
    """The provider in its own process, as `omareview serve` runs it, over the judged store."""
    provider = ReviewProvider(ProviderConfig(network, index=ReviewIndex(network, home=home / "index")))
    app = create_app(provider, requests_per_minute=10**9, sync_in_background=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> dict[str, float]:
    with subject_world(REVIEWS + 1) as world:
        for number, account in enumerate(world.state.accounts[1 : REVIEWS + 1]):
            signer = signer_from_key(account.private_key.get_secret_value())
            review = review_from_receipt(
                artifact(receipt_for(signer.address, n=number + 1)), signer.address, rating=1 + number % 5
            )[0]
            EasClient(world.network, signer).attest(review_request(review.recipient, review.encode()))
        index = ReviewIndex(world.network, home=world.home / "index", judge_context=world.judge_context())
        provider = ReviewProvider(ProviderConfig(world.network, index=index))
        provider.sync()
        started = time.perf_counter()
        assert provider.reviews(SUBJECT).count == REVIEWS
        cold_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        for _ in range(1000):
            provider.reviews(SUBJECT, limit=20)
        warm_ms = time.perf_counter() - started

        port = free_port()
        server = multiprocessing.get_context("fork").Process(target=_serve, args=(world.network, world.home, port))
        server.start()
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(400):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            httpx.get(f"{base}/reviews?resource={quote(SUBJECT, safe='')}", timeout=30)
            floor, floor_s = _load(f"{base}/healthz")
            reviews, reviews_s = _load(f"{base}/reviews?resource={quote(SUBJECT, safe='')}")
        finally:
            server.terminate()
            server.join(10)

    p50, p99 = _p(reviews, 50), _p(reviews, 99)
    rps, floor_rps = REQUESTS / reviews_s, REQUESTS / floor_s
    print(
        f"serve: GET /reviews of a subject with {REVIEWS} reviews, warm store, {CLIENTS} clients x {REQUESTS // CLIENTS}:"
    )
    print(
        f"  GET /reviews (page of 20, summary of {REVIEWS})   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {rps:7.0f} req/s"
    )
    print(
        f"  GET /healthz (this server's HTTP floor)      p50 {_p(floor, 50):6.2f} ms   p99 {_p(floor, 99):6.2f} ms   {floor_rps:7.0f} req/s"
    )
    print(f"  in-process: first query (judged store) {cold_ms:6.2f} ms, then {warm_ms:6.3f} ms from the cache")
    print(f"  /reviews vs the floor: {floor_rps / rps:5.1f}x the time per request")
    print(f"  p99 under 20 ms on one process                {'MET' if p99 < 20 else 'NOT MET'}")
    return {"p50_ms": p50, "p99_ms": p99, "rps": rps, "floor_rps": floor_rps, "cold_ms": cold_ms}


if __name__ == "__main__":
    main()
