"""The open data exports (feedback/opendata/exports.py): `;`-separated UTF-8 CSV of the public threads and their
public messages, streamed, with the columns the README lists; never a restricted, hidden or held thread, an
internal note, a hidden or held message; the same under the API's path."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from feedback.opendata.exports import MESSAGE_COLUMNS, THREAD_COLUMNS

from .conftest import assert_nothing_closed

README = Path(__file__).resolve().parents[2] / "README.md"


def rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8")), delimiter=";"))


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_the_threads_export_holds_the_public_threads_only(web, scene, content, prefix):
    response = web.get(f"{prefix}/exports/threads.csv")

    assert response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="fils.csv"'
    found = rows(response)
    assert list(found[0]) == [column.name for column in THREAD_COLUMNS]
    by_title = {row["titre"]: row for row in found}
    assert sorted(by_title) == ["Géométries invalides", "Source des zones inondables"]
    issue = by_title["Géométries invalides"]
    assert issue["id"] == str(content.issue.id)
    assert issue["url"] == f"http://localhost/fils/{content.issue.id}"
    assert (issue["type"], issue["statut"], issue["ouvert"]) == ("quality_issue", "resolved", "false")
    assert issue["jeu_de_donnees_id"] == scene.dataset.catalogue_id
    assert issue["service"] == "DDT du Loiret"
    assert issue["service_id"] == scene.producer.datagouv_id
    assert issue["categorie_qualite"] == "outdated"
    assert issue["cree_le"] == content.issue.created_at.isoformat()
    assert issue["clos_le"] == content.issue.closed_at.isoformat()
    assert_nothing_closed(response.get_data(as_text=True))


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_the_messages_export_holds_the_public_visible_messages_only(web, scene, content, prefix):
    response = web.get(f"{prefix}/exports/messages.csv")

    found = rows(response)
    assert list(found[0]) == [column.name for column in MESSAGE_COLUMNS]
    assert [(row["fil_id"], row["texte"]) for row in found] == [
        (str(content.question.id), "D'où viennent ces zones ?"),
        (str(content.question.id), "Du PPRI approuvé en 2019."),
        (str(content.question.id), "Merci pour la réponse."),
        (str(content.issue.id), "Des polygones se croisent."),
        (str(content.issue.id), "Corrigé dans la version de mars."),
    ]
    answer = found[1]
    assert (answer["nature"], answer["au_nom_de"]) == ("answer", "DDT du Loiret")
    assert answer["au_nom_de_id"] == scene.producer.datagouv_id
    assert found[0]["au_nom_de"] == ""
    assert_nothing_closed(response.get_data(as_text=True))


def test_a_text_with_the_separator_quotes_and_lines_reads_back_whole(web, scene):
    from tests.threads.conftest import post_thread

    body = 'Colonnes « a;b » et "c"\nsur deux lignes'
    post_thread(scene.author, title='Titre ; avec "guillemets"', body=body, dataset=scene.dataset)

    assert rows(web.get("/exports/threads.csv"))[0]["titre"] == 'Titre ; avec "guillemets"'
    assert rows(web.get("/exports/messages.csv"))[0]["texte"] == body


def test_a_text_that_would_open_a_formula_is_written_as_text(web, scene):
    from tests.threads.conftest import post_thread

    title = '=HYPERLINK("https://attaquant.example")'
    post_thread(scene.author, title=title, body="@SUM(1+1)", dataset=scene.dataset)

    assert rows(web.get("/exports/threads.csv"))[0]["titre"] == "'" + title
    assert rows(web.get("/exports/messages.csv"))[0]["texte"] == "'@SUM(1+1)"


def test_an_empty_platform_exports_the_header_alone(web, db):
    assert web.get("/exports/threads.csv").get_data(as_text=True).splitlines() == [
        ";".join(column.name for column in THREAD_COLUMNS)
    ]


def test_the_readme_documents_every_column(db):
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("## Données ouvertes") :]
    for column in (*THREAD_COLUMNS, *MESSAGE_COLUMNS):
        assert re.search(rf"`{column.name}`", section), column.name
    assert "Licence Ouverte / Open Licence version 2.0" in section
