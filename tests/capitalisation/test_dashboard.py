"""/capitalisation: the figures of the scene of conftest.py, counted by hand, and the links to their threads.

The quarter 2025-04-01 – 2025-06-30 holds 13 public threads (t12 t8 t14 t1 t2 t3 t4 t11 t9 t6 t7 t10 t15) and
the restricted data request t5 of P1; the previous quarter (2024-12-31 – 2025-03-31) holds t0a and t0b.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from feedback.accounts.models import Role
from feedback.capitalisation import views
from feedback.extensions import db as _db

from .. import factories
from .conftest import NOW, at

QUARTER_ARGS = "du=2025-04-01&au=2025-06-30"
PUBLIC = {"t12", "t8", "t14", "t1", "t2", "t3", "t4", "t11", "t9", "t6", "t7", "t10", "t15"}
P1_PUBLIC = {"t1", "t2", "t3", "t4", "t6", "t7", "t15"}


@pytest.fixture(autouse=True)
def judged_at_now(monkeypatch):
    """Overdue is judged at the scene's NOW (t15, due 25 July 2025, is not overdue yet)."""
    monkeypatch.setattr(views, "utcnow", lambda: NOW)


@pytest.fixture
def curator(capi):
    return factories.create_user(name="Céline Curatrice", role=Role.CURATOR)


def html(response) -> str:
    return response.get_data(as_text=True)


def whole(client, url: str) -> str:
    """The dashboard at `url` and its long tables, each followed by its link as without JavaScript: the page
    with the placeholders of the tables replaced by the tables' own pages."""
    page = html(client.get(url))
    tables = re.findall(r'<a [^>]*id="(?:producers|quality|demand|groups)-link" href="([^"]+)"', page)
    assert len(tables) == 4, "the four tables are linked"
    page = re.sub(r'<section [^>]*hx-trigger="revealed".*?</section>', "", page, flags=re.S)
    for href in tables:
        response = client.get(unescape(href))
        assert response.status_code == 200
        page += html(response)
    return page


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<(section|tr) [^>]*id="{section_id}".*?</\1>', page, re.S)
    assert found, f"no {section_id}"
    return found.group(0)


def cells(fragment: str) -> list[str]:
    """The text of each cell of a table row (header cells included)."""
    raw = re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", fragment, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in raw]


def links(fragment: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a href="(/fils\?[^"]*)"', fragment)]


def listed(client, url: str) -> set[int]:
    """The ids of the threads /threads lists at `url` (all on one page here)."""
    page = html(client.get(url))
    results = re.search(r'<section id="results".*?</section>', page, re.S).group(0)
    return {int(i) for i in re.findall(r'<h3 class="fr-h6 fr-mb-1v"><a href="/fils/(\d+)"', results)}


def ids(capi, *names) -> set[int]:
    return {capi.t[name].id for name in names}


def test_anonymous_visitors_see_public_figures_only(capi, client):
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}&restreints=1")
    assert cells(section(page, "total-threads")) == ["Fils reçus", "13", "2", "+11 (+550 %)"]
    assert cells(section(page, "total-open")) == ["Encore ouverts", "10", "2", "+8 (+400 %)"]
    assert cells(section(page, "total-closed")) == ["Clos", "3", "0", "+3"]
    # P1: t1 t2 t3 t4 t6 t7 t15 (t5 is restricted); answered t1 t2 t4 t6: 4 of 7; resolved t1; declined t6;
    # overdue: t2, answered after its due date.
    p1 = cells(section(page, f"producer-{capi.p1.slug}"))
    assert p1[:3] == ["DDT du Loiret", "7", "57,1 %"]
    assert p1[5:8] == ["1", "1", "1 sur 4 demandes"]
    assert "Les demandes restreintes ne sont pas comptées" in page
    assert 'id="restreints"' not in page
    assert "Créer un rapport" not in page
    months = section(page, "months")
    assert [cells(row)[:2] for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", months, re.S)] == [
        ["avril 2025", "5"],  # t12 (1 April in Paris) t8 t14 t1 t2
        ["mai 2025", "4"],  # t3 t4 t11 t9
        ["juin 2025", "4"],  # t6 t7 t10 t15
    ]


def test_a_curator_counts_restricted_threads_when_asking(capi, client, login, curator):
    login(curator)
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}&restreints=y")
    assert cells(section(page, "total-threads"))[:2] == ["Fils reçus", "14"]
    # P1 with t5: 8 received; overdue t2 and t5 (due 12 June, still open at NOW) of 5 data requests.
    p1 = cells(section(page, f"producer-{capi.p1.slug}"))
    assert p1[1] == "8"
    assert p1[7] == "2 sur 5 demandes"
    assert "ces chiffres sont internes et ne doivent pas être publiés" in page
    assert " checked " in re.search(r'<input[^>]*id="restreints"[^>]*>', page).group(0)
    report = re.search(r'<a [^>]*id="new-report" href="([^"]+)"', page)
    assert report, "no report button"
    assert urlsplit(unescape(report.group(1))).path == "/rapports/nouveau"
    assert parse_qs(urlsplit(unescape(report.group(1))).query) == {
        "du": ["2025-04-01"],
        "au": ["2025-06-30"],
        "restreints": ["1"],
    }


def test_a_curator_who_does_not_ask_sees_the_public_figures(capi, client, login, curator):
    login(curator)
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}")
    assert cells(section(page, "total-threads"))[:2] == ["Fils reçus", "13"]
    assert cells(section(page, f"producer-{capi.p1.slug}"))[1] == "7"
    assert re.search(r'<input[^>]*id="restreints"', page)
    # /threads shows a curator t5 too: the link names the scope's threads one by one to leave it out.
    p1_link = links(section(page, f"producer-{capi.p1.slug}"))[0]
    assert "fils=" in p1_link
    assert listed(client, p1_link) == ids(capi, *P1_PUBLIC)


@pytest.mark.parametrize("who", ["u1", "m1"])
def test_a_plain_user_cannot_include_restricted_threads(capi, client, login, who):
    login(getattr(capi, who))
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}&restreints=y")
    assert cells(section(page, "total-threads"))[:2] == ["Fils reçus", "13"]
    assert cells(section(page, f"producer-{capi.p1.slug}"))[1] == "7"
    assert 'id="restreints"' not in page
    assert "Créer un rapport" not in page
    # m1 answers for P1 and sees t5 on /threads; the link still lists only what is counted.
    assert listed(client, links(section(page, f"producer-{capi.p1.slug}"))[0]) == ids(capi, *P1_PUBLIC)


def test_the_htmx_request_gets_the_results_fragment_and_the_full_request_the_page(capi, client):
    fragment = client.get(f"/capitalisation?{QUARTER_ARGS}", headers={"HX-Request": "true"})
    assert "<html" not in html(fragment)
    assert html(fragment).lstrip().startswith('<div id="capitalisation-results"')
    assert "HX-Request" in fragment.headers["Vary"]
    assert cells(section(html(fragment), "total-threads"))[1] == "13"

    page = client.get(f"/capitalisation?{QUARTER_ARGS}")
    assert "<html" in html(page)
    assert "HX-Request" in page.headers["Vary"]
    form = re.search(r'<form id="scope-form"[^>]*>', html(page)).group(0)
    for attribute in ('method="get"', 'hx-get="/capitalisation"', 'hx-trigger="change"', 'hx-push-url="true"'):
        assert attribute in form
    assert '<button class="fr-btn" type="submit">Appliquer les filtres</button>' in html(page)
    # A boosted navigation wants the whole page.
    boosted = client.get(f"/capitalisation?{QUARTER_ARGS}", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in html(boosted)


def _check_every_link(client, page: str) -> int:
    """Every count that links to /threads lists as many threads there; returns how many links were followed."""
    followed = 0
    for href, shown in re.findall(r'<a href="(/fils\?[^"]*)">([0-9\u202f ]+)</a>', page):
        url = unescape(href)
        assert len(listed(client, url)) == int(re.sub(r"\D", "", shown)), url
        followed += 1
    return followed


def test_every_count_lists_its_threads_for_an_anonymous_visitor(capi, client):
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}")
    assert _check_every_link(client, page) > 60
    assert listed(client, links(section(page, "total-threads"))[0]) == ids(capi, *PUBLIC)
    assert listed(client, links(section(page, f"producer-{capi.p1.slug}"))[0]) == ids(capi, *P1_PUBLIC)


@pytest.mark.parametrize("restricted", [False, True])
def test_every_count_lists_its_threads_for_a_curator(capi, client, login, curator, restricted):
    login(curator)
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}{'&restreints=y' if restricted else ''}")
    assert _check_every_link(client, page) > 60
    expected = PUBLIC | {"t5"} if restricted else PUBLIC
    assert listed(client, links(section(page, "total-threads"))[0]) == ids(capi, *expected)


def test_figures_without_a_list_filter_link_to_their_threads_by_id(capi, client):
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}")
    quality = section(page, "quality")
    # Dead links: t3 (P1); outdated: t4 (P1). The most reported dataset d1 has t3.
    dead_link = re.search(r"<tr>\s*<th scope=\"row\">Lien mort.*?</tr>", quality, re.S).group(0)
    assert [listed(client, url) for url in links(dead_link)] == [ids(capi, "t3"), ids(capi, "t3")]
    d1_row = re.search(rf"<tr>\s*<th scope=\"row\"><a href=\"[^\"]*\">{capi.d1.title}.*?</tr>", unescape(quality), re.S)
    assert [listed(client, url) for url in links(d1_row.group(0))] == [ids(capi, "t3")]
    demand = section(page, "demand")
    # Similar requests about wetlands in hy: t8 (Nièvre) and t7 (Loiret).
    groups = section(page, "groups")
    group = re.search(r"<tr>\s*<th scope=\"row\">Zones humides de la Nièvre.*?</tr>", groups, re.S).group(0)
    assert cells(group)[2:4] == ["2", "2"]
    assert listed(client, links(group)[0]) == ids(capi, "t8", "t7")
    # Hydrographie × Loiret: t7 (its own theme), t1 and t2 (their dataset d1's).
    cell = re.search(r"<tr>\s*<th scope=\"row\">Hydrographie</th>\s*<td>Loiret \(D45\).*?</tr>", demand, re.S)
    assert listed(client, links(cell.group(0))[0]) == ids(capi, "t7", "t1", "t2")
    # Overdue for P2: t14, due 9 May and never answered.
    p2 = section(page, f"producer-{capi.p2.slug}")
    assert listed(client, links(p2)[-1]) == ids(capi, "t14")


def test_a_territory_scope_links_with_the_ids_of_its_threads(capi, client):
    # The Nièvre: t8 and t9 name it, t12 t14 t10 are about d3, a dataset of the Nièvre.
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}&territoire=D58")
    assert cells(section(page, "total-threads"))[1] == "5"
    assert listed(client, links(section(page, "total-threads"))[0]) == ids(capi, "t8", "t9", "t12", "t14", "t10")
    assert _check_every_link(client, page) > 20


def test_several_producers_link_with_each_producer_or_with_ids(capi, client):
    page = whole(client, f"/capitalisation?{QUARTER_ARGS}&producteur={capi.p1.slug}&producteur={capi.p2.slug}")
    assert cells(section(page, "total-threads"))[1] == "12"  # all but t11, which has no producer
    p2_link = links(section(page, f"producer-{capi.p2.slug}"))[0]
    assert parse_qs(urlsplit(p2_link).query)["producteur"] == [capi.p2.slug]
    assert _check_every_link(client, page) > 40


def test_counts_too_many_for_a_link_are_shown_without_one(capi, client, monkeypatch):
    monkeypatch.setattr(views, "MAX_THREAD_IDS", 4)
    page = html(client.get(f"/capitalisation?{QUARTER_ARGS}&territoire=D58"))
    assert cells(section(page, "total-threads"))[1] == "5"
    assert links(section(page, "total-threads")) == []


def test_each_chart_is_a_titled_image_followed_by_its_data_table(capi, client):
    page = html(client.get(f"/capitalisation?{QUARTER_ARGS}"))
    figures = re.findall(r'<figure class="chart.*?</figure>', page, re.S)
    assert len(figures) == 4  # months, kinds, statuses, use cases
    for figure in figures:
        chart = re.search(r'<div class="chart__rows" role="img" aria-labelledby="([^"]+)"', figure)
        assert chart, figure[:200]
        assert re.search(rf'<p [^>]*id="{chart.group(1)}">[^<]+</p>', figure)
        assert "<table>" in figure.split('class="chart__rows"', 1)[1]
        assert "style=" not in figure
    # The months chart: one bar per month, as long as its share of the largest (April's 5 threads).
    months = next(f for f in figures if "chart-months" in f)
    widths = re.findall(r'<rect class="chart__bar" [^>]*width="([0-9.]+)"', months)
    assert [float(w) for w in widths] == [100.0, 80.0, 80.0]


def test_an_empty_scope_says_so(capi, client):
    page = html(client.get("/capitalisation?du=2030-01-01&au=2030-01-31"))
    assert "Aucun fil dans ce périmètre" in page
    assert "chart__rows" not in page


def test_unknown_filters_are_reported_next_to_the_results(capi, client):
    fragment = html(
        client.get(f"/capitalisation?{QUARTER_ARGS}&producteur=ddt-inconnue", headers={"HX-Request": "true"})
    )
    assert "Service producteur inconnu : « ddt-inconnue »." in unescape(fragment)
    assert cells(section(fragment, "total-threads"))[1] == "13"


def _queries(app, client, url: str) -> int:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_producers(app, capi, client, login, curator):
    from feedback.threads import services
    from feedback.threads.models import ThreadKind

    login(curator)
    urls = [f"/capitalisation{table}?{QUARTER_ARGS}" for table in ("", *(f"/{name}" for name in views.TABLES))]
    _queries(app, client, urls[0])  # the first request after signing in also loads what the session keeps
    before = [_queries(app, client, url) for url in urls]
    for n in range(4):
        producer = factories.create_organisation(name=f"DDT Supplémentaire {n}", territory_code="D18")
        dataset = factories.create_dataset(title=f"Haies du Cher {n}", organisation=producer, inspire_themes=["lc"])
        for kind in (ThreadKind.QUALITY_ISSUE, ThreadKind.DATA_REQUEST):
            services.create_thread(
                capi.u1,
                services.NewThread(
                    kind=kind,
                    title=f"Haies bocagères {n}",
                    body="Bonjour.",
                    dataset=dataset,
                    quality_category="outdated" if kind == ThreadKind.QUALITY_ISSUE else None,
                    restricted=kind == ThreadKind.DATA_REQUEST and n % 2 == 0,
                ),
                created_at=at(2025, 5, 2 + n),
            )
    _db.session.commit()
    page = whole(client, urls[0])
    assert len(re.findall(r'<tr id="producer-', page)) == 6
    assert [_queries(app, client, url) for url in urls] == before


def test_the_first_screen_links_and_loads_each_long_table_in_its_place(capi, client):
    page = html(client.get(f"/capitalisation?{QUARTER_ARGS}"))
    assert 'id="producer-' not in page  # the tables are not computed for the first screen
    for name, (section_id, title) in views.TABLES.items():
        placeholder = section(page, section_id)
        url = f"/capitalisation/{name}?du=2025-04-01&amp;au=2025-06-30"
        assert f'hx-get="{url}"' in placeholder and 'hx-trigger="revealed"' in placeholder
        assert f'href="{url}"' in placeholder  # the same page, without JavaScript
        fragment = html(client.get(unescape(url), headers={"HX-Request": "true"}))
        assert fragment.lstrip().startswith(f'<section class="fr-mt-4w" aria-labelledby="{section_id}-title"')
        assert f'<h3 id="{section_id}-title">' in fragment  # under the results' h2
        alone = html(client.get(unescape(url)))
        assert f"<h1>{title}</h1>" in unescape(alone) and "Revenir au tableau de bord" in alone
        assert f'<h2 id="{section_id}-title">' in alone  # under the page's h1


def test_long_tables_come_a_page_at_a_time_without_javascript(capi, client, monkeypatch):
    monkeypatch.setattr(views, "TABLE_PAGE_SIZE", 1)
    page = unescape(html(client.get(f"/capitalisation/services?{QUARTER_ARGS}")))
    # P1 received the most threads: first; P2 on page 2, reached by a plain link back to the table.
    assert re.findall(r'<tr id="producer-([^"]+)"', page) == [capi.p1.slug]
    producers = section(page, "producers")
    assert "Services 1 à 1 sur 2" in producers
    second = re.search(r'<a class="fr-pagination__link" href="([^"]+)" title="Page 2">', producers).group(1)
    assert "page=2" in second and second.endswith("#producers") and QUARTER_ARGS in second
    page2 = unescape(html(client.get(second)))
    assert re.findall(r'<tr id="producer-([^"]+)"', page2) == [capi.p2.slug]
    # The quality table's columns: the producers that received quality issues (P2 has none), a page at a time.
    quality = section(unescape(html(client.get(f"/capitalisation/qualite?{QUARTER_ARGS}"))), "quality")
    assert capi.p1.name in quality and capi.p2.name not in quality
    assert "Cellules 1 à 1 sur" in section(
        unescape(html(client.get(f"/capitalisation/demande?{QUARTER_ARGS}"))), "demand"
    )
    # A page past the end shows the last one; the scene has one group of similar requests.
    past = unescape(html(client.get(f"/capitalisation/demandes-similaires?{QUARTER_ARGS}&page=9")))
    assert re.search(r"<th scope=\"row\">Zones humides de la Nièvre", section(past, "groups"))
    assert "Groupes 1 à 1 sur 1" in section(past, "groups")
    past = unescape(html(client.get(f"/capitalisation/services?{QUARTER_ARGS}&page=9")))
    assert re.findall(r'<tr id="producer-([^"]+)"', past) == [capi.p2.slug]
