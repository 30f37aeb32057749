"""Every dataset field takes a title as well as an identifier: one current dataset of that title (accents and case
ignored) is taken; several are offered to choose from (radio buttons, without JavaScript); a bare Géo-IDE UUID
resolves like its prefixed form."""

from __future__ import annotations

import re

from feedback.catalogue.resolver import look_up_dataset, suggestion_label
from feedback.extensions import db
from feedback.threads.models import Thread, ThreadStatus

from .. import factories
from .conftest import count, data_request, field_errors, fresh, html, page_text

UUID = "2e8c6f1c-1a2b-4c3d-8e9f-0123456789ab"


def _two_of_a_title(scene):
    first = factories.create_dataset(title="Unité cynégétique en Moselle", organisation=scene.producer)
    second = factories.create_dataset(
        title="Unité cynégétique en Moselle", organisation=scene.other_producer, territories=["D58"]
    )
    db.session.commit()
    return first, second


def test_a_title_names_its_dataset_accents_and_case_ignored(scene):
    assert look_up_dataset("zones INONDABLES du loiret").dataset == scene.dataset
    assert look_up_dataset("  Zônes inondables   du Loiret ").dataset == scene.dataset
    assert look_up_dataset(suggestion_label(scene.dataset)).dataset == scene.dataset
    assert look_up_dataset("Zones inondables du Cher").dataset is None


def test_several_datasets_of_a_title_are_candidates_and_archived_ones_are_not(scene):
    first, second = _two_of_a_title(scene)
    factories.create_dataset(title="Unité cynégétique en Moselle", archived=True)
    db.session.commit()

    found = look_up_dataset("unite cynegetique en moselle")

    assert found.dataset is None
    assert set(found.candidates) == {first, second}
    # "Title — Producer", as a suggestion shows it, names one of them.
    assert look_up_dataset(suggestion_label(second)).dataset == second


def test_a_bare_geoide_uuid_resolves_like_the_prefixed_record_id(scene):
    dataset = factories.create_dataset(title="Haies", geoide_record_id=f"fr-120066022-jdd-{UUID}")
    series = factories.create_dataset(title="Série", geoide_record_id="fr-120066022-ldd-" + UUID.replace("2e", "3f", 1))
    db.session.commit()

    assert look_up_dataset(UUID).dataset == dataset
    assert look_up_dataset(UUID.upper()).dataset == dataset
    assert look_up_dataset(UUID.replace("2e", "3f", 1)).dataset == series


def _new_question(web, **data):
    values = {"title": "Une question", "body": "Bonjour.", "dataset": ""}
    values.update(data)
    return web.post("/fils/nouveau?type=question", data=values)


def test_a_title_typed_in_the_new_thread_form_is_taken(web, scene):
    web.sign_in(scene.author)

    response = _new_question(web, dataset="zones inondables du loiret")

    assert response.status_code == 303
    thread = db.session.scalars(db.select(Thread).order_by(Thread.id.desc())).first()
    assert thread.dataset_id == scene.dataset.id


def test_an_ambiguous_title_offers_the_candidates_and_the_choice_posts(web, scene):
    first, second = _two_of_a_title(scene)
    web.sign_in(scene.author)

    response = _new_question(web, dataset="Unité cynégétique en Moselle", body="Quelle est la source ?")

    assert response.status_code == 200
    assert count(Thread) == 0
    assert field_errors(response, "dataset") == [
        "Plusieurs jeux de données portent ce titre : choisissez le vôtre dans la liste."
    ]
    page = html(response)
    radios = re.findall(r'<input type="radio"[^>]*name="dataset_choice" value="([0-9a-f]{24})"', page)
    assert sorted(radios) == sorted([first.catalogue_id, second.catalogue_id])
    text = page_text(response)
    assert "DDT du Loiret" in text and "DDT de la Nièvre" in text and "Nièvre" in text
    assert "Quelle est la source ?" in page  # what was typed is kept

    response = _new_question(
        web, dataset="Unité cynégétique en Moselle", dataset_choice=second.catalogue_id, body="Quelle est la source ?"
    )

    assert response.status_code == 303
    assert db.session.scalars(db.select(Thread)).one().dataset_id == second.id


def test_related_datasets_by_title_and_an_ambiguous_line_says_which_identifiers_to_paste(web, scene):
    first, second = _two_of_a_title(scene)
    web.sign_in(scene.author)
    data = {"title": "Les haies manquent", "body": "Bonjour.", "territory": "D45", "theme": "inspire:lc"}

    response = web.post(
        "/fils/nouveau?type=missing_data",
        data={**data, "related_datasets": "Zones inondables du Loiret\nUnité cynégétique en Moselle"},
    )

    assert response.status_code == 200
    (error,) = field_errors(response, "related_datasets")
    assert first.catalogue_id in error and second.catalogue_id in error

    response = web.post(
        "/fils/nouveau?type=missing_data",
        data={**data, "related_datasets": f"Zones inondables du Loiret\n{second.catalogue_id}"},
    )

    assert response.status_code == 303
    thread = db.session.scalars(db.select(Thread)).one()
    assert {d.id for d in thread.related_datasets} == {scene.dataset.id, second.id}


def test_the_resolving_dataset_of_a_status_change_by_title(web, scene):
    first, _ = _two_of_a_title(scene)
    thread = data_request(scene)
    web.sign_in(scene.member)
    status = {"status": "resolved", "version": str(fresh(thread.id).version)}

    response = web.post(
        f"/fils/{thread.id}/statut", data={**status, "resolution_dataset": "Unité cynégétique en moselle"}
    )

    assert response.status_code == 200
    assert fresh(thread.id).status == ThreadStatus.NEW
    assert f'name="resolution_dataset_choice" value="{first.catalogue_id}"' in html(response)

    response = web.post(
        f"/fils/{thread.id}/statut",
        data={
            **status,
            "resolution_dataset": "Unité cynégétique en moselle",
            "resolution_dataset_choice": first.catalogue_id,
        },
    )

    assert response.status_code == 303
    assert fresh(thread.id).status == ThreadStatus.RESOLVED
    assert fresh(thread.id).resolution_dataset_id == first.id


def test_suggestions_show_the_title_and_producer_never_a_bare_id(web, scene):
    response = web.get("/jeux-de-donnees/suggestions?dataset=Zones+inondables")

    assert '<option value="Zones inondables du Loiret — DDT du Loiret">' in html(response)


def test_no_result_in_the_catalogue_leads_to_reporting_missing_data_with_the_words_searched(web, scene):
    response = web.get("/jeux-de-donnees?q=haies+bocageres&territoire=D45")

    link = re.search(r'href="([^"]*type=missing_data[^"]*)"', html(response))
    assert link, page_text(response)
    web.sign_in(scene.author)
    form = web.get(link.group(1).replace("&amp;", "&"))
    assert re.search(r'<input[^>]*id="title"[^>]*value="haies bocageres"', html(form))
    assert re.search(r'<option[^>]*selected[^>]*value="D45"|<option[^>]*value="D45"[^>]*selected', html(form))
