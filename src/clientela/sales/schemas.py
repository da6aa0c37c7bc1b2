"""API schemas for pipelines, stages, deals and the forecast. Money is a decimal string with a currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class StageIn(Schema):
    name: str
    probability: Decimal = Field(Decimal(0), description="Win probability in percent, 0-100")
    kind: str = Field("open", description="open, won or lost")


class StageNew(StageIn):
    position: int | None = Field(None, description="0 = first; by default after the last open stage")


class StagePatch(Schema):
    name: str | None = None
    probability: Decimal | None = None
    kind: str | None = None


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: Decimal
    kind: str
    retired_at: dt.datetime | None


class StageReorderIn(Schema):
    stages: list[int] = Field(description="Every active stage id of the pipeline, in the new order")


class StageRetireIn(Schema):
    move_to: int | None = Field(None, description="Stage (same pipeline and kind) for the deals still in it")


class PipelineIn(Schema):
    name: str
    is_default: bool = False
    stages: list[StageIn] | None = Field(None, description="The usual stages when left out")


class PipelinePatch(Schema):
    name: str | None = None
    is_default: bool | None = None


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    stages: list[StageOut]


class Ref(Schema):
    id: int
    name: str


class OwnerRef(Schema):
    id: int
    email: str
    full_name: str


class DealIn(Schema):
    title: str
    pipeline: int | None = Field(None, description="The default pipeline when left out")
    stage: int | None = Field(None, description="The pipeline's first open stage when left out")
    person: int | None = None
    company: int | None = None
    amount: Decimal = Decimal(0)
    currency: str | None = Field(None, description="ISO 4217; the workspace's currency when left out")
    expected_close: dt.date | None = None
    owner: int | None = Field(None, description="You when left out")
    source: str = ""
    lost_reason: str = ""
    notes: str = ""


class DealPatch(Schema):
    """Only the fields sent change. ``version`` is the one you read: if the deal changed since, 409."""

    version: int
    title: str | None = None
    person: int | None = None
    company: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    owner: int | None = None
    source: str | None = None
    lost_reason: str | None = None
    notes: str | None = None


class DealMoveIn(Schema):
    stage: int
    version: int = Field(description="The deal's version you read; a stale one is a 409")
    position: int | None = Field(
        None,
        description="Index in the stage's column as you see it (GET /deals?stage=..&sort=board); 0 = top",
    )
    lost_reason: str | None = Field(None, description="Required to move to a lost stage unless already set")


class QualifyIn(Schema):
    person: int | None = Field(None, description="The lead: a person or a company")
    company: int | None = None
    title: str | None = Field(None, description="The lead's name when left out")
    pipeline: int | None = None
    stage: int | None = None
    amount: Decimal = Decimal(0)
    currency: str | None = None
    expected_close: dt.date | None = None
    notes: str = ""


class StageRef(Schema):
    id: int
    name: str
    kind: str
    probability: Decimal


class DealOut(Schema):
    id: int
    title: str
    pipeline: Ref
    stage: StageRef
    person: int | None
    company: int | None
    amount: Decimal
    currency: str
    expected_close: dt.date | None
    owner: OwnerRef | None
    source: str
    lost_reason: str
    notes: str
    position: float
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_person(obj: Any) -> int | None:
        return obj.person_id

    @staticmethod
    def resolve_company(obj: Any) -> int | None:
        return obj.company_id


class DealPage(Schema):
    results: list[DealOut]
    next: str | None


class StageSpanOut(Schema):
    stage: StageRef
    entered_at: dt.datetime
    left_at: dt.datetime | None
    seconds: int = Field(description="Time in the stage (until now for the current one)")
    changed_by: OwnerRef | None


class ForecastCellOut(Schema):
    count: int
    amount: Decimal
    weighted: Decimal


class ForecastMonthOut(ForecastCellOut):
    month: str = Field(description="YYYY-MM")


class ForecastRowOut(Schema):
    key: str = Field(description="Owner or pipeline id ('' for deals without owner); 'total' for totals")
    label: str
    currency: str
    months: list[ForecastMonthOut]
    total: ForecastCellOut


class ForecastOut(Schema):
    months: list[str]
    currencies: list[str]
    totals: list[ForecastRowOut]
    by_owner: list[ForecastRowOut]
    by_pipeline: list[ForecastRowOut]
    overdue: dict[str, ForecastCellOut]
    undated: dict[str, ForecastCellOut]
