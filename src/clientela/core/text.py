"""Text folding shared by search and dedupe: case- and accent-insensitive, the same on every database."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w@.+-]+", re.UNICODE)
# Letters that do not decompose into a base letter and a combining mark.
_SPECIAL = str.maketrans({"ß": "ss", "ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "\u0131": "i"})


def fold(text: str) -> str:
    """Lower-case, strip accents (Szabó -> szabo, Ștefănescu -> stefanescu) and squeeze separators."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
