"""The catalogue page /datasets: search, filters, sorts, pagination, htmx fragments, pasted identifiers,
and a number of SQL statements that does not grow with the catalogue."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from .. import factories

# Real rows of the data.gouv.fr export (tests/../shared/data/catalogue/export-dataset-20260116-sample.csv),
# shortened to what the tests read.
PPRI = {
    "title": (
        "Périmètre du plan de prévention des risques naturels d'inondation - PPRi - "
        "des rivières Garat et Guignon - Nièvre (58)"
    ),
    "catalogue_id": "67377d8bcc1af51cc2c253a1",
    "slug": (
        "perimetre-du-plan-de-prevention-des-risques-naturels-dinondation-ppri-des-rivieres-garat-et-guignon-nievre-58"
    ),
    "description": (
        "Ce jeu de données contient les périmètres de délimitation aux différents stades de l'élaboration du PPRN."
    ),
    "tags": ["donnees-ouvertes", "inspire", "risque-inondation", "zones-a-risque-naturel"],
    "geoide_record_id": "fr-120066022-jdd-c192fd4b-7849-4cf6-8003-b36c536ec824",
    "inspire_themes": ["nz"],
    "territories": ["D58"],
}
PPRIF = {
    "title": (
        "Zonage réglementaire du Plan de Prévention des Risques d'Incendies de Forêt (PPRIF) "
        "de la commune d'Oletta en Haute-Corse"
    ),
    "catalogue_id": "676a0e536565cfff5b133b55",
    "slug": (
        "zonage-reglementaire-du-plan-de-prevention-des-risques-dincendies-de-foret-pprif-de-la-commune-doletta-"
        "en-haute-corse-1"
    ),
    "description": (
        "Les plans de prévention des risques naturels ont été institués par la loi du 2 février 1995 relative "
        "au renforcement de la protection de l'environnement."
    ),
    "tags": ["donnees-ouvertes", "incendie", "risque"],
    "inspire_themes": ["nz"],
    "territories": ["D2B"],
}
COURS_DEAU = {
    "title": "Cours d'eau du Jura (commission du 30/05/2020)",
    "catalogue_id": "673779dbe2cf8f36d5c25380",
    "description": "Classification des cours d'eau en cours d'eau ou non cours d'eau.",
    "tags": ["donnees-ouvertes", "eau-zonages-eau", "hydrographie"],
    "inspire_themes": ["hy"],
    "territories": ["D39"],
}
HAIES = {
    "title": "Analyse de la déprise des haies en Dordogne",
    "catalogue_id": "673782f89692b0b511c2538f",
    "description": "Jeu de données (JDD) produit en 2023 dans le cadre de la mission de la déprise des haies.",
    "tags": ["agriculture-agri-environnement", "occupation-des-terres"],
    "inspire_themes": ["lc"],
    "territories": ["D24"],
}


# --- helpers ---------------------------------------------------------------------------------------------


def html_of(response) -> str:
    return response.get_data(as_text=True)


def listed_titles(response) -> list[str]:
    """Titles of the datasets listed in the results, in order."""
    return [
        unescape(title)
        for title in re.findall(
            r'<li class="dataset-list__item">.*?<a href="/jeux-de-donnees/[^"]+">(.*?)</a>', html_of(response), re.S
        )
    ]


def results_heading(response) -> str:
    found = re.search(r'<h2 id="results-count"[^>]*>(.*?)</h2>', html_of(response), re.S)
    assert found, "no results heading"
    return " ".join(unescape(found.group(1)).split())


def current_page(response) -> int:
    found = re.search(r'<a class="fr-pagination__link" aria-current="page" title="Page (\d+)">', html_of(response))
    assert found, "no current page in the pagination"
    return int(found.group(1))


def link_query(response, rel: str) -> dict[str, list[str]]:
    found = re.search(rf'<a class="[^"]*" href="([^"]+)" rel="{rel}">', html_of(response))
    assert found, f"no {rel} link"
    link = urlsplit(unescape(found.group(1)))
    assert link.path == "/jeux-de-donnees"
    return parse_qs(link.query)


def create(row: dict, organisation=None, **changes):
    return factories.create_dataset(**{**row, **changes}, organisation=organisation)


@pytest.fixture
def catalogue(db):
    """Four real datasets from four DDTs, filed under real themes and départements."""
    nievre = factories.create_organisation(name="DDT Nièvre", territory_code="D58")
    corse = factories.create_organisation(name="DDT Haute-Corse", territory_code="D2B")
    jura = factories.create_organisation(name="DDT Jura", territory_code="D39")
    sevres = factories.create_organisation(name="DDT Deux-Sèvres", territory_code="D79")
    return {
        "nievre": nievre,
        "ppri": create(PPRI, nievre),
        "pprif": create(PPRIF, corse),
        "cours_deau": create(COURS_DEAU, jura),
        "haies": create(HAIES, sevres),
    }


# --- search ----------------------------------------------------------------------------------------------


def test_catalogue_page_lists_every_dataset_with_the_total(client, catalogue):
    response = client.get("/jeux-de-donnees")

    assert response.status_code == 200
    assert "<h1>Catalogue des jeux de données</h1>" in html_of(response)
    assert results_heading(response) == "4 jeux de données"
    assert sorted(listed_titles(response)) == sorted(row["title"] for row in (PPRI, PPRIF, COURS_DEAU, HAIES))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("prévention", [PPRI, PPRIF]),
        ("prevention", [PPRI, PPRIF]),
        ("PRÉVENTION", [PPRI, PPRIF]),
        ("Plan de prévention des risques", [PPRI, PPRIF]),
        ("inondation", [PPRI]),
        ("inond", [PPRI]),
        ("prévention inond", [PPRI]),
        ("Forêt", [PPRIF]),
        ("cours d'eau", [COURS_DEAU]),
        ("haies", [HAIES]),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_search_finds_datasets_by_the_words_of_their_title(client, catalogue, query, expected):
    response = client.get("/jeux-de-donnees", query_string={"q": query})

    assert response.status_code == 200
    assert sorted(listed_titles(response)) == sorted(row["title"] for row in expected)
    count = f"{len(expected)} jeu de données" if len(expected) == 1 else f"{len(expected)} jeux de données"
    assert results_heading(response) == f"{count} pour « {query} »"


@pytest.mark.parametrize(
    ("query", "expected"), [("Deux-Sèvres", HAIES), ("deux sevres", HAIES), ("Haute-Corse", PPRIF)]
)
def test_search_finds_datasets_by_their_producer(client, catalogue, query, expected):
    response = client.get("/jeux-de-donnees", query_string={"q": query})

    assert listed_titles(response) == [expected["title"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("délimitation", PPRI), ("delimitation", PPRI), ("institués", PPRIF), ("renforcement protection", PPRIF)],
)
def test_search_finds_datasets_by_the_words_of_their_description(client, catalogue, query, expected):
    response = client.get("/jeux-de-donnees", query_string={"q": query})

    assert listed_titles(response) == [expected["title"]]


def test_search_finds_datasets_by_their_tags(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": "incendie"})

    assert listed_titles(response) == [PPRIF["title"]]


def test_search_needs_every_word(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": "prévention haies"})

    assert listed_titles(response) == []
    assert results_heading(response) == "Aucun jeu de données pour « prévention haies »"


def test_search_that_matches_nothing_shows_an_empty_state(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": "volcanisme"})

    assert response.status_code == 200
    assert listed_titles(response) == []
    html = html_of(response)
    assert "Aucun jeu de données ne correspond à cette recherche." in html
    assert "repartez du catalogue complet" in html


def test_empty_catalogue_shows_an_empty_state_without_a_reset_link(client):
    response = client.get("/jeux-de-donnees")

    assert response.status_code == 200
    assert results_heading(response) == "Aucun jeu de données"
    assert "Aucun jeu de données ne correspond à cette recherche." in html_of(response)
    assert "repartez du catalogue complet" not in html_of(response)


def test_search_query_is_shown_escaped(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": '<script>alert("x")</script>'})

    assert response.status_code == 200
    assert '<script>alert("x")</script>' not in html_of(response)
    assert "&lt;script&gt;" in html_of(response)


# --- filters ---------------------------------------------------------------------------------------------


def test_filter_by_producer(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"producteur": catalogue["nievre"].slug})

    assert listed_titles(response) == [PPRI["title"]]
    assert results_heading(response) == "1 jeu de données"
    assert f'<option value="{catalogue["nievre"].slug}" selected>DDT Nièvre</option>' in html_of(response)


def test_filter_by_unknown_producer_finds_nothing(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"producteur": "ddt-nulle-part"})

    assert response.status_code == 200
    assert listed_titles(response) == []


@pytest.mark.parametrize(("theme", "expected"), [("hy", [COURS_DEAU]), ("nz", [PPRI, PPRIF]), ("lc", [HAIES])])
def test_filter_by_inspire_theme(client, catalogue, theme, expected):
    response = client.get("/jeux-de-donnees", query_string={"theme": theme})

    assert sorted(listed_titles(response)) == sorted(row["title"] for row in expected)


def test_theme_filter_lists_inspire_themes_in_french(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"theme": "hy"})

    assert '<option value="hy" selected>Hydrographie</option>' in html_of(response)


@pytest.mark.parametrize(
    ("territory", "expected"),
    [
        ("D58", [PPRI]),  # Nièvre
        ("D39", [COURS_DEAU]),  # Jura
        ("R27", [PPRI, COURS_DEAU]),  # Bourgogne-Franche-Comté: its départements Nièvre and Jura
        ("R94", [PPRIF]),  # Corse
        ("R75", [HAIES]),  # Nouvelle-Aquitaine
        ("D45", []),  # Loiret
    ],
)
def test_filter_by_territory_includes_the_departements_of_a_region(client, catalogue, territory, expected):
    response = client.get("/jeux-de-donnees", query_string={"territoire": territory})

    assert sorted(listed_titles(response)) == sorted(row["title"] for row in expected)


def test_region_filter_also_finds_datasets_filed_under_the_region_itself(client, catalogue):
    regional = factories.create_dataset(title="Trame verte et bleue de Bourgogne-Franche-Comté", territories=["R27"])

    response = client.get("/jeux-de-donnees", query_string={"territoire": "R27"})

    assert regional.title in listed_titles(response)
    assert len(listed_titles(response)) == 3


def test_filters_combine_with_the_search(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": "prevention", "territoire": "R27", "theme": "nz"})

    assert listed_titles(response) == [PPRI["title"]]


def test_archived_datasets_are_hidden_unless_asked_for(client, catalogue):
    archived = factories.create_dataset(
        title="Plan de prévention des risques d'inondation de la Loire (ancienne version)", archived=True
    )

    hidden = client.get("/jeux-de-donnees", query_string={"q": "prevention"})
    shown = client.get("/jeux-de-donnees", query_string={"q": "prevention", "archives": "1"})

    assert archived.title not in listed_titles(hidden)
    assert results_heading(hidden).startswith("2 jeux de données")
    assert archived.title in listed_titles(shown)
    assert results_heading(shown).startswith("3 jeux de données")
    assert "Archivé</span>" in html_of(shown)
    assert "Archivé</span>" not in html_of(hidden)


# --- pagination ------------------------------------------------------------------------------------------


@pytest.fixture
def many_datasets(db):
    """45 datasets: three pages of 20, 20 and 5."""
    return [factories.create_dataset(title=f"Zones inondables, secteur {n:02d}") for n in range(1, 46)]


def test_first_page_shows_twenty_datasets_and_the_total(app, client, many_datasets):
    assert app.config["FEEDBACK_PAGE_SIZE"] == 20

    response = client.get("/jeux-de-donnees")

    assert results_heading(response) == "45 jeux de données"
    assert len(listed_titles(response)) == 20
    assert current_page(response) == 1
    assert "Résultats 1 à 20 — page 1 sur 3" in html_of(response)
    assert link_query(response, "next") == {"page": ["2"]}


def test_third_page_shows_the_last_five(client, many_datasets):
    response = client.get("/jeux-de-donnees", query_string={"page": "3"})

    assert len(listed_titles(response)) == 5
    assert current_page(response) == 3
    assert "Résultats 41 à 45 — page 3 sur 3" in html_of(response)
    assert link_query(response, "prev") == {"page": ["2"]}


def test_pages_do_not_overlap_and_cover_everything(client, many_datasets):
    titles = [title for page in (1, 2, 3) for title in listed_titles(client.get(f"/jeux-de-donnees?page={page}"))]

    assert len(titles) == 45
    assert sorted(titles) == sorted(dataset.title for dataset in many_datasets)


@pytest.mark.parametrize("page", ["4", "99", "100000", "99999999999999999999"])
def test_page_past_the_end_shows_the_last_page(client, many_datasets, page):
    response = client.get("/jeux-de-donnees", query_string={"page": page})

    assert response.status_code == 200
    assert current_page(response) == 3
    assert len(listed_titles(response)) == 5


@pytest.mark.parametrize("page", ["abc", "", "0", "-2", "1.5", "2;drop"])
def test_junk_page_number_is_the_first_page(client, many_datasets, page):
    response = client.get("/jeux-de-donnees", query_string={"page": page})

    assert response.status_code == 200
    assert current_page(response) == 1
    assert len(listed_titles(response)) == 20


def test_pagination_links_keep_the_search_and_filters(client, many_datasets):
    response = client.get("/jeux-de-donnees", query_string={"q": "inondables", "tri": "titre", "page": "2"})

    assert link_query(response, "next") == {"q": ["inondables"], "tri": ["titre"], "page": ["3"]}
    assert link_query(response, "prev") == {"q": ["inondables"], "tri": ["titre"], "page": ["1"]}


def test_a_single_page_has_no_pagination(client, catalogue):
    response = client.get("/jeux-de-donnees")

    assert "fr-pagination" not in html_of(response)


# --- sorts -----------------------------------------------------------------------------------------------


@pytest.fixture
def dated(db):
    """Three datasets whose alphabetical order is not their order of update."""
    return [
        factories.create_dataset(title="Bassins versants du Loiret", modified_at=datetime(2024, 3, 1, tzinfo=UTC)),
        factories.create_dataset(title="Atlas des zones inondables", modified_at=datetime(2023, 1, 1, tzinfo=UTC)),
        factories.create_dataset(title="Carte des haies", modified_at=datetime(2025, 9, 1, tzinfo=UTC)),
    ]


def test_sort_by_title(client, dated):
    response = client.get("/jeux-de-donnees", query_string={"tri": "titre"})

    assert listed_titles(response) == ["Atlas des zones inondables", "Bassins versants du Loiret", "Carte des haies"]
    assert '<option value="titre" selected>' in html_of(response)


@pytest.mark.parametrize("sort", ["recent", "", "n-importe-quoi", "pertinence"])
def test_sort_by_most_recent_update_is_the_default_without_a_search(client, dated, sort):
    response = client.get("/jeux-de-donnees", query_string={"tri": sort})

    assert listed_titles(response) == ["Carte des haies", "Bassins versants du Loiret", "Atlas des zones inondables"]
    assert '<option value="recent" selected>' in html_of(response)
    assert "mis à jour le 1 septembre 2025" in html_of(response)


def test_search_is_sorted_by_relevance_by_default(client, dated):
    response = client.get("/jeux-de-donnees", query_string={"q": "loiret"})

    assert listed_titles(response) == ["Bassins versants du Loiret"]
    assert '<option value="pertinence" selected>' in html_of(response)


def test_search_can_be_sorted_by_title(client, db):
    for title in ("Zonage PPRI de Gien", "Aléa inondation de Gien", "Mesures PPRI de Gien"):
        factories.create_dataset(title=title)

    response = client.get("/jeux-de-donnees", query_string={"q": "gien", "tri": "titre"})

    assert listed_titles(response) == ["Aléa inondation de Gien", "Mesures PPRI de Gien", "Zonage PPRI de Gien"]


# --- htmx ------------------------------------------------------------------------------------------------


def test_htmx_request_gets_only_the_results_fragment(client, catalogue):
    response = client.get("/jeux-de-donnees", query_string={"q": "prevention"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    assert "<header" not in html
    assert 'id="dataset-search"' not in html
    assert html.lstrip().startswith('<section id="results"')
    assert sorted(listed_titles(response)) == sorted([PPRI["title"], PPRIF["title"]])
    assert results_heading(response) == "2 jeux de données pour « prevention »"
    assert "HX-Request" in response.vary


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
    ids=["plain", "boosted", "history-restore"],
)
def test_normal_and_boosted_requests_get_the_whole_page(client, catalogue, headers):
    response = client.get("/jeux-de-donnees", query_string={"q": "prevention"}, headers=headers)

    assert response.status_code == 200
    html = html_of(response)
    assert '<html lang="fr"' in html
    assert 'id="dataset-search"' in html
    assert '<section id="results"' in html
    assert "HX-Request" in response.vary


# --- pasted identifiers ----------------------------------------------------------------------------------


PASTED = [
    "https://www.data.gouv.fr/fr/datasets/67377d8bcc1af51cc2c253a1/",
    "https://www.data.gouv.fr/datasets/67377d8bcc1af51cc2c253a1",
    "https://www.data.gouv.fr/api/1/datasets/67377d8bcc1af51cc2c253a1/",
    f"https://www.data.gouv.fr/fr/datasets/{PPRI['slug']}/",
    "www.data.gouv.fr/fr/datasets/67377d8bcc1af51cc2c253a1/",
    "https://ecologie.data.gouv.fr/datasets/67377d8bcc1af51cc2c253a1",
    "67377d8bcc1af51cc2c253a1",
    "67377D8BCC1AF51CC2C253A1",
    "fr-120066022-jdd-c192fd4b-7849-4cf6-8003-b36c536ec824",
    (
        "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search#/metadata/"
        "fr-120066022-jdd-c192fd4b-7849-4cf6-8003-b36c536ec824"
    ),
]


@pytest.mark.parametrize("pasted", PASTED)
def test_pasted_identifier_leads_to_the_dataset(client, catalogue, pasted):
    response = client.get("/jeux-de-donnees", query_string={"q": f"  {pasted} "})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/jeux-de-donnees/{PPRI['catalogue_id']}"


@pytest.mark.parametrize("pasted", PASTED[:1] + PASTED[-2:])
def test_pasted_identifier_in_live_search_shows_a_link_to_the_dataset(client, catalogue, pasted):
    response = client.get("/jeux-de-donnees", query_string={"q": pasted}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    found = re.search(r"Cet identifiant désigne <a href=\"([^\"]+)\">(.*?)</a>", html)
    assert found, "no link to the dataset"
    assert found.group(1) == f"/jeux-de-donnees/{PPRI['catalogue_id']}"
    assert unescape(found.group(2)) == PPRI["title"]


@pytest.mark.parametrize(
    "pasted",
    [
        "https://www.data.gouv.fr/fr/datasets/000000000000000000000000/",
        "fr-120066022-jdd-00000000-0000-0000-0000-000000000000",
        "https://exemple.fr/datasets/67377d8bcc1af51cc2c253a1/",
    ],
)
def test_identifier_of_no_known_dataset_is_searched_as_text(client, catalogue, pasted):
    response = client.get("/jeux-de-donnees", query_string={"q": pasted})

    assert response.status_code == 200
    assert "Cet identifiant désigne" not in html_of(response)
    assert "Aucun jeu de données ne correspond à cette recherche." in html_of(response)


# --- SQL statements per page -----------------------------------------------------------------------------


@contextmanager
def counted_statements(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def add_producer_datasets(organisation, count: int, start: int) -> list:
    return [
        factories.create_dataset(
            title=f"Plan de prévention des risques d'inondation, secteur {n}",
            description=f"Zonage réglementaire **approuvé**, secteur {n}.",
            organisation=organisation,
            tags=["inondation", "ppri"],
            inspire_themes=["nz", "hy"],
            territories=["D58", "D39"],
            modified_at=datetime(2025, 1, 1 + n % 28, tzinfo=UTC),
        )
        for n in range(start, start + count)
    ]


def test_number_of_sql_statements_does_not_grow_with_the_catalogue(app, db, client):
    organisation = factories.create_organisation(name="DDT Nièvre", territory_code="D58")
    first = add_producer_datasets(organisation, 5, start=1)
    slug, catalogue_id = organisation.slug, first[0].catalogue_id
    requests = {
        "catalogue": ("/jeux-de-donnees", {}),
        "search": ("/jeux-de-donnees?q=pr%C3%A9vention+inondation", {}),
        "live search": ("/jeux-de-donnees?q=prevention", {"HX-Request": "true"}),
        "filtered search": (f"/jeux-de-donnees?q=inondation&producteur={slug}&theme=hy&territoire=R27&tri=titre", {}),
        "deep page": ("/jeux-de-donnees?page=3", {}),
        "dataset": (f"/jeux-de-donnees/{catalogue_id}", {}),
        "organisation": (f"/organisations/{slug}", {}),
        "organisation, deep page": (f"/organisations/{slug}?page=3", {}),
        "organisations": ("/organisations", {}),
    }

    def measure() -> dict[str, int]:
        counts = {}
        for name, (url, headers) in requests.items():
            # A fresh application context, as every real request has: nothing cached from the last one.
            with app.app_context():
                client.get(url, headers=headers)  # warm-up: connections, first-use queries
            with app.app_context(), counted_statements(db.engine) as statements:
                response = client.get(url, headers=headers)
            assert response.status_code == 200, (name, response.status_code)
            counts[name] = len(statements)
        return counts

    small = measure()
    add_producer_datasets(organisation, 50, start=6)
    for n in range(5):
        other = factories.create_organisation(name=f"DDT Exemple {n}", territory_code="D39")
        add_producer_datasets(other, 1, start=100 + n)
    large = measure()

    # A search reads its ranks best first until the page is full (one statement each at most): more matches,
    # never more statements. Every other page: the same statements.
    searches = {"search", "live search", "filtered search"}
    assert {name: count for name, count in large.items() if name not in searches} == {
        name: count for name, count in small.items() if name not in searches
    }
    assert all(large[name] <= small[name] for name in searches), (large, small)
    with app.app_context():
        deep = client.get("/jeux-de-donnees?page=3")
    assert len(listed_titles(deep)) == 20
