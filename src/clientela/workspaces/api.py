from __future__ import annotations

from ninja import Router, Status
from ninja.pagination import CursorPagination, paginate

from clientela.workspaces import selectors, services
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module
from clientela.workspaces.schemas import MemberOut, MemberPatch, MeOut, TokenCreated, TokenIn, TokenOut

router = Router(tags=["workspaces"])


@router.get("/me", response=MeOut, operation_id="workspaces_me")
def me(request: WorkspaceRequest) -> dict:
    return {
        "user": request.user,
        "workspace": request.workspace,
        "role": request.membership.role,
    }


@router.get("/members", response=list[MemberOut], operation_id="workspaces_member_list")
@paginate(CursorPagination, ordering=("id",))
def member_list(request: WorkspaceRequest) -> object:
    require(request.membership, Module.SETTINGS, Action.VIEW)
    return selectors.member_list(workspace=request.workspace)


@router.get("/members/{member_id}", response=MemberOut, operation_id="workspaces_member_get")
def member_get(request: WorkspaceRequest, member_id: int) -> object:
    require(request.membership, Module.SETTINGS, Action.VIEW)
    return selectors.member_get(workspace=request.workspace, member_id=member_id)


@router.patch("/members/{member_id}", response=MemberOut, operation_id="workspaces_member_update")
def member_update(request: WorkspaceRequest, member_id: int, payload: MemberPatch) -> object:
    require(request.membership, Module.SETTINGS, Action.EDIT)
    member = selectors.member_get(workspace=request.workspace, member_id=member_id)
    return services.member_change_role(
        actor=request.membership,
        member=member,
        role=payload.role,
    )


@router.get("/tokens", response=list[TokenOut], operation_id="workspaces_token_list")
@paginate(CursorPagination, ordering=("-id",))
def token_list(request: WorkspaceRequest) -> object:
    return selectors.api_token_list(workspace=request.workspace, user=request.user)


@router.post("/tokens", response={201: TokenCreated}, operation_id="workspaces_token_create")
def token_create(request: WorkspaceRequest, payload: TokenIn) -> Status:
    token, raw = services.api_token_create(
        workspace=request.workspace,
        user=request.user,
        name=payload.name,
    )
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "token": raw})


@router.delete("/tokens/{token_id}", response=TokenOut, operation_id="workspaces_token_revoke")
def token_revoke(request: WorkspaceRequest, token_id: int) -> object:
    token = selectors.api_token_get(
        workspace=request.workspace,
        user=request.user,
        token_id=token_id,
    )
    return services.api_token_revoke(token=token, actor=request.user)
