"""The filters of the capitalisation pages, read from the query string: the dashboard and the reports build
the same `Scope` from the same arguments, so that a link carries a scope from one page to the other."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import request
from wtforms import BooleanField, DateField, SelectMultipleField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from feedback.accounts.models import Organisation
from feedback.capitalisation.scope import Scope
from feedback.catalogue import queries as catalogue_queries
from feedback.catalogue.models import Territory, Theme, ThemeScheme
from feedback.clock import paris_today
from feedback.extensions import db
from feedback.forms import Form
from feedback.input_limits import EARLIEST_DAY, LATEST_DAY, clamp_day
from feedback.threads.models import ThreadKind, UseCase

# How many values one multiple filter takes: enough for any real scope, few enough to keep the SQL small.
MAX_VALUES = 50
SEVERAL = "Plusieurs choix possibles (Ctrl ou Cmd + clic)."
OUT_OF_CALENDAR = f"Indiquez un jour entre le {EARLIEST_DAY:%d/%m/%Y} et le {LATEST_DAY:%d/%m/%Y}"


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months up to `today` included: 11 June 2024 – 10 June 2025 on 10 June 2025 (a new
    platform's first threads show at once)."""
    return today - relativedelta(years=1) + timedelta(days=1), today


class CheckboxesField(SelectMultipleField):
    """A few values to tick: checkboxes read better than a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ScopeForm(Form):
    """The scope filters of a GET query string. Unknown values are reported next to their field and left out
    of the scope; a period without dates is the last twelve months up to today."""

    class Meta:
        csrf = False

    du = DateField("Reçus à partir du", validators=[Optional()], format="%Y-%m-%d")
    au = DateField("Reçus jusqu'au", validators=[Optional()], format="%Y-%m-%d")
    type = CheckboxesField("Types de fils", choices=[(k.value, k.label) for k in ThreadKind], validate_choice=False)
    producteur = SelectMultipleField("Services producteurs", description=SEVERAL, choices=[], validate_choice=False)
    theme = SelectMultipleField(
        "Thèmes", description=f"Un thème inclut ses sous-thèmes. {SEVERAL}", choices=[], validate_choice=False
    )
    territoire = SelectMultipleField(
        "Territoires", description=f"Une région inclut ses départements. {SEVERAL}", choices=[], validate_choice=False
    )
    usage = SelectMultipleField(
        "Cas d'usage", description=SEVERAL, choices=[(u.value, u.label) for u in UseCase], validate_choice=False
    )
    restreints = BooleanField("Compter les demandes restreintes (chiffres internes, à ne pas publier)")

    def __init__(self, formdata=None, *, today: date | None = None, **kwargs):
        super().__init__(formdata=request.args if formdata is None else formdata, **kwargs)
        self.today = today or paris_today()
        self._producers: dict[str, int] | None = None
        self._known_values: dict[str, set[str]] = {}

    # Choices ------------------------------------------------------------------------------------------

    def fill_choices(self) -> None:
        """The lists of producers, themes and territories, for a page that shows the form (three queries)."""
        self.producteur.choices = catalogue_queries.producer_choices()
        inspire: list[tuple[str, str]] = []
        ecospheres: list[tuple[str, str]] = []
        for code, label, scheme in db.session.execute(
            sa.select(Theme.code, Theme.label, Theme.scheme).where(Theme.parent_id.is_(None)).order_by(Theme.label)
        ):
            (inspire if scheme == ThemeScheme.INSPIRE else ecospheres).append((code, label))
        self.theme.choices = [*ecospheres, *((code, f"{label} (INSPIRE)") for code, label in inspire)]
        self.territoire.choices = [
            (t.code, ("\u00a0\u00a0" if t.kind == "departement" else "") + t.label)
            for t in catalogue_queries.territory_choices()
        ]

    # Validation ---------------------------------------------------------------------------------------

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for day in (self.du, self.au):
            if isinstance(day.data, date) and clamp_day(day.data) != day.data:
                shown = f"{day.data.day:02}/{day.data.month:02}/{day.data.year:04}"  # %Y writes year 1 as "1"
                day.errors = [*day.errors, f"{OUT_OF_CALENDAR} : le {shown} est ignoré."]
                day.data = None
                valid = False
        if self.du.data and self.au.data and self.du.data > self.au.data:
            self.au.errors.append(
                f"la fin de la période ({self.au.data:%d/%m/%Y}) précède son début ({self.du.data:%d/%m/%Y}) : "
                "les chiffres sont ceux des douze derniers mois."
            )
            valid = False
        checks = (
            (self.type, {k.value for k in ThreadKind}, "Type de fil inconnu"),
            (self.usage, {u.value for u in UseCase}, "Cas d'usage inconnu"),
            (self.producteur, set(self.producer_ids()), "Service producteur inconnu"),
            (self.theme, self._known(self.theme), "Thème inconnu"),
            (self.territoire, self._known(self.territoire), "Territoire inconnu"),
        )
        for field, known, message in checks:
            values = _values(field)
            if len(values) > MAX_VALUES:
                field.errors.append(f"{MAX_VALUES} valeurs au plus.")
                valid = False
            unknown = [v for v in values if v not in known]
            if unknown:
                field.errors.append(f"{message} : {', '.join(f'« {v} »' for v in unknown)}.")
                valid = False
        return valid

    def _known(self, field) -> set[str]:
        """The theme or territory codes asked for that exist (one query per field, then kept)."""
        if field.name not in self._known_values:
            column = Theme.code if field is self.theme else Territory.code
            values = _values(field)[:MAX_VALUES]
            self._known_values[field.name] = (
                set(db.session.scalars(sa.select(column).where(column.in_(values)))) if values else set()
            )
        return self._known_values[field.name]

    def producer_ids(self) -> dict[str, int]:
        """The producers asked for that exist, by slug (one query, then kept)."""
        if self._producers is None:
            slugs = _values(self.producteur)
            self._producers = (
                dict(
                    db.session.execute(
                        sa.select(Organisation.slug, Organisation.id).where(
                            Organisation.slug.in_(slugs), Organisation.is_producer
                        )
                    ).all()
                )
                if slugs
                else {}
            )
        return self._producers

    # The scope ----------------------------------------------------------------------------------------

    def period(self) -> tuple[date | None, date | None]:
        """The period asked for: both dates, or from `du` to today, or up to `au`; none: the last twelve months
        up to today. An inverted period is replaced by the default one (and `validate` says so)."""
        start = self.du.data if isinstance(self.du.data, date) else None
        end = self.au.data if isinstance(self.au.data, date) else None
        if start is None and end is None:
            return default_period(self.today)
        if start is not None and end is None:
            end = max(start, self.today)
        if start is not None and end is not None and start > end:
            return default_period(self.today)
        return start, end

    def to_scope(self, *, allow_restricted: bool) -> Scope:
        """The scope of the filters; restricted threads only when the form asks and `allow_restricted`."""
        known_kinds = {k.value for k in ThreadKind}
        known_use_cases = {u.value for u in UseCase}
        producers = self.producer_ids()
        start, end = self.period()
        return Scope(
            date_from=start,
            date_to=end,
            kinds=tuple(v for v in _values(self.type) if v in known_kinds),
            producer_ids=tuple(producers[slug] for slug in _values(self.producteur) if slug in producers),
            theme_codes=tuple(v for v in _values(self.theme)[:MAX_VALUES] if v in self._known(self.theme)),
            territory_codes=tuple(
                v for v in _values(self.territoire)[:MAX_VALUES] if v in self._known(self.territoire)
            ),
            use_cases=tuple(v for v in _values(self.usage) if v in known_use_cases),
            include_restricted=allow_restricted and bool(self.restreints.data),
        )

    def query_args(self) -> dict:
        """The filters as query arguments (lists for the multiple ones), the period written out: for
        `url_for(..., **form.query_args())`."""
        start, end = self.period()
        producers = self.producer_ids()
        args: dict = {"du": start.isoformat() if start else None, "au": end.isoformat() if end else None}
        args["type"] = [v for v in _values(self.type) if v in {k.value for k in ThreadKind}]
        args["producteur"] = [slug for slug in _values(self.producteur) if slug in producers]
        args["theme"] = [v for v in _values(self.theme)[:MAX_VALUES] if v in self._known(self.theme)]
        args["territoire"] = [v for v in _values(self.territoire)[:MAX_VALUES] if v in self._known(self.territoire)]
        args["usage"] = [v for v in _values(self.usage) if v in {u.value for u in UseCase}]
        if self.restreints.data:
            args["restreints"] = "1"
        return {key: value for key, value in args.items() if value}


def _values(field) -> list[str]:
    """A multiple field's values, stripped, without blanks or repeats, in the order given."""
    return list(dict.fromkeys(v.strip() for v in (field.data or []) if v and v.strip()))
