"""Merging two records of the same customer into one.

The user picks, field by field, which record's value survives (``choices``: field -> ``"survivor"`` or
``"other"``; a field not mentioned keeps the survivor's value, or the other's when the survivor's is
empty). Everything else of the other record moves to the survivor: every row of every model with a
foreign key to it, found through the model's reverse relations, so history that later capabilities
attach to people and companies (deals, tickets, tasks, documents) moves without this module knowing
them. Rows that would break a unique constraint (the same tag twice) or repeat a value the survivor
already has (the same email, phone or address) are dropped instead of moved.

The other record is then deleted for good (not trashed): nothing points at it any more, and a hollow
record in the trash would only confuse. The audit event keeps what was merged into what and which
values changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Model, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clientela.contacts.models import Company, CustomField, Email, Person
from clientela.contacts.services import COMPANY_FIELDS, PERSON_FIELDS, search_text_for
from clientela.core.audit import audit_record
from clientela.core.errors import NotFound, ValidationFailed
from clientela.timeline.services import interaction_record
from clientela.timeline.text import SystemText
from clientela.workspaces.models import User, Workspace

Side = Literal["survivor", "other"]
SIDES = ("survivor", "other")
CUSTOM_PREFIX = "custom."

# Rows that repeat one of the survivor's values are dropped rather than moved (no database constraint
# says so: two identical emails on one record are simply noise).
SAME_VALUE_KEYS: dict[str, tuple[str, ...]] = {
    "contacts.email": ("email",),
    "contacts.phone": ("e164",),
    "contacts.address": ("street", "city", "postal_code", "region", "country"),
}

# The order in which the merge page shows the pickable fields (the services' editable fields; one
# added there later is pickable too, shown after these).
PERSON_MERGE_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "birth_date",
    "gender",
    "marital_status",
    "income_band",
    "education",
    "language",
    "preferred_channel",
    "lifecycle_stage",
    "owner",
    "source_channel",
    "source_campaign",
    "source_keyword",
    "notes",
)
COMPANY_MERGE_FIELDS = (
    "name",
    "legal_name",
    "vat_number",
    "industry",
    "size",
    "website",
    "lifecycle_stage",
    "owner",
    "source_channel",
    "source_campaign",
    "source_keyword",
    "notes",
)


@dataclass(frozen=True)
class MergeRow:
    """One pickable value on the merge page: both records' values and the default pick."""

    key: str  # a model field name or ``custom.<key>``
    label: str
    survivor: Any  # values for display: choice labels, names of related records
    other: Any
    default: Side
    differs: bool


@transaction.atomic
def person_merge(
    *,
    workspace: Workspace,
    actor: User | None,
    survivor: Person,
    other: Person,
    choices: dict[str, str] | None = None,
) -> Person:
    """Merge ``other`` into ``survivor``: picked values, then all of the other's history; delete it.

    Refuses a record merged with itself, records of another workspace or in the trash (NotFound), and
    unknown fields or sides in ``choices``. Both rows are locked (in primary-key order) for the merge.
    """
    merged = _merge(Person, workspace, actor, survivor, other, choices or {})
    assert isinstance(merged, Person)
    return merged


@transaction.atomic
def company_merge(
    *,
    workspace: Workspace,
    actor: User | None,
    survivor: Company,
    other: Company,
    choices: dict[str, str] | None = None,
) -> Company:
    """Merge ``other`` into ``survivor``, like ``person_merge``; the other's people join the survivor."""
    merged = _merge(Company, workspace, actor, survivor, other, choices or {})
    assert isinstance(merged, Company)
    return merged


def merge_rows(
    *, workspace: Workspace, survivor: Person | Company, other: Person | Company
) -> list[MergeRow]:
    """The values the user can pick between, attributes first, then custom fields by position.

    Rows where both records are empty are left out.
    """
    model = type(survivor)
    entity = "person" if model is Person else "company"
    rows = []
    for name in _merge_fields(model):
        field = model._meta.get_field(name)
        label = str(field.verbose_name).capitalize()  # type: ignore[union-attr]
        mine, theirs = getattr(survivor, field.attname), getattr(other, field.attname)  # type: ignore[union-attr]
        if _is_empty(mine) and _is_empty(theirs):
            continue
        rows.append(
            MergeRow(
                name,
                label,
                _display(survivor, name),
                _display(other, name),
                _default(mine),
                differs=_comparable(mine) != _comparable(theirs),
            )
        )
    labels = {
        f.key: f.label
        for f in CustomField.objects.filter(workspace=workspace, entity=entity).order_by("position")
    }
    keys = [k for k in labels if k in survivor.custom or k in other.custom]
    keys += sorted((set(survivor.custom) | set(other.custom)) - set(labels))
    for key in keys:
        a, b = survivor.custom.get(key), other.custom.get(key)
        if _is_empty(a) and _is_empty(b):
            continue
        rows.append(
            MergeRow(
                CUSTOM_PREFIX + key,
                labels.get(key, key),
                a,
                b,
                _default(a),
                differs=_comparable(a) != _comparable(b),
            )
        )
    return rows


def related_counts(record: Person | Company) -> list[tuple[str, int]]:
    """How many rows of each kind point at ``record`` (what a merge moves), e.g. ("interactions", 12)."""
    counts = []
    for relation in _reverse_relations(type(record)):
        count = _rows(relation, record).count()
        if count:
            counts.append((str(relation.related_model._meta.verbose_name_plural), count))
    return counts


# --- the merge ------------------------------------------------------------------------------------


def _merge(
    model: type[Person] | type[Company],
    workspace: Workspace,
    actor: User | None,
    survivor: Person | Company,
    other: Person | Company,
    choices: dict[str, str],
) -> Person | Company:
    if survivor.pk == other.pk:
        raise ValidationFailed(
            _("A record cannot be merged with itself."),
            fields={"other_id": [_("Choose a different record.")]},
        )
    _validate_choices(model, choices)
    # Lock both rows in a fixed order (lowest id first), so two merges of the same pair cannot deadlock,
    # then work on the locked, fresh values rather than on what the caller read earlier.
    locked = {
        record.pk: record
        for record in model._base_manager.select_for_update()
        .filter(workspace=workspace, pk__in=[survivor.pk, other.pk], deleted_at__isnull=True)
        .order_by("pk")
    }
    if len(locked) != 2:
        raise NotFound(_("Not found."))
    keep, gone = locked[survivor.pk], locked[other.pk]
    other_name = str(gone)

    changed = _apply_choices(model, keep, gone, choices)
    keep.save()
    their_people = (
        list(Person._base_manager.filter(company=gone).values_list("pk", flat=True))
        if isinstance(gone, Company)
        else []
    )
    moved = _move_references(model, workspace, keep, gone)
    model._base_manager.filter(pk=gone.pk).delete()
    _reindex(workspace, keep, their_people, name_changed="name" in changed)

    interaction_record(
        workspace=workspace,
        kind="system",
        actor=actor,
        person=keep if isinstance(keep, Person) else None,
        company=keep if isinstance(keep, Company) else None,
        subject=SystemText(gettext_noop("Merged with %(name)s"), {"name": other_name}),
        data={"merged_id": gone.pk},
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        action=f"{model._meta.model_name}.merged",
        target=keep,
        summary=f"{other_name} → {keep}",
        data={"other_id": gone.pk, "other_name": other_name, "changed": changed, "moved": moved},
    )
    return keep


def _validate_choices(model: type[Person] | type[Company], choices: dict[str, str]) -> None:
    fields = set(_merge_fields(model))
    errors: dict[str, list[str]] = {}
    for key, side in choices.items():
        if key not in fields and not (key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX)):
            errors[f"choices.{key}"] = [_("Unknown field.")]
        elif side not in SIDES:
            errors[f"choices.{key}"] = [_("Choose survivor or other.")]
    if errors:
        raise ValidationFailed(_("Some choices are invalid."), fields=errors)


def _apply_choices(
    model: type[Person] | type[Company],
    keep: Person | Company,
    gone: Person | Company,
    choices: dict[str, str],
) -> dict[str, list[str]]:
    """Set the picked values on ``keep``; returns the changed fields as {name: [before, after]}."""
    changed: dict[str, list[str]] = {}
    for name in _merge_fields(model):
        field = model._meta.get_field(name)
        attname = field.attname  # type: ignore[union-attr]
        mine, theirs = getattr(keep, attname), getattr(gone, attname)
        if _side(choices.get(name), mine) == "other" and mine != theirs:
            changed[name] = [str(getattr(keep, name) or ""), str(getattr(gone, name) or "")]
            setattr(keep, attname, theirs)
    custom = dict(keep.custom)
    for key in sorted(set(keep.custom) | set(gone.custom)):
        mine, theirs = keep.custom.get(key), gone.custom.get(key)
        if _side(choices.get(CUSTOM_PREFIX + key), mine) == "other" and mine != theirs:
            changed[CUSTOM_PREFIX + key] = [str(mine if mine is not None else ""), str(theirs)]
            if _is_empty(theirs):
                custom.pop(key, None)
            else:
                custom[key] = theirs
    keep.custom = custom
    return changed


def _move_references(
    model: type[Person] | type[Company], workspace: Workspace, keep: Person | Company, gone: Person | Company
) -> dict[str, Any]:
    """Point every row referencing ``gone`` at ``keep``; returns counts moved per model label."""
    moved: dict[str, Any] = {}
    for relation in _reverse_relations(model):
        related = relation.related_model
        fk = relation.field.name
        label = related._meta.label_lower
        dropped = 0
        for unique_fields, condition in _same_value_sets(related, fk):
            dropped += _drop_collisions(relation, workspace, keep, gone, unique_fields, condition)
        rows = _rows(relation, gone, workspace)
        update: dict[str, Any] = {fk: keep}
        if (
            _has_field(related, "is_primary")
            and _rows(relation, keep, workspace).filter(is_primary=True).exists()
        ):
            update["is_primary"] = False  # the survivor's primary email/phone/address stays primary
        count = rows.update(**update)
        if count or dropped:
            moved[label] = {"moved": count, "dropped": dropped} if dropped else count
    return moved


def _drop_collisions(
    relation: models.ForeignObjectRel,
    workspace: Workspace,
    keep: Model,
    gone: Model,
    fields: tuple[str, ...],
    condition: Q | None,
) -> int:
    """Delete ``gone``'s rows whose ``fields`` values ``keep`` already has (they would collide)."""
    mine, theirs = _rows(relation, keep, workspace), _rows(relation, gone, workspace)
    if condition is not None:
        mine, theirs = mine.filter(condition), theirs.filter(condition)
    if not fields:  # the foreign key alone is unique (one-to-one): the survivor's row wins
        return theirs.delete()[0] if mine.exists() else 0
    taken = set(mine.values_list(*fields))
    if not taken:
        return 0
    doomed = [pk for pk, *values in theirs.values_list("pk", *fields) if tuple(values) in taken]
    if not doomed:
        return 0
    return relation.related_model._base_manager.filter(pk__in=doomed).delete()[0]


def _reindex(
    workspace: Workspace, keep: Person | Company, moved_people: list[int], *, name_changed: bool
) -> None:
    """Refresh the search text of the survivor and of people whose company name changed."""
    _refresh(workspace, [keep])
    if isinstance(keep, Company):
        people = Person._base_manager.filter(workspace=workspace, company=keep)
        if not name_changed:
            people = people.filter(pk__in=moved_people)
        _refresh(workspace, list(people.select_related("company")))


def _refresh(workspace: Workspace, records: list[Any]) -> None:
    if not records:
        return
    key = "person_id" if isinstance(records[0], Person) else "company_id"
    emails: dict[int, list[str]] = {}
    for owner_id, email in Email.objects.filter(
        workspace=workspace, **{f"{key}__in": [r.pk for r in records]}
    ).values_list(key, "email"):
        emails.setdefault(owner_id, []).append(email)
    for record in records:
        company_name = record.company.name if isinstance(record, Person) and record.company else ""
        text = search_text_for(record, emails.get(record.pk, []), company_name)
        if text != record.search_text:
            type(record)._base_manager.filter(pk=record.pk).update(search_text=text)
            record.search_text = text


# --- relations ------------------------------------------------------------------------------------


def _reverse_relations(model: type[Model]) -> list[models.ForeignObjectRel]:
    """Every foreign key (or one-to-one) pointing at ``model``, hidden ones and many-to-many tables too."""
    return [
        field
        for field in model._meta.get_fields(include_hidden=True)
        if isinstance(field, models.ManyToOneRel) and field.auto_created and not field.concrete
    ]


def _rows(
    relation: models.ForeignObjectRel, record: Model, workspace: Workspace | None = None
) -> models.QuerySet:
    """Rows of the related model pointing at ``record``, trashed ones included (the base manager)."""
    related = relation.related_model
    rows = related._base_manager.filter(**{relation.field.name: record})
    if _has_field(related, "workspace"):
        rows = rows.filter(workspace_id=workspace.pk if workspace else record.workspace_id)  # type: ignore[attr-defined]
    return rows


def _same_value_sets(related: type[Model], fk: str) -> list[tuple[tuple[str, ...], Q | None]]:
    """The sets of other fields that, together with ``fk``, may not repeat on one record.

    From the model's unique constraints and ``unique_together`` (conditions kept), a unique foreign key
    (an empty set), and ``SAME_VALUE_KEYS`` for rows that are only noise when repeated.
    """
    field = related._meta.get_field(fk)
    sets: list[tuple[tuple[str, ...], Q | None]] = []
    if getattr(field, "unique", False):
        sets.append(((), None))
    for together in related._meta.unique_together:
        if fk in together:
            sets.append((tuple(f for f in together if f != fk), None))
    for constraint in related._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and fk in constraint.fields:
            condition = constraint.condition if isinstance(constraint.condition, Q) else None
            sets.append((tuple(f for f in constraint.fields if f != fk), condition))
    if related._meta.label_lower in SAME_VALUE_KEYS:
        sets.append((SAME_VALUE_KEYS[related._meta.label_lower], None))
    return sets


def _has_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


# --- values ---------------------------------------------------------------------------------------


def _merge_fields(model: type[Person] | type[Company]) -> tuple[str, ...]:
    order, editable = (
        (PERSON_MERGE_FIELDS, PERSON_FIELDS) if model is Person else (COMPANY_MERGE_FIELDS, COMPANY_FIELDS)
    )
    return tuple(f for f in order if f in editable) + tuple(sorted(editable - set(order)))


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _default(survivor_value: Any) -> Side:
    return "other" if _is_empty(survivor_value) else "survivor"


def _side(choice: str | None, survivor_value: Any) -> Side:
    if choice in SIDES:
        return choice  # type: ignore[return-value]
    return _default(survivor_value)


def _display(record: Person | Company, name: str) -> Any:
    """A field's value as the merge page shows it: choice labels, names of related records."""
    value = getattr(record, name)
    field = record._meta.get_field(name)
    if getattr(field, "choices", None) and value:
        return getattr(record, f"get_{name}_display")()
    if isinstance(value, User):
        return value.display_name
    if isinstance(value, Model):
        return str(value)
    return value


def _comparable(value: Any) -> Any:
    return None if _is_empty(value) else value
