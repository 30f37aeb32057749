"""A small scene of threads with known dates, for figures computed by hand.

Threads are posted through `feedback.threads.services` with explicit receipt and answer times; the status
changes that the services date "now" (closing, declining) do not matter to the figures, which read the
status, the receipt (`created_at`) and the first answer (`first_response_at`).

The report period is the second quarter of 2025 in Paris: 2025-04-01 to 2025-06-30 (91 days), whose
previous period is 2024-12-31 to 2025-03-31 (91 days too). Overdue is judged at NOW, 2025-07-15 12:00 UTC.
French public holidays in the period: Easter Monday 21 April, 1 and 8 May, Ascension Thursday 29 May,
Whit Monday 9 June. Times are UTC; Paris is UTC+2 from 30 March to 26 October 2025, UTC+1 before.

| thread | kind | producer | received (UTC) | first answer | status | votes | notes |
|---|---|---|---|---|---|---|---|
| t0a | question | P1 (d1) | 03-10 09:00 | — | new | 0 | previous period |
| t0b | quality dead_link | P2 (d3) | 01-15 09:00 | — | new | 0 | previous period |
| t12 | question | P2 (d3) | 03-31 22:30 | — | new | 0 | 1 April 00:30 in Paris: in the period |
| t8 | missing hy D58 | P2 | 04-07 08:00 | 04-08 08:00 | acknowledged | 0 | "Zones humides de la Nièvre" |
| t14 | data_request | P2 (d3) | 04-09 08:00 | — | new | 0 | no territory; due 05-09: overdue |
| t1 | data_request D45 | P1 (d1) | 04-14 08:00 | 04-23 08:00 | resolved | 2 | + an internal note |
| t2 | data_request D45 | P1 (d1) | 04-28 08:00 | 06-02 08:00 | in_progress | 0 | due 05-28: answered late |
| t3 | quality dead_link | P1 (d1) | 05-05 08:00 | — | new | 1 | |
| t4 | quality outdated | P1 (d2) | 05-06 10:00 | 05-07 10:00 | acknowledged | 0 | |
| t5 | data_request D45 | P1 (d1) | 05-12 08:00 | — | new | 0 | restricted: out of public figures |
| t11 | missing lc D18 | none | 05-15 08:00 | — | new | 0 | "Haies bocagères du Cher" |
| t9 | missing hy D58 | P2 | 05-20 08:00 | 05-30 08:00 | declined not_held | 0 | "Zones inondables de la Nièvre" |
| t6 | data_request D45 | P1 (d2) | 06-02 08:00 | 06-10 08:00 | declined confidential | 0 | |
| t7 | missing hy D45 | P1 | 06-16 08:00 | — | new | 2 | "Inventaire des zones humides du Loiret" |
| t10 | question | P2 (d3) | 06-20 08:00 | — | new | 0 | |
| t15 | data_request D45 | P1 (d2) | 06-25 08:00 | — | new | 0 | due 07-25: not yet overdue |
| t13 | question | P1 (d1) | 06-30 22:30 | — | new | 0 | 1 July in Paris: after the period |

All in 2025. Use cases: t1 and t2 impact_study, t8 and t7 gemapi, t11 green_blue_grid.

Datasets: d1 "Zones humides et cours d'eau du Loiret" (P1, INSPIRE hy, D45), d2 "Plan de prévention des
risques du Loiret" (P1, nz, D45), d3 "Cours d'eau de la Nièvre" (P2, hy, D58).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from feedback.accounts import models as accounts_models
from feedback.accounts.models import Organisation, User
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Territory, Theme, ThemeScheme
from feedback.extensions import db as _db
from feedback.threads import services
from feedback.threads.models import DeclineReason, Thread, ThreadKind, ThreadStatus

from .. import factories

NOW = datetime(2025, 7, 15, 12, 0, tzinfo=UTC)
QUARTER = Scope(date_from=date(2025, 4, 1), date_to=date(2025, 6, 30))


def at(year, month, day, hour=8, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Capitalisation:
    p1: Organisation  # DDT du Loiret
    p2: Organisation  # DDT de la Nièvre
    consultancy: Organisation  # not a producer
    m1: User
    m2: User
    u1: User
    u2: User
    u3: User
    d1: Dataset
    d2: Dataset
    d3: Dataset
    t: dict[str, Thread]


def _theme(code: str) -> Theme:
    return _db.session.scalars(sa.select(Theme).where(Theme.scheme == ThemeScheme.INSPIRE, Theme.code == code)).one()


def _post(
    author,
    kind,
    title,
    received,
    *,
    dataset=None,
    organisation=None,
    category=None,
    territory=None,
    themes=(),
    use_case=None,
    restricted=False,
) -> Thread:
    return services.create_thread(
        author,
        services.NewThread(
            kind=kind,
            title=title,
            body="Bonjour, voici ma demande.",
            dataset=dataset,
            organisation=organisation,
            quality_category=category,
            territory=_db.session.get(Territory, territory) if territory else None,
            themes=[_theme(code) for code in themes],
            use_case=use_case,
            restricted=restricted,
        ),
        created_at=received,
    )


@pytest.fixture
def capi(db, monkeypatch) -> Capitalisation:
    monkeypatch.setattr(
        accounts_models, "generate_password_hash", lambda password: generate_password_hash(password, "pbkdf2:sha256:1")
    )
    p1 = factories.create_organisation(name="DDT du Loiret", territory_code="D45")
    p2 = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
    consultancy = factories.create_organisation(name="Hydro-Conseil", territory_code=None, is_producer=False)
    m1 = factories.create_user(name="Mathilde Loiret", organisation=p1)
    m2 = factories.create_user(name="Marc Nièvre", organisation=p2)
    u1 = factories.create_user(name="Alice Usagère")
    u2 = factories.create_user(name="Bruno Usager")
    u3 = factories.create_user(name="Chloé Usagère")
    d1 = factories.create_dataset(
        title="Zones humides et cours d'eau du Loiret", organisation=p1, inspire_themes=["hy"], territories=["D45"]
    )
    d2 = factories.create_dataset(
        title="Plan de prévention des risques du Loiret", organisation=p1, inspire_themes=["nz"], territories=["D45"]
    )
    d3 = factories.create_dataset(
        title="Cours d'eau de la Nièvre", organisation=p2, inspire_themes=["hy"], territories=["D58"]
    )
    Q, DR, QI, MD = ThreadKind.QUESTION, ThreadKind.DATA_REQUEST, ThreadKind.QUALITY_ISSUE, ThreadKind.MISSING_DATA
    t: dict[str, Thread] = {}

    t["t0a"] = _post(u1, Q, "Source des zones humides", at(2025, 3, 10, 9), dataset=d1)
    t["t0b"] = _post(u2, QI, "Lien mort sur les cours d'eau", at(2025, 1, 15, 9), dataset=d3, category="dead_link")
    t["t12"] = _post(u2, Q, "Date de mise à jour", at(2025, 3, 31, 22, 30), dataset=d3)

    t["t8"] = _post(
        u1,
        MD,
        "Zones humides de la Nièvre",
        at(2025, 4, 7),
        organisation=p2,
        themes=["hy"],
        territory="D58",
        use_case="gemapi",
    )
    services.post_message(t["t8"], m2, "Nous regardons.", posted_at=at(2025, 4, 8))

    t["t14"] = _post(u1, DR, "Relevés piézométriques", at(2025, 4, 9), dataset=d3)

    t["t1"] = _post(
        u1,
        DR,
        "Débits des cours d'eau au format CSV",
        at(2025, 4, 14),
        dataset=d1,
        territory="D45",
        use_case="impact_study",
    )
    services.post_message(t["t1"], m1, "Note interne.", internal=True, posted_at=at(2025, 4, 15))
    services.post_message(t["t1"], m1, "Voici le fichier.", posted_at=at(2025, 4, 23))
    services.change_status(t["t1"], m1, ThreadStatus.RESOLVED)
    services.toggle_vote(t["t1"], u2)
    services.toggle_vote(t["t1"], u3)

    t["t2"] = _post(
        u2, DR, "Obstacles à l'écoulement", at(2025, 4, 28), dataset=d1, territory="D45", use_case="impact_study"
    )
    services.post_message(t["t2"], m1, "Nous y travaillons.", posted_at=at(2025, 6, 2))
    services.change_status(t["t2"], m1, ThreadStatus.IN_PROGRESS)

    t["t3"] = _post(u1, QI, "Lien de téléchargement mort", at(2025, 5, 5), dataset=d1, category="dead_link")
    services.toggle_vote(t["t3"], u2)

    t["t4"] = _post(u3, QI, "Données de 2019", at(2025, 5, 6, 10), dataset=d2, category="outdated")
    services.post_message(t["t4"], m1, "Mise à jour prévue.", posted_at=at(2025, 5, 7, 10))

    t["t5"] = _post(u3, DR, "Captages confidentiels", at(2025, 5, 12), dataset=d1, territory="D45", restricted=True)

    t["t11"] = _post(
        u2, MD, "Haies bocagères du Cher", at(2025, 5, 15), themes=["lc"], territory="D18", use_case="green_blue_grid"
    )

    t["t9"] = _post(
        u3, MD, "Zones inondables de la Nièvre", at(2025, 5, 20), organisation=p2, themes=["hy"], territory="D58"
    )
    services.post_message(t["t9"], m2, "Nous ne la détenons pas.", posted_at=at(2025, 5, 30))
    services.change_status(
        t["t9"], m2, ThreadStatus.DECLINED, decline_reason=DeclineReason.NOT_HELD.value, motive="Voyez la DREAL."
    )

    t["t6"] = _post(u3, DR, "Plan de prévention des risques au format SIG", at(2025, 6, 2), dataset=d2, territory="D45")
    services.post_message(t["t6"], m1, "Nous étudions.", posted_at=at(2025, 6, 10))
    services.change_status(
        t["t6"], m1, ThreadStatus.DECLINED, decline_reason=DeclineReason.CONFIDENTIAL.value, motive="Secret."
    )

    t["t7"] = _post(
        u2,
        MD,
        "Inventaire des zones humides du Loiret",
        at(2025, 6, 16),
        organisation=p1,
        themes=["hy"],
        territory="D45",
        use_case="gemapi",
    )
    services.toggle_vote(t["t7"], u1)
    services.toggle_vote(t["t7"], u3)

    t["t10"] = _post(u1, Q, "Projection utilisée", at(2025, 6, 20), dataset=d3)
    t["t15"] = _post(u2, DR, "Servitudes d'utilité publique", at(2025, 6, 25), dataset=d2, territory="D45")
    t["t13"] = _post(u1, Q, "Question de juillet", at(2025, 6, 30, 22, 30), dataset=d1)
    _db.session.commit()
    return Capitalisation(p1, p2, consultancy, m1, m2, u1, u2, u3, d1, d2, d3, t)
