"""Pipelines, stages and deals: the sales process of a workspace.

Money is ``Decimal`` with an explicit currency (rounding rules live in ``core/money.py``). Every stage
change is kept in ``DealStageChange`` with its time and author, so time in stage can be computed.
``Deal.version`` is an optimistic lock: an update naming an older version is refused (no lost update).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clientela.core.tenancy import WorkspaceScopedModel


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Pipeline(WorkspaceScopedModel):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pipeline")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="pipeline_unique_name")]

    def __str__(self) -> str:
        return self.name


class Stage(WorkspaceScopedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.DecimalField(
        _("win probability"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Percent, 0-100"),
    )
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stage")
        ordering = ["pipeline", "position", "id"]
        indexes = [models.Index(fields=["workspace", "pipeline", "position"], name="stage_ws_pipeline")]

    def __str__(self) -> str:
        return self.name


class Deal(WorkspaceScopedModel):
    title = models.CharField(_("title"), max_length=200)
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=120, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    position = models.FloatField(default=0)  # order within a kanban column
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_entered_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deal")
        indexes = [
            # A board column's cards in order, and (PostgreSQL: the included columns make it covering)
            # the board's totals by an index-only scan.
            models.Index(
                fields=["workspace", "stage", "position", "id"],
                include=["pipeline", "currency", "amount", "owner"],
                name="deal_ws_stage_board",
            ),
            # The won and lost columns: the latest closed deals first.
            models.Index(
                fields=["workspace", "stage", "closed_at"],
                include=["currency", "amount", "owner"],
                name="deal_ws_stage_closed_cov",
            ),
            models.Index(fields=["workspace", "owner", "expected_close"], name="deal_ws_owner_close"),
            models.Index(fields=["workspace", "expected_close"], name="deal_ws_close"),
            models.Index(fields=["workspace", "person"], name="deal_ws_person"),
            models.Index(fields=["workspace", "company"], name="deal_ws_company"),
        ]

    def __str__(self) -> str:
        return self.title


class StageTotal(WorkspaceScopedModel):
    """How many deals a stage holds and their amount, per owner and currency.

    Kept by database triggers on ``sales_deal`` (migration 0004: every insert, delete and change of
    stage, owner, currency or amount, whatever wrote it), so the board's totals of a pipeline with
    100,000 open deals are a read of a few rows, not an aggregate over the deals. ``owner_key`` is the
    owner's user id, 0 for none; ``amount_cents`` is exact (the amount x 100). Only read with no filter
    but the owner; ``sales.services.stage_totals_rebuild`` recomputes them (after a restore, a bulk load
    with triggers off).
    """

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    owner_key = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    count = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "owner_key", "currency"], name="stagetotal_stage_owner_cur"
            )
        ]


class DealStageChange(WorkspaceScopedModel):
    """One move of a deal between stages: when, by whom, from where to where."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stage change")
        indexes = [models.Index(fields=["workspace", "deal", "changed_at"], name="dealstage_ws_deal")]


class Conversion(WorkspaceScopedModel):
    """A customer's step forward in the lifecycle because of a deal: qualified (lead -> opportunity) or
    won (-> customer). Kept with its time and source so conversion rates can be reported later.

    Exactly one of ``person`` and ``company`` is set: a deal with both converts them as two rows.
    """

    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="conversions"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="conversions"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversions"
    )
    from_stage = models.CharField(_("from lifecycle stage"), max_length=20, blank=True)
    to_stage = models.CharField(_("to lifecycle stage"), max_length=20)
    converted_at = models.DateTimeField(_("converted at"))
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_channel = models.CharField(_("source channel"), max_length=120, blank=True)
    source_campaign = models.CharField(_("source campaign"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("conversion")
        indexes = [
            models.Index(fields=["workspace", "to_stage", "converted_at"], name="conversion_ws_stage"),
            models.Index(fields=["workspace", "person"], name="conversion_ws_person"),
            models.Index(fields=["workspace", "company"], name="conversion_ws_company"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="conversion_one_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} -> {self.to_stage}"
