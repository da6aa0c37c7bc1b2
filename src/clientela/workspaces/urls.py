from django.urls import path

from clientela.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("switch/<slug:slug>/", views.switch_workspace, name="switch"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("settings/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/audit/", views.audit, name="audit"),
]
