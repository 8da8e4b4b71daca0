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
import contextlib
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

from bench.otlp_sink import OtlpSink

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = "postgres://commerce:commerce@127.0.0.1:54320"
# BENCH_ID names the run's databases, vhost and results folder, so that two runs on one machine
# (two people measuring their branches) do not drop each other's databases mid-run.
BENCH_ID = os.environ.get("BENCH_ID", "bench")
RESULTS = ROOT / "bench" / "results" / ("" if BENCH_ID == "bench" else BENCH_ID)
DATABASE = f"commerce_{BENCH_ID}"
BENCH_DATABASES = (DATABASE, f"{DATABASE}_catalog", f"{DATABASE}_reporting")
# Cache entries of an earlier run (same SKUs, other data) must not be served: a prefix per run.
CACHE_PREFIX = f"{BENCH_ID}-{secrets.token_hex(4)}"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms: float | None = None  # CPU time of the gunicorn workers per request (user + system)


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
            "a_cpu_ms": _median_or_none(r.cpu_ms for r in a_runs),
            "b_cpu_ms": _median_or_none(r.cpu_ms for r in b_runs),
            # B's web CPU per request over A's, per pair: what the ratio would be if the web
            # workers' CPU were all that limits them (less moved by other load on the machine).
            "cpu_ratio_median": _median_or_none(b.cpu_ms / a.cpu_ms for a, b in self.pairs if a.cpu_ms and b.cpu_ms),
            "a_errors": sum(r.errors for r in a_runs), "b_errors": sum(r.errors for r in b_runs),
            "runs": [[asdict(a), asdict(b)] for a, b in self.pairs],
        }


def _median_or_none(values) -> float | None:
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 3) if values else None


# ---------------------------------------------------------------- the stack

def sh(*args, env=None, check=True, capture=False, timeout=600):
    done = subprocess.run(args, cwd=ROOT, env=env, check=False, text=True, timeout=timeout, capture_output=capture)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {done.returncode}:\n{(done.stderr or '')[-3000:]}")
    return done


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
        "DATABASE_URL": f"{PG}/{BENCH_DATABASES[0]}",
        "CATALOG_DATABASE_URL": f"{PG}/{BENCH_DATABASES[1]}",
        "REPORTING_DATABASE_URL": f"{PG}/{BENCH_DATABASES[2]}",
        "REDIS_URL": f"redis://127.0.0.1:63790/{os.environ.get('BENCH_REDIS_DB', '9')}",
        "CACHE_KEY_PREFIX": CACHE_PREFIX,
        "CELERY_BROKER_URL": f"amqp://commerce:commerce@127.0.0.1:56720/{DATABASE}",
        "BENCH_RESULTS": str(RESULTS),
        "THROTTLE_ANON": "1000000/second",
        "THROTTLE_USER": "1000000/second",
        "BACKPRESSURE_OUTBOX_LIMIT": "100000000",
        "BACKPRESSURE_QUEUE_LIMIT": "100000000",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
        # Workers are not recycled mid-run: the CPU per request is read from the workers' counters.
        "GUNICORN_MAX_REQUESTS": "0",
        **extra,
    }


def prepare(products: int) -> dict:
    """Fresh bench databases, migrated and seeded; returns the facts the scenarios need."""
    sh("bash", "scripts/services.sh", "start")
    sh("bash", "scripts/services.sh", "vhost", DATABASE)
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

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds so far of each worker (utime and stime of /proc/<pid>/stat)."""
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return out


# ---------------------------------------------------------------- load

_CARTS_USED = re.compile(r"^carts used until (\d+) of (\d+)$", re.M)
_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, *, seconds: float, concurrency: int, script: str | None = None, env: dict | None = None,
        server: Gunicorn | None = None) -> Run:
    given = env
    threads = min(2, concurrency)
    if env and "BENCH_RUN" in env:
        # Keys restart at 1 in every wrk run: a run id of its own keeps them fresh (a key seen
        # before is an idempotent replay, far cheaper than an order, and would inflate A).
        env = {**env, "BENCH_RUN": secrets.token_hex(6), "BENCH_THREADS": str(threads)}
    args = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        args += ["-s", str(ROOT / "bench" / script)]
    cpu_before = server.cpu_seconds() if server else {}
    out = sh(*args, url, env=env, capture=True).stdout
    cpu_after = server.cpu_seconds() if server else {}
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {int(p): float(v) * scale[u] for p, v, u in _LATENCY.findall(out)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if carts := _CARTS_USED.search(out):
        # S6: the next run starts after the carts this one completed (cart.lua says how far it got).
        used, available = int(carts.group(1)), int(carts.group(2))
        if used > available:
            raise RuntimeError(f"S6 ran out of ready carts ({available}); set BENCH_S6_CARTS higher")
        given["BENCH_CART_OFFSET"] = str(used)
    cpu_ms = None
    if cpu_before and cpu_before.keys() == cpu_after.keys() and requests:
        cpu_ms = round(sum(cpu_after[pid] - cpu_before[pid] for pid in cpu_after) * 1000 / requests, 3)
    return Run(rps=rps, p50_ms=latency.get(50, 0.0), p99_ms=latency.get(99, 0.0), requests=requests, errors=errors,
               cpu_ms=cpu_ms)


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
    orders = ("POST /api/v1/orders/", {"url": server.url("/"), "script": "order.lua", "env": load_env,
                                       "server": server})
    insert = ("POST /bench/insert (one INSERT)", {"url": server.url("/"), "script": "order.lua", "server": server,
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


def s6_cart_completion(server: Gunicorn, facts: dict, opts) -> dict:
    """Completing a different ready guest cart per request (taxed, shipped, with a voucher when
    the cart takes one) against the one-INSERT view."""
    count = int(os.environ.get("BENCH_S6_CARTS", "300" if opts.quick else "1500"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    carts_file = RESULTS / "s6-carts.tmp"
    ready = json.loads(sh(PY, "-m", "bench.fixtures", "--carts", str(count), str(carts_file), env=bench_env(),
                          capture=True).stdout.strip().splitlines()[-1])
    if "skipped" in ready:
        print(f"  S6 skipped: {ready['skipped']}", flush=True)
        return {"scenario": "S6", "skipped": ready["skipped"]}
    load_env = {**os.environ, "BENCH_CARTS": str(carts_file), "BENCH_CART_OFFSET": "0",
                "BENCH_RUN": secrets.token_hex(4), "BENCH_TOKEN": facts["token"],
                "BENCH_SKUS": ",".join(facts["skus"]), "BENCH_PATH": "/bench/insert"}
    complete = ("POST /api/v1/carts/{id}/complete/ (guest, tax, shipping, voucher)",
                {"url": server.url("/"), "script": "cart.lua", "env": load_env, "server": server})
    insert = ("POST /bench/insert (one INSERT)", {"url": server.url("/"), "script": "order.lua", "server": server,
                                                  "env": load_env})
    summary = compare("S6", complete, insert, pairs=opts.pairs, seconds=opts.seconds,
                      concurrency=opts.concurrency, warmup=opts.warmup).summary()
    return {**summary, "carts": ready}


def s7_telemetry(facts: dict, opts) -> list[dict]:
    """S1 on a server with telemetry on (spans exported over OTLP/HTTP to a local sink) against
    the same on one with telemetry off, one comparison per statement-span mode asked for."""
    load_env = {**os.environ, "BENCH_TOKEN": facts["token"], "BENCH_SKUS": ",".join(facts["skus"]),
                "BENCH_RUN": secrets.token_hex(4)}
    out = []
    with OtlpSink() as sink, Gunicorn(bench_env(TELEMETRY_ENABLED="false")) as off:
        for mode in opts.s7_modes:
            on_env = bench_env(OTEL_EXPORTER_OTLP_ENDPOINT=sink.url, OTEL_SQL_SPANS=mode)
            with Gunicorn(on_env) as on:
                summary = compare(
                    f"S7 {mode}",
                    (f"POST /api/v1/orders/ (telemetry on, statement spans {mode}, OTLP export)",
                     {"url": on.url("/"), "script": "order.lua", "env": load_env, "server": on}),
                    ("POST /api/v1/orders/ (telemetry off)",
                     {"url": off.url("/"), "script": "order.lua", "env": load_env, "server": off}),
                    pairs=opts.pairs, seconds=opts.seconds, concurrency=opts.concurrency, warmup=opts.warmup,
                ).summary()
            summary["otlp_exports"] = {"requests": sink.requests, "bytes": sink.bytes}
            out.append(summary)
    return out


def s2_cached(server: Gunicorn, facts: dict, opts) -> list[dict]:
    sku = facts["skus"][0]
    hello = ("GET /bench/hello", {"url": server.url("/bench/hello"), "server": server})
    out = []
    for label, path in (("detail", f"/api/v1/products/{sku}/"), ("list", "/api/v1/products/")):
        out.append(compare(f"S2 {label}", (f"GET {path} (cached)", {"url": server.url(path), "server": server}), hello,
                           pairs=opts.pairs, seconds=opts.seconds, concurrency=opts.concurrency,
                           warmup=opts.warmup).summary())
    return out


def s3_uncached(server: Gunicorn, facts: dict, opts) -> list[dict]:
    sku = facts["skus"][0]
    out = []
    for label, path, reference in (("detail", f"/api/v1/products/{sku}/", f"/bench/products/{sku}"),
                                   ("list", "/api/v1/products/", "/bench/products")):
        summary = compare(f"S3 {label}", (f"GET {path} (cache off)", {"url": server.url(path), "server": server}),
                          (f"GET {reference} (.values() + JSON)", {"url": server.url(reference), "server": server}),
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
    rows = ["| scenario | A | B | conc. | ratio median (min-max) | A rps | B rps | A p50/p99 ms "
            "| web CPU ms/req A, B | CPU ratio | errors |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for item in results["comparisons"]:
        rows.append(f"| {item['scenario']} | {item['a']} | {item['b']} | {item['concurrency']} | "
                    f"{item['ratio_median']} ({item['ratio_min']}-{item['ratio_max']}) | {item['a_rps_median']} | "
                    f"{item['b_rps_median']} | {item['a_p50_ms']}/{item['a_p99_ms']} | "
                    f"{item.get('a_cpu_ms')}, {item.get('b_cpu_ms')} | {item.get('cpu_ratio_median')} | "
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
    parser.add_argument("--only", default="S1,S2,S3,S4,S5,S6,S7")
    parser.add_argument("--s7-modes", default="sampled",
                        help="statement-span modes (OTEL_SQL_SPANS) S7 measures, comma-separated: all,sampled,off")
    opts = parser.parse_args()
    opts.s7_modes = [mode.strip() for mode in opts.s7_modes.split(",") if mode.strip()]
    opts.pairs, opts.seconds, opts.warmup, opts.concurrency = (5, 5, 3, 8) if not opts.quick else (5, 1, 1, 8)
    opts.sweep = (1, 2, 4, 8, 16) if not opts.quick else (1, 8)
    only = set(opts.only.split(","))
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    facts = prepare(products=200)
    results = {"started": started, "machine": f"{os.cpu_count()} cores", "quick": opts.quick,
               "comparisons": [], "facts": {}}
    from bench import scenarios_async

    def step(name: str, run) -> None:
        """Run one scenario; a failing one is reported and the others still run. Results are
        written after each, so a run cut short keeps what it measured."""
        if name not in only:
            return
        try:
            run()
        except Exception as exc:
            print(f"  {name} failed: {exc}", flush=True)
            results["facts"][f"{name} failed"] = str(exc)[-2000:]
        write_results(results)

    def s1(server):
        summary = s1_orders(server, facts, opts)
        results["comparisons"].append(summary)
        results["facts"]["S1 queries per order by lines"] = summary["queries_per_order"]

    def s6(server):
        summary = s6_cart_completion(server, facts, opts)
        if "skipped" in summary:
            results["facts"]["S6"] = f"skipped: {summary['skipped']}"
        else:
            results["comparisons"].append(summary)
            results["facts"]["S6 cart as priced"] = summary["carts"]

    def s3():
        with Gunicorn(bench_env(CATALOG_CACHE_ENABLED="false")) as server:
            results["comparisons"].extend(s3_uncached(server, facts, opts))

    with Gunicorn(bench_env()) as server:
        step("S1", lambda: s1(server))
        step("S2", lambda: results["comparisons"].extend(s2_cached(server, facts, opts)))
        step("S6", lambda: s6(server))
    step("S3", s3)
    step("S7", lambda: results["comparisons"].extend(s7_telemetry(facts, opts)))
    step("S4", lambda: results["comparisons"].append(scenarios_async.s4_fanout(bench_env(), opts)))
    step("S5", lambda: results["facts"].__setitem__(
        "S5 memory", scenarios_async.s5_memory(bench_env(), facts, opts, Gunicorn)))
    write_results(results)
    print((RESULTS / "latest.md").read_text())


if __name__ == "__main__":
    main()
