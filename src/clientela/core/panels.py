"""Panels on a customer's card, contributed by other apps (deals, balance, tickets, documents...).

An app registers a panel in its ``AppConfig.ready()``; the card renders every panel registered for
its record type, in ``order``. The card never imports the apps that extend it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class CardPanel:
    template: str  # rendered inside the card's context, with the context below and "record" added
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]  # None hides the panel
    entities: tuple[str, ...] = ("person", "company")
    column: str = "side"  # "side" (left column) or "main" (above the timeline)
    order: int = 100


PANELS: list[CardPanel] = []


def register_card_panel(panel: CardPanel) -> None:
    PANELS.append(panel)
    PANELS.sort(key=lambda p: p.order)


def panels_for(entity: str, column: str) -> list[CardPanel]:
    return [p for p in PANELS if entity in p.entities and p.column == column]
