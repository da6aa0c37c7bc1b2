"""Workspace scoping: every business row belongs to one workspace, and queries cannot forget it.

A workspace is *activated* in exactly one place per entrypoint (web middleware, API auth, task wrapper,
CLI). ``WorkspaceScopedModel.objects`` filters by the active workspace and fails closed: with none
active it raises instead of returning every tenant's rows. ``all_workspaces`` is the loud escape hatch
for migrations, admin and the few cross-workspace reads (a user's own memberships); grep for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.db import models

if TYPE_CHECKING:
    from clientela.workspaces.models import Workspace

_active_workspace: ContextVar[Workspace | None] = ContextVar("clientela_active_workspace", default=None)


class WorkspaceNotActive(RuntimeError):
    """A scoped query ran with no active workspace: a programming error, never a user error."""


def active_workspace() -> Workspace:
    workspace = _active_workspace.get()
    if workspace is None:
        raise WorkspaceNotActive(
            "No workspace is active. Activate one with workspace_scope() at the entrypoint, "
            "or use Model.all_workspaces deliberately."
        )
    return workspace


def active_workspace_or_none() -> Workspace | None:
    return _active_workspace.get()


@contextmanager
def workspace_scope(workspace: Workspace | None) -> Iterator[Workspace | None]:
    """Activate ``workspace`` for the block (``None`` deactivates), restoring the previous one after."""
    token = _active_workspace.set(workspace)
    try:
        yield workspace
    finally:
        _active_workspace.reset(token)


class WorkspaceScopedQuerySet(models.QuerySet):
    pass


class WorkspaceScopedManager(models.Manager):
    """The default manager of scoped models: only the active workspace's rows, or an exception."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(workspace_id=active_workspace().pk)


class WorkspaceScopedModel(models.Model):
    """Base of every business model: an indexed ``workspace`` and a fail-closed default manager."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=True, editable=False
    )

    objects: ClassVar[WorkspaceScopedManager] = WorkspaceScopedManager()
    all_workspaces: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Second wall: a row is never written into a workspace other than the active one.
        active = active_workspace_or_none()
        if self.workspace_id is None and active is not None:
            self.workspace = active
        if active is not None and self.workspace_id != active.pk:
            raise WorkspaceNotActive(
                f"Refusing to save {type(self).__name__} of workspace {self.workspace_id} "
                f"while workspace {active.pk} is active."
            )
        super().save(*args, **kwargs)

    def in_workspace(self, workspace: Workspace) -> Self:
        self.workspace = workspace
        return self
