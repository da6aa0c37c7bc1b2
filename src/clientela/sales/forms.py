"""Forms for deals and pipelines. They only collect input: the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clientela.contacts.models import Company, Person
from clientela.sales.models import Deal, Pipeline, Stage, StageKind
from clientela.web.widgets import date_input
from clientela.workspaces.models import Workspace
from clientela.workspaces.selectors import member_list

BLANK: list[tuple[str, Any]] = [("", "—")]


class DealForm(forms.Form):
    """Create or edit a deal. The stage is chosen on creation only (afterwards a deal is moved)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    stage = forms.ChoiceField(label=_("Pipeline and stage"), required=False)
    person = forms.CharField(label=_("Person"), required=False, widget=forms.Select)
    company = forms.CharField(label=_("Company"), required=False, widget=forms.Select)
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, decimal_places=2, max_digits=14
    )
    currency = forms.CharField(label=_("Currency"), max_length=3)
    expected_close = forms.DateField(label=_("Expected close"), required=False, widget=date_input())
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    source = forms.CharField(label=_("Source"), required=False, max_length=120)
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, max_length=200)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        workspace: Workspace,
        pipelines: list[Pipeline],
        stages: list[Stage],
        instance: Deal | None = None,
        can_assign: bool = True,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": instance.title,
                "person": instance.person_id or "",
                "company": instance.company_id or "",
                "amount": instance.amount,
                "currency": instance.currency,
                "expected_close": instance.expected_close,
                "owner": str(instance.owner_id or ""),
                "source": instance.source,
                "lost_reason": instance.lost_reason,
                "notes": instance.notes,
                "version": instance.version,
            }
        kwargs.setdefault("initial", {}).setdefault("currency", workspace.default_currency)
        super().__init__(*args, **kwargs)
        by_pipeline: dict[int, list[tuple[str, str]]] = {}
        for stage in stages:
            by_pipeline.setdefault(stage.pipeline_id, []).append((str(stage.pk), stage.name))
        stage_field = self.fields["stage"]
        assert isinstance(stage_field, forms.ChoiceField)
        stage_field.choices = [(p.name, by_pipeline.get(p.pk, [])) for p in pipelines]
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ChoiceField)
        owner_field.choices = BLANK + [
            (str(m.user_id), str(m.user)) for m in member_list(workspace=workspace)
        ]
        if instance is not None:
            del self.fields["stage"]
        else:
            del self.fields["version"]
        if not can_assign:
            del self.fields["owner"]  # a member who sees only their own deals owns what they create
        for name, model in (("person", Person), ("company", Company)):
            self.fields[name].widget.choices = BLANK + self._chosen(workspace, model, name)

    def _chosen(self, workspace: Workspace, model: type[Person] | type[Company], name: str) -> list[Any]:
        """The one option a customer select starts with: the record already chosen (others are searched)."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        record = value if isinstance(value, model) else None
        if record is None and str(value or "").isdigit():
            record = model.objects.filter(workspace=workspace, pk=int(str(value))).first()
        return [(str(record.pk), str(record))] if record is not None else []

    def attributes(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data.get(name)
            for name in ("title", "person", "company", "amount", "currency", "expected_close", "source")
        }
        data.update(
            lost_reason=self.cleaned_data.get("lost_reason", ""), notes=self.cleaned_data.get("notes", "")
        )
        if "owner" in self.fields:
            data["owner"] = self.cleaned_data.get("owner") or None
        if "stage" in self.fields:
            data["stage"] = self.cleaned_data.get("stage")
        return data

    def add_service_errors(self, fields: dict[str, list[str]], message: str) -> None:
        for name, errors in fields.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, error)
        if not fields:
            self.add_error(None, message)


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    probability = forms.DecimalField(
        label=_("Win probability (%)"), min_value=0, max_value=100, decimal_places=2, initial=50
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=StageKind.choices, initial=StageKind.OPEN)
