"""Words the system writes on a timeline, shown in the language of whoever reads them.

"Created", "Invoice INV-00012: €549.00", "Deal “Fit-out” moved to Won": written by the code, not by a
person, so stored as the message and its values (``data["texts"]``) and put into the reader's language
each time they are shown. The interaction's ``subject`` and ``body`` keep the English rendering, for
search, exports and anything that reads the columns.

A value is text as it is, an amount (``Money``: shown the reader's way, "1.234,50 €" in Italian), or a
``SystemText`` of its own (a stage's label, translated too, in lower case inside a sentence with
``lower``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from clientela.core import money


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class SystemText:
    message: str  # the English message, marked for translation where it is written (gettext_noop)
    values: Mapping[str, str | Money | SystemText] = field(default_factory=dict)
    lower: bool = False

    def __str__(self) -> str:
        """In the active language."""
        text = gettext(self.message)
        if self.values:
            text %= {name: _shown(value) for name, value in self.values.items()}
        return text.lower() if self.lower else text

    def english(self) -> str:
        with translation.override("en"):
            return str(self)

    def as_data(self) -> dict[str, Any]:
        data = {"m": self.message, "v": {name: _stored(value) for name, value in self.values.items()}}
        return {**data, "l": True} if self.lower else data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SystemText:
        values = {name: _loaded(value) for name, value in data.get("v", {}).items()}
        return cls(str(data["m"]), values, lower=bool(data.get("l")))


def shown(data: Mapping[str, Any], part: str, stored: str) -> str:
    """An interaction's ``subject`` or ``body`` (``part``) in the active language: from the system's
    texts in ``data`` when it wrote them, else ``stored`` as it is (what a person typed)."""
    texts = data.get("texts", {}).get(part)
    if texts is None:
        return stored
    return "\n".join(str(SystemText.from_data(text)) for text in texts)


def _shown(value: str | Money | SystemText) -> str:
    if isinstance(value, Money):
        return money.format_money(value.amount, value.currency, translation.get_language() or "en")
    return str(value)


def _stored(value: str | Money | SystemText) -> Any:
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, SystemText):
        return {"text": value.as_data()}
    return str(value)


def _loaded(value: Any) -> str | Money | SystemText:
    if isinstance(value, dict) and "amount" in value:
        return Money(Decimal(value["amount"]), str(value["currency"]))
    if isinstance(value, dict) and "text" in value:
        return SystemText.from_data(value["text"])
    return str(value)
