"""French dates and numbers for the templates (babel), in the Europe/Paris time zone."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from feedback.clock import PARIS

# Parsed once: a locale named by its string is looked up again on every call.
LOCALE = Locale.parse("fr_FR")


def french_date(value: date | datetime | str | None, format: str = "long") -> str:
    """`9 mai 2022` (a day written AAAA-MM-JJ is read first)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        return format_datetime(value, format="d MMMM y" if format == "long" else "dd/MM/y", tzinfo=PARIS, locale=LOCALE)
    return format_date(value, format=format, locale=LOCALE)


def french_datetime(value: datetime | None) -> str:
    """`9 mai 2022 à 14:05`, Paris time."""
    if value is None:
        return ""
    return format_datetime(value, format="d MMMM y 'à' HH:mm", tzinfo=PARIS, locale=LOCALE)


def french_number(value: int | float | None) -> str:
    """`38 307`, with the narrow no-break space French uses between thousands."""
    if value is None:
        return ""
    return format_decimal(value, locale=LOCALE)


def french_size(size: int) -> str:
    """A file's size as French people read it: "1,5 Mo", "820 ko"."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",").replace(",0 Mo", " Mo")
    return f"{max(1, round(size / 1024))} ko"
