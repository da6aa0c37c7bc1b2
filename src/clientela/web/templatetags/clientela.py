from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

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
