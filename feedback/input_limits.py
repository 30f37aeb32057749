"""The bounds of what a request may carry, checked before any query runs: ids that fit the database's integer
columns, days within the calendar the platform computes with, text without NUL characters.

Past these bounds the database or the date arithmetic would fail (an id of twenty digits overflows SQLite's and
PostgreSQL's integers, 1 January of year 1 in Paris is in year 0 in UTC, PostgreSQL refuses a NUL in text):
the request gets a 404 (an id that cannot exist), a clamped filter (a day), a French message next to the field
(a number), or a 400 page saying what is wrong (a NUL, which nobody types: it is refused before any view reads
the request, since some look a value up before their form is validated).
"""

from __future__ import annotations

from datetime import date

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from wtforms import Field

# Every id column is an `integer` (32-bit signed on PostgreSQL).
MAX_ID = 2**31 - 1
# A period filter outside these days means "since always" / "until the end": clamped to them.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2100, 12, 31)
NUL_IN_REQUEST = (
    "Le formulaire ou l'adresse contient un caractère nul (U+0000), qui ne peut pas être enregistré. Revenez à la "
    "page précédente, retirez-le du texte (il vient souvent d'un copier-coller) et recommencez."
)
NUMBER_TOO_LARGE = f"Indiquez un nombre entier entre {-MAX_ID} et {MAX_ID}."


class IdConverter(IntegerConverter):
    """`<int:…>` in every rule: a number beyond MAX_ID matches no rule (404) instead of reaching the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def clamp_day(day: date) -> date:
    return min(max(day, EARLIEST_DAY), LATEST_DAY)


def fits_an_id(number: int) -> bool:
    return 0 < number <= MAX_ID


def field_errors(field: Field) -> list[str]:
    """What the form's own checks add to a field: a number beyond an integer column."""
    if field.type == "IntegerField" and isinstance(field.data, int) and abs(field.data) > MAX_ID:
        return [NUMBER_TOO_LARGE]
    return []


class NulInRequest(BadRequest):
    """A 400 whose description is the French message the error page shows."""

    description = NUL_IN_REQUEST
    shown_to_people = True


def refuse_nul_characters() -> None:
    """A NUL anywhere in the query string, the form or the names of the files sent: a 400, before any view
    (registered after `storage.widen_body_limit_for_files`, since it reads the body)."""
    texts = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        texts += request.form.items(multi=True)
        texts += [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]
    if any("\x00" in key or "\x00" in value for key, value in texts):
        raise NulInRequest()


def bound_ids(app: Flask) -> None:
    """Call before any rule is added: rules take their converters when they are added."""
    app.url_map.converters["int"] = IdConverter
