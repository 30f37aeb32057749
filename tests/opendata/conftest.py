"""The threads domain's scene, and a dataset whose threads hold every kind of content that must never be opened:
a restricted data request, a thread hidden by the moderation, a thread and a reply held for review, an internal
note and a hidden message — each carrying a word of its own, so that a test can say it is nowhere to be read."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from feedback.extensions import db as _db
from feedback.moderation import services as moderation
from feedback.threads import services
from feedback.threads.models import Message, Thread, ThreadKind, ThreadStatus
from tests.threads.conftest import post_thread, scene, web  # noqa: F401

from .. import factories

# Words that only content no anonymous visitor may read holds.
NEVER_OPEN = ("RESTREINT", "MASQUEFIL", "RETENUFIL", "RETENUREPONSE", "NOTEINTERNE", "MESSAGEMASQUE")


@dataclass
class Content:
    question: Thread  # public, open, answered by the service: the author's message, the answer, a reply
    issue: Thread  # public quality issue, resolved by the service
    restricted: Thread
    hidden: Thread
    held: Thread
    answer: Message


@pytest.fixture
def content(scene, app, monkeypatch) -> Content:  # noqa: F811
    # The moderation's notifications hold links: built as in a request.
    with app.test_request_context():
        question = post_thread(
            scene.author, ThreadKind.QUESTION, title="Source des zones inondables", dataset=scene.dataset,
            body="D'où viennent ces zones ?",
        )  # fmt: skip
        answer = services.post_message(question, scene.member, "Du PPRI approuvé en 2019.")
        services.post_message(question, scene.author, "Merci pour la réponse.")
        services.post_message(question, scene.member, "NOTEINTERNE à ne pas publier.", internal=True)
        noisy = services.post_message(question, scene.other_user, "MESSAGEMASQUE injurieux.")
        moderation.hide_message(scene.curator, noisy, "Propos injurieux.")

        issue = post_thread(
            scene.other_user, ThreadKind.QUALITY_ISSUE, title="Géométries invalides", dataset=scene.dataset,
            category="outdated", body="Des polygones se croisent.",
        )  # fmt: skip
        services.post_message(issue, scene.member, "Corrigé dans la version de mars.")
        services.change_status(issue, scene.member, ThreadStatus.RESOLVED)

        restricted = post_thread(
            scene.author, ThreadKind.DATA_REQUEST, title="RESTREINT captages", dataset=scene.dataset, restricted=True,
            body="RESTREINT : la liste des captages.",
        )  # fmt: skip
        hidden = post_thread(scene.other_user, ThreadKind.QUESTION, title="MASQUEFIL hors sujet", dataset=scene.dataset)
        moderation.hide_thread(scene.curator, hidden, "Hors sujet.")

        monkeypatch.setitem(app.config, "FEEDBACK_HOLD_FIRST_POSTS", 5)
        newcomer = factories.create_user(name="Nouvelle Venue")
        held = post_thread(newcomer, ThreadKind.QUESTION, title="RETENUFIL première question", dataset=scene.dataset)
        services.post_message(question, newcomer, "RETENUREPONSE première réponse.")
        monkeypatch.setitem(app.config, "FEEDBACK_HOLD_FIRST_POSTS", 0)
        _db.session.commit()
    assert held.held_at is not None and held.hidden_at is not None
    return Content(question, issue, restricted, hidden, held, answer)


def assert_nothing_closed(text: str) -> None:
    for word in NEVER_OPEN:
        assert word not in text, word
