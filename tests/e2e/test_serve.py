"""`clientela serve` in local mode, as `make run` starts it: web, worker and scheduler in one command.

Real processes on a free port: the API answers with a token made by the CLI, a task enqueued through the
app is run by the worker, and an interrupt (Ctrl-C) stops every process that was started.
"""

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from clientela.core.testing.fixtures import free_port


def clientela(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "clientela.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_local_mode_serves_runs_tasks_and_stops_on_ctrl_c(tmp_path):
    env = {
        **os.environ,
        "CLIENTELA_DATA_DIR": str(tmp_path),
        "CLIENTELA_ENV": "local",
        "CLIENTELA_TASKS": "db",
        "DATABASE_URL": "",
    }
    clientela("migrate", "--verbosity", "0", env=env)
    clientela("demo", "--people", "20", env=env)
    token = clientela("token", "create", "--workspace", "demo", "--email", "admin@example.com", env=env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "clientela.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        children = psutil.Process(server.pid).children(recursive=True)
        assert len(children) >= 3, children  # granian and its worker, the task worker (with the scheduler)

        me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert me.status_code == 200 and me.json()["workspace"]["slug"] == "demo"
        assert httpx.get(f"{base}/sign-in/", timeout=10).status_code == 200

        # The scheduler enqueues its housekeeping jobs at start; the worker must run them.
        deadline = time.monotonic() + 30
        finished = 0
        while time.monotonic() < deadline and finished < 2:
            finished = _finished_tasks(tmp_path)
            time.sleep(0.5)
        assert finished >= 2
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def _finished_tasks(data_dir) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "clientela.sqlite3") as db:
        return db.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
        ).fetchone()[0]
