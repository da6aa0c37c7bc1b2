"""Background work for billing: thin tasks that take ids, activate the workspace and call a service."""

from __future__ import annotations

from clientela.core.tasks import workspace_task
from clientela.workspaces.models import Workspace


@workspace_task()
def send_document_email(
    workspace: Workspace, document_id: int, to: str, language: str | None, message: str = ""
) -> None:
    from clientela.billing.emails import document_email_send
    from clientela.billing.models import Document

    document = Document.objects.select_related("person", "company", "owner").get(
        workspace=workspace, pk=document_id
    )
    document_email_send(document=document, to=to, language=language, message=message)
