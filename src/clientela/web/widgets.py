"""Form widgets the apps' forms share."""

from __future__ import annotations

from django import forms


def date_input() -> forms.DateInput:
    """The browser's date picker. Its value is written in ISO 8601 whatever the reader's language: a
    localised value ("29.02.1980") is one the picker cannot show, and the form would send it back empty,
    erasing the date."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def datetime_input() -> forms.DateTimeInput:
    """The browser's date and time picker, ISO 8601 for the same reason as ``date_input``."""
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
