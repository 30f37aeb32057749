"""ScopeForm: the capitalisation filters read from a query string, turned into a Scope and back into links."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from feedback.capitalisation.forms import ScopeForm, default_period
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Theme, ThemeScheme

from .. import factories

JUNE_10 = date(2025, 6, 10)


def form_of(app, query: str, today: date = JUNE_10) -> ScopeForm:
    """The form of `/capitalisation?<query>`, read from the request's arguments as the view reads it."""
    with app.test_request_context(f"/capitalisation?{query}"):
        form = ScopeForm(today=today)
        form.validate()
    return form


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 6, 10), (date(2024, 6, 11), date(2025, 6, 10))),
        (date(2025, 1, 1), (date(2024, 1, 2), date(2025, 1, 1))),
        (date(2024, 2, 29), (date(2023, 3, 1), date(2024, 2, 29))),  # a year before 29 February: 28 February
        (date(2025, 3, 1), (date(2024, 3, 2), date(2025, 3, 1))),
    ],
)
def test_default_period_is_the_last_twelve_months_up_to_today(today, expected):
    assert default_period(today) == expected


def test_no_filter_gives_the_default_period_and_public_threads_only(app, db):
    form = form_of(app, "")
    assert form.errors == {}
    assert form.to_scope(allow_restricted=True) == Scope(date_from=date(2024, 6, 11), date_to=date(2025, 6, 10))
    assert form.query_args() == {"du": "2024-06-11", "au": "2025-06-10"}


def test_every_filter_reaches_the_scope(app, db):
    p1 = factories.create_organisation(name="DDT du Loiret")
    p2 = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    query = (
        f"du=2025-04-01&au=2025-06-30&type=data_request&type=missing_data&producteur={p2.slug}"
        f"&producteur={p1.slug}&theme=hy&theme=lc&territoire=R24&territoire=D58&usage=gemapi&usage=scot&restreints=y"
    )
    form = form_of(app, query)
    assert form.errors == {}
    expected = Scope(
        date_from=date(2025, 4, 1),
        date_to=date(2025, 6, 30),
        kinds=("data_request", "missing_data"),
        producer_ids=(p2.id, p1.id),
        theme_codes=("hy", "lc"),
        territory_codes=("R24", "D58"),
        use_cases=("gemapi", "scot"),
        include_restricted=True,
    )
    assert form.to_scope(allow_restricted=True) == expected
    assert form.query_args() == {
        "du": "2025-04-01",
        "au": "2025-06-30",
        "type": ["data_request", "missing_data"],
        "producteur": [p2.slug, p1.slug],
        "theme": ["hy", "lc"],
        "territoire": ["R24", "D58"],
        "usage": ["gemapi", "scot"],
        "restreints": "1",
    }


def test_restricted_threads_need_both_the_box_and_the_right(app, db):
    asked = form_of(app, "du=2025-04-01&au=2025-06-30&restreints=y")
    assert asked.to_scope(allow_restricted=False).include_restricted is False
    assert asked.to_scope(allow_restricted=True).include_restricted is True
    not_asked = form_of(app, "du=2025-04-01&au=2025-06-30")
    assert not_asked.to_scope(allow_restricted=True).include_restricted is False


def test_an_ecospheres_theme_code_is_accepted(app, db):
    code = db.session.scalars(sa.select(Theme.code).where(Theme.scheme == ThemeScheme.ECOSPHERES).limit(1)).one()
    form = form_of(app, f"theme={code}")
    assert form.errors == {}
    assert form.to_scope(allow_restricted=False).theme_codes == (code,)


def test_unknown_values_are_reported_in_french_and_left_out(app, db):
    p1 = factories.create_organisation(name="DDT du Loiret")
    consultancy = factories.create_organisation(name="Hydro-Conseil", is_producer=False)
    query = (
        f"producteur={p1.slug}&producteur=ddt-inconnue&producteur={consultancy.slug}&type=rumeur&type=question"
        "&theme=zz&territoire=D999&usage=pique-nique"
    )
    form = form_of(app, query)
    assert form.errors == {
        "producteur": ["Service producteur inconnu : « ddt-inconnue », « hydro-conseil »."],
        "type": ["Type de fil inconnu : « rumeur »."],
        "theme": ["Thème inconnu : « zz »."],
        "territoire": ["Territoire inconnu : « D999 »."],
        "usage": ["Cas d'usage inconnu : « pique-nique »."],
    }
    scope = form.to_scope(allow_restricted=False)
    assert (scope.producer_ids, scope.kinds, scope.theme_codes, scope.territory_codes, scope.use_cases) == (
        (p1.id,),
        ("question",),
        (),
        (),
        (),
    )
    assert form.query_args() == {"du": "2024-06-11", "au": "2025-06-10", "type": ["question"], "producteur": [p1.slug]}


def test_a_start_alone_runs_to_today_and_an_end_alone_from_the_origin(app, db):
    start_only = form_of(app, "du=2025-03-01")
    assert start_only.period() == (date(2025, 3, 1), JUNE_10)
    end_only = form_of(app, "au=2025-03-31")
    assert end_only.period() == (None, date(2025, 3, 31))
    assert end_only.query_args() == {"au": "2025-03-31"}


def test_an_inverted_or_malformed_period_is_an_error_and_falls_back_to_the_default(app, db):
    inverted = form_of(app, "du=2025-06-30&au=2025-04-01")
    assert inverted.errors == {
        "au": [
            "la fin de la période (01/04/2025) précède son début (30/06/2025) : les chiffres sont ceux des douze "
            "derniers mois."
        ]
    }
    assert inverted.period() == (date(2024, 6, 11), date(2025, 6, 10))
    malformed = form_of(app, "du=31/04/2025")
    assert list(malformed.errors) == ["du"]
    assert malformed.period() == (date(2024, 6, 11), date(2025, 6, 10))


def test_the_dashboard_names_the_field_of_a_bad_date(app, client, db):
    page = client.get("/capitalisation?du=2025-13-45&au=2025-06-30").get_data(as_text=True)

    assert "Des filtres sont ignorés" in page
    assert "Reçus à partir du : N&#39;est pas une date valide." in page


def test_repeated_and_blank_values_count_once(app, db):
    form = form_of(app, "type=question&type=question&type=&usage=%20gemapi%20&usage=gemapi")
    scope = form.to_scope(allow_restricted=False)
    assert (scope.kinds, scope.use_cases) == (("question",), ("gemapi",))


def test_the_form_reads_given_form_data_too(app, db):
    with app.test_request_context("/"):
        form = ScopeForm(MultiDict([("du", "2025-01-01"), ("au", "2025-01-31")]), today=JUNE_10)
        assert form.validate()
    assert form.to_scope(allow_restricted=False) == Scope(date_from=date(2025, 1, 1), date_to=date(2025, 1, 31))
