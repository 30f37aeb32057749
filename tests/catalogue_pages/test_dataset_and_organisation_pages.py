"""A dataset's page, the list of producers and an organisation's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from feedback.accounts.models import OrganisationKind

from .. import factories

# A real row of the data.gouv.fr export (shared/data/catalogue/export-dataset-20260116-sample.csv).
PPRI = {
    "title": (
        "Périmètre du plan de prévention des risques naturels d'inondation - PPRi - "
        "des rivières Garat et Guignon - Nièvre (58)"
    ),
    "catalogue_id": "67377d8bcc1af51cc2c253a1",
    "slug": (
        "perimetre-du-plan-de-prevention-des-risques-naturels-dinondation-ppri-des-rivieres-garat-et-guignon-nievre-58"
    ),
    "geoide_record_id": "fr-120066022-jdd-c192fd4b-7849-4cf6-8003-b36c536ec824",
    "tags": ["donnees-ouvertes", "inspire", "risque-inondation", "zones-a-risque-naturel"],
    "inspire_themes": ["nz"],
    "territories": ["D58"],
}
GEOIDE_URL = (
    "http://catalogue.geo-ide.developpement-durable.gouv.fr/catalogue/srv/fre/catalog.search#/metadata/"
    "fr-120066022-jdd-c192fd4b-7849-4cf6-8003-b36c536ec824"
)
LANDING_URL = f"https://www.data.gouv.fr/datasets/{PPRI['slug']}"
LICENCE = "Licence Ouverte / Open Licence version 2.0"
DESCRIPTION = """Ce jeu de données contient les **périmètres de délimitation** aux différents stades de
l'élaboration du PPRN.

<script>alert(1)</script>
<p onclick="alert(2)">Il s'agit du périmètre prescrit.</p>

- périmètre prescrit ;
- périmètre d'exposition aux risques.
"""


# --- helpers ---------------------------------------------------------------------------------------------


def html_of(response) -> str:
    return response.get_data(as_text=True)


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html_of(response), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(response, start: str, end: str) -> str:
    html = html_of(response)
    found = re.search(re.escape(start) + r"(.*?)" + re.escape(end), html, re.S)
    assert found, f"no section starting with {start!r}"
    return found.group(1)


def definition(response, term: str) -> str:
    found = re.search(rf"<dt>{re.escape(term)}</dt>\s*<dd>(.*?)</dd>", html_of(response), re.S)
    assert found, f"no {term!r} in the facts"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def links(response) -> dict[str, str]:
    """Link text → href, for the links of the page."""
    return {
        " ".join(unescape(re.sub(r"<[^>]+>", " ", label)).split()): unescape(href)
        for href, label in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', html_of(response), re.S)
    }


def listed_titles(response) -> list[str]:
    return [
        unescape(title)
        for title in re.findall(
            r'<li class="dataset-list__item">.*?<a href="/jeux-de-donnees/[^"]+">(.*?)</a>', html_of(response), re.S
        )
    ]


def producer_rows(response) -> list[tuple[str, str, str, str]]:
    """(name, kind, territory, number of datasets) of each row of the producers table."""
    body = section(response, "<tbody>", "</tbody>")
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        rows.append(tuple(cells))
    return rows


@pytest.fixture
def nievre(db):
    return factories.create_organisation(
        name="DDT Nièvre", territory_code="D58", datagouv_id="58aeed0f88ee381f26e6e756"
    )


@pytest.fixture
def ppri(db, nievre):
    dataset = factories.create_dataset(**PPRI, organisation=nievre, description=DESCRIPTION)
    dataset.licence = LICENCE
    dataset.landing_url = LANDING_URL
    dataset.geoide_url = GEOIDE_URL
    dataset.frequency = "annual"
    dataset.resources_count = 3
    dataset.resources_formats = "shp,pdf"
    dataset.published_at = datetime(2024, 11, 15, 10, 0, tzinfo=UTC)
    dataset.modified_at = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    db.session.commit()
    return dataset


# --- a dataset's page ------------------------------------------------------------------------------------


def test_dataset_page_shows_the_dataset(client, ppri, nievre):
    response = client.get(f"/jeux-de-donnees/{PPRI['catalogue_id']}")

    assert response.status_code == 200
    html = html_of(response)
    assert f'<h1 class="dataset-title">{PPRI["title"].replace(chr(39), "&#39;")}</h1>' in html
    assert f"<title>{PPRI['title'].replace(chr(39), '&#39;')} — Retours sur les données Ecosphères</title>" in html
    assert "Produit par DDT Nièvre" in text(response)
    assert links(response)["DDT Nièvre"] == f"/organisations/{nievre.slug}"
    assert definition(response, "Licence") == LICENCE
    assert definition(response, "Thèmes") == "Zones à risque naturel"
    assert definition(response, "Territoire") == "Nièvre (58)"
    assert definition(response, "Fréquence de mise à jour") == "Annuelle"
    assert definition(response, "Ressources") == "3 (shp,pdf)"
    assert definition(response, "Créé le") == "15 novembre 2024"
    assert definition(response, "Mis à jour le") == "4 mars 2025"
    assert definition(response, "Identifiant data.gouv.fr") == PPRI["catalogue_id"]
    assert definition(response, "Fiche Géo-IDE") == PPRI["geoide_record_id"]


def test_dataset_page_shows_the_tags(client, ppri):
    response = client.get(f"/jeux-de-donnees/{PPRI['catalogue_id']}")

    tags = section(response, '<ul class="fr-tags-group" aria-label="Mots-clés">', "</ul>")
    assert re.findall(r'<p class="fr-tag fr-tag--sm">(.*?)</p>', tags) == PPRI["tags"]


def external_link(response, href: str) -> tuple[str, str]:
    """(text, opening tag) of the link to `href`."""
    for tag, label in re.findall(r"(<a [^>]*>)(.*?)</a>", html_of(response), re.S):
        found = re.search(r'href="([^"]*)"', tag)
        if found and unescape(found.group(1)) == href:
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", label)).split()), tag
    raise AssertionError(f"no link to {href}")


def test_dataset_page_links_to_data_gouv_fr_and_to_the_geoide_record(client, ppri):
    response = client.get(f"/jeux-de-donnees/{PPRI['catalogue_id']}")

    for href, name in ((LANDING_URL, "data.gouv.fr"), (GEOIDE_URL, "Géo-IDE")):
        label, tag = external_link(response, href)
        assert name in label
        assert 'rel="noopener"' in tag
        assert 'target="_blank"' in tag
        assert "nouvelle fenêtre" in tag


def test_dataset_without_landing_url_links_to_its_data_gouv_fr_page_by_id(client, db):
    dataset = factories.create_dataset(title="Atlas des zones inondables du Loiret")

    response = client.get(f"/jeux-de-donnees/{dataset.catalogue_id}")

    label, _ = external_link(response, f"https://www.data.gouv.fr/datasets/{dataset.catalogue_id}/")
    assert "data.gouv.fr" in label
    assert "geo-ide" not in html_of(response)
    assert "Fiche Géo-IDE" not in html_of(response)
    assert definition(response, "Licence") == "Non précisée"
    assert "Producteur inconnu" in text(response)


def test_dataset_description_is_rendered_as_sanitised_markdown(client, ppri):
    response = client.get(f"/jeux-de-donnees/{PPRI['catalogue_id']}")

    description = section(response, '<div class="dataset-description">', "</div>")
    assert "<strong>périmètres de délimitation</strong>" in description
    assert "<li>périmètre prescrit ;</li>" in description
    assert "Il s&#39;agit du périmètre prescrit." in description or "Il s'agit du périmètre prescrit." in description
    assert "<script" not in description
    assert "alert(1)" not in description
    assert "onclick" not in description
    assert "alert(2)" not in description
    assert "<script>alert" not in html_of(response)
    assert "onclick" not in html_of(response)


def test_dataset_without_description_says_so(client, db):
    dataset = factories.create_dataset(title="Atlas des zones inondables du Loiret", description="")

    response = client.get(f"/jeux-de-donnees/{dataset.catalogue_id}")

    assert "Ce jeu de données n'a pas de description." in text(response)


def test_archived_dataset_page_says_it_is_archived(client, db):
    dataset = factories.create_dataset(title="Ancien PPRI du Loiret", archived=True)

    response = client.get(f"/jeux-de-donnees/{dataset.catalogue_id}")

    assert response.status_code == 200
    assert "Ce jeu de données est archivé sur data.gouv.fr depuis le 1 juin 2025." in text(response)


@pytest.mark.parametrize(
    "identifier",
    [PPRI["slug"], PPRI["geoide_record_id"], PPRI["geoide_record_id"].upper(), PPRI["catalogue_id"].upper()],
    ids=["slug", "geoide-record-id", "geoide-record-id-upper-case", "catalogue-id-upper-case"],
)
def test_other_identifiers_redirect_permanently_to_the_catalogue_id(client, ppri, identifier):
    response = client.get(f"/jeux-de-donnees/{identifier}")

    assert response.status_code == 301
    assert response.headers["Location"] == f"/jeux-de-donnees/{PPRI['catalogue_id']}"


@pytest.mark.parametrize(
    "identifier",
    [
        "000000000000000000000000",
        "jeu-inexistant",
        "fr-120066022-jdd-00000000-0000-0000-0000-000000000000",
        "pas un identifiant",
        "%3Cscript%3E",
    ],
)
def test_unknown_dataset_is_a_french_404_page(client, ppri, identifier):
    response = client.get(f"/jeux-de-donnees/{identifier}")

    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    assert "La page que vous cherchez n'existe pas ou a été déplacée." in text(response)
    assert '<html lang="fr"' in html_of(response)


# --- producers -------------------------------------------------------------------------------------------


def test_producers_page_lists_producers_with_their_dataset_counts(client, db):
    nievre = factories.create_organisation(name="DDT Nièvre", territory_code="D58")
    jura = factories.create_organisation(name="DDT Jura", territory_code="D39")
    factories.create_organisation(
        name="DREAL Bourgogne-Franche-Comté", kind=OrganisationKind.DREAL, territory_code="R27"
    )
    factories.create_organisation(name="Bureau d'études Hydro-Conseil", is_producer=False)
    for n in range(3):
        factories.create_dataset(title=f"PPRI de la Nièvre, secteur {n}", organisation=nievre)
    factories.create_dataset(title="Ancien PPRI de la Nièvre", organisation=nievre, archived=True)
    factories.create_dataset(title="Cours d'eau du Jura", organisation=jura)

    response = client.get("/organisations")

    assert response.status_code == 200
    assert "<h1>Services producteurs</h1>" in html_of(response)
    assert producer_rows(response) == [
        ("DDT Jura", "DDT", "Jura", "1"),
        ("DDT Nièvre", "DDT", "Nièvre", "3"),
        ("DREAL Bourgogne-Franche-Comté", "DREAL", "Bourgogne-Franche-Comté", "0"),
    ]
    assert links(response)["DDT Nièvre"] == f"/organisations/{nievre.slug}"
    assert "Hydro-Conseil" not in text(response)


def test_producers_page_without_producers_says_so(client, db):
    response = client.get("/organisations")

    assert response.status_code == 200
    assert "Aucun service producteur pour l'instant" in text(response)


def test_organisation_page_shows_the_organisation_and_its_datasets(client, ppri, nievre):
    factories.create_dataset(title="Atlas des zones inondables de la Nièvre", organisation=nievre)
    factories.create_dataset(title="Cours d'eau du Jura")

    response = client.get(f"/organisations/{nievre.slug}")

    assert response.status_code == 200
    assert "<h1>DDT Nièvre</h1>" in html_of(response)
    page = text(response)
    assert "DDT — Nièvre (58)" in page
    assert "Service producteur" in page
    assert "Jeux de données (2)" in page
    assert listed_titles(response) == ["Atlas des zones inondables de la Nièvre", PPRI["title"]]
    label, _ = external_link(response, "https://www.data.gouv.fr/organizations/58aeed0f88ee381f26e6e756/")
    assert "data.gouv.fr" in label


def test_organisation_page_is_paginated(client, db):
    organisation = factories.create_organisation(name="DDT Loiret")
    titles = [f"Zonage PPRI du Loiret, secteur {n:02d}" for n in range(1, 26)]
    for title in reversed(titles):
        factories.create_dataset(title=title, organisation=organisation)

    first = client.get(f"/organisations/{organisation.slug}")
    second = client.get(f"/organisations/{organisation.slug}", query_string={"page": "2"})
    past_the_end = client.get(f"/organisations/{organisation.slug}", query_string={"page": "9"})

    assert "Jeux de données (25)" in text(first)
    assert listed_titles(first) == titles[:20]
    assert listed_titles(second) == titles[20:]
    assert listed_titles(past_the_end) == titles[20:]
    next_link = re.search(r'href="([^"]+)" rel="next"', html_of(first)).group(1)
    assert unescape(next_link) == f"/organisations/{organisation.slug}?page=2"


def test_organisation_without_datasets_says_so(client, db):
    organisation = factories.create_organisation(name="DDT Loiret")

    response = client.get(f"/organisations/{organisation.slug}")

    assert response.status_code == 200
    assert "Cette organisation ne publie aucun jeu de données dans le catalogue." in text(response)


def test_unknown_organisation_is_a_french_404_page(client, db):
    response = client.get("/organisations/ddt-nulle-part")

    assert response.status_code == 404
    assert "Page introuvable" in text(response)
