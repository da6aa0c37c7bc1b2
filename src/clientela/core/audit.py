"""The audit trail: services call ``audit_record`` for every change worth answering "who did this?"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from clientela.core.models import AuditEvent

if TYPE_CHECKING:
    from clientela.workspaces.models import User, Workspace


def audit_record(
    *,
    workspace: Workspace,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    summary: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. ``action`` is a dotted verb such as ``member.role_changed``."""
    event = AuditEvent(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        summary=summary[:255],
        data=data or {},
    )
    event.workspace = workspace
    event.save()
    return event


def audit_list(*, workspace: Workspace, limit: int = 100) -> models.QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(workspace=workspace)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
