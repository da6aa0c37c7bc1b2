from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def bootstrap(field: BoundField) -> SafeString:
    """Render a form field's widget with Bootstrap's classes and the invalid state."""
    widget_type = field.widget_type
    css = {"select": "form-select", "checkbox": "form-check-input", "selectmultiple": "form-select"}.get(
        widget_type, "form-control"
    )
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, str | bool] = {"class": css}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def phone(e164: str) -> str:
    """+390236618300 -> +39 02 3661 8300"""
    from clientela.core.phones import display

    return display(e164)


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (``None`` removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    params.pop("cursor", None)
    return "?" + params.urlencode()


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any = None) -> SafeString:
    """``<option>`` elements of (value, label) pairs, the one whose value is ``selected`` selected.

    One tag instead of a loop of template nodes per option: a list page has two selects of every member.
    """

    def option(value: Any, label: Any) -> str:
        chosen = " selected" if selected is not None and value == selected else ""
        return f'<option value="{conditional_escape(value)}"{chosen}>{conditional_escape(label)}</option>'

    return mark_safe("".join(option(value, label) for value, label in choices))  # noqa: S308 (escaped)


@register.filter
def get_attr(obj: Any, name: str) -> Any:
    """A model field's display value (choices shown by their label)."""
    display = getattr(obj, f"get_{name}_display", None)
    return display() if callable(display) else getattr(obj, name, "")


@register.filter
def join_if_list(value: Any) -> Any:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


DUPLICATE_SOURCES = {"first_name", "last_name", "emails", "phones", "company", "name", "vat_number"}


@register.filter
def bootstrap_dup(field: BoundField) -> SafeString:
    """Like ``bootstrap``, marking the fields that feed the duplicate warning."""
    css = {"select": "form-select", "selectmultiple": "form-select"}.get(field.widget_type, "form-control")
    if field.name in DUPLICATE_SOURCES:
        css += " dup-source"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.simple_tag(takes_context=True)
def card_panels(context: Any, record: Any, column: str = "side") -> SafeString:
    """Render the panels other apps registered for this record's card (see core/panels.py).

    Each panel renders inside the card's context, as an ``{% include %}`` would, so the context
    processors (navigation, memberships...) do not run again for every panel.
    """
    from clientela.core.panels import panels_for

    request = context["request"]
    html = []
    for panel in panels_for(record._meta.model_name, column):
        extra = panel.context(request, record)
        if extra is None:
            continue
        template = context.template.engine.get_template(panel.template)
        with context.push(record=record, **extra):
            html.append(template.render(context))
    return mark_safe("".join(html))  # noqa: S308  (rendered templates, escaped by the template engine)
