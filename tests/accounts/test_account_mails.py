"""Account mails, sent to a real SMTP server on loopback: confirming the address given at sign-up, and the
forgotten password.

Account mails go out once the response has been sent (`Response.call_on_close`): the test client runs that
when the response is closed, so the requests that send a mail are closed before the mailbox is read.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from feedback.accounts import tokens
from feedback.accounts.models import User
from feedback.database import utcnow
from feedback.extensions import db as _db
from feedback.extensions import limiter
from feedback.mail.models import MailStatus, OutgoingMail

from .. import factories
from ..conftest import make_app
from .test_auth import field_errors, fresh_get, signed_in_email

BASE_URL = "https://retours.exemple.gouv.fr"
CONFIRM_PATH = re.compile(r"https://retours\.exemple\.gouv\.fr(/compte/confirmer/[A-Za-z0-9_.\-]+)")
RESET_PATH = re.compile(r"https://retours\.exemple\.gouv\.fr(/mot-de-passe/nouveau/[A-Za-z0-9_.\-]+)")
SENT_ANSWER = "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé"
SIGNUP = {
    "name": "Camille Martin",
    "email": "camille.martin@exemple.fr",
    "employer_kind": "consultancy",
    "employer_name": "Hydro-Conseil",
    "password": "un-mot-de-passe-solide",
    "password_confirm": "un-mot-de-passe-solide",
}
NEW_PASSWORD = "un-tout-nouveau-mot-de-passe"


@pytest.fixture(autouse=True)
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_BASE_URL", BASE_URL)


# --- helpers ---------------------------------------------------------------------------------------------


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST, then close the response as a server does once it is sent: the account mail goes then."""
    response = client.post(url, data=data or {}, **kwargs)
    response.close()
    return response


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message, pattern: re.Pattern) -> str:
    """The path of the link a mail carries, the same in its text and its HTML."""
    in_text = pattern.findall(text_of(message))
    in_html = pattern.findall(unescape(html_of(message)))
    assert len(set(in_text)) == 1, in_text
    assert set(in_html) == set(in_text)
    return in_text[0]


def page_text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def stored_user(db, email: str) -> User:
    db.session.expire_all()
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def outbox(db) -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)))


def signed_long_ago(app, salt: str, payload: dict, age: timedelta) -> str:
    """A token signed `age` ago: itsdangerous reads the signing time from the signer, so a signer whose clock is
    behind makes an old token without touching the clock of the code under test."""

    class SignerBehind(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age.total_seconds())

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=SignerBehind).dumps(payload)


def with_other_payload(token: str, payload: dict) -> str:
    """The token with its content replaced and its signature kept, as someone editing a link would do."""
    _, timestamp, signature = token.rsplit(".", 2)
    content = base64_encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"{content}.{timestamp}.{signature}"


def unconfirmed_user(email: str = "dominique.petit@exemple.fr") -> User:
    user = factories.create_user(email=email, name="Dominique Petit")
    user.confirmed = False
    _db.session.commit()
    return user


def ask_reset(client, email: str):
    return post(client, "/mot-de-passe/oubli", {"email": email})


# --- confirmation at sign-up ------------------------------------------------------------------------------


def test_signup_sends_one_confirmation_mail_whose_link_confirms_the_address(app, db, client, smtp_server):
    response = post(client, "/inscription", SIGNUP)

    assert response.status_code == 303
    user = stored_user(db, "camille.martin@exemple.fr")
    assert not user.confirmed
    assert len(smtp_server.messages) == 1
    [message] = smtp_server.to("camille.martin@exemple.fr")
    assert message["To"] == "camille.martin@exemple.fr"
    assert message["Subject"] == "Confirmez votre adresse électronique"
    assert "Bonjour Camille Martin," in text_of(message)
    assert "valable 7 jours" in text_of(message)
    [mail] = outbox(db)
    assert mail.key.startswith(f"account:confirm:{user.id}:")
    assert mail.status == MailStatus.SENT
    assert mail.recipient_id == user.id

    # Signing up does not sign in (an address that already had an account gets the same answer): the person
    # signs in, then opens the link.
    assert signed_in_email(app, client) is None
    post(client, "/connexion", {"email": "camille.martin@exemple.fr", "password": SIGNUP["password"]})
    path = link_in(message, CONFIRM_PATH)
    confirmed = fresh_get(app, client, path)

    assert confirmed.status_code == 303
    assert urlsplit(confirmed.headers["Location"]).path == "/compte"
    assert stored_user(db, "camille.martin@exemple.fr").confirmed
    account = fresh_get(app, client, "/compte")
    assert "Votre adresse électronique est confirmée. Merci !" in page_text(account)
    assert "Renvoyer le courriel de confirmation" not in page_text(account)


def test_confirmation_link_works_without_being_signed_in(app, db, client, smtp_server):
    post(client, "/inscription", SIGNUP)
    path = link_in(smtp_server.messages[0], CONFIRM_PATH)

    confirmed = fresh_get(app, client, path)

    assert confirmed.status_code == 303
    assert urlsplit(confirmed.headers["Location"]).path == "/connexion"
    assert stored_user(db, "camille.martin@exemple.fr").confirmed


def test_account_page_of_an_unconfirmed_person_offers_to_send_the_mail_again(app, db, client, login, smtp_server):
    user = unconfirmed_user()
    login(user)

    page = page_text(fresh_get(app, client, "/compte"))
    assert "Adresse électronique à confirmer" in page
    assert "Renvoyer le courriel de confirmation" in page

    response = post(client, "/compte/confirmation")

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/compte"
    [message] = smtp_server.to("dominique.petit@exemple.fr")
    assert message["Subject"] == "Confirmez votre adresse électronique"
    assert "Un nouveau courriel de confirmation vient d'être envoyé à dominique.petit@exemple.fr." in page_text(
        fresh_get(app, client, "/compte")
    )

    # A second request is a second mail with its own link; both links work.
    post(client, "/compte/confirmation")
    first, second = smtp_server.to("dominique.petit@exemple.fr")
    assert link_in(first, CONFIRM_PATH) != link_in(second, CONFIRM_PATH)
    assert fresh_get(app, client, link_in(first, CONFIRM_PATH)).status_code == 303
    assert stored_user(db, "dominique.petit@exemple.fr").confirmed


def test_a_confirmed_person_is_sent_nothing_again(app, db, client, login, smtp_server):
    user = factories.create_user(email="alex.durand@exemple.fr")
    login(user)

    post(client, "/compte/confirmation")

    assert smtp_server.messages == []
    assert outbox(db) == []
    assert "Votre adresse électronique est déjà confirmée." in page_text(fresh_get(app, client, "/compte"))
    assert "Renvoyer le courriel de confirmation" not in page_text(fresh_get(app, client, "/compte"))


def test_tampered_confirmation_link_is_refused(app, db, client, smtp_server):
    victim = unconfirmed_user("victime@exemple.fr")
    post(client, "/inscription", SIGNUP)
    path = link_in(smtp_server.to("camille.martin@exemple.fr")[0], CONFIRM_PATH)
    token = path.rsplit("/", 1)[1]
    forged = with_other_payload(token, {"user": victim.id, "email": "victime@exemple.fr"})

    response = fresh_get(app, client, f"/compte/confirmer/{forged}")

    assert response.status_code == 400
    assert tokens.CONFIRMATION_INVALID in page_text(response)
    assert not stored_user(db, "victime@exemple.fr").confirmed
    assert fresh_get(app, client, "/compte/confirmer/pas-un-jeton").status_code == 400


def test_a_password_reset_link_does_not_confirm_an_address(app, db, client, smtp_server):
    user = unconfirmed_user()
    ask_reset(client, user.email)
    reset_token = link_in(smtp_server.messages[0], RESET_PATH).rsplit("/", 1)[1]

    response = fresh_get(app, client, f"/compte/confirmer/{reset_token}")

    assert response.status_code == 400
    assert tokens.CONFIRMATION_INVALID in page_text(response)
    assert not stored_user(db, user.email).confirmed


def test_expired_confirmation_link_is_refused(app, db, client):
    user = unconfirmed_user()
    payload = {"user": user.id, "email": "dominique.petit@exemple.fr"}
    expired = signed_long_ago(app, tokens.CONFIRMATION_SALT, payload, timedelta(days=7, minutes=1))

    response = fresh_get(app, client, f"/compte/confirmer/{expired}")

    assert response.status_code == 400
    assert tokens.CONFIRMATION_EXPIRED in page_text(response)
    assert "Lien inutilisable" in page_text(response)
    assert not stored_user(db, user.email).confirmed

    # The same link signed six days ago still works: only its age was wrong.
    recent = signed_long_ago(app, tokens.CONFIRMATION_SALT, payload, timedelta(days=6))
    assert fresh_get(app, client, f"/compte/confirmer/{recent}").status_code == 303
    assert stored_user(db, user.email).confirmed


def test_confirmation_link_dies_when_the_address_changes(app, db, client, smtp_server):
    post(client, "/inscription", SIGNUP)
    path = link_in(smtp_server.messages[0], CONFIRM_PATH)
    user = stored_user(db, "camille.martin@exemple.fr")
    user.email = "camille.martin@autre-exemple.fr"
    db.session.commit()

    response = fresh_get(app, client, path)

    assert response.status_code == 400
    assert tokens.CONFIRMATION_STALE in page_text(response)
    assert not stored_user(db, "camille.martin@autre-exemple.fr").confirmed


def test_signup_succeeds_while_the_mail_server_is_down_and_the_mail_waits(app, db, client, runner, smtp_server):
    smtp_server.stop()

    response = post(client, "/inscription", SIGNUP)

    assert response.status_code == 303
    assert response.headers["Location"] == "/inscription/envoyee"
    [mail] = outbox(db)
    assert mail.status == MailStatus.PENDING
    assert mail.attempts == 1
    assert mail.last_error
    assert smtp_server.messages == []

    smtp_server.start()
    # The worker's pass, once the wait after the failed try (one minute) is over.
    later = (utcnow() + timedelta(minutes=2)).isoformat()
    result = runner.invoke(args=["notifications", "send", "--now", later])

    assert result.exit_code == 0, result.output
    assert "1 courriel envoyé, 0 à réessayer, 0 en échec." in result.output
    [message] = smtp_server.to("camille.martin@exemple.fr")
    assert message["Subject"] == "Confirmez votre adresse électronique"
    assert outbox(db)[0].status == MailStatus.SENT
    assert fresh_get(app, client, link_in(message, CONFIRM_PATH)).status_code == 303
    assert stored_user(db, "camille.martin@exemple.fr").confirmed


# --- forgotten password -----------------------------------------------------------------------------------


def test_login_page_links_to_the_forgotten_password_form(client):
    html = client.get("/connexion").get_data(as_text=True)

    assert '<a class="fr-link" href="/mot-de-passe/oubli">Mot de passe oublié ?</a>' in html
    form = client.get("/mot-de-passe/oubli")
    assert form.status_code == 200
    assert "<h1>Mot de passe oublié</h1>" in form.get_data(as_text=True)


def without_csrf_token(response) -> bytes:
    """The page without its CSRF token, which is signed with the time it is rendered at."""
    return re.sub(rb'"X-CSRFToken": "[^"]*"', b'"X-CSRFToken": ""', response.get_data())


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_a_mail(app, db, client, smtp_server):
    factories.create_user(email="alex.durand@exemple.fr")

    known = ask_reset(client, "alex.durand@exemple.fr")
    unknown = ask_reset(client, "personne.inconnue@exemple.fr")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/mot-de-passe/oubli/envoye"
    assert known.get_data() == unknown.get_data()
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    assert "Set-Cookie" not in known.headers
    known_page = fresh_get(app, client, known.headers["Location"])
    unknown_page = fresh_get(app, client, unknown.headers["Location"])
    assert without_csrf_token(known_page) == without_csrf_token(unknown_page)
    assert SENT_ANSWER in page_text(known_page)

    assert len(smtp_server.messages) == 1
    [message] = smtp_server.to("alex.durand@exemple.fr")
    assert message["Subject"] == "Réinitialisation de votre mot de passe"
    assert "valable 60 minutes" in text_of(message)
    assert [mail.to_address for mail in outbox(db)] == ["alex.durand@exemple.fr"]


def test_forgotten_password_form_checks_the_address(client, smtp_server):
    response = ask_reset(client, "alex.durand")

    assert response.status_code == 200
    assert field_errors(response, "email") == ["Saisissez une adresse électronique valide, par exemple nom@exemple.fr."]
    assert smtp_server.messages == []


def test_reset_link_sets_the_password_once(app, db, client, smtp_server):
    factories.create_user(email="alex.durand@exemple.fr")
    ask_reset(client, "Alex.Durand@Exemple.fr")
    path = link_in(smtp_server.messages[0], RESET_PATH)

    form = fresh_get(app, client, path)
    assert form.status_code == 200
    assert "Choisir un nouveau mot de passe" in page_text(form)
    response = post(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 303
    assert signed_in_email(app, client) == "alex.durand@exemple.fr"
    user = stored_user(db, "alex.durand@exemple.fr")
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(factories.PASSWORD)

    again = fresh_get(app, client, path)
    assert again.status_code == 400
    assert tokens.RESET_USED in page_text(again)
    replay = post(
        client, path, {"password": "encore-un-autre-mot-de-passe", "password_confirm": "encore-un-autre-mot-de-passe"}
    )
    assert replay.status_code == 400
    assert stored_user(db, "alex.durand@exemple.fr").check_password(NEW_PASSWORD)


def test_resetting_the_password_ends_the_other_sessions_of_the_account(app, db, client, smtp_server):
    factories.create_user(email="alex.durand@exemple.fr")
    elsewhere = app.test_client()
    signed_in = elsewhere.post("/connexion", data={"email": "alex.durand@exemple.fr", "password": factories.PASSWORD})
    assert signed_in.status_code == 303
    assert signed_in_email(app, elsewhere) == "alex.durand@exemple.fr"

    ask_reset(client, "alex.durand@exemple.fr")
    path = link_in(smtp_server.messages[0], RESET_PATH)
    post(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert signed_in_email(app, client) == "alex.durand@exemple.fr"  # the session that reset it goes on
    assert signed_in_email(app, elsewhere) is None  # the one opened with the old password is over


def test_reset_link_of_an_unconfirmed_account_confirms_it(app, db, client, smtp_server):
    user = unconfirmed_user()
    ask_reset(client, user.email)
    path = link_in(smtp_server.messages[0], RESET_PATH)

    post(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert stored_user(db, "dominique.petit@exemple.fr").confirmed


def test_older_reset_link_is_refused_once_the_password_changed(app, db, client, smtp_server):
    factories.create_user(email="alex.durand@exemple.fr")
    ask_reset(client, "alex.durand@exemple.fr")
    ask_reset(client, "alex.durand@exemple.fr")
    first, second = (link_in(message, RESET_PATH) for message in smtp_server.to("alex.durand@exemple.fr"))
    assert first != second

    assert post(client, second, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 303
    post(client, "/deconnexion")

    refused = post(
        client, first, {"password": "encore-un-autre-mot-de-passe", "password_confirm": "encore-un-autre-mot-de-passe"}
    )
    assert refused.status_code == 400
    assert tokens.RESET_USED in page_text(refused)
    assert 'href="/mot-de-passe/oubli"' in refused.get_data(as_text=True)
    assert stored_user(db, "alex.durand@exemple.fr").check_password(NEW_PASSWORD)
    assert signed_in_email(app, client) is None


def test_expired_and_tampered_reset_links_are_refused(app, db, client):
    user = factories.create_user(email="alex.durand@exemple.fr")
    fingerprint = user.password_fingerprint
    payload = {"user": user.id, "password": fingerprint}
    expired = signed_long_ago(app, tokens.PASSWORD_RESET_SALT, payload, timedelta(hours=1, minutes=1))
    recent = signed_long_ago(app, tokens.PASSWORD_RESET_SALT, payload, timedelta(minutes=59))
    other = factories.create_user(email="autre@exemple.fr")
    tampered = with_other_payload(recent, {"user": other.id, "password": other.password_fingerprint})

    response = fresh_get(app, client, f"/mot-de-passe/nouveau/{expired}")
    assert response.status_code == 400
    assert tokens.RESET_EXPIRED in page_text(response)
    response = post(
        client, f"/mot-de-passe/nouveau/{tampered}", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert tokens.RESET_INVALID in page_text(response)
    assert stored_user(db, "autre@exemple.fr").check_password(factories.PASSWORD)

    # The untouched link, signed 59 minutes ago, is still good.
    assert fresh_get(app, client, f"/mot-de-passe/nouveau/{recent}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"password": "court", "password_confirm": "court"},
            "password",
            "Le mot de passe doit compter au moins 12 caractères.",
        ),
        (
            {"password_confirm": "un-autre-mot-de-passe"},
            "password_confirm",
            "Les deux mots de passe ne sont pas identiques.",
        ),
    ],
)
def test_new_password_follows_the_sign_up_rules(app, db, client, smtp_server, changes, field, message):
    factories.create_user(email="alex.durand@exemple.fr")
    ask_reset(client, "alex.durand@exemple.fr")
    path = link_in(smtp_server.messages[0], RESET_PATH)

    response = post(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, **changes})

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert stored_user(db, "alex.durand@exemple.fr").check_password(factories.PASSWORD)
    # The link is still good: nothing changed.
    assert post(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 303


def placeholder_author(db) -> User:
    """An imported data.gouv.fr author: no password, inactive."""
    user = User(
        email="auteur.importe@exemple.fr",
        name="Auteur importé",
        password_hash=None,
        active=False,
        datagouv_id="5a" * 12,
    )
    db.session.add(user)
    db.session.commit()
    return user


def passwordless_active(db) -> User:
    user = User(email="auteur.importe@exemple.fr", name="Auteur importé", password_hash=None, active=True)
    db.session.add(user)
    db.session.commit()
    return user


def inactive_with_password(db) -> User:
    return factories.create_user(email="auteur.importe@exemple.fr", active=False)


@pytest.mark.parametrize("make_account", [placeholder_author, passwordless_active, inactive_with_password])
def test_accounts_that_cannot_log_in_get_no_reset_mail(app, db, client, smtp_server, make_account):
    make_account(db)

    response = ask_reset(client, "auteur.importe@exemple.fr")

    assert response.status_code == 303
    assert response.headers["Location"] == "/mot-de-passe/oubli/envoye"
    assert outbox(db) == []
    assert smtp_server.messages == []


# --- rate limits ------------------------------------------------------------------------------------------


@pytest.fixture
def limited_client(app, tmp_path_factory):
    """A client of an app with the real rate limits; the limiter is shared by every app of the process, so it
    is put back as it was."""
    previous = limiter.enabled
    limited = make_app(
        tmp_path_factory,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        FEEDBACK_BASE_URL=BASE_URL,
    )
    try:
        yield limited.test_client()
    finally:
        limiter.reset()
        limiter.enabled = previous
        with limited.app_context():
            _db.engine.dispose()


def test_reset_requests_are_limited_per_address_from_one_client(db, limited_client):
    for _ in range(3):
        response = limited_client.post(
            "/mot-de-passe/oubli", data={"email": "alex.durand@exemple.fr"}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
        )
        assert response.status_code == 303

    refused = limited_client.post(
        "/mot-de-passe/oubli", data={"email": "Alex.Durand@exemple.fr"}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert refused.status_code == 429
    assert "Trop de tentatives" in page_text(refused)
    other_address = limited_client.post(
        "/mot-de-passe/oubli", data={"email": "autre@exemple.fr"}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert other_address.status_code == 303


def test_a_stranger_cannot_block_the_password_reset_of_someone_else(db, limited_client):
    """Requests for an address from other clients do not use up the limit of its owner's client."""
    factories.create_user(email="alex.durand@exemple.fr")
    for number in range(1, 6):
        for _ in range(3):
            limited_client.post(
                "/mot-de-passe/oubli",
                data={"email": "alex.durand@exemple.fr"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
            )
    queued_before = len(outbox(db))

    owner = limited_client.post(
        "/mot-de-passe/oubli", data={"email": "alex.durand@exemple.fr"}, environ_base={"REMOTE_ADDR": "192.0.2.1"}
    )

    assert owner.status_code == 303
    assert owner.headers["Location"] == "/mot-de-passe/oubli/envoye"
    mails = outbox(db)
    assert len(mails) == queued_before + 1
    assert mails[-1].to_address == "alex.durand@exemple.fr"
    assert mails[-1].subject == "Réinitialisation de votre mot de passe"


def test_reset_requests_are_limited_per_sender(db, limited_client):
    for number in range(10):
        response = limited_client.post("/mot-de-passe/oubli", data={"email": f"personne{number}@exemple.fr"})
        assert response.status_code == 303

    assert limited_client.post("/mot-de-passe/oubli", data={"email": "encore@exemple.fr"}).status_code == 429


def test_sending_the_confirmation_again_is_limited(db, limited_client):
    user = unconfirmed_user()
    signed_in = limited_client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 303

    for _ in range(3):
        assert limited_client.post("/compte/confirmation").status_code == 303

    assert limited_client.post("/compte/confirmation").status_code == 429
