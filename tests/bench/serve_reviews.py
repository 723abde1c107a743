"""Benchmark: `GET /reviews` of `omareview serve` for a subject with 500 receipt-backed reviews (500 attesters),
from a warm store, driven by an independent load generator (`wrk`, keep-alive connections, 3 s a run) at
concurrency 1, 8, 32 and 128. Each run is shown beside the same server's `/healthz` at the same concurrency
(the HTTP floor of that process), the target being a p99 within 1.5x of it; then throughput with one worker
process against two (`serve --workers 2`). The server runs as `omareview serve` runs it (`run_server`, the
guarded h11 protocol), without access logs."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import quote

import httpx

from omareview.eas.client import EasClient, review_request
from omareview.index import ReviewIndex
from omareview.networks import Network
from omareview.review import review_from_receipt
from omareview.serve import ProviderConfig, ReviewProvider, create_app
from omareview.serve.server import ServerOptions, run_server
from omareview.signers import signer_from_key
from tests.bench._world import SUBJECT, subject_world
from tests.helpers import answers, free_port
from tests.reviews import artifact, receipt_for

REVIEWS = 500
CONCURRENCY = (1, 8, 32, 128)
SECONDS = 3
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, connections: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) of one wrk run; every answer must be a 2xx."""
    threads = min(connections, 2)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{SECONDS}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise AssertionError(out)
    if "Socket errors" in out:
        print("  " + next(line.strip() for line in out.splitlines() if "Socket errors" in line) + f" ({url})")

    def quantile(q: str) -> float:
        found = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        return float(found.group(1)) * _UNIT_MS[found.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate, out
    return quantile("50"), quantile("99"), float(rate.group(1))


def _serve(network: Network, home: Path, port: int, workers: int) -> None:
    """The provider in processes of its own, as `omareview serve` runs it, over the judged store."""

    def make_app(worker: int) -> object:
        provider = ReviewProvider(ProviderConfig(network, index=ReviewIndex(network, home=home / "index"), syncs=False))
        return create_app(provider, requests_per_minute=10**9, sync_in_background=False)

    options = ServerOptions(port=port, workers=workers, access_log=False, max_connections=1024)
    run_server(make_app, options)  # type: ignore[arg-type]


def _serving(network: Network, home: Path, workers: int) -> tuple[multiprocessing.process.BaseProcess, str]:
    port = free_port()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(network, home, port, workers))
    server.start()
    base = f"http://127.0.0.1:{port}"
    assert answers(f"{base}/healthz"), "the provider did not start"
    for _ in range(workers * 4):
        httpx.get(f"{base}/reviews?resource={quote(SUBJECT, safe='')}", timeout=30)
    return server, base


def main() -> dict[str, float]:
    results: dict[str, float] = {}
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
        assert provider.reviews(SUBJECT).count == REVIEWS

        print(
            f"serve: GET /reviews of a subject with {REVIEWS} reviews, warm store, wrk {SECONDS} s a run, {os.cpu_count()} cores"
        )
        print(
            "  conc   /reviews p50     p99      req/s  |  /healthz p50     p99      req/s  |  p99 ratio (target <= 1.5x)"
        )
        server, base = _serving(world.network, world.home, 1)
        try:
            for connections in CONCURRENCY:
                r50, r99, rps = _wrk(f"{base}/reviews?resource={quote(SUBJECT, safe='')}", connections)
                h50, h99, hps = _wrk(f"{base}/healthz", connections)
                ratio = r99 / h99
                results[f"p99_ratio_{connections}"] = ratio
                print(
                    f"  {connections:4d}   {r50:8.2f} ms {r99:7.2f} ms {rps:8.0f}  |  {h50:8.2f} ms {h99:7.2f} ms {hps:8.0f}"
                    f"  |  {ratio:4.2f}x {'MET' if ratio <= 1.5 else 'NOT MET'}"
                )
            one = _wrk(f"{base}/reviews?resource={quote(SUBJECT, safe='')}", 32)[2]
        finally:
            server.terminate()
            server.join(10)
        server, base = _serving(world.network, world.home, 2)
        try:
            two = _wrk(f"{base}/reviews?resource={quote(SUBJECT, safe='')}", 32)[2]
        finally:
            server.terminate()
            server.join(10)
    results["workers_scaling"] = two / one
    print(
        f"  --workers 2 vs 1 at concurrency 32: {two:.0f} vs {one:.0f} req/s, {two / one:.2f}x (wrk shares the cores)"
    )
    return results


if __name__ == "__main__":
    main()
