"""Background work: tasks take ids, activate the workspace they belong to, then call a service.

``workspace_task`` wraps Django's ``@task`` so that the first argument is always the workspace id and
the body runs inside ``workspace_scope``: the task entrypoint's single activation point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.tasks import task


def workspace_task(func: Callable[..., Any] | None = None, **task_options: Any) -> Any:
    def decorate(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def run_in_workspace(workspace_id: int, *args: Any, **kwargs: Any) -> Any:
            from clientela.core.tenancy import workspace_scope
            from clientela.workspaces.models import Workspace

            workspace = Workspace.objects.get(pk=workspace_id)
            with workspace_scope(workspace):
                return fn(workspace, *args, **kwargs)

        return task(**task_options)(run_in_workspace)

    return decorate(func) if func is not None else decorate


def enqueue_on_commit(task_obj: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue after the surrounding transaction commits, so the worker sees what the caller wrote."""
    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))
