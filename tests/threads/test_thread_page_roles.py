"""The thread page as each role gets it, served without a browser: the status form's fields each tied to their
status, support asked of others than the service, the withdrawal of someone else's thread with its motive, the
preview of a message without JavaScript, and one live region whose message each action in place replaces."""

from __future__ import annotations

import re

import sqlalchemy as sa

from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.threads.models import Message, Thread, ThreadEvent, ThreadStatus, Vote

from .conftest import count, data_request, events_of, field_errors, fresh, html, page_text, question


def _version(thread: Thread) -> str:
    return str(fresh(thread.id).version)


def _groups_by_status(response) -> dict[str, str]:
    """The fields of the status form grouped by the statuses they are for (`data-for-status`) → the ids inside."""
    form = re.search(r'action="/fils/\d+/statut".*?</form>', html(response), re.S)
    assert form, "no status form"
    groups = re.findall(
        r'<div data-for-status="([^"]+)">(.*?)</div>\s*(?=<div data-for-status|<button)', form.group(0), re.S
    )
    return {statuses: " ".join(re.findall(r'\bid="(status-[a-z_]+)"', inner)) for statuses, inner in groups}


def _live_regions(page: str) -> list[str]:
    return re.findall(r'<[a-z]+ [^>]*role="status"[^>]*>', page)


# The status form ----------------------------------------------------------------------------------------


def test_each_field_of_the_status_form_is_tied_to_its_status_and_says_so(web, scene):
    thread = data_request(scene)
    web.sign_in(scene.member)

    response = web.get(f"/fils/{thread.id}")

    groups = _groups_by_status(response)
    assert groups["declined"].split()[0] == "status-decline_reason"
    assert groups["duplicate"].split()[0] == "status-duplicate_of"
    assert groups["resolved"].split()[0] == "status-resolution_dataset"
    message_for = next(statuses for statuses, ids in groups.items() if ids.startswith("status-motive"))
    assert {"acknowledged", "in_progress", "needs_info", "resolved", "declined", "duplicate"} <= set(
        message_for.split()
    )
    text = page_text(response)  # without JavaScript every field shows: its label says which status it is for
    assert "Motif du refus (pour « Refusé »)" in text
    assert "Fil d'origine (pour « Doublon »)" in text
    assert "Jeu de données qui répond (pour « Résolu », facultatif)" in text


def test_a_question_is_not_resolved_by_a_dataset_so_its_form_has_no_such_field(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    groups = _groups_by_status(web.get(f"/fils/{thread.id}"))

    assert "resolved" not in groups
    assert "status-resolution_dataset" not in " ".join(groups.values())


def test_a_refused_status_change_puts_each_error_on_its_field_and_keeps_the_status_chosen(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    declined = web.htmx_post(
        f"/fils/{thread.id}/statut", data={"status": "declined", "motive": "Hors champ.", "version": _version(thread)}
    )
    duplicate = web.htmx_post(
        f"/fils/{thread.id}/statut", data={"status": "duplicate", "duplicate_of": "999999", "version": _version(thread)}
    )

    assert field_errors(declined, "status-decline_reason") == ["Choisissez le motif du refus."]
    assert field_errors(declined, "status-motive") == []
    assert '<option selected value="declined">' in html(declined)  # the script shows the refusal's fields again
    assert re.search(r'<details class="action-panel[^"]*" open>\s*<summary[^>]*>Changer le statut', html(declined))
    assert field_errors(duplicate, "status-duplicate_of") == ["Fil d'origine introuvable."]
    assert fresh(thread.id).status == ThreadStatus.NEW


# Support ("Moi aussi") ------------------------------------------------------------------------------------


def test_the_service_does_not_support_its_own_thread_others_do(web, scene):
    thread = question(scene)

    for member in (scene.member, scene.coordinator):
        web.sign_in(member)
        assert "Moi aussi" not in page_text(web.get(f"/fils/{thread.id}"))
        assert web.post(f"/fils/{thread.id}/soutien", data={"version": _version(thread)}).status_code == 403
    assert count(Vote, Vote.thread_id == thread.id) == 0

    for other in (scene.other_member, scene.other_user, scene.curator):
        web.sign_in(other)
        assert "Moi aussi (0)" in page_text(web.get(f"/fils/{thread.id}"))
    assert web.post(f"/fils/{thread.id}/soutien", data={"version": _version(thread)}).status_code == 303
    assert fresh(thread.id).votes_count == 1


# Withdrawing a thread -------------------------------------------------------------------------------------


def test_the_curator_gets_a_withdrawal_with_a_motive_the_author_a_button_the_service_nothing(web, scene):
    thread = question(scene)

    web.sign_in(scene.curator)
    curator_page = html(web.get(f"/fils/{thread.id}"))
    web.sign_in(scene.author)
    author_page = html(web.get(f"/fils/{thread.id}"))
    web.sign_in(scene.member)
    member_page = html(web.get(f"/fils/{thread.id}"))

    assert re.search(r"<summary[^>]*>Retirer ce fil</summary>", curator_page)
    assert re.search(r'<textarea[^>]*id="withdraw-motive"', curator_page)
    assert "Retirer mon fil" not in curator_page
    assert "Retirer mon fil" in author_page and 'id="withdraw-motive"' not in author_page
    assert "Retirer" not in page_text(member_page)


def test_a_curator_withdrawing_without_a_motive_is_told_on_the_field(web, scene):
    thread = question(scene)
    web.sign_in(scene.curator)

    response = web.htmx_post(f"/fils/{thread.id}/retrait", data={"motive": "   ", "version": _version(thread)})

    assert field_errors(response, "withdraw-motive") == [
        "Dites à l'auteur pourquoi ce fil est retiré : le motif est obligatoire."
    ]
    assert fresh(thread.id).status == ThreadStatus.NEW


def test_the_motive_of_a_withdrawal_is_kept_shown_and_told_to_the_author(web, scene):
    thread = question(scene, title="Hors sujet")
    motive = "Ce fil publie des coordonnées personnelles ; reformulez votre question sans elles."
    web.sign_in(scene.curator)

    response = web.htmx_post(f"/fils/{thread.id}/retrait", data={"motive": motive, "version": _version(thread)})

    assert response.status_code == 200
    assert "Le fil est retiré ; son auteur en est informé." in page_text(response)
    assert fresh(thread.id).status == ThreadStatus.WITHDRAWN
    (withdrawal,) = [e for e in events_of(thread.id) if e.type == "status_changed"]
    assert withdrawal.payload["status"] == "withdrawn" and withdrawal.payload["motive"] == motive
    web.sign_in(scene.author)
    timeline = page_text(web.get(f"/fils/{thread.id}"))
    assert f"{scene.curator.name} a passé le fil au statut « Retiré »" in timeline
    assert motive in timeline
    told = db.session.scalars(
        sa.select(Notification.text).where(
            Notification.recipient_id == scene.author.id, Notification.event_id == withdrawal.id
        )
    ).all()
    assert told == [f"{scene.curator.name} a passé « Hors sujet » au statut « Retiré » : « {motive} »"]


def test_the_author_withdraws_without_a_motive_and_the_event_has_none(web, scene):
    thread = question(scene)
    web.sign_in(scene.author)

    response = web.post(f"/fils/{thread.id}/retrait", data={"version": _version(thread)})

    assert response.status_code == 303
    (withdrawal,) = [e for e in events_of(thread.id) if e.type == "status_changed"]
    assert withdrawal.payload["status"] == "withdrawn" and "motive" not in withdrawal.payload
    assert fresh(thread.id).messages_count == 1


# The preview without JavaScript --------------------------------------------------------------------------


def test_previewing_a_reply_shows_the_page_again_with_the_text_and_its_preview_posting_nothing(web, scene):
    thread = question(scene)
    web.sign_in(scene.other_user)
    events_before = count(ThreadEvent, ThreadEvent.thread_id == thread.id)
    text = "Une précision en **gras**<script>alert(1)</script>"

    response = web.post(f"/fils/{thread.id}/messages", data={"body": text, "action": "preview"})

    assert response.status_code == 200
    page = html(response)
    preview = re.search(r'<div id="reply-preview"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert preview and "<strong>gras</strong>" in preview.group(1)
    assert "<script>alert" not in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Une précision en \*\*gras\*\*&lt;script&gt;', page)
    assert count(Message, Message.thread_id == thread.id) == 1
    assert count(ThreadEvent, ThreadEvent.thread_id == thread.id) == events_before


def test_previewing_a_new_thread_shows_the_form_again_and_creates_nothing(web, scene):
    web.sign_in(scene.author)
    threads_before = count(Thread)

    response = web.post(
        "/fils/nouveau?type=question",
        data={"title": "Une question", "body": "Un *essai* de mise en forme", "action": "preview"},
    )

    assert response.status_code == 200
    page = html(response)
    assert re.search(r'<div id="preview"[^>]*>\s*<div class="message-body"><p>Un <em>essai</em>', page)
    assert 'value="Une question"' in page
    assert count(Thread) == threads_before


# One live region -----------------------------------------------------------------------------------------


def test_the_thread_page_has_one_live_region_which_carries_the_flashed_message(web, scene):
    thread = question(scene)
    web.sign_in(scene.other_user)

    quiet = html(web.get(f"/fils/{thread.id}"))
    web.post(f"/fils/{thread.id}/messages", data={"body": "Moi aussi je cherche."})
    after_reply = html(web.get(f"/fils/{thread.id}"))

    assert _live_regions(quiet) == ['<div id="notices" role="status">']
    assert _live_regions(after_reply) == ['<div id="notices" role="status">']
    region = re.search(r'<div id="notices" role="status">(.*?)</div>\s*</div>\s*</div>', after_reply, re.S)
    assert region and "Votre message est publié." in page_text(region.group(1))


def test_an_action_in_place_replaces_the_live_regions_message_a_refused_one_empties_it(web, scene):
    thread = question(scene)
    web.sign_in(scene.member)

    done = html(web.htmx_post(f"/fils/{thread.id}/suivi", data={"version": _version(thread)}))
    refused_response = web.htmx_post(f"/fils/{thread.id}/messages", data={"body": ""})
    refused = html(refused_response)

    replaced = re.match(
        r'\s*<div id="notices" hx-swap-oob="innerHTML">(.*?)</div>\s*<div id="thread-body">', done, re.S
    )
    assert replaced and page_text(replaced.group(1)) == "C'est noté."
    assert _live_regions(done) == []  # the region stays the page's: only its content comes
    assert re.match(r'\s*<div id="notices" hx-swap-oob="innerHTML"></div>\s*<div id="thread-body">', refused)
    assert field_errors(refused_response, "body") == ["Ce champ est obligatoire."]
