"""Pages for people and companies: lists, cards, forms, inline edit, bulk actions, trash, search.

Each list view serves the full page, or only its rows when htmx asks (filters, "load more").
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from clientela.contacts import selectors, services
from clientela.contacts.forms import (
    CompanyForm,
    ConsentForm,
    CustomerForm,
    CustomFieldForm,
    LogForm,
    PersonForm,
    SavedViewForm,
)
from clientela.contacts.models import (
    Company,
    CustomField,
    LifecycleStage,
    Person,
    SavedView,
)
from clientela.contacts.tables import CHOICES, INLINE_FIELDS, field_display, inline_cell, table_rows
from clientela.core.errors import ApplicationError, ValidationFailed
from clientela.timeline.models import Direction, Interaction, Kind
from clientela.timeline.services import interaction_record
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require, workspace_view
from clientela.workspaces.roles import Action, Module
from clientela.workspaces.selectors import member_list

C = Module.CONTACTS

# Columns a manager can choose for the people list, in their default order.
PERSON_COLUMNS = {
    "company": gettext_lazy("Company"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "lifecycle_stage": gettext_lazy("Stage"),
    "owner": gettext_lazy("Owner"),
    "tags": gettext_lazy("Tags"),
    "job_title": gettext_lazy("Job title"),
    "preferred_channel": gettext_lazy("Channel"),
    "source_channel": gettext_lazy("Source"),
    "created_at": gettext_lazy("Created"),
}
DEFAULT_PERSON_COLUMNS = ["company", "email", "phone", "lifecycle_stage", "owner", "tags"]
COMPANY_COLUMNS = {
    "vat_number": gettext_lazy("VAT number"),
    "industry": gettext_lazy("Industry"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "owner": gettext_lazy("Owner"),
    "tags": gettext_lazy("Tags"),
    "created_at": gettext_lazy("Created"),
}
DEFAULT_COMPANY_COLUMNS = ["vat_number", "industry", "email", "phone", "owner", "tags"]


# --- lists ----------------------------------------------------------------------------------------


def _list(request: WorkspaceRequest, entity: str) -> HttpResponse:
    params: QueryDict = request.GET
    view_id = params.get("view")
    if view_id and view_id.isdigit():
        saved = (
            selectors.saved_view_list(workspace=request.workspace, user=request.user, entity=entity)
            .filter(pk=int(view_id))
            .first()
        )
        if saved is not None:
            params = QueryDict(mutable=True)
            params.update(QueryDict(urlencode(saved.query, doseq=True)))
    try:
        query = selectors.ListQuery.parse(entity, params)
        page = selectors.customer_rows(workspace=request.workspace, user=request.user, query=query)
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message)
        query = selectors.ListQuery(entity=entity)
        page = selectors.customer_rows(workspace=request.workspace, user=request.user, query=query)
    all_columns = PERSON_COLUMNS if entity == "person" else COMPANY_COLUMNS
    columns = [c for c in params.getlist("col") if c in all_columns] or (
        DEFAULT_PERSON_COLUMNS if entity == "person" else DEFAULT_COMPANY_COLUMNS
    )
    can_edit = _can_edit(request)
    query_params = query.as_params()
    next_url = None
    if page.next_cursor:
        next_url = "?" + urlencode({**query_params, "col": columns, "cursor": page.next_cursor}, doseq=True)
    context: dict[str, Any] = {
        "entity": entity,
        "page": page,
        "rows": table_rows(page.items, entity=entity, columns=columns, can_edit=can_edit),
        "can_edit": can_edit,
        "next_url": next_url,
    }
    if request.htmx and request.GET.get("cursor"):  # "load more": the next rows only
        return render(request, "contacts/partials/list_rows.html", context)
    context |= {
        "query": query,
        "columns": columns,
        "all_columns": all_columns,
        "query_string": urlencode({**query_params, "col": columns}, doseq=True),
        "query_json": json.dumps({**query_params, "col": columns}),
        "saved_views": selectors.saved_view_list(
            workspace=request.workspace, user=request.user, entity=entity
        ),
        "owners": [  # (id, name) of every member; the name as User.__str__ gives it
            (str(user_id), full_name or email)
            for user_id, full_name, email in member_list(workspace=request.workspace).values_list(
                "user_id", "user__full_name", "user__email"
            )
        ],
        "tags": selectors.tag_list(workspace=request.workspace),
        "stages": LifecycleStage.choices,
        "custom_fields": selectors.custom_field_list(workspace=request.workspace, entity=entity),
    }
    if request.htmx and request.htmx.target == "list-results":
        return render(request, "contacts/partials/list_results.html", context)
    return render(request, "contacts/pages/list.html", context)


def _can_edit(request: WorkspaceRequest) -> bool:
    from clientela.workspaces.roles import role_allows

    return role_allows(request.membership.role, C, Action.EDIT)


@workspace_view(C)
def person_list(request: WorkspaceRequest) -> HttpResponse:
    return _list(request, "person")


@workspace_view(C)
def company_list(request: WorkspaceRequest) -> HttpResponse:
    return _list(request, "company")


def _bulk(request: WorkspaceRequest, model: type[Person] | type[Company], list_url: str) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action", "")
    owner = request.POST.get("owner") or None
    if not ids:
        messages.error(request, _("Select the records first."))
        return redirect(request.POST.get("next") or list_url)
    if action == "set_owner" and owner is None:  # the "Owner…" placeholder: nothing was chosen
        messages.error(request, _("Choose the new owner, or Nobody."))
        return redirect(request.POST.get("next") or list_url)
    try:
        count = services.customers_bulk(
            workspace=request.workspace,
            actor=request.user,
            model=model,
            action=action,
            ids=ids,
            tags=[t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()],
            owner_id=int(owner) if owner and owner.isdigit() else None,
            stage=request.POST.get("stage", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(list_url)
    if action == "trash":
        request.session["undo_trash"] = {"model": model._meta.model_name, "ids": ids}
        messages.success(
            request,
            ngettext("%(count)d record moved to the trash.", "%(count)d records moved to the trash.", count)
            % {"count": count},
            extra_tags=f"undo-{model._meta.model_name}",
        )
    else:
        messages.success(
            request,
            ngettext("%(count)d record updated.", "%(count)d records updated.", count) % {"count": count},
        )
    return redirect(request.POST.get("next") or list_url)


@workspace_view(C, Action.EDIT)
@require_POST
def person_bulk(request: WorkspaceRequest) -> HttpResponse:
    if request.POST.get("action") == "undo_trash":
        return _undo_trash(request, Person, reverse("contacts:person_list"))
    return _bulk(request, Person, reverse("contacts:person_list"))


@workspace_view(C, Action.EDIT)
@require_POST
def company_bulk(request: WorkspaceRequest) -> HttpResponse:
    if request.POST.get("action") == "undo_trash":
        return _undo_trash(request, Company, reverse("contacts:company_list"))
    return _bulk(request, Company, reverse("contacts:company_list"))


def _undo_trash(
    request: WorkspaceRequest, model: type[Person] | type[Company], list_url: str
) -> HttpResponse:
    undo = request.session.pop("undo_trash", None) or {}
    if undo.get("model") == model._meta.model_name:
        records = list(model.with_trash.filter(workspace=request.workspace, pk__in=undo.get("ids", [])))
        count = services.customers_restore(workspace=request.workspace, actor=request.user, records=records)
        messages.success(
            request,
            ngettext("%(count)d record restored.", "%(count)d records restored.", count) % {"count": count},
        )
    return redirect(list_url)


@workspace_view(C)
def person_export(request: WorkspaceRequest, fmt: str) -> HttpResponse:
    import importlib

    exporting = importlib.import_module("clientela.contacts.exporting")
    query = selectors.ListQuery.parse("person", request.GET)
    return exporting.export_response(
        selectors.customer_queryset(workspace=request.workspace, user=request.user, query=query),
        fmt,
        "person",
    )


# --- cards ----------------------------------------------------------------------------------------


def _card_context(request: WorkspaceRequest, record: Person | Company) -> dict[str, Any]:
    kinds = [k for k in request.GET.getlist("kind") if k in Kind.values]
    timeline = selectors.timeline(
        workspace=request.workspace, record=record, kinds=kinds, cursor=request.GET.get("cursor", "")
    )
    return {
        "record": record,
        "is_person": isinstance(record, Person),
        "timeline": timeline,
        "entries": _timeline_entries(timeline.items),
        "kinds": kinds,
        "kind_choices": Kind.choices,
        "log_form": LogForm(),
        "can_edit": _can_edit(request),
        "custom_fields": selectors.custom_field_list(
            workspace=request.workspace, entity=record._meta.model_name or ""
        ),
    }


# The icon of each kind of interaction (Bootstrap Icons); any other kind gets "dot".
KIND_ICONS = {
    "call": "telephone",
    "email": "envelope",
    "message": "chat-dots",
    "meeting": "calendar-event",
    "note": "sticky",
    "order": "bag",
    "complaint": "exclamation-triangle",
    "form": "ui-checks",
    "document": "file-earmark-text",
    "follow_up": "alarm",
}


@dataclass(frozen=True)
class TimelineEntry:
    """An interaction as the timeline shows it: labels and dates made once, not per template lookup."""

    kind: str
    icon: str
    label: str
    direction: str
    subject: str
    when: str
    when_short: str
    actor: str
    body: str
    due: str


def _timeline_entries(items: list[Interaction]) -> list[TimelineEntry]:
    kinds = {value: str(label) for value, label in Kind.choices}
    directions = {value: str(label) for value, label in Direction.choices}
    formats = {name: get_format(name) for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT")}

    def when(value: dt.datetime | None, format_name: str) -> str:
        """As the ``date`` filter gives it, the locale's format looked up once, not per date."""
        return dateformat.format(localtime(value), formats[format_name]) if value else ""

    return [
        TimelineEntry(
            kind=i.kind,
            icon=KIND_ICONS.get(i.kind, "dot"),
            label=kinds.get(i.kind, i.kind),
            direction=directions.get(i.direction, i.direction) if i.direction else "",
            subject=i.shown_subject,
            when=when(i.occurred_at, "DATETIME_FORMAT"),
            when_short=when(i.occurred_at, "SHORT_DATETIME_FORMAT"),
            actor=str(i.actor) if i.actor else "",
            body=i.shown_body,
            due=when(i.due_at, "SHORT_DATETIME_FORMAT"),
        )
        for i in items
    ]


@workspace_view(C)
def person_card(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    context = _card_context(request, person)
    context["consents"] = selectors.current_consents(person)
    context["consent_form"] = ConsentForm()
    return render(request, "contacts/pages/person_card.html", context)


@workspace_view(C)
def company_card(request: WorkspaceRequest, company_id: int) -> HttpResponse:
    company = selectors.company_get(workspace=request.workspace, company_id=company_id)
    return render(request, "contacts/pages/company_card.html", _card_context(request, company))


def _timeline(request: WorkspaceRequest, record: Person | Company) -> HttpResponse:
    return render(request, "contacts/partials/timeline.html", _card_context(request, record))


@workspace_view(C)
def person_timeline(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    return _timeline(request, Person.objects.get(workspace=request.workspace, pk=person_id))


@workspace_view(C)
def company_timeline(request: WorkspaceRequest, company_id: int) -> HttpResponse:
    return _timeline(request, Company.objects.get(workspace=request.workspace, pk=company_id))


def _log(request: WorkspaceRequest, record: Person | Company) -> HttpResponse:
    """A quick action from the card; answers with the refreshed activity (htmx) or the card."""
    form = LogForm(request.POST)
    card_url = reverse(
        "contacts:person_card" if isinstance(record, Person) else "contacts:company_card", args=[record.pk]
    )
    if form.is_valid():
        target = {"person": record} if isinstance(record, Person) else {"company": record}
        interaction_record(
            workspace=request.workspace,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            direction=form.cleaned_data["direction"] or "",
            due_at=form.cleaned_data["due_at"],
            **target,
        )
        if not request.htmx:
            messages.success(request, _("Added to the timeline."))
            return redirect(card_url)
        context = _card_context(request, record)
        context["logged"] = True
        return render(request, "contacts/partials/card_activity.html", context)
    if not request.htmx:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(card_url)
    context = _card_context(request, record)
    context["log_form"] = form
    return render(request, "contacts/partials/card_activity.html", context, status=422)


@workspace_view(C, Action.EDIT)
@require_POST
def person_log(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    return _log(request, selectors.person_get(workspace=request.workspace, person_id=person_id))


@workspace_view(C, Action.EDIT)
@require_POST
def company_log(request: WorkspaceRequest, company_id: int) -> HttpResponse:
    return _log(request, selectors.company_get(workspace=request.workspace, company_id=company_id))


@workspace_view(C, Action.EDIT)
@require_POST
def person_consent(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Record a consent decision from the card's Consent panel, then show the card again."""
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    form = ConsentForm(request.POST)
    try:
        if not form.is_valid():
            errors = {name: [str(m) for m in messages_] for name, messages_ in form.errors.items()}
            raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
        services.consent_record(
            person=person,
            actor=request.user,
            channel=form.cleaned_data["channel"],
            granted=form.cleaned_data["granted"],
            source=form.cleaned_data["source"],
        )
    except ValidationFailed as exc:
        problems = [
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(messages_)}"
            for name, messages_ in exc.fields.items()
        ]
        messages.error(request, " ".join(problems) or exc.message)
    else:
        messages.success(request, _("Consent recorded."))
    return redirect(reverse("contacts:person_card", kwargs={"person_id": person.pk}))


# --- create and edit ------------------------------------------------------------------------------


def _save(
    request: WorkspaceRequest, form: CustomerForm, record: Person | Company | None
) -> Person | Company | None:
    """Hand a valid form to the right service; map its field errors back onto the form."""
    if not form.is_valid():
        return None
    try:
        if isinstance(form, PersonForm):
            if record is None:
                return services.person_create(
                    workspace=request.workspace,
                    actor=request.user,
                    attributes=form.attributes(),
                    contact=form.contact(),
                    tags=form.tag_names(),
                    custom=form.custom(),
                )
            assert isinstance(record, Person)
            return services.person_update(
                person=record,
                actor=request.user,
                attributes=form.attributes(),
                contact=form.contact(),
                custom=form.custom(),
                tags=form.tag_names(),
            )
        if record is None:
            return services.company_create(
                workspace=request.workspace,
                actor=request.user,
                attributes=form.attributes(),
                contact=form.contact(),
                tags=form.tag_names(),
                custom=form.custom(),
            )
        assert isinstance(record, Company)
        return services.company_update(
            company=record,
            actor=request.user,
            attributes=form.attributes(),
            contact=form.contact(),
            custom=form.custom(),
            tags=form.tag_names(),
        )
    except ValidationFailed as exc:
        form.add_service_errors(exc.fields, exc.message)
        return None


def _form_page(
    request: WorkspaceRequest, form: CustomerForm, record: Person | Company | None
) -> HttpResponse:
    saved = _save(request, form, record) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("%(name)s saved.") % {"name": saved})
        name = "contacts:person_card" if isinstance(saved, Person) else "contacts:company_card"
        key = "person_id" if isinstance(saved, Person) else "company_id"
        return redirect(reverse(name, kwargs={key: saved.pk}))
    return render(
        request,
        "contacts/pages/form.html",
        {"form": form, "record": record, "entity": form.entity},
        status=422 if form.errors else 200,
    )


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def person_create(request: WorkspaceRequest) -> HttpResponse:
    initial = {"company": request.GET.get("company", "")}
    return _form_page(
        request, PersonForm(request.POST or None, workspace=request.workspace, initial=initial), None
    )


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def person_edit(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    return _form_page(
        request, PersonForm(request.POST or None, workspace=request.workspace, instance=person), person
    )


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def company_create(request: WorkspaceRequest) -> HttpResponse:
    return _form_page(request, CompanyForm(request.POST or None, workspace=request.workspace), None)


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def company_edit(request: WorkspaceRequest, company_id: int) -> HttpResponse:
    company = selectors.company_get(workspace=request.workspace, company_id=company_id)
    return _form_page(
        request, CompanyForm(request.POST or None, workspace=request.workspace, instance=company), company
    )


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def person_cell(request: WorkspaceRequest, person_id: int, field: str) -> HttpResponse:
    """Inline edit of one cell: GET gives the input, POST saves and gives the cell back."""
    if field not in INLINE_FIELDS:
        return HttpResponse(status=404)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    context: dict[str, Any] = {
        "person": person,
        "field": field,
        "label": PERSON_COLUMNS.get(field, field),
        "kind": INLINE_FIELDS[field],
        "choices": CHOICES.get(field, []),
        "value": getattr(person, field),
    }
    if request.method == "POST":
        try:
            services.person_update(
                person=person, actor=request.user, attributes={field: request.POST.get("value", "")}
            )
        except ValidationFailed as exc:
            context["error"] = " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
            context["value"] = request.POST.get("value", "")
            return render(request, "contacts/partials/cell_edit.html", context, status=422)
        url = reverse("contacts:person_cell", args=[person.pk, field])
        return HttpResponse(inline_cell(url, person.pk, field, field_display(person, field)))
    return render(request, "contacts/partials/cell_edit.html", context)


# --- trash, search, saved views, custom fields ----------------------------------------------------


@workspace_view(C)
def trash(request: WorkspaceRequest) -> HttpResponse:
    people = Person.with_trash.filter(workspace=request.workspace, deleted_at__isnull=False).order_by(
        "-deleted_at"
    )
    companies = Company.with_trash.filter(workspace=request.workspace, deleted_at__isnull=False).order_by(
        "-deleted_at"
    )
    return render(
        request,
        "contacts/pages/trash.html",
        {
            "people": people[:200],
            "companies": companies[:200],
            "can_edit": _can_edit(request),
            "days": services.TRASH_DAYS,
        },
    )


@workspace_view(C)
def search(request: WorkspaceRequest) -> HttpResponse:
    """The global search: a dropdown of best matches for htmx, or a full results page."""
    q = request.GET.get("q", "").strip()
    results: dict[str, list[Any]] = {"people": [], "companies": []}
    if q:
        for entity, key in (("person", "people"), ("company", "companies")):
            query = selectors.ListQuery(entity=entity, q=q, page_size=8 if request.htmx else 50)
            results[key] = selectors.customer_list(
                workspace=request.workspace, user=request.user, query=query
            ).items
    template = "contacts/partials/search_results.html" if request.htmx else "contacts/pages/search.html"
    return render(request, template, {"q": q, **results})


@workspace_view(C)
@require_POST
def saved_view_create(request: WorkspaceRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    entity = request.POST.get("entity", "person")
    list_url = reverse("contacts:person_list" if entity == "person" else "contacts:company_list")
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(list_url)
    try:
        query = json.loads(form.cleaned_data["query"] or "{}")
    except ValueError:
        query = {}
    view = SavedView(
        entity=form.cleaned_data["entity"],
        name=form.cleaned_data["name"],
        owner=request.user,
        shared=form.cleaned_data["shared"],
        query=query if isinstance(query, dict) else {},
    )
    view.workspace = request.workspace
    view.save()
    messages.success(request, _("View %(name)s saved.") % {"name": view.name})
    return redirect(f"{list_url}?view={view.pk}")


@workspace_view(C)
@require_POST
def saved_view_delete(request: WorkspaceRequest, view_id: int) -> HttpResponse:
    view = SavedView.objects.get(workspace=request.workspace, owner=request.user, pk=view_id)
    list_url = reverse("contacts:person_list" if view.entity == "person" else "contacts:company_list")
    view.delete()
    messages.success(request, _("View %(name)s deleted.") % {"name": view.name})
    return redirect(list_url)


@workspace_view(Module.SETTINGS)
@require_http_methods(["GET", "POST"])
def custom_fields(request: WorkspaceRequest) -> HttpResponse:
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST":
        require(request.membership, Module.SETTINGS, Action.EDIT)
        if form.is_valid():
            try:
                services.custom_field_create(
                    workspace=request.workspace,
                    entity=form.cleaned_data["entity"],
                    label=form.cleaned_data["label"],
                    type=form.cleaned_data["type"],
                    choices=form.cleaned_data["choices"].splitlines(),
                )
            except ValidationFailed as exc:
                form.add_error(None, " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message)
            else:
                messages.success(request, _("Field %(label)s added.") % {"label": form.cleaned_data["label"]})
                return redirect("contacts:custom_fields")
    fields = CustomField.objects.filter(workspace=request.workspace, archived_at=None).order_by(
        "entity", "position"
    )
    return render(request, "contacts/pages/custom_fields.html", {"form": form, "fields": fields})


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def custom_field_archive(request: WorkspaceRequest, field_id: int) -> HttpResponse:
    custom_field = CustomField.objects.get(workspace=request.workspace, pk=field_id)
    services.custom_field_archive(custom_field=custom_field)
    messages.success(
        request, _("Field %(label)s archived; its values are kept.") % {"label": custom_field.label}
    )
    return redirect("contacts:custom_fields")
