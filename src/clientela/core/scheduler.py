"""The scheduler process: enqueues periodic due-work (reminders, SLA timers, mailbox polls, pruning).

Jobs register with ``@periodic``. Each tick claims due jobs with a conditional UPDATE on
``ScheduledJob.next_run_at``, so several schedulers (or a restarted one) never enqueue a run twice;
the work itself runs in the task workers.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from clientela.core.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Any  # a django.tasks Task taking no arguments


REGISTRY: dict[str, PeriodicJob] = {}


def periodic(*, every: timedelta) -> Callable[[Any], Any]:
    """Register a no-argument task to be enqueued every ``every``."""

    def register(task_obj: Any) -> Any:
        name = f"{task_obj.module_path}"
        REGISTRY[name] = PeriodicJob(name=name, every=every, task=task_obj)
        return task_obj

    return register


def autodiscover() -> None:
    """Import every app's ``jobs`` module, where periodic jobs register themselves."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("jobs")


def tick(now: Any = None) -> list[str]:
    """Enqueue every job that is due; returns the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in REGISTRY.values():
        state, _created = ScheduledJob.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        claimed = ScheduledJob.objects.filter(pk=state.pk, next_run_at__lte=now).update(
            next_run_at=now + job.every, last_run_at=now
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued


def run_forever(*, interval: float = 5.0, stop: threading.Event | None = None) -> None:
    """Tick until ``stop`` is set, or, when run as the main thread of its process, until SIGINT/SIGTERM."""
    if stop is None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    logger.info("scheduler started with %d periodic jobs", len(REGISTRY))
    while not stop.is_set():
        try:
            for name in tick():
                logger.info("enqueued %s", name)
        except Exception:
            logger.exception("scheduler tick failed; retrying")
        finally:
            close_old_connections()
        stop.wait(interval)
    logger.info("scheduler stopped")
