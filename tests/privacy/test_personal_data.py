"""Personal data: the download holds what is one's own and nothing of others; deleting an account erases the
person and keeps their contributions under « Compte supprimé »; old mails lose their bodies and addresses."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from feedback.accounts.models import Membership, User, UserSession
from feedback.database import utcnow
from feedback.extensions import db as _db
from feedback.mail.models import InboundMail, InboundStatus, MailStatus, OutgoingMail
from feedback.mail.outbox import queue_mail
from feedback.moderation.models import ModerationReport
from feedback.moderation.services import report_content
from feedback.notifications.mails import queue_notification_mails
from feedback.notifications.models import Notification
from feedback.notifications.preferences import set_frequency
from feedback.privacy.erasure import DELETED_NAME, delete_account
from feedback.threads import services
from feedback.threads.models import Follow, Message, Subscription, Thread, Vote
from tests.threads.conftest import Web, count, data_request, fresh, question

from .. import factories

SECRET_NOTE = "Note interne : le fichier source est sur le serveur de la DDT"
RESTRICTED_TITLE = "Demande restreinte des captages d'eau potable"


def sign_in(client, user):
    response = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)


def _other_peoples_secrets(scene):
    """A public thread of the author with another person's internal note on it, and a restricted thread of
    another person on which the author once wrote (as a member of the service, since left)."""
    thread = question(scene, title="Question publique sur les zones inondables")
    services.post_message(thread, scene.author, "Merci, j'attends votre réponse avec intérêt.")
    services.post_message(thread, scene.member, SECRET_NOTE, internal=True)
    _db.session.commit()
    restricted = data_request(scene, author=scene.other_user, title=RESTRICTED_TITLE, restricted=True)
    return thread, restricted


def test_the_download_holds_ones_own_data_and_nothing_of_others(scene, app, client):
    _other_peoples_secrets(scene)
    other_thread = question(scene, author=scene.other_user, title="Fil public d'une autre personne")
    services.post_message(other_thread, scene.author, "Mon message sur le fil d'une autre personne.")
    services.toggle_vote(other_thread, scene.author)  # replying made them follow it
    services.toggle_follow_dataset(scene.dataset, scene.author)
    set_frequency(scene.author, "message", "daily")
    report_content(scene.author, other_thread, None, "spam", "Mon commentaire de signalement")
    _db.session.commit()
    sign_in(client, scene.author)

    response = client.get("/compte/mes-donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data(as_text=True)
    data = json.loads(text)
    assert sorted(data) == [
        "account",
        "api_tokens",
        "browser_sessions",
        "followed_datasets",
        "followed_organisations",
        "followed_threads",
        "format_version",
        "join_requests",
        "messages",
        "moderation_reports",
        "notification_preferences",
        "notifications",
        "proconnect",
        "threads",
        "votes",
    ]
    assert data["account"]["email"] == scene.author.email
    assert data["account"]["name"] == "Alice Autrice"
    assert [r["comment"] for r in data["moderation_reports"]] == ["Mon commentaire de signalement"]
    assert len(data["browser_sessions"]) == 1 and data["browser_sessions"][0]["ended_at"] is None
    assert data["account"]["employer_name"] == "Bureau d'études Exemple"
    assert data["account"]["created_at"].startswith(str(scene.author.created_at.year))
    assert [t["title"] for t in data["threads"]] == ["Question publique sur les zones inondables"]
    bodies = [m["body"] for m in data["messages"]]
    assert "Mon message sur le fil d'une autre personne." in bodies
    assert "Merci, j'attends votre réponse avec intérêt." in bodies
    assert [v["thread"]["id"] for v in data["votes"]] == [other_thread.id]
    assert other_thread.id in [f["thread"]["id"] for f in data["followed_threads"]]
    assert [f["dataset"] for f in data["followed_datasets"]] == ["Zones inondables du Loiret"]
    assert data["notification_preferences"] == [
        {
            "frequency": "daily",
            "frequency_label": "Résumé quotidien",
            "topic": "message",
            "topic_label": "Réponses sur les fils que vous suivez",
        }
    ]
    # The author's notifications are theirs: the internal note is not among them.
    assert SECRET_NOTE not in text
    assert RESTRICTED_TITLE not in text
    assert "Mathilde Membre" not in text
    assert "Bruno Passant" not in text

    page = client.get("/compte/mes-donnees")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mon message sur le fil d&#39;une autre personne." in html or "Mon message sur le fil d'une" in html
    assert SECRET_NOTE not in html and RESTRICTED_TITLE not in html
    assert "Réponses sur les fils que vous suivez : Résumé quotidien" in html


def test_a_message_on_a_restricted_thread_one_can_no_longer_see_keeps_its_body_but_not_the_title(scene, client):
    restricted = data_request(scene, author=scene.other_user, title=RESTRICTED_TITLE, restricted=True)
    services.post_message(restricted, scene.member, "Nous regardons votre demande.")
    _db.session.commit()
    _db.session.execute(sa.delete(Membership).where(Membership.user_id == scene.member.id))
    _db.session.commit()
    sign_in(client, scene.member)
    data = client.get("/compte/mes-donnees.json").get_json()
    (message,) = data["messages"]
    assert message["body"] == "Nous regardons votre demande."
    assert message["thread"] == {"id": restricted.id, "title": None, "visible": False}
    assert RESTRICTED_TITLE not in json.dumps(data, ensure_ascii=False)


def test_the_data_pages_need_a_signed_in_person(client, db):
    for url in ("/compte/mes-donnees", "/compte/mes-donnees.json", "/compte/supprimer"):
        response = client.get(url)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"], url


def _busy_author(scene):
    """The author has a thread with a reply of the service, votes and follows another thread, has pending
    notifications and a mail waiting in the outbox, and a reply of theirs notified the service."""
    thread = question(scene, title="Question sur la précision des zones inondables")
    services.post_message(thread, scene.member, "Voici la source : le PPRI de 2019.")
    other = question(scene, author=scene.other_user, title="Autre question publique")
    services.toggle_vote(other, scene.author)
    services.toggle_follow(other, scene.author)
    services.toggle_follow_dataset(scene.dataset, scene.author)
    _db.session.commit()
    queue_notification_mails()
    _db.session.commit()
    services.post_message(thread, scene.author, "Merci pour la source.")
    _db.session.commit()
    return thread, other


def test_deleting_ones_account_erases_the_person_and_keeps_the_contributions(scene, app, client):
    thread, other = _busy_author(scene)
    author_id, address = scene.author.id, scene.author.email
    assert count(OutgoingMail, OutgoingMail.recipient_id == author_id, OutgoingMail.status == "pending") >= 1
    assert count(Notification, Notification.recipient_id == author_id) >= 1
    followers_before, votes_before = fresh(other.id).followers_count, fresh(other.id).votes_count
    sign_in(client, scene.author)

    refused = client.post("/compte/supprimer", data={"password": "pas le bon", "understood": "y"})
    assert refused.status_code == 200
    assert "Le mot de passe ne correspond pas." in refused.get_data(as_text=True)
    assert _db.session.get(User, author_id).deleted_at is None

    response = client.post("/compte/supprimer", data={"password": factories.PASSWORD, "understood": "y"})
    assert response.status_code == 303

    _db.session.rollback()
    user = _db.session.get(User, author_id)
    assert user.deleted_at is not None
    assert user.name == DELETED_NAME
    assert user.email != address and user.email.endswith(".invalid")
    assert user.password_hash is None and user.employer_name == "" and not user.active
    assert count(Membership, Membership.user_id == author_id) == 0
    assert count(UserSession, UserSession.user_id == author_id) == 0
    assert count(Notification, Notification.recipient_id == author_id) == 0
    assert count(OutgoingMail, OutgoingMail.recipient_id == author_id, OutgoingMail.status == "pending") == 0
    assert count(OutgoingMail, OutgoingMail.to_address == address) == 0
    assert count(Subscription, Subscription.user_id == author_id) == 0
    assert count(Follow, Follow.user_id == author_id) == 0
    # Votes stay, anonymous; the follower counter goes down with the follow.
    assert count(Vote, Vote.user_id == author_id) == 1
    assert fresh(other.id).votes_count == votes_before
    assert fresh(other.id).followers_count == followers_before - 1
    # The thread and its messages stay.
    assert count(Thread, Thread.author_id == author_id) == 1
    assert count(Message, Message.author_id == author_id) == 2
    # The service's notification of the reply no longer names the person.
    member_texts = _db.session.scalars(
        sa.select(Notification.text).where(Notification.recipient_id == scene.member.id)
    ).all()
    assert member_texts and not any("Alice Autrice" in text for text in member_texts)

    # Logged out: the account page asks to sign in again; signing in is refused.
    assert client.get("/compte").status_code == 302
    login = client.post("/connexion", data={"email": address, "password": factories.PASSWORD})
    assert login.status_code != 303

    web = Web(app, client)
    page = web.get(f"/fils/{thread.id}").get_data(as_text=True)
    assert "Alice Autrice" not in page
    assert DELETED_NAME in page
    assert "Merci pour la source." in page
    feed = web.get(f"/fils/{thread.id}/flux.atom").get_data(as_text=True)
    assert "Alice Autrice" not in feed and DELETED_NAME in feed
    listing = web.get("/fils").get_data(as_text=True)
    assert "Alice Autrice" not in listing


def test_the_operator_deletes_an_account_from_the_command_line(scene, runner):
    thread = question(scene)
    address = scene.author.email
    result = runner.invoke(args=["users", "delete", address.upper(), "--yes"])
    assert result.exit_code == 0, result.output
    assert "supprimé" in result.output
    _db.session.rollback()
    assert _db.session.get(User, scene.author.id).name == DELETED_NAME
    assert fresh(thread.id).author_id == scene.author.id

    again = runner.invoke(args=["users", "delete", address, "--yes"])
    assert again.exit_code != 0 and "Aucun compte" in again.output
    help_text = runner.invoke(args=["users", "delete", "--help"]).output
    assert "Compte" in help_text and "--yes" in help_text


def test_the_command_asks_for_confirmation_without_yes(scene, runner):
    result = runner.invoke(args=["users", "delete", scene.author.email], input="n\n")
    assert result.exit_code != 0
    _db.session.rollback()
    assert _db.session.get(User, scene.author.id).deleted_at is None


def test_purge_erases_old_mail_bodies_only(app, runner, db):
    now = utcnow()
    old = queue_mail(
        "test:old", "ancienne@exemple.fr", "Ancien", "Corps ancien", "<p>Corps ancien</p>", at=now - timedelta(days=40)
    )
    old.status = MailStatus.SENT.value
    old_failed = queue_mail(
        "test:old-failed", "refus@exemple.fr", "Refusé", "Corps refusé", at=now - timedelta(days=40)
    )
    old_failed.status = MailStatus.FAILED.value
    queue_mail("test:old-pending", "attente@exemple.fr", "En attente", "Corps en attente", at=now - timedelta(days=40))
    recent = queue_mail("test:recent", "recente@exemple.fr", "Récent", "Corps récent", at=now - timedelta(days=5))
    recent.status = MailStatus.SENT.value
    _db.session.add_all(
        [
            InboundMail(
                message_key="<a@x>",
                sender="vieux@exemple.fr",
                recipient="r@reponses",
                status=InboundStatus.POSTED.value,
                received_at=now - timedelta(days=40),
            ),
            InboundMail(
                message_key="<b@x>",
                sender="neuf@exemple.fr",
                recipient="r@reponses",
                status=InboundStatus.POSTED.value,
                received_at=now - timedelta(days=1),
            ),
        ]
    )
    _db.session.commit()

    result = runner.invoke(args=["mail", "purge"])
    assert result.exit_code == 0, result.output
    assert "2 envoyé(s), 1 reçu(s)" in result.output

    _db.session.rollback()
    by_key = {m.key: m for m in _db.session.scalars(sa.select(OutgoingMail))}
    for key in ("test:old", "test:old-failed"):
        assert by_key[key].text_body == "" and by_key[key].to_address == "" and by_key[key].html_body is None
        assert by_key[key].status in ("sent", "failed")  # kept for statistics
    assert by_key["test:old-pending"].text_body == "Corps en attente"
    assert by_key["test:recent"].text_body == "Corps récent"
    assert by_key["test:recent"].to_address == "recente@exemple.fr"
    senders = sorted(_db.session.scalars(sa.select(InboundMail.sender)))
    assert senders == ["", "neuf@exemple.fr"]

    again = runner.invoke(args=["mail", "purge"])
    assert "0 envoyé(s), 0 reçu(s)" in again.output
    assert runner.invoke(args=["mail", "purge", "--days", "-1"]).exit_code != 0


def test_purge_follows_the_configured_retention(app, runner, db):
    queue_mail("test:ten-days", "dix@exemple.fr", "Dix jours", "Corps", at=utcnow() - timedelta(days=10))
    _db.session.execute(sa.update(OutgoingMail).values(status=MailStatus.SENT.value))
    _db.session.commit()
    assert "0 envoyé(s)" in runner.invoke(args=["mail", "purge"]).output
    app.config["FEEDBACK_MAIL_RETENTION_DAYS"] = 7
    try:
        assert "1 envoyé(s)" in runner.invoke(args=["mail", "purge"]).output
    finally:
        app.config["FEEDBACK_MAIL_RETENTION_DAYS"] = 30


def test_the_public_page_tells_the_retention_and_the_contact(client, db):
    page = client.get("/donnees-personnelles").get_data(as_text=True)
    assert "6, paragraphe 1, point e" in page
    assert "30 jours" in page
    assert "CNIL" in page
    assert 'href="/donnees-personnelles"' in client.get("/").get_data(as_text=True)


def test_a_deleted_member_is_no_longer_named_by_the_assignments(scene, app, client, runner):
    thread = question(scene, title="Question assignée")
    services.assign_thread(thread, scene.coordinator, scene.member)
    _db.session.commit()
    result = runner.invoke(args=["users", "delete", scene.member.email, "--yes"])
    assert result.exit_code == 0, result.output
    assert fresh(thread.id).assignee_id is None
    sign_in(client, scene.coordinator)
    page = Web(app, client).get(f"/fils/{thread.id}").get_data(as_text=True)
    assert "Mathilde Membre" not in page
    assert f"a assigné le fil à {DELETED_NAME}" in page


def test_a_curator_deletes_their_account_too_and_loses_the_role(scene, app, client):
    thread = question(scene, title="Question orientée")
    services.post_message(thread, scene.curator, "Je transmets au service concerné.")
    _db.session.commit()
    sign_in(client, scene.curator)
    response = client.post("/compte/supprimer", data={"password": factories.PASSWORD, "understood": "y"})
    assert response.status_code == 303
    _db.session.rollback()
    curator = _db.session.get(User, scene.curator.id)
    assert curator.name == DELETED_NAME and not curator.is_curator and not curator.active
    assert client.get("/compte").status_code == 302
    page = Web(app, client).get(f"/fils/{thread.id}").get_data(as_text=True)
    assert "Céline Curatrice" not in page and "Je transmets au service concerné." in page


def test_a_deleted_persons_reports_stay_without_their_words(scene, app, client):
    thread = question(scene, author=scene.other_user)
    report = report_content(scene.author, thread, None, "other", "Ce que j'en pense, avec mon nom")
    _db.session.commit()
    delete_account(scene.author)
    _db.session.commit()
    kept = _db.session.get(ModerationReport, report.id)
    assert kept is not None and kept.comment == "" and kept.reason == "other"
