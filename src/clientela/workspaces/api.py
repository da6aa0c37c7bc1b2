from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import CursorPagination, paginate

from clientela.workspaces import selectors, services
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module
from clientela.workspaces.schemas import MemberOut, MemberPatch, MeOut, TokenCreated, TokenIn, TokenOut

router = Router(tags=["workspaces"])


@router.get("/me", response=MeOut, operation_id="workspaces_me")
def me(request: HttpRequest) -> dict:
    return {"user": request.user, "workspace": request.workspace,  # type: ignore[attr-defined]
            "role": request.membership.role}  # type: ignore[attr-defined]


@router.get("/members", response=list[MemberOut], operation_id="workspaces_member_list")
@paginate(CursorPagination, ordering=("id",))
def member_list(request: HttpRequest) -> object:
    require(request.membership, Module.SETTINGS, Action.VIEW)  # type: ignore[attr-defined]
    return selectors.member_list(workspace=request.workspace)  # type: ignore[attr-defined]


@router.get("/members/{member_id}", response=MemberOut, operation_id="workspaces_member_get")
def member_get(request: HttpRequest, member_id: int) -> object:
    require(request.membership, Module.SETTINGS, Action.VIEW)  # type: ignore[attr-defined]
    return selectors.member_get(workspace=request.workspace, member_id=member_id)  # type: ignore[attr-defined]


@router.patch("/members/{member_id}", response=MemberOut, operation_id="workspaces_member_update")
def member_update(request: HttpRequest, member_id: int, payload: MemberPatch) -> object:
    require(request.membership, Module.SETTINGS, Action.EDIT)  # type: ignore[attr-defined]
    member = selectors.member_get(workspace=request.workspace, member_id=member_id)  # type: ignore[attr-defined]
    return services.member_change_role(actor=request.membership, member=member,  # type: ignore[attr-defined]
                                       role=payload.role)


@router.get("/tokens", response=list[TokenOut], operation_id="workspaces_token_list")
@paginate(CursorPagination, ordering=("-id",))
def token_list(request: HttpRequest) -> object:
    return selectors.api_token_list(workspace=request.workspace, user=request.user)  # type: ignore[attr-defined,arg-type]


@router.post("/tokens", response={201: TokenCreated}, operation_id="workspaces_token_create")
def token_create(request: HttpRequest, payload: TokenIn) -> tuple[int, dict]:
    token, raw = services.api_token_create(workspace=request.workspace, user=request.user,  # type: ignore[attr-defined,arg-type]
                                           name=payload.name)
    return 201, {**TokenOut.from_orm(token).dict(), "token": raw}


@router.delete("/tokens/{token_id}", response=TokenOut, operation_id="workspaces_token_revoke")
def token_revoke(request: HttpRequest, token_id: int) -> object:
    token = selectors.api_token_get(workspace=request.workspace, user=request.user,  # type: ignore[attr-defined,arg-type]
                                    token_id=token_id)
    return services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
