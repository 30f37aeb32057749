"""The preferences page: one frequency per topic, defaults (new threads: coordinators at once, plain members
never), saved by POST then 303 with a message, linked from /notifications and the account page."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from feedback.extensions import db
from feedback.notifications.models import NotificationPreference
from feedback.notifications.preferences import TOPICS

from ..threads.conftest import html, page_text


def selected(response) -> dict[str, str]:
    """Each topic's select → the label of its selected option."""
    found = {}
    for name, options in re.findall(r'<select[^>]* name="([a-z_]+)"[^>]*>(.*?)</select>', html(response), re.S):
        chosen = re.search(r'<option selected value="[a-z]+">([^<]*)</option>', options) or re.search(
            r'<option value="[a-z]+" selected>([^<]*)</option>', options
        )
        found[name] = unescape(chosen.group(1)) if chosen else None
    return found


def choices_of(user) -> dict[str, str]:
    db.session.rollback()
    rows = db.session.execute(
        sa.select(NotificationPreference.topic, NotificationPreference.frequency).where(
            NotificationPreference.user_id == user.id
        )
    )
    return dict(rows.all())


def test_the_page_needs_login(web):
    response = web.get("/notifications/preferences")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_one_row_per_topic_with_the_defaults(web, scene):
    web.sign_in(scene.member)
    response = web.get("/notifications/preferences")
    assert response.status_code == 200
    shown = selected(response)
    assert list(shown) == list(TOPICS)
    assert len(shown) == 15  # the fourteen kinds of notification and the weekly summary
    assert shown["thread_created"] == "Jamais"  # a plain member, who has not asked
    assert shown["followed_thread"] == "Tout de suite"  # following is asking
    assert shown["message"] == "Tout de suite"
    assert shown["summary"] == "Résumé hebdomadaire"
    text = page_text(response)
    assert (
        "Nouveaux fils adressés à vos organisations : les coordinateurs en sont toujours avertis dans l'application"
        in text
    )
    assert "Réponses sur les fils que vous suivez" in text
    # The summary is weekly or never: no other choice is offered.
    summary = re.search(r'<select[^>]* name="summary"[^>]*>(.*?)</select>', html(response), re.S).group(1)
    assert re.findall(r">([^<]+)</option>", summary) == ["Résumé hebdomadaire", "Jamais"]
    assert re.search(r'<label class="fr-label" for="message">', html(response))


def test_a_coordinator_is_mailed_new_threads_by_default(web, scene):
    web.sign_in(scene.coordinator)
    assert selected(web.get("/notifications/preferences"))["thread_created"] == "Tout de suite"


def test_saving_records_the_changes_then_redirects_with_a_message(web, scene):
    web.sign_in(scene.member)
    form = {topic: "immediate" for topic in TOPICS}
    form.update(summary="never", message="daily", thread_created="weekly")

    response = web.post("/notifications/preferences", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/notifications/preferences")
    # Only what changes what the member gets is written.
    assert choices_of(scene.member) == {"summary": "never", "message": "daily", "thread_created": "weekly"}

    page = web.get("/notifications/preferences")
    assert "Vos préférences de courriels sont enregistrées." in page_text(page)
    shown = selected(page)
    assert (shown["message"], shown["thread_created"], shown["summary"]) == (
        "Résumé quotidien",
        "Résumé hebdomadaire",
        "Jamais",
    )


def test_a_choice_that_is_not_offered_is_refused(web, scene):
    web.sign_in(scene.author)
    form = {topic: "immediate" for topic in TOPICS}
    form["summary"] = "daily"  # the summary is weekly or never

    response = web.post("/notifications/preferences", data=form)
    assert response.status_code == 200
    assert "Le formulaire contient 1 erreur" in page_text(response)
    assert choices_of(scene.author) == {}


def test_linked_from_the_notifications_and_the_account_pages(web, scene):
    web.sign_in(scene.author)
    for page in ("/notifications", "/compte"):
        assert 'href="/notifications/preferences"' in html(web.get(page)), page
