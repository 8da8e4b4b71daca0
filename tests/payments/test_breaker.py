"""The circuit breaker with its state in the real Redis. Time is moved by settings (the reset
and probe timeouts are read at each call), never by sleeping."""

import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from apps.common.observability import degraded
from apps.payments import api
from apps.payments.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from apps.payments.models import Payment
from tests.payments.conftest import authorize

ROOT = Path(__file__).resolve().parents[2]


def _open(breaker: CircuitBreaker, settings) -> None:
    for _ in range(settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD):
        breaker.record_failure()
    assert breaker.state() == OPEN


@pytest.mark.django_db
def test_consecutive_failures_open_it_and_then_calls_are_refused_without_reaching_the_provider(processor):
    processor.broken = True
    for _ in range(3):
        with pytest.raises(api.PaymentProviderUnavailable):
            authorize()
    assert len(processor.requests) == 3
    assert CircuitBreaker("http").state() == OPEN

    with pytest.raises(api.PaymentProviderUnavailable) as refused:
        authorize(order_id=(order_id := uuid.uuid4()))
    assert len(processor.requests) == 3  # refused at once
    assert refused.value.extra["breaker"] == OPEN
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30
    assert api.payment_for_order(order_id=order_id) is None  # nothing recorded for a call never made


def test_a_success_resets_the_count_of_consecutive_failures(settings):
    breaker = CircuitBreaker("sandbox")
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state() == CLOSED
    breaker.record_failure()
    assert breaker.state() == OPEN


def test_after_the_reset_timeout_one_probe_goes_through_and_its_success_closes_it(settings):
    breaker = CircuitBreaker("sandbox")
    _open(breaker, settings)
    with pytest.raises(api.PaymentProviderUnavailable):
        breaker.before_call()
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0
    breaker.before_call()  # the probe
    assert breaker.state() == HALF_OPEN
    with pytest.raises(api.PaymentProviderUnavailable) as refused:
        breaker.before_call()  # only one probe at a time
    assert refused.value.extra["breaker"] == HALF_OPEN
    breaker.record_success()
    assert breaker.state() == CLOSED
    breaker.before_call()
    breaker.before_call()


def test_a_failed_probe_opens_it_again(settings):
    breaker = CircuitBreaker("sandbox")
    _open(breaker, settings)
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state() == OPEN
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 30
    with pytest.raises(api.PaymentProviderUnavailable):
        breaker.before_call()


def test_a_probe_that_never_reports_back_is_replaced(settings):
    breaker = CircuitBreaker("sandbox")
    _open(breaker, settings)
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0
    breaker.before_call()  # this probe's process "dies": it never reports
    settings.PAYMENTS_BREAKER_PROBE_SECONDS = 0
    breaker.before_call()  # a new probe is let through
    breaker.record_success()
    assert breaker.state() == CLOSED


def test_concurrent_callers_of_a_half_open_breaker_get_exactly_one_probe(settings):
    breaker = CircuitBreaker("sandbox")
    _open(breaker, settings)
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0
    start = threading.Barrier(8)
    allowed, refused = [], []

    def call():
        start.wait()
        try:
            CircuitBreaker("sandbox").before_call()
        except api.PaymentProviderUnavailable:
            refused.append(1)
        else:
            allowed.append(1)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(allowed), len(refused)) == (1, 7)


def test_each_provider_has_its_own_breaker(settings):
    _open(CircuitBreaker("http"), settings)
    CircuitBreaker("sandbox").before_call()
    assert CircuitBreaker("sandbox").state() == CLOSED


@pytest.mark.django_db
def test_the_provider_recovers_through_the_probe(processor, settings):
    processor.broken = True
    for _ in range(3):
        with pytest.raises(api.PaymentProviderUnavailable):
            authorize()
    processor.broken = False
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 0
    assert authorize().status == "authorized"  # the probe
    assert CircuitBreaker("http").state() == CLOSED
    assert authorize().status == "authorized"
    assert len(processor.requests) == 5


@pytest.mark.django_db
def test_without_redis_the_breaker_lets_calls_through_and_logs_once_and_counts_each_failure(settings, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.PAYMENTS_BREAKER_REDIS_URL = f"redis://127.0.0.1:{port}/0"
    degraded.reset()
    labels = {"dependency": "redis", "component": "payments_breaker"}
    before = REGISTRY.get_sample_value("dependency_failures_total", labels) or 0.0
    with caplog.at_level(logging.WARNING):
        infos = [authorize() for _ in range(5)]
    assert [info.status for info in infos] == ["authorized"] * 5
    assert list(Payment.objects.values_list("status", flat=True)) == ["authorized"] * 5
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING
                and not record.name.startswith("opentelemetry")]  # a span processor an earlier test shut down
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("redis unavailable to payments_breaker")
    # Each authorization asks the breaker twice: before the call and with its outcome.
    assert REGISTRY.get_sample_value("dependency_failures_total", labels) - before == 10


def test_the_state_is_shared_with_other_processes(settings):
    _open(CircuitBreaker("sandbox"), settings)
    script = ("import django; django.setup()\n"
              "from apps.payments.api import PaymentProviderUnavailable\n"
              "from apps.payments.breaker import CircuitBreaker\n"
              "try:\n    CircuitBreaker('sandbox').before_call()\nexcept PaymentProviderUnavailable:\n"
              "    print('refused')\nelse:\n    print('allowed')\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": settings.REDIS_URL}
    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60, check=True)
    assert other.stdout.strip().splitlines()[-1] == "refused"
