"""Pages for duplicates (list, compare and merge, the create form's warning) and a person's privacy.

Merging takes three steps on one URL: GET shows both records side by side with a radio button per
differing value; POST shows a confirmation of what will be kept and moved; POST with ``confirm``
merges and lands on the survivor's card.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientela.contacts import dedupe, merge, privacy
from clientela.contacts.models import Company, Person
from clientela.core.errors import ApplicationError
from clientela.core.phones import display
from clientela.core.text import fold
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import workspace_view
from clientela.workspaces.roles import Action, Module

C, S, EDIT = Module.CONTACTS, Module.SETTINGS, Action.EDIT
CARD = {"person": "contacts:person_card", "company": "contacts:company_card"}
MERGE = {"person": "contacts:person_merge", "company": "contacts:company_merge"}
_LIST_SEPARATORS = re.compile(r"[\n,;]+")


# --- duplicates -----------------------------------------------------------------------------------


@workspace_view(C, EDIT)
@require_GET
def duplicates(request: WorkspaceRequest) -> HttpResponse:
    """Candidate pairs of duplicate people (or companies, ``?entity=company``) with the reasons."""
    entity: dedupe.Entity = "company" if request.GET.get("entity") == "company" else "person"
    pairs = dedupe.duplicate_pairs(workspace=request.workspace, entity=entity)
    context = {"entity": entity, "pairs": pairs, "card_url": CARD[entity], "merge_url": MERGE[entity]}
    return render(request, "contacts/dedupe/pages/duplicates.html", context)


@workspace_view(C, EDIT)
@require_GET
def duplicates_check(request: WorkspaceRequest) -> HttpResponse:
    """The create form's warning (htmx): records like the one being typed. Empty when there are none.

    Query parameters: ``entity`` (person, the default, or company), ``first_name``, ``last_name``,
    ``company`` (an id), ``name``, ``vat``, ``emails`` and ``phones`` (repeated, or separated by
    commas, semicolons or new lines), ``exclude`` (the id of a record being edited).
    """
    params = request.GET
    entity: dedupe.Entity = "company" if params.get("entity") == "company" else "person"
    company = params.get("company", "")
    exclude = params.get("exclude", "")
    attributes = {
        "first_name": params.get("first_name", ""),
        "last_name": params.get("last_name", ""),
        "company": int(company) if company.isdigit() else None,
        "name": params.get("name", ""),
    }
    candidates = dedupe.duplicates_for_input(
        workspace=request.workspace,
        entity=entity,
        attributes=attributes,
        emails=_split(params.getlist("emails") + params.getlist("email")),
        phones=_split(params.getlist("phones") + params.getlist("phone")),
        vat=params.get("vat", "") or params.get("vat_number", ""),
        exclude_id=int(exclude) if exclude.isdigit() else None,
    )
    return render(request, "contacts/dedupe/partials/warning.html", {"duplicates": candidates})


# --- merge ----------------------------------------------------------------------------------------


@workspace_view(C, EDIT)
@require_http_methods(["GET", "POST"])
def person_merge(request: WorkspaceRequest, person_id: int, other_id: int) -> HttpResponse:
    return _merge_page(request, "person", person_id, other_id)


@workspace_view(C, EDIT)
@require_http_methods(["GET", "POST"])
def company_merge(request: WorkspaceRequest, company_id: int, other_id: int) -> HttpResponse:
    return _merge_page(request, "company", company_id, other_id)


def _merge_page(
    request: WorkspaceRequest, entity: dedupe.Entity, survivor_id: int, other_id: int
) -> HttpResponse:
    model: type[Person] | type[Company] = Person if entity == "person" else Company
    ws = request.workspace
    survivor, other = (_record(model, ws.pk, pk) for pk in (survivor_id, other_id))
    if survivor.pk == other.pk:
        messages.error(request, _("A record cannot be merged with itself."))
        return redirect(f"{reverse('contacts:duplicates')}?entity={entity}")
    choices = _choices(request) if request.method == "POST" else {}
    if request.method == "POST" and "confirm" in request.POST:
        try:
            if isinstance(survivor, Person):
                merge.person_merge(
                    workspace=ws, actor=request.user, survivor=survivor, other=other, choices=choices
                )
            else:
                merge.company_merge(
                    workspace=ws, actor=request.user, survivor=survivor, other=other, choices=choices
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("%(other)s was merged into %(survivor)s.") % {"other": other, "survivor": survivor}
            )
            return redirect(CARD[entity], **{f"{entity}_id": survivor.pk})
    rows = [
        {
            "key": row.key,
            "label": row.label,
            "survivor": _text(row.survivor),
            "other": _text(row.other),
            "differs": row.differs,
            "picked": choices.get(row.key) if choices.get(row.key) in merge.SIDES else row.default,
        }
        for row in merge.merge_rows(workspace=ws, survivor=survivor, other=other)
    ]
    confirming = request.method == "POST" and "back" not in request.POST
    context = {
        "entity": entity,
        "survivor": survivor,
        "other": other,
        "rows": rows,
        "lists": _lists(survivor, other),
        "moving": merge.related_counts(other),
        "card_url": CARD[entity],
        "merge_url": MERGE[entity],
    }
    template = "merge_confirm" if confirming else "merge"
    return render(request, f"contacts/dedupe/pages/{template}.html", context)


def _record(model: type[Person] | type[Company], workspace_id: int, pk: int) -> Any:
    """A live record of the workspace (DoesNotExist, hence 404, for another workspace's or a trashed one)."""
    related = ("company", "owner") if model is Person else ("owner",)
    return model.objects.select_related(*related).get(workspace_id=workspace_id, pk=pk)


def _lists(survivor: Person | Company, other: Person | Company) -> list[dict[str, Any]]:
    """Multi-valued things, shown for information: the survivor keeps both records' values (once)."""
    result = []
    for label, mine, theirs in (
        (_("Emails"), _emails(survivor), _emails(other)),
        (_("Phones"), _phones(survivor), _phones(other)),
        (_("Tags"), _tag_names(survivor), _tag_names(other)),
    ):
        if mine or theirs:
            merged = mine + [value for value in theirs if value not in mine]
            result.append({"label": label, "survivor": mine, "other": theirs, "merged": merged})
    return result


def _emails(record: Person | Company) -> list[str]:
    return [e.email for e in record.emails.order_by("-is_primary", "id")]


def _phones(record: Person | Company) -> list[str]:
    return [display(p.e164) for p in record.phones.order_by("-is_primary", "id")]


def _tag_names(record: Person | Company) -> list[str]:
    return [t.name for t in record.tags.order_by("name")]


def _text(value: Any) -> str:
    """A picked value as the merge pages print it."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency', '')}".strip()
    return str(value)


def _choices(request: WorkspaceRequest) -> dict[str, str]:
    """The picks of the merge page's radio buttons (``pick_<field>``), as the merge service takes them."""
    return {
        name.removeprefix("pick_"): request.POST.get(name, "")
        for name in request.POST
        if name.startswith("pick_")
    }


def _split(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in _LIST_SEPARATORS.split(value) if item.strip()]


# --- privacy --------------------------------------------------------------------------------------


@workspace_view(S, EDIT)
@require_GET
def person_privacy(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Answer a data-protection request: download everything held, or erase the person."""
    person = Person.with_trash.select_related("company").get(workspace=request.workspace, pk=person_id)
    context = {
        "person": person,
        "summary": privacy.person_data_summary(workspace=request.workspace, person=person),
    }
    return render(request, "contacts/dedupe/pages/privacy.html", context)


@workspace_view(S, EDIT)
@require_GET
def person_privacy_export(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    person = Person.with_trash.get(workspace=request.workspace, pk=person_id)
    data = privacy.person_export_json(workspace=request.workspace, person=person, actor=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


@workspace_view(S, EDIT)
@require_POST
def person_erase(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Erase after the user typed the person's name (accents and case ignored)."""
    person = Person.with_trash.get(workspace=request.workspace, pk=person_id)
    if fold(request.POST.get("confirm", "")) != fold(person.full_name):
        messages.error(request, _("Type the person's name exactly to confirm the erasure."))
    else:
        privacy.person_erase(workspace=request.workspace, actor=request.user, person=person)
        messages.success(request, _("The personal data of this person was erased."))
    return redirect("contacts:person_privacy", person_id=person.pk)
