from __future__ import annotations

from clientela.core.tasks import workspace_task
from clientela.workspaces.models import Invitation, Workspace
from clientela.workspaces.services import invitation_send


@workspace_task()
def send_invitation(workspace: Workspace, invitation_id: int, site_url: str, language: str | None) -> None:
    invitation = Invitation.objects.select_related("workspace", "invited_by").get(pk=invitation_id)
    invitation_send(invitation=invitation, site_url=site_url, language=language)
