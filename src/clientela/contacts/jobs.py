"""Periodic jobs of the customers app (found by the scheduler's autodiscovery of ``jobs`` modules)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from clientela.contacts import importing
from clientela.core.scheduler import periodic


@periodic(every=timedelta(hours=6))
@task()
def purge_expired_imports() -> dict[str, int]:
    """Import files, and the problems quoted from their rows, past ``IMPORT_RETENTION_DAYS``."""
    return importing.imports_purge()
