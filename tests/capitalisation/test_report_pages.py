"""The report pages: who sees what, editing a draft with and without htmx, publishing, the frozen exports."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import pytest
import sqlalchemy as sa

from feedback.accounts.models import Role
from feedback.capitalisation import services
from feedback.capitalisation.models import Report
from feedback.extensions import db
from feedback.threads import services as thread_services
from feedback.threads.models import ThreadKind, ThreadStatus

from .. import factories
from .conftest import NOW, QUARTER, _post, at

HTMX = {"HX-Request": "true"}
CSV_NAMES = {
    "totals.csv",
    "by_month.csv",
    "producers.csv",
    "declines.csv",
    "quality.csv",
    "datasets.csv",
    "demand.csv",
    "demand_groups.csv",
    "use_cases.csv",
    "recommendations.csv",
}


@pytest.fixture
def curator(capi):
    return factories.create_user(name="Célia Curatrice", role=Role.CURATOR)


@pytest.fixture
def draft(capi, curator) -> Report:
    report = services.create_report(curator, "Bilan du trimestre", QUARTER, now=NOW)
    db.session.commit()
    return report


@pytest.fixture
def published(capi, curator) -> Report:
    report = services.create_report(curator, "Bilan publié", QUARTER, now=NOW)
    services.publish_report(report, curator, NOW)
    db.session.commit()
    return report


def text(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_sees_published_reports_only(client, draft, published):
    page = text(client.get("/rapports"))
    assert "Bilan publié" in page and "Bilan du trimestre" not in page and "Brouillons" not in page
    assert client.get(f"/rapports/{draft.slug}").status_code == 404
    for suffix in (".json", ".md", ".csv.zip", "/impression"):
        assert client.get(f"/rapports/{draft.slug}{suffix}").status_code == 404
    assert client.get(f"/rapports/{published.slug}").status_code == 200
    assert client.get("/rapports/nouveau").status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/recommandations", {"new-title": "x", "new-priority": "low"}),
        ("/regeneration", {}),
        ("/publication", {}),
    ],
)
def test_no_one_but_a_curator_changes_a_draft(client, login, capi, draft, path, data):
    assert client.post(f"/rapports/{draft.slug}{path}", data=data).status_code == 401
    login(capi.m1)
    assert client.post(f"/rapports/{draft.slug}{path}", data=data).status_code == 403
    assert client.get(f"/rapports/{draft.slug}").status_code == 404
    assert client.get("/rapports/nouveau").status_code == 403
    db.session.expire_all()
    titles = [r.title for r in db.session.get(Report, draft.id).recommendations]
    assert len(titles) == 2 and titles[0].startswith("Organiser")
    assert not db.session.get(Report, draft.id).is_published


def test_curator_creates_a_draft_from_the_dashboard_filters(client, login, capi, curator):
    login(curator)
    page = client.get("/rapports/nouveau?du=2025-04-01&au=2025-06-30&producteur=ddt-du-loiret")
    assert page.status_code == 200
    assert 'action="/rapports/nouveau?du=2025-04-01&amp;au=2025-06-30&amp;producteur=ddt-du-loiret"' in text(page)
    response = client.post(
        "/rapports/nouveau?du=2025-04-01&au=2025-06-30&producteur=ddt-du-loiret", data={"title": "Loiret T2"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/rapports/loiret-t2"
    report = db.session.scalar(sa.select(Report).where(Report.slug == "loiret-t2"))
    assert report.scope["from"] == "2025-04-01" and report.scope["producer_ids"] == [capi.p1.id]
    # without a title the form comes back with its message
    page = client.post("/rapports/nouveau?du=2025-04-01&au=2025-06-30", data={"title": ""})
    assert page.status_code == 200 and "Donnez un titre au rapport." in text(page)


def test_curator_creates_a_restitution_report(client, login, capi, curator):
    login(curator)
    response = client.post(
        "/rapports/nouveau/restitution?du=2025-04-01&au=2025-06-30", data={"restitution-producer": "ddt-de-la-nievre"}
    )
    assert response.status_code == 303
    report = db.session.scalar(sa.select(Report).where(Report.producer_id == capi.p2.id))
    page = text(client.get(response.headers["Location"]))
    assert "DDT de la Nièvre et la médiane nationale" in page
    assert report.title == "Rapport de restitution — DDT de la Nièvre"


def test_draft_shows_live_figures(client, login, capi, curator, draft):
    login(curator)
    before = json.loads(client.get(f"/rapports/{draft.slug}.json").data)
    assert before["totals"]["threads"] == 13 and before["report"]["status"] == "draft"
    _post(capi.u1, ThreadKind.QUESTION, "Encore une question", at(2025, 5, 2), dataset=capi.d1)
    db.session.commit()
    after = json.loads(client.get(f"/rapports/{draft.slug}.json").data)
    assert after["totals"]["threads"] == 14
    page = text(client.get(f"/rapports/{draft.slug}"))
    assert "Brouillon" in page and "Organiser le traitement des demandes de données — DDT du Loiret" in page


def test_edit_recommendations_without_javascript(client, login, capi, curator, draft):
    login(curator)
    first, second = sorted(draft.recommendations, key=lambda r: r.position)
    base = f"/rapports/{draft.slug}/recommandations"
    response = client.post(
        f"{base}/{first.id}",
        data={
            f"r{first.id}-title": "Tenir le délai d'un mois",
            f"r{first.id}-text": "Un **référent**.",
            f"r{first.id}-priority": "medium",
            f"r{first.id}-audience": "ddt-du-loiret",
        },
    )
    assert response.status_code == 303
    assert (
        client.post(base, data={"new-title": "À la main", "new-priority": "low", "new-audience": ""}).status_code == 303
    )
    assert client.post(f"{base}/{second.id}/deplacement", data={"direction": "up"}).status_code == 303
    assert client.post(f"{base}/{first.id}/suppression").status_code == 303
    db.session.expire_all()
    report = db.session.get(Report, draft.id)
    assert [(r.title, r.edited) for r in report.recommendations] == [
        ("Envisager de produire ou d'ouvrir les données demandées : « Zones humides de la Nièvre »", False),
        ("À la main", False),
    ]
    # an empty title is refused next to the field
    page = client.post(base, data={"new-title": "", "new-priority": "low"})
    assert page.status_code == 200 and "Donnez un titre à la recommandation." in text(page)


def test_edit_recommendations_with_htmx_returns_the_list_only(client, login, curator, draft):
    login(curator)
    response = client.post(
        f"/rapports/{draft.slug}/recommandations",
        data={"new-title": "Former les services", "new-text": "Une session.", "new-priority": "high"},
        headers=HTMX,
    )
    body = text(response)
    assert response.status_code == 200 and "HX-Request" in response.headers.get("Vary", "")
    assert body.lstrip().startswith('<section class="report-section" id="recommandations"')
    assert "<html" not in body and "La recommandation est ajoutée." in body
    assert "Recommandations (3)" in body
    response = client.post(f"/rapports/{draft.slug}/regeneration", headers=HTMX)
    assert "Recommandations régénérées : 2 tirées des chiffres actuels." in text(response)
    assert "Recommandations (3)" in text(response)
    # an error keeps the form, as a 200 that htmx swaps
    response = client.post(f"/rapports/{draft.slug}/recommandations", data={"new-title": ""}, headers=HTMX)
    assert response.status_code == 200 and "Donnez un titre à la recommandation." in text(response)


def test_publish_then_the_page_and_exports_never_change(client, login, capi, curator, draft):
    login(curator)
    response = client.post(f"/rapports/{draft.slug}/publication")
    assert response.status_code == 303
    client.post("/deconnexion")
    client.get("/rapports")  # shows the flashed messages, which the pages compared below must not carry
    paths = [f"/rapports/{draft.slug}{suffix}" for suffix in ("", ".json", ".md", ".csv.zip", "/impression")]
    before = {path: client.get(path).data for path in paths}
    assert all(client.get(path).status_code == 200 for path in paths)
    # a new thread, a status change: nothing of the published report moves
    _post(capi.u1, ThreadKind.DATA_REQUEST, "Nouvelle demande", at(2025, 5, 2), dataset=capi.d1)
    thread_services.change_status(capi.t["t14"], capi.m2, ThreadStatus.RESOLVED)
    db.session.commit()
    assert {path: client.get(path).data for path in paths} == before
    # and publishing is refused from then on
    login(curator)
    response = client.post(f"/rapports/{draft.slug}/publication")
    assert response.status_code == 303
    assert "ne peut plus être modifié" in text(client.get(response.headers["Location"]))


def test_exports_are_well_formed(client, capi, published):
    data = json.loads(client.get(f"/rapports/{published.slug}.json").data)
    assert data["report"]["title"] == "Bilan publié" and data["totals"]["threads"] == 13
    markdown = text(client.get(f"/rapports/{published.slug}.md"))
    assert markdown.startswith("# Bilan publié\n")
    assert "## Recommandations" in markdown
    assert "1. **Organiser le traitement des demandes de données — DDT du Loiret**" in markdown
    response = client.get(f"/rapports/{published.slug}.csv.zip")
    assert response.mimetype == "application/zip"
    assert "filename=bilan-publie.csv.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert set(archive.namelist()) == CSV_NAMES | {"LISEZMOI.txt"}
        assert (
            archive.read("recommendations.csv")
            .decode("utf-8-sig")
            .splitlines()[1]
            .startswith("1;overdue_requests;ddt-du-loiret")
        )


def test_printable_page_loads_the_print_stylesheet(client, published):
    page = text(client.get(f"/rapports/{published.slug}/impression"))
    assert 'href="/static/print.css?v=' in page and '" media="print"' in page  # the file's version in its address
    assert "Version imprimable" not in page  # no buttons on the printed version


def test_restricted_threads_never_reach_a_published_page(client, login, capi, curator):
    report = services.create_report(curator, "Interne", replace(QUARTER, include_restricted=True), now=NOW)
    db.session.commit()
    login(curator)
    assert json.loads(client.get(f"/rapports/{report.slug}.json").data)["totals"]["threads"] == 14
    client.post(f"/rapports/{report.slug}/publication")
    client.post("/deconnexion")
    data = json.loads(client.get(f"/rapports/{report.slug}.json").data)
    assert data["totals"]["threads"] == 13
    t5 = capi.t["t5"].id
    assert all(t5 not in r["evidence"]["thread_ids"] for r in data["recommendations"])
    assert f"/fils/{t5}" not in text(client.get(f"/rapports/{report.slug}"))


def test_a_producer_finds_the_reports_of_its_organisation(client, login, capi, curator, published):
    other = services.create_report(curator, "Nièvre seule", replace(QUARTER, producer_ids=(capi.p2.id,)), now=NOW)
    services.publish_report(other, curator, NOW)
    db.session.commit()
    login(capi.m1)
    inbox = text(client.get("/boite-de-reception"))
    assert 'href="/rapports?pour=moi"' in inbox
    # The inbox lists the latest of them itself.
    assert f'<a href="/rapports/{published.slug}">Bilan publié</a>' in inbox
    assert "Nièvre seule" not in inbox
    mine = text(client.get("/rapports?pour=moi"))
    # P1 is the audience of the first report's overdue recommendation; the second is about P2 only
    assert "Bilan publié" in mine and "Nièvre seule" not in mine
