"""Background work end to end: enqueue, run a real worker process, see the task finish in its workspace."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django_tasks_rq import RQBackend

from clientela.core.jobs import worker_heartbeat
from clientela.core.models import AuditEvent


def database_url() -> str:
    """The URL of the test database, for worker processes started by a test."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def run_worker(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clientela.cli", "worker", "--burst"],
        env={**os.environ, "DATABASE_URL": database_url(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_database_backend_runs_the_task_in_a_real_worker(owner_a, owner_b, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = worker_heartbeat.enqueue(owner_b.workspace_id, "db backend")
    assert not AuditEvent.all_workspaces.filter(action="system.worker_heartbeat").exists()

    worker = run_worker(CLIENTELA_TASKS="db")
    assert worker.returncode == 0, worker.stderr

    event = AuditEvent.all_workspaces.get(action="system.worker_heartbeat")
    assert event.workspace_id == owner_b.workspace_id  # the task ran inside the id's workspace
    assert "db backend" in event.summary
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == event.pk


@pytest.mark.django_db(transaction=True)
def test_rq_backend_runs_the_task_in_a_real_worker_on_redis(owner_a, redis_url, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    assert isinstance(worker_heartbeat.get_backend(), RQBackend)
    result = worker_heartbeat.enqueue(owner_a.workspace_id, "rq backend")
    assert not AuditEvent.all_workspaces.filter(action="system.worker_heartbeat").exists()

    worker = run_worker(CLIENTELA_TASKS="rq", REDIS_URL=redis_url)
    assert worker.returncode == 0, worker.stderr

    event = AuditEvent.all_workspaces.get(action="system.worker_heartbeat")
    assert event.workspace_id == owner_a.workspace_id
    assert "rq backend" in event.summary
    assert worker_heartbeat.get_result(result.id).status == "SUCCESSFUL"
