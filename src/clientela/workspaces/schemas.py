from __future__ import annotations

from datetime import datetime

from ninja import Schema

from clientela.workspaces.roles import Role


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    language: str


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    default_currency: str


class MeOut(Schema):
    user: UserOut
    workspace: WorkspaceOut
    role: Role


class MemberOut(Schema):
    id: int
    user: UserOut
    role: Role
    created_at: datetime


class MemberPatch(Schema):
    role: Role


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str
