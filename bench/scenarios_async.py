"""S4 (notification fan-out against raw kombu) and S5 (memory growth) of the benchmark suite."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def _growth(at_10k: int, at_50k: int) -> float:
    return round((at_50k - at_10k) * 100.0 / at_10k, 2)


def s5_memory(env: dict, facts: dict, opts, gunicorn_cls) -> dict:
    """Peak RSS of a gunicorn worker and of a Celery worker after 10k and after 50k requests or
    tasks; growth between the two in percent (a leak shows as growth that keeps going)."""
    from bench.run import wrk

    marks = (2_000, 6_000) if opts.quick else (10_000, 50_000)
    web = {}
    single_worker = {**env, "WEB_CONCURRENCY": "1", "GUNICORN_MAX_REQUESTS": "0"}
    with gunicorn_cls(single_worker) as server:
        (worker,) = server.worker_pids()
        paths = [f"/api/v1/products/{facts['skus'][i % len(facts['skus'])]}/" for i in range(4)] + ["/api/v1/products/"]
        done = 0
        for mark in marks:
            while done < mark:
                run = wrk(server.url(paths[done % len(paths)]), seconds=2, concurrency=4)
                done += run.requests
            web[f"rss_kib_after_{mark}"] = peak_rss_kib(worker)
            web[f"requests_at_{mark}"] = done
    web["growth_percent"] = _growth(web[f"rss_kib_after_{marks[0]}"], web[f"rss_kib_after_{marks[1]}"])
    return {"gunicorn_worker": web, "celery_worker": _celery_memory(env, marks)}


def _celery_memory(env: dict, marks: tuple[int, int]) -> dict:
    from kombu import Connection

    queue = f"bench-memory-{uuid.uuid4().hex[:6]}"
    log = Path(env.get("BENCH_RESULTS", ROOT / "bench" / "results")) / "memory-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--pool=prefork", f"--queues={queue}",
         "--event-consumers=none", "--without-gossip", "--without-mingle", "--loglevel=INFO",
         f"--hostname=bench-{queue}@%h"],
        cwd=ROOT, env={**env, "LOG_FORMAT": "plain"}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    result = {}
    try:
        from config.celery_app import app

        child = _pool_child(worker, log)
        sent = 0
        with Connection(env["CELERY_BROKER_URL"]) as connection:
            producer = app.amqp.Producer(connection)
            for mark in marks:
                while sent < mark:
                    app.send_task("common.heartbeat", args=[f"bench-{sent}"], queue=queue, producer=producer)
                    sent += 1
                _drain(connection, queue)
                result[f"rss_kib_after_{mark}"] = peak_rss_kib(child)
            connection.default_channel.queue_delete(queue)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    result["growth_percent"] = _growth(result[f"rss_kib_after_{marks[0]}"], result[f"rss_kib_after_{marks[1]}"])
    return result


def _pool_child(worker: subprocess.Popen, log: Path, timeout: float = 60) -> int:
    """The pid of the worker's single pool process, once the worker is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
        if children and " ready." in log.read_text(errors="replace"):
            return int(children[0])
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the Celery worker did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _drain(connection, queue: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, ready, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
        if ready == 0:
            time.sleep(1)  # the last message may still be running
            return
        time.sleep(0.5)
    raise RuntimeError(f"{queue} did not drain")


def s4_fanout(env: dict, opts) -> dict:
    """Events per second from the outbox to a delivered webhook, against raw kombu publish and
    consume of the same payload with the same persistence and confirms."""
    out = subprocess.run([PY, "-m", "bench.fanout", *(["--quick"] if opts.quick else [])], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])
