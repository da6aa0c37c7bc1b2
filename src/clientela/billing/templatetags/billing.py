"""Template filters for billing: money in the reader's locale, percentages and quantities."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_percent
from django import template
from django.utils import translation
from django.utils.translation import to_locale

from clientela.core import money as core_money

register = template.Library()


@register.filter
def money(amount: Any, currency: str) -> str:
    """1234.5|money:"EUR" -> €1,234.50 (en), 1.234,50 € (it)."""
    if amount in (None, ""):
        return ""
    return _formatted(str(amount), currency, translation.get_language() or "en")


@lru_cache(maxsize=4096)
def _formatted(amount: str, currency: str, locale: str) -> str:
    # Babel takes some 20 µs an amount, and the quote editor renders the same amounts again on every
    # change of a line. Keyed by the text, not the Decimal: -0.00 == 0.00 but they print differently.
    return core_money.format_money(Decimal(amount), currency, locale)


@register.filter
def percent(value: Any) -> str:
    """A rate in the reader's language, its decimals as given: 22.000 -> 22% (en), 39.3 -> 39,3% (it),
    5.5 -> 5,5 % (ro)."""
    if value in (None, ""):
        return ""
    return _percent(str(value), translation.get_language() or "en")


@lru_cache(maxsize=1024)
def _percent(value: str, language: str) -> str:
    rate = Decimal(value).normalize() / 100
    return format_percent(rate, locale=to_locale(language), decimal_quantization=False)


@register.filter
def qty(value: Any) -> str:
    """3.0000 -> 3, 2.5000 -> 2.5."""
    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


@register.simple_tag(takes_context=True)
def role_can(context: Any, module: str, action: str = "view") -> bool:
    """Whether the signed-in member's role allows ``action`` on ``module`` (for links and buttons)."""
    from clientela.workspaces.roles import Action, Module, role_allows

    membership = getattr(context.get("request"), "membership", None)
    return membership is not None and role_allows(membership.role, Module(module), Action(action))
