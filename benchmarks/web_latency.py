"""Web app latency: how long the pages of a campaign with thousands of observations take.

Protocol
--------
* A ledger is built with one campaign (the hand-run amide coupling example, ``review =
  "human"``) holding ``N`` observations (default 5,000), each answering a proposal that carries a
  prediction (mean ± std), recorded in batches of 5 through ``Campaign.observe``; plus 5
  proposals awaiting review, 2 approved and 1 rejected. Building it is fast (bulk events), not
  part of the measurement.
* Endpoints: the campaign page, its figures (fetched by the page) and its JSON twin, the review
  queue and its twin, the audit log, the campaigns list and the observations CSV.
* **In process**: FastAPI's ``TestClient`` (no network), the first request of each endpoint
  (``cold``: caches are filled) and then ``R`` more (default 30), median and 90th percentile.
* **Over HTTP**: ``scientia serve`` in a subprocess on a free loopback port, requests from
  ``http.client`` with keep-alive and ``Accept-Encoding: gzip`` like a browser's, timed to the
  last byte.
* **After a write**: the campaign page and the figures it fetches, right after one more
  observation was recorded (the cache is invalidated: tables and figures are rebuilt), ``R``
  times.
* Target: the campaign page and the queue render in < 300 ms (median) with 5,000 observations.
* Results: ``<out>/web_latency.json`` (with a ``summary``) and ``<out>/web_latency.md``.

There is no peer baseline to run here: the comparison is with the target, and with the same
pages over HTTP (what a person waits for) against in process (what the app itself costs).

Usage::

    python benchmarks/web_latency.py            # 5,000 observations, 30 requests per endpoint
    python benchmarks/web_latency.py --smoke    # CI: 300 observations, 5 requests, temp dir
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
TARGET_MS = 300.0
ENDPOINTS = {
    "campaign page": "/campaigns/1",
    "campaign figures": "/campaigns/1/figures.json",
    "campaign JSON": "/campaigns/1.json",
    "queue page": "/campaigns/1/queue",
    "queue JSON": "/campaigns/1/queue.json",
    "audit log": "/campaigns/1/log",
    "campaigns list": "/campaigns",
    "observations CSV": "/campaigns/1/observations.csv",
}


def build_ledger(path: Path, n: int, seed: int = 0) -> float:
    """Write a campaign with ``n`` observations (answering proposals with predictions)."""
    from scientia.campaign import Campaign
    from scientia.config import load_config
    from scientia.ledger.store import NewEvent
    from scientia.proposers.base import Proposal
    from scientia.types import Observation

    start = time.perf_counter()
    cfg = load_config(REPO / "examples" / "manual.toml", ['review="human"'])
    camp = Campaign.create(cfg, str(path))
    rng = np.random.default_rng(seed)
    cands = camp.space.sample(n + 8, seed=seed)
    batch, chunk = 5, 500  # proposals per round; observations per transaction

    def proposal(i: int, rnd: int, k: int) -> Proposal:
        c = cands[i]
        mean = 0.4 * c.params["temperature"] + 1.5 * c.params["time"] + rng.normal(0, 3)
        return Proposal(
            c, "bo:qlognei", {"yield": mean}, {"yield": 4.0}, float(rng.random()), id=f"r{rnd:04d}.{k}"
        )

    for first in range(0, n, chunk):
        props = [proposal(i, i // batch, i % batch) for i in range(first, min(n, first + chunk))]
        events = [
            NewEvent("proposal", {**p.to_dict(), "round": int(p.id[1:5])}, "scientia", f"proposal:{p.id}")
            for p in props
        ]
        camp.ledger.append_many(camp.id, events)
        observations = [
            Observation(p.candidate, {"yield": float(p.mean["yield"] + rng.normal(0, 3))}, proposal_id=p.id)  # type: ignore[index]
            for p in props
        ]
        camp.observe(observations, actor=f"chemist-{first // chunk % 3}")
    rnd = (n + batch - 1) // batch
    extra = [proposal(n + k, rnd, k) for k in range(8)]
    camp.ledger.append_many(
        camp.id,
        [NewEvent("proposal", {**p.to_dict(), "round": rnd}, "scientia", f"proposal:{p.id}") for p in extra],
    )
    camp.review(extra[0].id, "approve", actor="alice")
    camp.review(extra[1].id, "approve", actor="bob")
    camp.review(extra[2].id, "reject", reason="solvent out of stock", actor="alice")
    camp.ledger.close()
    return time.perf_counter() - start


def _stats(times: list[float]) -> dict[str, float]:
    ms = sorted(1000 * t for t in times)
    return {
        "median_ms": statistics.median(ms),
        "p90_ms": ms[min(len(ms) - 1, int(0.9 * len(ms)))],
        "min_ms": ms[0],
        "n": len(ms),
    }


def in_process(ledger: Path, repeats: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every endpoint through TestClient; then the campaign page after each new observation."""
    from fastapi.testclient import TestClient

    from scientia.campaign import Campaign
    from scientia.types import Observation
    from scientia.web import create_app

    app = create_app(str(ledger))
    out: dict[str, Any] = {}
    with TestClient(app) as client:
        for name, url in ENDPOINTS.items():
            t = time.perf_counter()
            first = client.get(url)
            cold = time.perf_counter() - t
            assert first.status_code == 200, (url, first.status_code, first.text[:300])
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                r = client.get(url)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200
            out[name] = {**_stats(times), "cold_ms": 1000 * cold, "bytes": len(first.content)}
            print(
                f"  in process  {name:18s} median {out[name]['median_ms']:7.1f} ms  cold {1000 * cold:7.1f} ms",
                flush=True,
            )
        camp = Campaign.open(str(ledger), 1)
        cands = camp.space.sample(repeats, seed=99)
        times = []
        for c in cands:
            camp.observe([Observation(c, {"yield": 50.0})], actor="bench")
            t = time.perf_counter()
            r = client.get(ENDPOINTS["campaign page"])
            src = re.search(r'data-src="([^"]+)"', r.text)
            assert r.status_code == 200 and src is not None
            figures = client.get(html.unescape(src.group(1)))  # what the page fetches to draw its plots
            times.append(time.perf_counter() - t)
            assert figures.status_code == 200
        camp.ledger.close()
        after = _stats(times)
        print(f"  in process  page + figures after a write: median {after['median_ms']:.1f} ms", flush=True)
    app.state.web.store.close()
    return out, after


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def over_http(ledger: Path, repeats: int) -> dict[str, Any]:
    """Every endpoint through a real ``scientia serve`` process and a keep-alive connection."""
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("SCIENTIA_TOKEN", None)
    cmd = [sys.executable, "-m", "scientia.cli", "serve", str(ledger), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"scientia serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Accept-Encoding": "gzip", "Accept": "text/html,application/json,*/*"}

        def get(url: str) -> tuple[float, int, int]:
            t = time.perf_counter()
            conn.request("GET", url, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            return time.perf_counter() - t, resp.status, len(body)

        for name, url in ENDPOINTS.items():
            cold, status, size = get(url)
            assert status == 200, (url, status)
            times = [get(url)[0] for _ in range(repeats)]
            out[name] = {**_stats(times), "cold_ms": 1000 * cold, "bytes_on_wire": size}
            print(
                f"  over HTTP   {name:18s} median {out[name]['median_ms']:7.1f} ms  ({size / 1024:.0f} kB gzip)",
                flush=True,
            )
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in ("scientia", "fastapi", "starlette", "uvicorn", "jinja2", "pandas", "sqlalchemy"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - a missing version is reported as such
            out[pkg] = "unknown"
    return out


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    p = result["protocol"]
    lines = [
        "# Web app latency",
        "",
        f"Written by `{result['command']}` on {result['environment']['machine']}. "
        f"One campaign with {p['observations']:,} observations (each answering a proposal with a prediction); "
        f"{p['repeats']} requests per endpoint after a first (cold) one; medians in milliseconds.",
        "",
        f"**Target** (campaign page and review queue < {TARGET_MS:.0f} ms median with 5,000 observations): "
        + ("met" if s["meets_target"] else "**not met**")
        + f" — campaign page {s['campaign_page_ms']:.0f} ms, queue {s['queue_page_ms']:.0f} ms in process; "
        f"{s['campaign_page_http_ms']:.0f} ms and {s['queue_page_http_ms']:.0f} ms over HTTP.",
        "",
        "| endpoint | in process median | p90 | cold (first) | over HTTP median | p90 | size (gzip on the wire) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ENDPOINTS:
        a, b = result["in_process"][name], result["http"][name]
        lines.append(
            f"| {name} | {a['median_ms']:.1f} | {a['p90_ms']:.1f} | {a['cold_ms']:.0f} | {b['median_ms']:.1f} | "
            f"{b['p90_ms']:.1f} | {b['bytes_on_wire'] / 1024:.0f} kB |"
        )
    w = result["after_write"]
    lines += [
        "",
        f"Campaign page and its figures right after a new observation (tables and figures rebuilt): median {w['median_ms']:.0f} ms, "
        f"p90 {w['p90_ms']:.0f} ms (in process).",
        "",
        "Pages read only the events appended since the previous request; tables, figures and the CSV are "
        "cached per campaign until the ledger changes (figures and CSV also gzipped once), the page fetches "
        "its figures from an address naming the ledger state (cached by the browser), and the observations "
        "table is paginated (50 rows).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--observations", type=int, default=None, help="observations in the campaign (default 5000)"
    )
    p.add_argument("--repeats", type=int, default=None, help="requests per endpoint (default 30)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--smoke", action="store_true", help="300 observations, 5 requests, results in a temp dir")
    args = p.parse_args(argv)
    n = args.observations or (300 if args.smoke else 5000)
    repeats = args.repeats or (5 if args.smoke else 30)
    out = args.out or (Path(tempfile.mkdtemp(prefix="web_latency_smoke_")) if args.smoke else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="web_latency_") as tmp:
        ledger = Path(tmp) / "bench.sqlite"
        seconds = build_ledger(ledger, n)
        print(f"built a ledger with {n} observations in {seconds:.1f} s", flush=True)
        local, after = in_process(ledger, repeats)
        remote = over_http(ledger, repeats)
    summary = {
        "observations": n,
        "campaign_page_ms": local["campaign page"]["median_ms"],
        "queue_page_ms": local["queue page"]["median_ms"],
        "campaign_page_http_ms": remote["campaign page"]["median_ms"],
        "queue_page_http_ms": remote["queue page"]["median_ms"],
        "campaign_page_after_write_ms": after["median_ms"],
        "target_ms": TARGET_MS,
    }
    summary["meets_target"] = bool(
        max(
            summary["campaign_page_http_ms"],
            summary["queue_page_http_ms"],
            summary["campaign_page_ms"],
            summary["queue_page_ms"],
        )
        < TARGET_MS
    )
    passed = argv if argv is not None else sys.argv[1:]
    result = {
        "summary": summary,
        "protocol": {"observations": n, "repeats": repeats, "endpoints": ENDPOINTS, "build_seconds": seconds},
        "in_process": local,
        "http": remote,
        "after_write": after,
        "environment": {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "versions": _versions()},
        "command": " ".join(["python benchmarks/web_latency.py", *passed]),
    }
    (out / "web_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "web_latency.md").write_text(markdown(result))
    print(f"wrote {out / 'web_latency.json'} and {out / 'web_latency.md'}")
    verdict = "meets" if summary["meets_target"] else "MISSES"
    print(
        f"campaign page {summary['campaign_page_ms']:.0f} ms, queue {summary['queue_page_ms']:.0f} ms "
        f"(HTTP {summary['campaign_page_http_ms']:.0f} / {summary['queue_page_http_ms']:.0f} ms): {verdict} the {TARGET_MS:.0f} ms target"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
