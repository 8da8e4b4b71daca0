"""The benchmark suite: each scenario against a reference on the same stack, in the same run.

    python -m bench.run [--quick] [--only S1,S2]

Starts the real services (scripts/services.sh), prepares bench databases, serves the app with
gunicorn under production-like settings (bench.settings = production + reference views), and
measures A (the real endpoint) and B (its reference) alternately: a warm-up, then at least 5
pairs, reporting medians and spread. Results: bench/results/latest.json, latest.md and
s1_concurrency.png. Nothing here asserts: the figures are for people to read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
PG = "postgres://commerce:commerce@127.0.0.1:54320"
BENCH_DATABASES = ("commerce_bench", "commerce_bench_catalog", "commerce_bench_reporting")


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class Comparison:
    scenario: str
    a: str
    b: str
    concurrency: int
    pairs: list[tuple[Run, Run]] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [a.rps / b.rps for a, b in self.pairs if b.rps]

    def summary(self) -> dict:
        ratios = self.ratios()
        a_runs = [a for a, _ in self.pairs]
        b_runs = [b for _, b in self.pairs]
        return {
            "scenario": self.scenario, "a": self.a, "b": self.b, "concurrency": self.concurrency,
            "pairs": len(self.pairs),
            "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "ratio_min": round(min(ratios), 3) if ratios else None,
            "ratio_max": round(max(ratios), 3) if ratios else None,
            "a_rps_median": round(statistics.median(r.rps for r in a_runs), 1),
            "b_rps_median": round(statistics.median(r.rps for r in b_runs), 1),
            "a_p50_ms": round(statistics.median(r.p50_ms for r in a_runs), 2),
            "a_p99_ms": round(statistics.median(r.p99_ms for r in a_runs), 2),
            "b_p50_ms": round(statistics.median(r.p50_ms for r in b_runs), 2),
            "b_p99_ms": round(statistics.median(r.p99_ms for r in b_runs), 2),
            "a_errors": sum(r.errors for r in a_runs), "b_errors": sum(r.errors for r in b_runs),
            "runs": [[asdict(a), asdict(b)] for a, b in self.pairs],
        }


# ---------------------------------------------------------------- the stack

def sh(*args, env=None, check=True, capture=False, timeout=600):
    return subprocess.run(args, cwd=ROOT, env=env, check=check, text=True, timeout=timeout,
                          capture_output=capture)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(**extra) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ACCOUNTS_FRONTEND_URL": "http://127.0.0.1",
        "DATABASE_URL": f"{PG}/commerce_bench",
        "CATALOG_DATABASE_URL": f"{PG}/commerce_bench_catalog",
        "REPORTING_DATABASE_URL": f"{PG}/commerce_bench_reporting",
        "REDIS_URL": "redis://127.0.0.1:63790/9",
        "CELERY_BROKER_URL": "amqp://commerce:commerce@127.0.0.1:56720/commerce_bench",
        "THROTTLE_ANON": "1000000/second",
        "THROTTLE_USER": "1000000/second",
        "BACKPRESSURE_OUTBOX_LIMIT": "100000000",
        "BACKPRESSURE_QUEUE_LIMIT": "100000000",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
        **extra,
    }


def prepare(products: int) -> dict:
    """Fresh bench databases, migrated and seeded; returns the facts the scenarios need."""
    sh("bash", "scripts/services.sh", "start")
    sh("bash", "scripts/services.sh", "vhost", "commerce_bench")
    if not shutil.which("wrk"):
        sh("apt-get", "install", "-y", "-q", "wrk")
    for name in BENCH_DATABASES:
        sh("psql", f"{PG}/postgres", "-qc", f"drop database if exists {name} with (force)",
           env={**os.environ, "PGPASSWORD": "commerce"})
        sh("psql", f"{PG}/postgres", "-qc", f"create database {name}", env={**os.environ, "PGPASSWORD": "commerce"})
    env = bench_env()
    sh(PY, "manage.py", "migrate_all", "-v", "0", env=env)
    sh(PY, "manage.py", "catalog_seed", "--products", str(products), env=env)
    facts = json.loads(sh(PY, "-m", "bench.fixtures", env=env, capture=True).stdout.strip().splitlines()[-1])
    return facts


class Gunicorn:
    def __init__(self, env: dict):
        self.port = free_port()
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        self.process = subprocess.Popen([PY, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
                                        cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        out = sh("pgrep", "-P", str(self.process.pid), capture=True, check=False).stdout
        return [int(pid) for pid in out.split()]


# ---------------------------------------------------------------- load

_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, *, seconds: float, concurrency: int, script: str | None = None, env: dict | None = None) -> Run:
    if env and "BENCH_RUN" in env:
        # Keys restart at 1 in every wrk run: a run id of its own keeps them fresh (a key seen
        # before is an idempotent replay, far cheaper than an order, and would inflate A).
        env = {**env, "BENCH_RUN": secrets.token_hex(6)}
    args = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        args += ["-s", str(ROOT / "bench" / script)]
    out = sh(*args, url, env=env, capture=True).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {int(p): float(v) * scale[u] for p, v, u in _LATENCY.findall(out)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return Run(rps=rps, p50_ms=latency.get(50, 0.0), p99_ms=latency.get(99, 0.0), requests=requests, errors=errors)


def compare(scenario: str, a: tuple[str, dict], b: tuple[str, dict], *, pairs: int, seconds: float,
            concurrency: int, warmup: float) -> Comparison:
    """A and B alternately (ABBA...), after a warm-up of each, so drift hits both alike."""
    result = Comparison(scenario, a[0], b[0], concurrency)
    wrk(**a[1], seconds=warmup, concurrency=concurrency)
    wrk(**b[1], seconds=warmup, concurrency=concurrency)
    for index in range(pairs):
        if index % 2 == 0:
            run_a = wrk(**a[1], seconds=seconds, concurrency=concurrency)
            run_b = wrk(**b[1], seconds=seconds, concurrency=concurrency)
        else:
            run_b = wrk(**b[1], seconds=seconds, concurrency=concurrency)
            run_a = wrk(**a[1], seconds=seconds, concurrency=concurrency)
        result.pairs.append((run_a, run_b))
        print(f"  {scenario} pair {index + 1}: A {run_a.rps:.0f} rps, B {run_b.rps:.0f} rps", flush=True)
    return result


# ---------------------------------------------------------------- scenarios

def s1_orders(server: Gunicorn, facts: dict, opts) -> dict:
    load_env = {**os.environ, "BENCH_TOKEN": facts["token"], "BENCH_SKUS": ",".join(facts["skus"]),
                "BENCH_RUN": secrets.token_hex(4)}
    orders = ("POST /api/v1/orders/", {"url": server.url("/"), "script": "order.lua", "env": load_env})
    insert = ("POST /bench/insert (one INSERT)", {"url": server.url("/"), "script": "order.lua",
                                                  "env": {**load_env, "BENCH_PATH": "/bench/insert"}})
    main = compare("S1", orders, insert, pairs=opts.pairs, seconds=opts.seconds, concurrency=opts.concurrency,
                   warmup=opts.warmup).summary()
    sweep = []
    for concurrency in opts.sweep:
        load_env["BENCH_RUN"] = secrets.token_hex(4)
        point = compare("S1-sweep", orders, insert, pairs=1, seconds=opts.seconds, concurrency=concurrency,
                        warmup=1).summary()
        sweep.append({"concurrency": concurrency, "a_rps": point["a_rps_median"], "b_rps": point["b_rps_median"]})
    queries = json.loads(sh(PY, "-m", "bench.fixtures", "--count-queries", env=bench_env(), capture=True)
                         .stdout.strip().splitlines()[-1])
    return {**main, "sweep": sweep, "queries_per_order": queries}


def s2_cached(server: Gunicorn, facts: dict, opts) -> list[dict]:
    sku = facts["skus"][0]
    hello = ("GET /bench/hello", {"url": server.url("/bench/hello")})
    out = []
    for label, path in (("detail", f"/api/v1/products/{sku}/"), ("list", "/api/v1/products/")):
        out.append(compare(f"S2 {label}", (f"GET {path} (cached)", {"url": server.url(path)}), hello,
                           pairs=opts.pairs, seconds=opts.seconds, concurrency=opts.concurrency,
                           warmup=opts.warmup).summary())
    return out


def s3_uncached(server: Gunicorn, facts: dict, opts) -> list[dict]:
    sku = facts["skus"][0]
    out = []
    for label, path, reference in (("detail", f"/api/v1/products/{sku}/", f"/bench/products/{sku}"),
                                   ("list", "/api/v1/products/", "/bench/products")):
        summary = compare(f"S3 {label}", (f"GET {path} (cache off)", {"url": server.url(path)}),
                          (f"GET {reference} (.values() + JSON)", {"url": server.url(reference)}),
                          pairs=opts.pairs, seconds=opts.seconds, concurrency=opts.concurrency,
                          warmup=opts.warmup).summary()
        out.append(summary)
    uncached = bench_env(CATALOG_CACHE_ENABLED="false")
    counts = json.loads(sh(PY, "-m", "bench.fixtures", "--count-read-queries", env=uncached, capture=True)
                        .stdout.strip().splitlines()[-1])
    for summary in out:
        summary["queries_per_request"] = counts[summary["scenario"].split()[-1]]
    return out


# ---------------------------------------------------------------- report

def write_results(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = ["| scenario | A | B | conc. | ratio median (min-max) | A rps | B rps | A p50/p99 ms | errors |",
            "|---|---|---|---|---|---|---|---|---|"]
    for item in results["comparisons"]:
        rows.append(f"| {item['scenario']} | {item['a']} | {item['b']} | {item['concurrency']} | "
                    f"{item['ratio_median']} ({item['ratio_min']}-{item['ratio_max']}) | {item['a_rps_median']} | "
                    f"{item['b_rps_median']} | {item['a_p50_ms']}/{item['a_p99_ms']} | "
                    f"{item['a_errors']}/{item['b_errors']} |")
    extra = [f"- {key}: {json.dumps(value)}" for key, value in results.get("facts", {}).items()]
    (RESULTS / "latest.md").write_text(
        f"# Benchmark results ({results['started']}, {results['machine']})\n\n" + "\n".join(rows) + "\n\n"
        + "\n".join(extra) + "\n")
    sweep = next((c.get("sweep") for c in results["comparisons"] if c["scenario"] == "S1"), None)
    if sweep:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(7, 4))
        axis.plot([p["concurrency"] for p in sweep], [p["a_rps"] for p in sweep], "o-", label="POST /api/v1/orders/")
        axis.plot([p["concurrency"] for p in sweep], [p["b_rps"] for p in sweep], "s--", label="one INSERT (reference)")
        axis.set_xscale("log", base=2)
        axis.set_xlabel("concurrent connections")
        axis.set_ylabel("requests per second")
        axis.set_title("S1: order placement throughput against concurrency")
        axis.legend()
        axis.grid(True, alpha=0.3)
        figure.tight_layout()
        figure.savefig(RESULTS / "s1_concurrency.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, to check the harness")
    parser.add_argument("--only", default="S1,S2,S3,S4,S5")
    opts = parser.parse_args()
    opts.pairs, opts.seconds, opts.warmup, opts.concurrency = (5, 5, 3, 8) if not opts.quick else (5, 1, 1, 8)
    opts.sweep = (1, 2, 4, 8, 16) if not opts.quick else (1, 8)
    only = set(opts.only.split(","))
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    facts = prepare(products=200)
    results = {"started": started, "machine": f"{os.cpu_count()} cores", "quick": opts.quick,
               "comparisons": [], "facts": {}}
    from bench import scenarios_async

    with Gunicorn(bench_env()) as server:
        if "S1" in only:
            s1 = s1_orders(server, facts, opts)
            results["comparisons"].append(s1)
            results["facts"]["S1 queries per order by lines"] = s1["queries_per_order"]
        if "S2" in only:
            results["comparisons"].extend(s2_cached(server, facts, opts))
    if "S3" in only:
        with Gunicorn(bench_env(CATALOG_CACHE_ENABLED="false")) as server:
            results["comparisons"].extend(s3_uncached(server, facts, opts))
    if "S4" in only:
        results["comparisons"].append(scenarios_async.s4_fanout(bench_env(), opts))
    if "S5" in only:
        results["facts"]["S5 memory"] = scenarios_async.s5_memory(bench_env(), facts, opts, Gunicorn)
    write_results(results)
    print((RESULTS / "latest.md").read_text())


if __name__ == "__main__":
    main()
