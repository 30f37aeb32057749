"""No surface of the platform shows a restricted thread or an internal note to someone the permission rules
refuse (DESIGN.md §3): one test over every list, search, count, feed, page, export and report, for every
kind of person, driven by the rules themselves (`workflow.can_view`, `workflow.can(…, "see_internal", …)`).

The scene holds words that only a restricted data request (its title, its body, the service's answer) and an
internal note carry. For each surface and each person, a word of the restricted request may show only if
`can_view` lets that person see it, a word of the note only if they may read internal notes; where a surface
counts threads, its count is the number of threads `can_view` lets them see. Each surface also shows a public
thread to everyone, so that a page that failed or showed nothing cannot pass.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback.capitalisation import services as reports
from feedback.capitalisation.scope import Scope
from feedback.clock import paris_today
from feedback.database import utcnow
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import Thread
from feedback.threads.workflow import can, can_view

from .conftest import data_request, html, listed_ids, page_text, question, results_section

ACTORS = ["anonymous", "other_user", "author", "member", "other_producer", "curator"]

PUBLIC_TITLE = "Zones inondables : millésime 2025"
# Words only the restricted request to the Loiret carries (title, body, the service's answer)…
RESTRICTED_WORDS = ("Captages prioritaires sensibles du Loiret", "xylophage", "zirconium")
# … and those of another restricted request, to the Nièvre.
OTHER_RESTRICTED_WORDS = ("Forages confidentiels de la Nièvre", "ornithorynque")
# A word only the internal note of the public thread carries.
NOTE_WORD = "quinconce"


@dataclass
class Secrets:
    public: Thread
    restricted: Thread
    other_restricted: Thread
    report_slug: str


@pytest.fixture
def secrets(scene) -> Secrets:
    public = question(scene, title=PUBLIC_TITLE, body="Le millésime 2025 est-il prévu ?")
    services.post_message(public, scene.member, f"Attendre le bureau {NOTE_WORD} avant de répondre.", internal=True)
    restricted = data_request(
        scene,
        title="Captages prioritaires sensibles du Loiret",
        body="Merci de m'envoyer les captages du syndicat xylophage.",
        restricted=True,
    )
    services.post_message(restricted, scene.member, "Voici l'extrait, sans le forage zirconium.")
    other_restricted = data_request(
        scene,
        title="Forages confidentiels de la Nièvre",
        body="Les forages ornithorynque, s'il vous plaît.",
        organisation=scene.other_producer,
        dataset=None,
        restricted=True,
    )
    db.session.commit()
    # A report over every thread, restricted ones included in its draft, published (frozen, public figures).
    scope = Scope(date_from=paris_today() - timedelta(days=30), date_to=paris_today(), include_restricted=True)
    report = reports.create_report(scene.curator, "Rapport de contrôle", scope)
    reports.publish_report(report, scene.curator)
    db.session.commit()
    return Secrets(public=public, restricted=restricted, other_restricted=other_restricted, report_slug=report.slug)


def _zip_text(response) -> str:
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        return "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())


def _text(response) -> str:
    if response.mimetype == "application/zip":
        return _zip_text(response)
    if response.mimetype in ("text/html",):
        return page_text(response) + html(response)
    return response.get_data(as_text=True)


@dataclass
class Surface:
    url: Callable[[object, Secrets], str]
    # Where the surface counts threads: the pattern of its count, and which threads it counts.
    count: str | None = None
    counted: Callable[[object, Secrets], object] | None = None
    shows_public_thread: bool = True
    # A search of /threads for one word that one thread holds: its results list that thread exactly when the
    # rules let the person see it (`query`: the word, which the results repeat when they find nothing). The
    # words of internal notes are not searched at all, not even for those who may read them.
    query: str = ""
    finds: Callable[[Secrets], Thread | None] | None = None


def _of_dataset(scene, secrets):
    return Thread.dataset_id == scene.dataset.id


def _of_producer(scene, secrets):
    return Thread.organisation_id == scene.producer.id


def _period(scene, secrets) -> str:
    today = paris_today()
    return f"du={(today - timedelta(days=30)).isoformat()}&au={today.isoformat()}"


SURFACES = {
    "liste des fils": Surface(lambda s, x: "/fils", count=r"\b(\d+) fils?\b", counted=lambda s, x: sa.true()),
    "liste d'un service": Surface(
        lambda s, x: f"/fils?producteur={s.producer.slug}", count=r"\b(\d+) fils?\b", counted=_of_producer
    ),
    "recherche d'un titre": Surface(
        lambda s, x: "/fils?q=captages", shows_public_thread=False, query="captages", finds=lambda x: x.restricted
    ),
    "recherche d'un message": Surface(
        lambda s, x: "/fils?q=ornithorynque",
        shows_public_thread=False,
        query="ornithorynque",
        finds=lambda x: x.other_restricted,
    ),
    "recherche d'une note interne": Surface(
        lambda s, x: f"/fils?q={NOTE_WORD}", shows_public_thread=False, query=NOTE_WORD, finds=lambda x: None
    ),
    "fils semblables": Surface(
        lambda s, x: "/fils/similaires?title=captages+prioritaires+sensibles+inondables+millésime"
    ),
    "page du jeu de données": Surface(
        lambda s, x: f"/jeux-de-donnees/{s.dataset.catalogue_id}",
        count=r"Fils de discussion sur ce jeu de données \((\d+)\)",
        counted=_of_dataset,
    ),
    "page du service": Surface(
        lambda s, x: f"/organisations/{s.producer.slug}",
        count=r"Fils adressés à ce service \((\d+)\)",
        counted=_of_producer,
    ),
    "page du fil public": Surface(lambda s, x: f"/fils/{x.public.id}"),
    "page du fil restreint": Surface(lambda s, x: f"/fils/{x.restricted.id}", shows_public_thread=False),
    "boîte de réception": Surface(lambda s, x: "/boite-de-reception?onglet=ouverts", shows_public_thread=False),
    "notifications": Surface(lambda s, x: "/notifications", shows_public_thread=False),
    "accueil": Surface(lambda s, x: "/", shows_public_thread=False),
    "flux des fils": Surface(lambda s, x: "/fils/flux.atom"),
    "flux d'un fil": Surface(lambda s, x: f"/fils/{x.public.id}/flux.atom"),
    "flux du jeu de données": Surface(lambda s, x: f"/jeux-de-donnees/{s.dataset.catalogue_id}/flux.atom"),
    "flux du service": Surface(lambda s, x: f"/organisations/{s.producer.slug}/flux.atom"),
    "tableau de bord": Surface(lambda s, x: f"/capitalisation?{_period(s, x)}", shows_public_thread=False),
    "tableau de bord, demandes restreintes comprises": Surface(
        lambda s, x: f"/capitalisation?{_period(s, x)}&restreints=1", shows_public_thread=False
    ),
    **{
        f"tableau « {table} »{', demandes restreintes comprises' if restricted else ''}": Surface(
            lambda s, x, table=table, restricted=restricted: (
                f"/capitalisation/{table}?{_period(s, x)}{'&restreints=1' if restricted else ''}"
            ),
            shows_public_thread=False,
        )
        for table in ("services", "qualite", "demande", "demandes-similaires")
        for restricted in (False, True)
    },
    "rapport publié": Surface(lambda s, x: f"/rapports/{x.report_slug}", shows_public_thread=False),
    "rapport publié (Markdown)": Surface(lambda s, x: f"/rapports/{x.report_slug}.md", shows_public_thread=False),
    "rapport publié (JSON)": Surface(lambda s, x: f"/rapports/{x.report_slug}.json", shows_public_thread=False),
    "rapport publié (CSV)": Surface(lambda s, x: f"/rapports/{x.report_slug}.csv.zip", shows_public_thread=False),
}


def _found(words, text: str) -> list[str]:
    return [word for word in words if word.lower() in text.lower()]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_no_surface_shows_what_the_rules_refuse(web, scene, secrets, surface, actor):
    person = scene.actor(actor)
    spec = SURFACES[surface]
    web.sign_in(person)

    response = web.get(spec.url(scene, secrets))

    assert response.status_code in (200, 302, 404), response.status_code
    text = _text(response)
    if spec.finds:
        text = re.sub(re.escape(spec.query), "", results_section(response), flags=re.IGNORECASE)
    for thread, words in ((secrets.restricted, RESTRICTED_WORDS), (secrets.other_restricted, OTHER_RESTRICTED_WORDS)):
        if not can_view(person, thread):
            assert _found(words, text) == [], f"{surface} shows a restricted request to {actor}"
    if not can(person, "see_internal", secrets.public):
        assert _found([NOTE_WORD], text) == [], f"{surface} shows an internal note to {actor}"
    if spec.finds:
        thread = spec.finds(secrets)
        expected = [thread.id] if thread is not None and can_view(person, thread) else []
        assert listed_ids(response) == expected, f"{surface} for {actor}"
    if spec.shows_public_thread:
        assert PUBLIC_TITLE in text, f"{surface} does not show the public thread: the check proves nothing"
    if spec.count is not None:
        threads = db.session.scalars(sa.select(Thread).where(spec.counted(scene, secrets))).all()
        found = re.search(spec.count, page_text(response))
        assert found, f"no count on {surface}"
        assert int(found.group(1)) == sum(can_view(person, thread) for thread in threads)


@pytest.mark.parametrize("include_restricted", [False, True])
@pytest.mark.parametrize("output", ["json", "md"])
def test_the_reports_command_shows_restricted_requests_only_when_asked(
    runner, scene, secrets, output, include_restricted
):
    today = paris_today()
    arguments = ["reports", "build", "--from", (today - timedelta(days=30)).isoformat(), "--format", output]
    if include_restricted:
        arguments.append("--include-restricted")

    result = runner.invoke(args=arguments)

    assert result.exit_code == 0, result.output
    counted = re.search(r"Rapport : (\d+) fil\(s\)", result.output)
    assert counted, result.output
    person = scene.curator if include_restricted else None
    threads = db.session.scalars(sa.select(Thread)).all()
    assert int(counted.group(1)) == sum(can_view(person, thread) for thread in threads)
    if not include_restricted:
        assert _found(RESTRICTED_WORDS + OTHER_RESTRICTED_WORDS, result.output) == []
    assert _found([NOTE_WORD], result.output) == []


def test_the_scene_is_as_the_rules_say(scene, secrets):
    """The rules the surfaces are held to: those who may see the restricted request and read the note."""
    viewers = {a for a in ACTORS if can_view(scene.actor(a), secrets.restricted)}
    readers = {a for a in ACTORS if can(scene.actor(a), "see_internal", secrets.public)}

    assert viewers == {"author", "member", "curator"}
    assert readers == {"member", "curator"}
    assert utcnow() - secrets.restricted.created_at < timedelta(minutes=5)
