"""Notification mails carry what happened — the message's text (plain and sanitised HTML), the new status and its
motive, the new deadline — and a reply address of their own for whoever may answer on the thread; they never
carry what their recipient may not read."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import selectinload

from feedback.accounts.models import User
from feedback.i18n import french_date
from feedback.mail.models import OutgoingMail
from feedback.mail.reply_address import read_reply_address
from feedback.notifications.mails import notification_details, queue_notification_mails
from feedback.notifications.models import MailState, Notification
from feedback.threads import services
from feedback.threads.models import ThreadStatus

from .. import factories
from ..threads.conftest import data_request, question
from .test_mail_notifications import body as raw_body
from .test_mail_notifications import send

LATER = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)


def body(mail, kind: str) -> str:
    return raw_body(mail, kind).replace("\r\n", "\n")


def mails_to(smtp_server, user) -> list:
    return smtp_server.to(user.email)


def test_an_answer_is_in_the_mail_with_a_reply_address_of_its_own(db, runner, scene, smtp_server):
    thread = question(scene, title="Source des zones inondables")
    services.post_message(
        thread, scene.member, "Elles viennent de **l'atlas** départemental.\n\n<script>alert(1)</script>"
    )
    db.session.commit()

    send(runner, LATER)

    (mail,) = mails_to(smtp_server, scene.author)
    plain, html = body(mail, "plain"), body(mail, "html")
    assert f"Fil n°{thread.id} : Source des zones inondables" in plain
    assert "Message de Mathilde Membre, pour DDT du Loiret :" in plain
    assert "Elles viennent de **l'atlas** départemental." in plain
    assert "<strong>l'atlas</strong>" in html
    assert "<script" not in html
    # Its reply address names its recipient and the thread, signed.
    target = read_reply_address(mail["Reply-To"], now=LATER)
    assert (target.user_id, target.thread_id) == (scene.author.id, thread.id)
    assert "Répondez à ce courriel pour répondre sur le fil" in plain
    assert "au nom de votre service" not in plain
    # Mails of one thread group in mail clients.
    assert mail["References"] == mail["In-Reply-To"]
    assert f"fil-{thread.id}@" in mail["References"]
    assert mail["Subject"].startswith(f"[Fil n°{thread.id}] ")


def test_a_member_is_told_a_reply_by_mail_is_the_service_answer(db, runner, scene, smtp_server):
    thread = data_request(scene, title="Couche des haies", body="Bonjour, la couche des haies existe-t-elle ?")
    db.session.commit()  # the coordinator is told of new threads

    send(runner, LATER)

    (mail,) = mails_to(smtp_server, scene.coordinator)
    plain = body(mail, "plain")
    assert "Couche des haies" in plain
    assert "Message de Alice Autrice :\n\nBonjour, la couche des haies existe-t-elle ?" in plain
    assert f"fil-{thread.id}@" in mail["References"]
    assert "Échéance de la réponse :" in plain
    assert "votre réponse y sera publiée au nom de votre service" in plain
    assert read_reply_address(mail["Reply-To"], now=LATER).user_id == scene.coordinator.id


def test_a_status_change_says_the_status_and_its_motive(db, runner, scene, smtp_server):
    thread = data_request(scene, title="Données confidentielles")
    db.session.commit()
    services.change_status(
        thread,
        scene.member,
        ThreadStatus.DECLINED,
        decline_reason="confidential",
        motive="Ces données relèvent du secret industriel.",
    )
    db.session.commit()

    send(runner, LATER)

    (mail,) = mails_to(smtp_server, scene.author)
    plain = body(mail, "plain")
    assert "Nouveau statut : Refusé" in plain
    assert "Motif du refus :" in plain
    assert "Ces données relèvent du secret industriel." in plain
    assert "Nouveau statut : Refusé" in body(mail, "html").replace("&nbsp;", " ")


def test_an_extension_says_the_new_deadline(db, runner, scene, smtp_server):
    thread = data_request(scene, title="Inventaire des zones humides")
    db.session.commit()
    services.extend_deadline(thread, scene.member, "Le volume de la demande le justifie.")
    db.session.commit()

    send(runner, LATER)

    (mail,) = mails_to(smtp_server, scene.author)
    plain = body(mail, "plain")
    assert f"Échéance de la réponse : {french_date(thread.due_at)}" in plain
    assert "Le volume de la demande le justifie." in plain


def test_an_internal_note_never_reaches_the_requester_and_its_mail_says_a_reply_is_public(
    db, runner, scene, smtp_server
):
    thread = question(scene, title="Question sensible")
    services.toggle_follow(thread, scene.other_user)
    services.toggle_follow(thread, scene.member)
    services.post_message(thread, scene.coordinator, "Note : ne pas communiquer le nom du propriétaire.", internal=True)
    db.session.commit()

    send(runner, LATER)

    for outsider in (scene.author, scene.other_user):
        for mail in mails_to(smtp_server, outsider):
            assert "propriétaire" not in body(mail, "plain")
            assert "propriétaire" not in body(mail, "html")
    notes = [m for m in mails_to(smtp_server, scene.member) if "note interne" in m["Subject"]]
    assert notes, [m["Subject"] for m in smtp_server.messages]
    plain = body(notes[0], "plain")
    assert "ne pas communiquer le nom du propriétaire" in plain
    assert "une réponse par courriel n'est jamais une note interne" in plain


def test_someone_who_lost_access_gets_the_bare_mail(db, runner, scene, smtp_server):
    thread = data_request(scene, title="Demande restreinte", restricted=True)
    services.post_message(thread, scene.author, "Le détail confidentiel de ma demande.")
    db.session.commit()
    # The member leaves the service before the worker passes: they may no longer read the thread.
    for membership in list(scene.coordinator.memberships):
        db.session.delete(membership)
    db.session.commit()

    send(runner, LATER)

    for mail in mails_to(smtp_server, scene.coordinator):
        assert "confidentiel" not in body(mail, "plain")
        assert mail["Reply-To"] is None


def test_no_reply_address_for_someone_who_may_not_reply(db, runner, scene, smtp_server):
    suspended = factories.create_user(name="Suspendu")
    thread = question(scene, title="Fil suivi")
    services.toggle_follow(thread, suspended)
    db.session.commit()
    services.post_message(thread, scene.member, "Une réponse.")
    suspended.active = False
    db.session.commit()

    send(runner, LATER)

    assert mails_to(smtp_server, suspended) == []  # an inactive account gets no mail at all
    (mail,) = mails_to(smtp_server, scene.author)
    assert mail["Reply-To"] is not None


def test_details_are_read_in_a_few_queries_whatever_the_number_of_notifications(db, scene, app):
    def happen(threads: int) -> None:
        """Every kind of news a mail tells: new threads, answers, internal notes, status changes with their
        motive, extended deadlines."""
        for number in range(threads):
            thread = data_request(scene, title=f"Demande {number}")
            services.post_message(thread, scene.member, f"Réponse {number}")
            services.post_message(thread, scene.coordinator, f"Note {number}", internal=True)
            if number % 2:
                services.extend_deadline(thread, scene.member, f"Prolongation {number}")
            else:
                services.change_status(
                    thread, scene.member, ThreadStatus.DECLINED, decline_reason="confidential", motive="Secret."
                )
        db.session.commit()

    def selects(run) -> int:
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            run()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    def details_cost(threads: int) -> tuple[int, int]:
        happen(threads)
        db.session.expire_all()  # read from the database, as the worker does, not from what was just written
        pending = db.session.scalars(
            sa.select(Notification).where(Notification.mail_state == MailState.PENDING.value)
        ).all()
        recipients = sa.select(User).where(User.id.in_({n.recipient_id for n in pending}))
        users = {user.id: user for user in db.session.scalars(recipients.options(selectinload(User.memberships)))}
        told: dict = {}
        cost = selects(lambda: told.update(notification_details(pending, users)))
        return cost, len(told)

    few, told_few = details_cost(3)
    many, told_many = details_cost(12)
    assert told_many > told_few > 0
    assert many == few

    # The whole pass: what happened (as above), the worker's own reads (the notifications, their people and
    # memberships, their choices and roles, the next batch found empty), then per mail only whether its key is taken.
    total = selects(lambda: queue_notification_mails(now=LATER))
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingMail))
    assert mails > 30
    assert total <= few + 6 + mails
