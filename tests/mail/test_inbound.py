"""Replies by mail, end to end: real mails sent over loopback SMTP (and LMTP) to the real receiver, which posts
them on their thread as their author — or refuses them with a reason and creates nothing."""

from __future__ import annotations

import smtplib
import socket
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import sqlalchemy as sa

from feedback.database import utcnow
from feedback.extensions import db as _db
from feedback.mail.cli import start_receiver
from feedback.mail.models import InboundMail
from feedback.mail.reply_address import reply_address
from feedback.threads import services
from feedback.threads.models import Message, MessagePurpose, ThreadStatus

from ..threads.conftest import count, data_request, fresh, question

QUOTE_AND_SIGNATURE = """

Bien cordialement,
--\x20
Jean Dupont
DDT du Loiret — service Connaissance des territoires

Le lun. 7 déc. 2026 à 10:00, Retours Ecosphères <ne-pas-repondre@ecospheres.localhost> a écrit :
> Bonjour,
> Mathilde Membre a répondu sur « Source des zones inondables ».
> Texte cité qui ne doit pas être publié.
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def receiver(app, db):
    port = _free_port()
    controller = start_receiver(app, "127.0.0.1", port)
    yield port
    controller.stop()


def reply_mail(sender: str, to: str, text: str, **headers) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = "Re: [Fil n°1] une réponse"
    mail["Message-ID"] = headers.pop("message_id", make_msgid(domain="exemple.fr"))
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


def send(port: int, mail: EmailMessage, *, mail_from: str | None = None) -> tuple[int, str]:
    """Send over SMTP; (250, …) when taken, else the refusal's code and text."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        try:
            smtp.send_message(mail, from_addr=mail_from)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            return code, text.decode()
        except smtplib.SMTPResponseException as error:
            return error.smtp_code, error.smtp_error.decode()
    return 250, "OK"


def messages_of(thread_id: int) -> list[Message]:
    _db.session.expire_all()
    return list(_db.session.scalars(sa.select(Message).where(Message.thread_id == thread_id).order_by(Message.id)))


def test_the_author_answers_by_mail_quoted_text_and_signature_removed(app, receiver, scene):
    thread = question(scene, title="Source des zones inondables")
    services.post_message(thread, scene.member, "Pouvez-vous préciser la commune ?")
    _db.session.commit()
    with app.app_context():
        address = reply_address(scene.author.id, thread.id)

    code, _ = send(receiver, reply_mail(scene.author.email, address, "Il s'agit de Gien." + QUOTE_AND_SIGNATURE))

    assert code == 250
    last = messages_of(thread.id)[-1]
    assert last.author_id == scene.author.id
    assert last.body.startswith("Il s'agit de Gien.")
    assert "Jean Dupont" not in last.body and "cité" not in last.body and "a écrit" not in last.body
    assert last.as_organisation_id is None and not last.internal
    assert fresh(thread.id).messages_count == 3


def test_a_member_answers_by_mail_as_the_service(app, receiver, scene):
    thread = data_request(scene, title="Couche des haies")
    assert fresh(thread.id).status == ThreadStatus.NEW
    with app.app_context():
        address = reply_address(scene.member.id, thread.id)

    code, _ = send(receiver, reply_mail(scene.member.email.upper(), address, "La couche est en ligne."))

    assert code == 250
    last = messages_of(thread.id)[-1]
    assert last.as_organisation_id == scene.producer.id
    assert last.purpose == MessagePurpose.ANSWER.value
    assert not last.internal
    # As with the form: the service's first response acknowledges the request.
    assert fresh(thread.id).status == ThreadStatus.ACKNOWLEDGED


def test_the_same_mail_received_twice_is_posted_once(app, receiver, scene):
    thread = question(scene)
    with app.app_context():
        address = reply_address(scene.author.id, thread.id)
    mail = reply_mail(scene.author.email, address, "Une seule fois.")

    assert send(receiver, mail)[0] == 250
    assert send(receiver, mail)[0] == 250

    assert [m.body for m in messages_of(thread.id)].count("Une seule fois.") == 1
    assert count(InboundMail) == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("forged", "modifiee ou mal recopiee"),
        ("expired", "a expire"),
        ("unknown_local_part", "n'est celle d'aucun fil"),
        ("other_sender", "donnee a une autre personne"),
        ("empty", "est vide"),
        ("only_quote", "est vide"),
        ("too_long", "depasse 50 000 caracteres"),
        ("inactive", "ne pouvez plus repondre"),
        ("lost_access", "ne pouvez plus repondre"),
    ],
)
def test_a_reply_that_cannot_be_posted_is_refused_with_its_reason_and_creates_nothing(
    app, receiver, scene, case, expected
):
    thread = data_request(scene, title="Demande restreinte", restricted=True)
    person = scene.member if case == "lost_access" else scene.author
    text, sender = "Une réponse.", person.email
    address = reply_address(person.id, thread.id)
    if case == "forged":
        local, domain = address.split("@")
        address = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    elif case == "expired":
        address = reply_address(person.id, thread.id, now=utcnow() - timedelta(days=91))
    elif case == "unknown_local_part":
        address = "contact@" + address.split("@")[1]
    elif case == "other_sender":
        sender = scene.other_user.email
    elif case == "empty":
        text = "\n\n"
    elif case == "only_quote":
        text = "> Bonjour,\n> le message cité seulement\n"
    elif case == "too_long":
        text = "x" * (services.MAX_BODY_LENGTH + 1)
    elif case == "inactive":
        scene.author.active = False
    elif case == "lost_access":  # the member left the service: a restricted thread is no longer theirs to read
        for membership in list(person.memberships):
            _db.session.delete(membership)
    _db.session.commit()
    before = count(Message)

    code, reason = send(receiver, reply_mail(sender, address, text))

    assert code == 550
    assert expected in reason
    assert count(Message) == before
    assert fresh(thread.id).messages_count == 1


def test_an_automatic_reply_is_taken_silently_and_creates_nothing(app, receiver, scene):
    thread = question(scene)
    with app.app_context():
        address = reply_address(scene.author.id, thread.id)
    absence = reply_mail(scene.author.email, address, "Absent jusqu'au 2 janvier.", Auto_Submitted="auto-replied")

    assert send(receiver, absence)[0] == 250
    assert count(Message, Message.thread_id == thread.id) == 1
    assert _db.session.scalar(sa.select(InboundMail.status)) == "ignored"


def test_a_mail_for_another_domain_is_refused_at_once(receiver, scene):
    code, reason = send(receiver, reply_mail(scene.author.email, "quelquun@exemple.fr", "Bonjour"))
    assert code == 550
    assert "ne recoit que les reponses" in reason


def test_lmtp_answers_each_recipient(app, db, scene):
    thread = question(scene)
    port = _free_port()
    controller = start_receiver(app, "127.0.0.1", port, lmtp=True)
    try:
        with app.app_context():
            good = reply_address(scene.author.id, thread.id)
            other = reply_address(scene.other_user.id, thread.id)
        mail = reply_mail(scene.author.email, good, "Par LMTP.")
        # smtplib reads one answer to DATA; LMTP gives one per recipient: the dialogue is written out here.
        with smtplib.LMTP("127.0.0.1", port, timeout=30) as lmtp:
            assert lmtp.ehlo()[0] == 250
            assert lmtp.mail(scene.author.email)[0] == 250
            assert lmtp.rcpt(good)[0] == 250
            assert lmtp.rcpt(other)[0] == 250
            first = lmtp.data(mail.as_bytes())
            second = lmtp.getreply()
    finally:
        controller.stop()

    # The mail is the author's: posted for their address, refused for the other person's.
    assert first[0] == 250
    assert second[0] == 550 and b"autre personne" in second[1]
    assert [m.body for m in messages_of(thread.id)][-1] == "Par LMTP."
