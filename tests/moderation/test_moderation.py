"""Moderation (issue 11, item 5): readers report messages and threads, curators hide, restore, dismiss and
suspend from their queue; a hidden message shows a notice in its place, a hidden thread shows to curators
only, and neither reaches search, lists, counters, feeds or the capitalisation's figures."""

from __future__ import annotations

import sqlalchemy as sa

from feedback.accounts.models import User
from feedback.capitalisation.scope import Scope
from feedback.extensions import db
from feedback.moderation import services as moderation
from feedback.moderation.models import ModerationReport
from feedback.notifications.models import Notification, NotificationKind
from feedback.threads import services
from feedback.threads.models import Message, Thread, ThreadEvent

from ..threads.conftest import events_of, fresh, html, listed_ids, page_text, question

ABUSE = "Vous êtes tous des incapables, honte à cette administration zygomorphe."
NOTICE = "Message masqué par la modération"


def abusive_reply(scene) -> tuple[Thread, Message]:
    thread = question(scene, title="Zones inondables : millésime 2025", body="Le millésime 2025 est-il prévu ?")
    message = services.post_message(thread, scene.other_user, ABUSE)
    db.session.commit()
    return thread, message


def report_url(thread: Thread, message: Message | None = None) -> str:
    if message is None:
        return f"/fils/{thread.id}/signaler"
    return f"/fils/{thread.id}/messages/{message.id}/signaler"


def open_reports() -> list[ModerationReport]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(ModerationReport).where(ModerationReport.closed_at.is_(None))))


def test_a_reader_reports_a_message_through_a_page_that_works_without_javascript(web, scene):
    thread, message = abusive_reply(scene)
    web.sign_in(scene.author)

    page = web.get(f"/fils/{thread.id}")
    assert report_url(thread, message) in html(page)
    form = web.get(report_url(thread, message))
    assert form.status_code == 200 and "Motif du signalement" in page_text(form)
    response = web.post(report_url(thread, message), data={"reason": "abuse", "comment": "Insultes."})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/fils/{thread.id}#message-{message.id}")
    [report] = open_reports()
    assert (report.reporter_id, report.message_id, report.reason, report.comment) == (
        scene.author.id,
        message.id,
        "abuse",
        "Insultes.",
    )


def test_one_open_report_per_person_and_content(web, scene):
    thread, message = abusive_reply(scene)
    web.sign_in(scene.author)
    web.post(report_url(thread, message), data={"reason": "abuse"})

    again = web.post(report_url(thread, message), data={"reason": "spam"})

    assert again.status_code == 200
    assert "Vous avez déjà signalé ce contenu" in page_text(again)
    assert len(open_reports()) == 1


def test_a_report_needs_a_known_reason_and_a_signed_in_reader(web, scene):
    thread, message = abusive_reply(scene)
    anonymous = web.get(report_url(thread, message))
    assert anonymous.status_code in (302, 303) and "/connexion" in anonymous.headers["Location"]

    web.sign_in(scene.author)
    response = web.post(report_url(thread, message), data={"reason": "colère"})

    assert response.status_code == 200
    assert "motif" in page_text(response).lower()
    assert open_reports() == []


def test_the_queue_groups_reports_and_is_for_curators_only(web, scene):
    thread, message = abusive_reply(scene)
    for reader, reason in ((scene.author, "abuse"), (scene.member, "spam")):
        web.sign_in(reader)
        web.post(report_url(thread, message), data={"reason": reason, "comment": f"Vu par {reader.name}"})

    assert web.get("/moderation").status_code == 403  # the member is no curator
    web.sign_in(scene.curator)
    page = page_text(web.get("/moderation"))

    assert "Modération (2" in page  # the header's link counts the open reports
    assert page.count(ABUSE) == 1  # one item for the message, its two reports under it
    assert "Propos injurieux" in page and "Spam" in page
    assert scene.author.name in page and scene.member.name in page
    only_spam = page_text(web.get("/moderation?motif=spam"))
    assert "Propos injurieux (1)" in only_spam and f"Vu par {scene.member.name}" in only_spam
    assert f"Vu par {scene.author.name}" not in only_spam


def test_a_curator_hides_a_message_and_readers_see_a_notice(web, scene):
    thread, message = abusive_reply(scene)
    public_before = fresh(thread.id).public_messages_count
    web.sign_in(scene.author)
    web.post(report_url(thread, message), data={"reason": "abuse"})
    web.sign_in(scene.curator)

    response = web.post(
        f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "Propos injurieux."}
    )

    assert response.status_code == 303
    assert fresh(thread.id).public_messages_count == public_before - 1
    assert db.session.get(Message, message.id).body == ABUSE  # kept for the record
    curator_page = page_text(web.get(f"/fils/{thread.id}"))
    assert ABUSE in curator_page and "Masqué par la modération" in curator_page
    assert "a masqué un message : « Propos injurieux. »" in curator_page
    for reader in (scene.author, None):
        web.sign_in(reader)
        page = page_text(web.get(f"/fils/{thread.id}"))
        assert NOTICE in page
        assert ABUSE not in page
        assert "a masqué un message" not in page  # the moderation's event is internal
    [event] = [e for e in events_of(thread.id) if e.type == "message_hidden"]
    assert event.internal
    [told] = db.session.scalars(sa.select(Notification).where(Notification.kind == NotificationKind.MODERATION))
    assert told.recipient_id == scene.author.id and "masqué" in told.text
    assert open_reports() == []


def test_a_hidden_message_leaves_search_feeds_and_counts_and_comes_back_when_restored(web, scene):
    thread, message = abusive_reply(scene)
    web.sign_in(scene.curator)
    assert thread.id in listed_ids(web.get("/fils?q=zygomorphe"))
    web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "Injures."})

    web.sign_in(None)
    assert thread.id not in listed_ids(web.get("/fils?q=zygomorphe"))
    assert "zygomorphe" not in html(web.get(f"/fils/{thread.id}/flux.atom"))
    assert "zygomorphe" not in html(web.get("/fils/flux.atom"))

    web.sign_in(scene.curator)
    restored = web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/retablir", data={"retour": "fil"})
    assert restored.status_code == 303 and restored.headers["Location"].endswith(f"/fils/{thread.id}")
    web.sign_in(None)
    assert thread.id in listed_ids(web.get("/fils?q=zygomorphe"))
    assert ABUSE in page_text(web.get(f"/fils/{thread.id}"))
    assert fresh(thread.id).public_messages_count == 2


def test_the_stored_counter_agrees_with_a_recount_after_hiding(web, scene):
    from feedback.threads.stored_figures import COUNTERS

    thread, message = abusive_reply(scene)
    web.sign_in(scene.curator)
    web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "Injures."})

    recount = dict(db.session.execute(COUNTERS["public_messages_count"]()).all())
    assert fresh(thread.id).public_messages_count == recount.get(thread.id, 0) == 1


def test_a_hidden_thread_shows_to_curators_only_and_counts_nowhere(web, scene):
    thread = question(scene, title="Annonce publicitaire pour des pilules zygomorphes", body="Achetez !")
    kept = question(scene, title="Zones inondables : millésime 2025")
    web.sign_in(scene.other_user)
    web.post(report_url(thread), data={"reason": "spam"})
    web.sign_in(scene.curator)

    response = web.post(f"/moderation/fils/{thread.id}/masquer", data={"motive": "Publicité."})

    assert response.status_code == 303
    assert web.get(f"/fils/{thread.id}").status_code == 200
    assert "masqué par la modération" in page_text(web.get(f"/fils/{thread.id}"))
    for reader in (scene.author, scene.member, scene.other_user, None):
        web.sign_in(reader)
        assert web.get(f"/fils/{thread.id}").status_code == 404
        assert web.get(f"/fils/{thread.id}/flux.atom").status_code == 404
        assert thread.id not in listed_ids(web.get("/fils"))
        assert thread.id not in listed_ids(web.get("/fils?q=zygomorphes"))
        assert kept.id in listed_ids(web.get("/fils"))
        assert "pilules" not in html(web.get("/fils/flux.atom"))
    ids = set(db.session.scalars(sa.select(Thread.id).where(Scope(include_restricted=True).condition())))
    assert ids == {kept.id}
    [told] = db.session.scalars(sa.select(Notification).where(Notification.kind == NotificationKind.MODERATION))
    assert told.recipient_id == scene.other_user.id

    web.sign_in(scene.curator)
    web.post(f"/moderation/fils/{thread.id}/retablir")
    web.sign_in(None)
    assert web.get(f"/fils/{thread.id}").status_code == 200
    assert [e.type for e in events_of(thread.id) if e.internal][-2:] == ["thread_hidden", "thread_restored"]


def test_hiding_needs_a_motive_and_a_curator(web, scene):
    thread, message = abusive_reply(scene)
    web.sign_in(scene.member)
    refused = web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "x"})
    assert refused.status_code == 403
    web.sign_in(scene.curator)

    response = web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "  "})

    assert response.status_code == 303
    assert db.session.get(Message, message.id).hidden_at is None
    assert "Indiquez le motif" in page_text(web.get("/moderation"))


def test_dismissing_keeps_the_content_and_tells_the_reporter(web, scene):
    thread, message = abusive_reply(scene)
    web.sign_in(scene.author)
    web.post(report_url(thread, message), data={"reason": "other"})
    web.sign_in(scene.curator)

    response = web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/classer")

    assert response.status_code == 303
    assert open_reports() == []
    assert db.session.get(Message, message.id).hidden_at is None
    [told] = db.session.scalars(sa.select(Notification).where(Notification.kind == NotificationKind.MODERATION))
    assert told.recipient_id == scene.author.id and "reste visible" in told.text
    assert next(e for e in events_of(thread.id) if e.type == "reports_dismissed").internal


def test_a_suspended_account_cannot_sign_in_and_its_sessions_end(web, scene, app):
    troll = scene.other_user
    web.sign_in(scene.curator)
    curator_client = web.client
    troll_client = app.test_client()
    with app.app_context():
        signed = troll_client.post("/connexion", data={"email": troll.email, "password": "mot-de-passe-solide-2026"})
    assert signed.status_code == 303

    response = web.post(f"/moderation/comptes/{troll.id}/suspendre")

    assert response.status_code == 303
    db.session.rollback()
    assert db.session.get(User, troll.id).active is False
    with app.app_context():
        assert troll_client.get("/notifications").status_code in (302, 303)  # the session ended
        again = troll_client.post("/connexion", data={"email": troll.email, "password": "mot-de-passe-solide-2026"})
    assert again.status_code == 200  # refused
    assert troll.name in page_text(curator_client.get("/moderation"))

    web.post(f"/moderation/comptes/{troll.id}/reactiver")
    db.session.rollback()
    assert db.session.get(User, troll.id).active is True


def test_a_curator_cannot_suspend_themself(scene):
    try:
        moderation.suspend_account(scene.curator, scene.curator)
    except moderation.ModerationError as refused:
        assert "propre compte" in str(refused)
    else:
        raise AssertionError("a curator suspended their own account")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThreadEvent).where(ThreadEvent.internal)) == 0


def test_the_mail_of_a_notification_no_longer_tells_a_hidden_message_or_thread(web, scene):
    from feedback.notifications.mails import notification_details

    thread, message = abusive_reply(scene)
    told = list(
        db.session.scalars(
            sa.select(Notification).where(Notification.thread_id == thread.id, Notification.kind == "message")
        )
    )
    assert told, "the reply told someone"
    users = {user.id: user for user in db.session.scalars(sa.select(User))}
    assert any(detail.text == ABUSE for detail in notification_details(told, users).values())
    web.sign_in(scene.curator)

    web.post(f"/moderation/fils/{thread.id}/messages/{message.id}/masquer", data={"motive": "Injures."})
    db.session.rollback()
    assert not any(detail.text == ABUSE for detail in notification_details(told, users).values())

    web.post(f"/moderation/fils/{thread.id}/masquer", data={"motive": "Fil entier à masquer."})
    db.session.rollback()
    assert notification_details(told, users) == {}


def test_a_hidden_thread_leaves_the_counts_of_its_dataset_and_its_service(web, scene):
    from ..threads.test_visibility import heading_count

    question(scene, title="Zones inondables : millésime 2025")
    spam = question(scene, title="Annonce publicitaire", body="Achetez !")
    web.sign_in(scene.curator)
    web.post(f"/moderation/fils/{spam.id}/masquer", data={"motive": "Publicité."})

    for reader in (scene.author, scene.member, None):
        web.sign_in(reader)
        dataset_page = web.get(f"/jeux-de-donnees/{scene.dataset.catalogue_id}")
        assert heading_count(dataset_page, "Fils de discussion sur ce jeu de données") == 1
        assert "Annonce publicitaire" not in page_text(dataset_page)
        service_page = web.get(f"/organisations/{scene.producer.slug}")
        assert heading_count(service_page, "Fils adressés à ce service") == 1
        assert "Nouveau : 1" in page_text(service_page)


def test_reports_are_limited_per_person(limited_app, scene):
    thread = question(scene, title="Zones inondables : millésime 2025")
    client = limited_app.test_client()
    with limited_app.app_context():
        client.post("/connexion", data={"email": scene.other_user.email, "password": "mot-de-passe-solide-2026"})
        answers = [client.post(report_url(thread), data={"reason": "colère"}).status_code for _ in range(21)]

    assert answers[:20] == [200] * 20  # a form with its error, each time: nothing reported
    assert answers[20] == 429


# First posts held for review (FEEDBACK_HOLD_FIRST_POSTS) -------------------------------------------------------


def _told(user) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Notification).where(Notification.recipient_id == user.id)))


def test_a_new_accounts_first_thread_waits_for_a_curator_then_is_published_and_told(web, scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_HOLD_FIRST_POSTS", 1)
    web.sign_in(scene.other_user)
    posted = web.post(
        "/fils/nouveau?type=question",
        data={"title": "Une question de nouveau venu", "body": "Un premier texte", "dataset": scene.dataset.slug},
    )
    assert posted.status_code == 303
    thread_id = int(posted.headers["Location"].rsplit("/", 1)[1])
    own = page_text(web.get(f"/fils/{thread_id}"))
    assert "Votre fil est en attente de modération" in own and "Un premier texte" in own
    assert "relue par les administrateurs des données" in own  # the flashed notice, not "publié"
    for reader in (None, scene.author, scene.member):
        web.sign_in(reader)
        assert web.get(f"/fils/{thread_id}").status_code == 404
        assert thread_id not in listed_ids(web.get("/fils"))
    assert [n for n in _told(scene.coordinator) if n.thread_id == thread_id] == []  # nobody told yet

    web.sign_in(scene.curator)
    queue = page_text(web.get("/moderation"))
    assert "Nouveau fil de Bruno Passant" in queue and "Une question de nouveau venu" in queue
    assert web.post(f"/moderation/fils/{thread_id}/publier").status_code == 303
    web.sign_in(None)
    assert "Un premier texte" in page_text(web.get(f"/fils/{thread_id}"))
    assert [n.kind for n in _told(scene.coordinator) if n.thread_id == thread_id] == ["thread_created"]
    assert any("est publié" in n.text for n in _told(scene.other_user))
    assert "Aucune contribution en attente" in page_text((web.sign_in(scene.curator), web.get("/moderation"))[1])

    # Published once: the account's next post is read by everyone at once.
    web.sign_in(scene.other_user)
    web.post(f"/fils/{thread_id}/messages", data={"body": "Une précision", "version": fresh(thread_id).version})
    assert fresh(thread_id).public_messages_count == 2


def test_a_held_reply_is_counted_searched_and_told_once_published_or_stays_hidden_if_refused(
    web, scene, app, monkeypatch
):
    thread = question(scene)  # posted before the setting: published
    monkeypatch.setitem(app.config, "FEEDBACK_HOLD_FIRST_POSTS", 2)
    web.sign_in(scene.other_user)
    web.post(f"/fils/{thread.id}/messages", data={"body": "Réponse ornithorynque", "version": thread.version})
    assert "relue par les administrateurs des données" in page_text(web.get(f"/fils/{thread.id}"))  # not "publié"
    web.post(f"/fils/{thread.id}/messages", data={"body": "Réponse tamanoir", "version": thread.version})
    held = db.session.scalars(sa.select(Message).where(Message.held_at.is_not(None)).order_by(Message.id)).all()
    assert [m.body for m in held] == ["Réponse ornithorynque", "Réponse tamanoir"]
    assert fresh(thread.id).public_messages_count == 1
    web.sign_in(scene.author)
    page = page_text(web.get(f"/fils/{thread.id}"))
    assert "ornithorynque" not in page and page.count("Message masqué par la modération") == 2
    assert listed_ids(web.get("/fils?q=ornithorynque")) == []

    web.sign_in(scene.curator)
    web.post(f"/moderation/fils/{thread.id}/messages/{held[0].id}/publier")
    web.post(f"/moderation/fils/{thread.id}/messages/{held[1].id}/refuser", data={"motive": "Hors sujet."})
    assert fresh(thread.id).public_messages_count == 2
    web.sign_in(scene.author)
    page = page_text(web.get(f"/fils/{thread.id}"))
    assert "ornithorynque" in page and "tamanoir" not in page
    assert listed_ids(web.get("/fils?q=ornithorynque")) == [thread.id]
    assert any(n.kind == "message" for n in _told(scene.author) if n.thread_id == thread.id)  # told once published
    texts = [n.text for n in _told(scene.other_user)]
    assert any("n'est pas publié : Hors sujet." in text for text in texts)


def test_members_of_a_service_and_curators_are_never_held(web, scene, app, monkeypatch):
    thread = question(scene)
    monkeypatch.setitem(app.config, "FEEDBACK_HOLD_FIRST_POSTS", 5)
    for someone in (scene.member, scene.curator):
        web.sign_in(someone)
        reply = {"body": "Réponse du service", "version": fresh(thread.id).version}
        web.post(f"/fils/{thread.id}/messages", data=reply)
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.held_at.is_not(None))) == 0
    assert fresh(thread.id).public_messages_count == 3
