"""Atom feeds (RFC 4287) of a thread, a dataset, an organisation and of any filter of /threads: well-formed,
public content only whoever asks, the same filters as /threads, and announced in the pages' heads."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.i18n import french_date
from feedback.threads import services
from feedback.threads.models import Message, Thread, ThreadKind

from .. import factories
from .conftest import data_request, fresh, post_thread, question

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://retours.exemple.gouv.fr"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NOTE = "Note interne : attendre le bureau hydrographie avant de répondre."
HIDDEN = "Message retiré par la modération, à ne plus montrer."
RESTRICTED_TITLE = "Captages prioritaires sensibles du Loiret"
# Two days ago at 8:00 UTC: recent enough for a data request's deadline to be extended.
START = (datetime.now(UTC) - timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_BASE_URL", BASE + "/")


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def rfc3339(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_feed(response) -> ET.Element:
    """The feed, checked for what RFC 4287 requires of it and of each entry."""
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{tag}") or "").strip(), f"feed without {tag}"
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}link[@rel='self']").get("href").startswith(BASE + "/")
    for entry in root.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{tag}") or "").strip(), f"entry without {tag}"
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}link").get("href").startswith(BASE + "/")
        # Each entry has an author, its own or the feed's.
        assert entry.find(f"{ATOM}author/{ATOM}name") is not None or root.find(f"{ATOM}author/{ATOM}name") is not None
    return root


def entries(root: ET.Element) -> list[dict]:
    return [
        {
            "id": entry.findtext(f"{ATOM}id"),
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "updated": entry.findtext(f"{ATOM}updated"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
            "content": entry.findtext(f"{ATOM}content") or "",
            "text": " ".join(unescape(re.sub(r"<[^>]+>", " ", entry.findtext(f"{ATOM}content") or "")).split()),
            "content_type": entry.find(f"{ATOM}content").get("type")
            if entry.find(f"{ATOM}content") is not None
            else None,
            "categories": [c.get("term") for c in entry.findall(f"{ATOM}category")],
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def thread_url(thread: Thread) -> str:
    return f"{BASE}/fils/{thread.id}"


class AlternateLinks(HTMLParser):
    """The <link rel="alternate" type="application/atom+xml"> of a page's head, as (title, href)."""

    def __init__(self, source: str):
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.in_head = False
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif tag == "link" and self.in_head and values.get("rel") == "alternate":
            assert values.get("type") == "application/atom+xml"
            self.found.append((values.get("title"), values.get("href")))

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def alternate_links(response) -> list[tuple[str, str]]:
    assert response.status_code == 200
    return AlternateLinks(response.get_data(as_text=True)).found


# One thread ---------------------------------------------------------------------------------------------


@pytest.fixture
def story(scene):
    """A data request answered, with an internal note and a hidden message, extended then transferred."""
    thread = data_request(scene, title="Zones inondables au format GeoPackage", created_at=at(0))
    services.post_message(thread, scene.member, "Nous préparons l'extrait demandé.", posted_at=at(1))
    services.post_message(thread, scene.member, NOTE, internal=True, posted_at=at(2))
    hidden = services.post_message(thread, scene.other_user, HIDDEN, posted_at=at(3))
    hidden.hidden_at = at(4)
    services.extend_deadline(thread, scene.member, "Le volume des données justifie deux mois.")
    services.transfer_thread(thread, scene.member, scene.other_producer, "La DDT de la Nièvre détient ces données.")
    db.session.commit()
    return thread


def test_a_thread_feed_tells_its_public_messages_and_events_newest_first(web, scene, story):
    root = parse_feed(web.get(f"/fils/{story.id}/flux.atom"))

    assert root.findtext(f"{ATOM}title") == f"Fil n° {story.id} : Zones inondables au format GeoPackage"
    assert root.findtext(f"{ATOM}id") == f"{BASE}/fils/{story.id}/flux.atom"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == thread_url(story)
    found = entries(root)
    assert [e["title"] for e in found] == [
        "Fil transféré à DDT de la Nièvre",
        "Note de transfert de DDT du Loiret",  # the word on the transfer: not an answer
        "Délai de réponse prolongé",
        "Motif de prolongation de DDT du Loiret",  # the motive of the extension: not an answer either
        "Statut : Pris en compte",  # the first answer of the producer
        "Réponse officielle de DDT du Loiret",
        "Message de Alice Autrice",
    ]
    assert "La DDT de la Nièvre détient ces données." in found[1]["content"]
    assert found[1]["content_type"] == "html"
    assert found[1]["author"] == "Mathilde Membre (DDT du Loiret)"
    assert "Mathilde Membre a transféré le fil à DDT de la Nièvre" in found[0]["text"]
    due_at = fresh(story.id).due_at
    assert f"Mathilde Membre a prolongé le délai de réponse jusqu'au {french_date(due_at)}" in found[2]["text"]
    assert "Le fil passe au statut « Pris en compte »" in found[4]["text"]
    assert found[5]["content"] == "<p>Nous préparons l'extrait demandé.</p>"
    assert found[5]["updated"] == rfc3339(at(1))
    assert found[6]["updated"] == rfc3339(at(0))
    assert found[6]["author"] == "Alice Autrice"
    # Stable ids, absolute links to the messages.
    message_ids = [m for m in db.session.scalars(sa.select(Message.id).where(Message.thread_id == story.id))]
    assert found[5]["id"] == found[5]["link"] == f"{thread_url(story)}#message-{sorted(message_ids)[1]}"
    assert len({e["id"] for e in found}) == len(found)
    assert web.get(f"/fils/{story.id}/flux.atom").data == web.get(f"/fils/{story.id}/flux.atom").data


@pytest.mark.parametrize("actor", ["anonymous", "author", "member", "curator"])
def test_a_thread_feed_never_shows_internal_notes_nor_hidden_messages(web, scene, story, actor):
    web.sign_in(scene.actor(actor))

    response = web.get(f"/fils/{story.id}/flux.atom")

    parse_feed(response)
    body = response.get_data(as_text=True)
    assert "bureau hydrographie" not in body
    assert "modération" not in body
    assert "Bruno Passant" not in body  # the author of the hidden message


@pytest.mark.parametrize("actor", ["anonymous", "other_user", "author", "member", "curator"])
def test_a_restricted_thread_has_no_feed_whoever_asks(web, scene, actor):
    restricted = data_request(scene, title=RESTRICTED_TITLE, restricted=True)
    web.sign_in(scene.actor(actor))

    assert web.get(f"/fils/{restricted.id}/flux.atom").status_code == 404


def test_an_unknown_thread_has_no_feed(web, scene):
    thread = question(scene)

    assert web.get(f"/fils/{thread.id + 1000}/flux.atom").status_code == 404


def test_a_thread_feed_holds_the_50_latest_entries(web, scene):
    thread = question(scene, title="Question très commentée", created_at=at(0))
    for number in range(1, 56):
        services.post_message(thread, scene.other_user, f"Remarque numéro {number}.", posted_at=at(number / 60))
    db.session.commit()

    found = entries(parse_feed(web.get(f"/fils/{thread.id}/flux.atom")))

    assert len(found) == 50
    assert found[0]["content"] == "<p>Remarque numéro 55.</p>"
    assert found[-1]["content"] == "<p>Remarque numéro 6.</p>"


# Datasets, organisations, filters -------------------------------------------------------------------------


@pytest.fixture
def threads(scene):
    """On the scene's dataset: a question (its last activity latest), a data request, a restricted request; a
    question on another service's dataset."""
    other_dataset = factories.create_dataset(title="Haies de la Nièvre", organisation=scene.other_producer)
    asked = question(scene, title="Source des zones inondables", body="Quelle est la **source** ?", created_at=at(0))
    requested = data_request(scene, title="Zones inondables au format GeoPackage", created_at=at(1))
    restricted = data_request(scene, title=RESTRICTED_TITLE, restricted=True, created_at=at(2))
    services.post_message(asked, scene.member, "La source est la DDT.", posted_at=at(3))
    services.post_message(asked, scene.member, NOTE, internal=True, posted_at=at(4))
    elsewhere = question(scene, title="Haies bocagères", dataset=other_dataset, created_at=at(5))
    db.session.commit()
    return {"asked": asked, "requested": requested, "restricted": restricted, "elsewhere": elsewhere}


def test_a_dataset_feed_lists_its_public_threads_by_latest_activity(web, scene, threads):
    root = parse_feed(web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom"))

    assert root.findtext(f"{ATOM}title") == "Fils de discussion sur « Zones inondables du Loiret »"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        f"{BASE}/jeux-de-donnees/{scene.dataset.catalogue_id}"
    )
    found = entries(root)
    assert [e["id"] for e in found] == [thread_url(threads["asked"]), thread_url(threads["requested"])]
    assert [e["link"] for e in found] == [thread_url(threads["asked"]), thread_url(threads["requested"])]
    assert [e["updated"] for e in found] == [rfc3339(at(3)), rfc3339(at(1))]
    assert root.findtext(f"{ATOM}updated") == rfc3339(at(3))
    assert found[0]["title"] == "Source des zones inondables"
    assert found[0]["author"] == "Alice Autrice"
    assert found[0]["categories"] == ["question", "acknowledged"]
    assert "statut « Pris en compte »" in found[0]["text"]
    assert "DDT du Loiret" in found[0]["text"]
    assert "<p>Quelle est la <strong>source</strong> ?</p>" in found[0]["content"]  # the opening message
    assert found[1]["categories"] == ["data_request", "new"]
    # By its slug too.
    by_slug = entries(parse_feed(web.get(f"/jeux-de-donnees/{scene.dataset.slug}/flux.atom")))
    assert [e["id"] for e in by_slug] == [e["id"] for e in found]


def test_an_unknown_dataset_or_organisation_has_no_feed(web, scene):
    assert web.get("/jeux-de-donnees/abcdefabcdefabcdefabcdef/flux.atom").status_code == 404
    assert web.get("/jeux-de-donnees/jeu-qui-n-existe-pas/flux.atom").status_code == 404
    assert web.get("/organisations/service-inconnu/flux.atom").status_code == 404


def test_an_organisation_feed_lists_the_public_threads_addressed_to_it(web, scene, threads):
    found = entries(parse_feed(web.get(f"/organisations/{scene.producer.slug}/flux.atom")))
    assert [e["id"] for e in found] == [thread_url(threads["asked"]), thread_url(threads["requested"])]

    other = parse_feed(web.get(f"/organisations/{scene.other_producer.slug}/flux.atom"))
    assert other.findtext(f"{ATOM}title") == "Fils adressés à DDT de la Nièvre"
    assert [e["id"] for e in entries(other)] == [thread_url(threads["elsewhere"])]


def test_the_feed_of_a_filter_uses_the_filters_of_the_list(web, scene, threads):
    everything = entries(parse_feed(web.get("/fils/flux.atom")))
    assert [e["id"] for e in everything] == [
        thread_url(threads["elsewhere"]),
        thread_url(threads["asked"]),
        thread_url(threads["requested"]),
    ]

    root = parse_feed(web.get("/fils/flux.atom?type=data_request"))
    assert [e["id"] for e in entries(root)] == [thread_url(threads["requested"])]
    assert root.findtext(f"{ATOM}title") == "Fils de discussion : Demande de données"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == f"{BASE}/fils?type=data_request"

    by_producer = entries(parse_feed(web.get(f"/fils/flux.atom?producteur={scene.other_producer.slug}")))
    assert [e["id"] for e in by_producer] == [thread_url(threads["elsewhere"])]
    acknowledged = entries(parse_feed(web.get("/fils/flux.atom?statut=acknowledged")))
    assert [e["id"] for e in acknowledged] == [thread_url(threads["asked"])]
    # The list's sort does not apply: a feed is always latest activity first.
    by_date = entries(parse_feed(web.get("/fils/flux.atom?tri=recent")))
    assert [e["id"] for e in by_date] == [e["id"] for e in everything]


def test_personal_filters_are_ignored_in_a_feed(web, scene, threads):
    web.sign_in(scene.other_user)  # who wrote none of the threads and is assigned none

    found = entries(parse_feed(web.get("/fils/flux.atom?mes-fils=1&assignes=1&type=question")))

    assert [e["id"] for e in found] == [thread_url(threads["elsewhere"]), thread_url(threads["asked"])]


@pytest.mark.parametrize("actor", ["anonymous", "author", "member", "curator"])
def test_restricted_threads_and_internal_notes_never_appear_in_list_feeds(web, scene, threads, actor):
    web.sign_in(scene.actor(actor))

    for url in [
        f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom",
        f"/organisations/{scene.producer.slug}/flux.atom",
        "/fils/flux.atom",
        "/fils/flux.atom?type=data_request&mes-fils=1",
    ]:
        response = web.get(url)
        root = parse_feed(response)
        body = response.get_data(as_text=True)
        assert RESTRICTED_TITLE not in body, url
        assert "bureau hydrographie" not in body, url
        assert thread_url(threads["restricted"]) not in [e["id"] for e in entries(root)], url


def test_a_hidden_opening_message_is_left_out_of_list_feeds(web, scene):
    thread = question(scene, title="Question modérée", body=HIDDEN)
    db.session.scalars(sa.select(Message).where(Message.thread_id == thread.id)).one().hidden_at = at(1)
    db.session.commit()

    response = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom")

    assert [e["title"] for e in entries(parse_feed(response))] == ["Question modérée"]
    assert "modération" not in response.get_data(as_text=True)


# Whatever the text holds ------------------------------------------------------------------------------------

ODD_TITLE = """Eau & assainissement <script>alert("x")</script> 'l'usine' "test\""""


def test_feeds_stay_well_formed_whatever_the_titles_hold(web, scene):
    thread = post_thread(
        scene.author,
        ThreadKind.QUESTION,
        title=ODD_TITLE,
        body='Un corps avec <b onclick="x()">du HTML</b> & des ]]> et des "guillemets".',
        dataset=scene.dataset,
    )

    root = parse_feed(web.get(f"/fils/{thread.id}/flux.atom"))
    assert root.findtext(f"{ATOM}title") == f"Fil n° {thread.id} : {ODD_TITLE}"
    assert "onclick" not in entries(root)[0]["content"]  # the sanitised HTML of the message
    for url in [f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom", "/fils/flux.atom?q=assainissement"]:
        assert [e["title"] for e in entries(parse_feed(web.get(url)))] == [ODD_TITLE], url
    odd_query = parse_feed(web.get("/fils/flux.atom", query_string={"q": '<&">', "type": "question"}))
    assert odd_query.findtext(f"{ATOM}title") == 'Fils de discussion : Question, « <&"> »'

    # Characters XML cannot hold at all (a title imported from elsewhere) are left out.
    db.session.execute(sa.update(Thread).where(Thread.id == thread.id).values(title="Titre\x0b avec\x01 contrôle"))
    db.session.commit()
    root = parse_feed(web.get(f"/fils/{thread.id}/flux.atom"))
    assert root.findtext(f"{ATOM}title") == f"Fil n° {thread.id} : Titre avec contrôle"
    assert entries(parse_feed(web.get("/fils/flux.atom")))[0]["title"] == "Titre avec contrôle"


def test_the_pages_escape_the_feed_link_titles(web, scene):
    thread = post_thread(scene.author, ThreadKind.QUESTION, title=ODD_TITLE, dataset=scene.dataset)

    assert alternate_links(web.get(f"/fils/{thread.id}")) == [
        (f"Fil n° {thread.id} : {ODD_TITLE} (flux Atom)", f"/fils/{thread.id}/flux.atom")
    ]


# Cost and caching ---------------------------------------------------------------------------------------------


def test_a_list_feed_runs_the_same_number_of_queries_whatever_its_length(web, scene):
    question(scene, title="Premier fil", created_at=at(0))
    few, _ = web.count_queries(f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom")
    for number in range(4):
        author = factories.create_user(name=f"Usager {number}")
        organisation = factories.create_organisation(name=f"DDT numéro {number}")
        post_thread(
            author, ThreadKind.QUESTION, title=f"Fil {number}", dataset=scene.dataset, organisation=organisation
        )
    many, response = web.count_queries(f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom")

    assert len(entries(parse_feed(response))) == 5
    assert many == few
    thread_feed, _ = web.count_queries(f"/fils/{fresh_first_thread_id()}/flux.atom")
    assert thread_feed <= 4


def fresh_first_thread_id() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.min(Thread.id)))


def test_a_feed_answers_304_to_a_reader_that_already_has_it(web, scene):
    thread = question(scene, created_at=at(0))
    url = f"/fils/{thread.id}/flux.atom"
    first = web.get(url)
    assert first.headers["ETag"]
    assert first.headers["Last-Modified"] == at(0).strftime("%a, %d %b %Y %H:%M:%S GMT")

    assert web.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert web.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304

    services.post_message(thread, scene.member, "Voici la réponse.", posted_at=at(1))
    db.session.commit()
    assert web.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


# Announced in the pages ------------------------------------------------------------------------------------------


def test_the_pages_announce_their_feeds(web, scene, threads):
    thread_page = web.get(f"/fils/{threads['asked'].id}")
    assert alternate_links(thread_page) == [
        (
            f"Fil n° {threads['asked'].id} : Source des zones inondables (flux Atom)",
            f"/fils/{threads['asked'].id}/flux.atom",
        )
    ]
    assert "S'abonner au flux Atom" in thread_page.get_data(as_text=True)

    dataset_page = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
    assert alternate_links(dataset_page) == [
        (
            "Fils de discussion sur « Zones inondables du Loiret » (flux Atom)",
            f"/jeux-de-donnees/{scene.dataset.catalogue_id}/flux.atom",
        )
    ]
    assert "S'abonner au flux Atom" in dataset_page.get_data(as_text=True)

    organisation_page = web.get(f"/organisations/{scene.producer.slug}")
    assert alternate_links(organisation_page) == [
        ("Fils adressés à DDT du Loiret (flux Atom)", f"/organisations/{scene.producer.slug}/flux.atom")
    ]
    assert "S'abonner au flux Atom" in organisation_page.get_data(as_text=True)


def test_the_list_announces_the_feed_of_its_filters(web, scene, threads):
    web.sign_in(scene.author)

    page = web.get("/fils?type=data_request&mes-fils=1&tri=votes&page=1&etat=ouverts&q=")

    assert alternate_links(page) == [
        ("Fils de discussion de cette recherche (flux Atom)", "/fils/flux.atom?etat=ouverts&type=data_request")
    ]
    assert 'href="/fils/flux.atom?etat=ouverts&amp;type=data_request">S\'abonner au flux Atom' in page.get_data(
        as_text=True
    )
    # The live search's fragment carries the link too.
    fragment = web.htmx_get("/fils?type=question")
    assert 'href="/fils/flux.atom?type=question"' in fragment.get_data(as_text=True)
    assert alternate_links(web.get("/fils")) == [("Tous les fils de discussion (flux Atom)", "/fils/flux.atom")]


def test_a_restricted_thread_page_announces_no_feed(web, scene):
    restricted = data_request(scene, title=RESTRICTED_TITLE, restricted=True)
    web.sign_in(scene.author)

    page = web.get(f"/fils/{restricted.id}")

    assert alternate_links(page) == []
    assert "flux Atom" not in page.get_data(as_text=True)
