"""Housekeeping jobs of the core, enqueued by the scheduler."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.tasks import task
from django.utils import timezone

from clientela.core.scheduler import periodic


@periodic(every=timedelta(hours=1))
@task()
def prune_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@periodic(every=timedelta(hours=6))
@task()
def prune_finished_task_results() -> int:
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=7)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
