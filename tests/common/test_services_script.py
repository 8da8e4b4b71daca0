"""scripts/services.sh in a checkout whose services another checkout started (the ports are shared)."""

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from kombu import Connection

ROOT = Path(__file__).resolve().parents[2]
VHOST = "services-script-test"  # one name: a second run finds it and adds nothing


def test_vhost_works_against_the_broker_another_checkout_started(tmp_path):
    # Given a second checkout: its var/services holds no RabbitMQ node (nor Erlang cookie), the
    # running broker is another checkout's
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "services.sh", tmp_path / "scripts" / "services.sh")
    broker = urlsplit(settings.CELERY_BROKER_URL)
    env = {k: v for k, v in os.environ.items() if k != "SERVICES_DIR"}
    env["AMQP_PORT"] = str(broker.port)
    # When it asks for a vhost of its own
    result = subprocess.run(["bash", "scripts/services.sh", "vhost", VHOST], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    # Then the running broker has it, open to the commerce user
    assert result.returncode == 0, result.stdout + result.stderr
    url = broker._replace(path=f"/{VHOST}").geturl()
    with Connection(url, connect_timeout=5) as connection:
        connection.connect()
        assert connection.connected
