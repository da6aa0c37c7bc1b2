"""Background work of the customers app: thin wrappers that load by id and call a service."""

from __future__ import annotations

from clientela.contacts import importing
from clientela.contacts.models import Import
from clientela.core.tasks import workspace_task
from clientela.workspaces.models import Workspace


@workspace_task()
def run_import(workspace: Workspace, import_id: int) -> dict[str, int]:
    """Run (or resume) an import; a finished one is left as it is. Returns its counts."""
    import_ = importing.import_run(import_=Import.objects.get(workspace=workspace, pk=import_id))
    return {
        "total": import_.total_rows,
        "created": import_.created_count,
        "updated": import_.updated_count,
        "skipped": import_.skipped_count,
        "failed": import_.failed_count,
    }
