"""Template filters of the sales pages: money in the reader's language, short durations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from django import template
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """1234.5, "EUR" -> "€1,234.50" (in English; "1.234,50 €" in Italian)."""
    if amount is None:
        return ""
    locale = (get_language() or "en").replace("-", "_")
    try:
        return format_currency(amount, currency or "EUR", locale=locale)
    except (ValueError, LookupError):
        return f"{amount} {currency}"


@register.filter
def moneys(values: list[Any], currency: str = "EUR") -> str:
    """Several ``Money`` values (one per currency) joined: "€1,200.00 · HUF 50,000.00"; none is zero."""
    return " · ".join(money(v.amount, v.currency) for v in values) or money(Decimal(0), currency)


@register.filter
def short_duration(value: dt.timedelta | dt.datetime | None) -> str:
    """A duration (or the time since a moment) the way a board shows it: "3 d", "5 h", "12 min"."""
    if value is None:
        return ""
    delta = timezone.now() - value if isinstance(value, dt.datetime) else value
    seconds = max(0, int(delta.total_seconds()))
    if seconds >= 86400:
        return _("%(count)d d") % {"count": seconds // 86400}
    if seconds >= 3600:
        return _("%(count)d h") % {"count": seconds // 3600}
    return _("%(count)d min") % {"count": seconds // 60}


@register.filter
def percent(value: Decimal | None) -> str:
    """50.00 -> "50 %" (no useless decimals)."""
    if value is None:
        return ""
    return f"{value.normalize():f} %" if value == value.to_integral() else f"{value} %"
