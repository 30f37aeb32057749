"""« Mon compte »: name and organisation, password, address; and a sign-up that tells nobody who has an account.
Mails go to a real SMTP server on loopback."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from feedback.accounts import tokens
from feedback.accounts.models import User, UserSession

from .. import factories
from .test_account_mails import link_in, outbox, page_text, post, stored_user, text_of, with_other_payload
from .test_auth import field_errors, fresh_get, signed_in_email

BASE_URL = "https://retours.exemple.gouv.fr"
CHANGE_PATH = re.compile(r"https://retours\.exemple\.gouv\.fr(/compte/adresse/[A-Za-z0-9_.\-]+)")
NEW_PASSWORD = "un-tout-nouveau-mot-de-passe"
EMAIL_SENT = "Si cette adresse peut être utilisée, un courriel de confirmation y a été envoyé."


@pytest.fixture(autouse=True)
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_BASE_URL", BASE_URL)


def signed_in(app, email: str = "camille@exemple.fr", **kwargs):
    user = factories.create_user(email=email, **kwargs)
    browser = app.test_client()
    response = browser.post("/connexion", data={"email": email, "password": factories.PASSWORD})
    assert response.status_code == 303
    return user, browser


# --- name and organisation ----------------------------------------------------------------------------------


def test_the_account_page_edits_the_name_and_the_organisation(app, db):
    user, browser = signed_in(app)
    page = fresh_get(app, browser, "/compte").get_data(as_text=True)
    assert 'value="Camille Martin"' in page
    assert '<option selected value="consultancy">' in page

    response = post(
        browser,
        "/compte/profil",
        {"name": "  Camille Martin-Durand ", "employer_kind": "local_authority", "employer_name": "Ville de Tours"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/compte"
    user = stored_user(db, "camille@exemple.fr")
    assert (user.name, user.employer_kind, user.employer_name) == (
        "Camille Martin-Durand",
        "local_authority",
        "Ville de Tours",
    )
    html = unescape(fresh_get(app, browser, "/compte").get_data(as_text=True))
    assert "Vos informations sont enregistrées." in html
    assert "<dt>Nom</dt><dd>Camille Martin-Durand</dd>" in html
    assert "Ville de Tours (Collectivité)" in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "Ce champ est obligatoire."),
        ({"employer_name": "x" * 201}, "employer_name", "200 caractères au plus."),
        ({"employer_kind": "martien"}, "employer_kind", None),
        ({"name": "Camille\x07Martin"}, "name", "Ce champ contient un caractère non autorisé (caractère de contrôle)."),
        (
            {"employer_name": "Ville\x1b"},
            "employer_name",
            "Ce champ contient un caractère non autorisé (caractère de contrôle).",
        ),
    ],
)
def test_a_wrong_profile_is_refused_in_french_next_to_its_field(app, db, changes, field, message):
    _user, browser = signed_in(app)

    response = post(
        browser, "/compte/profil", {"name": "Camille", "employer_kind": "other", "employer_name": "X", **changes}
    )

    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and (message is None or errors == [message])
    assert stored_user(db, "camille@exemple.fr").name == "Camille Martin"


def test_the_account_forms_need_to_be_signed_in(client, db):
    for url in ("/compte/profil", "/compte/mot-de-passe", "/compte/adresse", "/compte/deconnexion-partout"):
        response = client.post(url, data={})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion")


# --- password ---------------------------------------------------------------------------------------------


def test_changing_the_password_keeps_this_browser_ends_the_others_and_sends_a_mail(app, db, smtp_server):
    user, browser = signed_in(app)
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    assert signed_in_email(app, other) == "camille@exemple.fr"

    response = post(
        browser,
        "/compte/mot-de-passe",
        {"current_password": factories.PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/compte"
    assert "Votre mot de passe est changé." in page_text(fresh_get(app, browser, "/compte"))
    assert stored_user(db, "camille@exemple.fr").check_password(NEW_PASSWORD)
    assert signed_in_email(app, browser) == "camille@exemple.fr"
    assert signed_in_email(app, other) is None
    [message] = smtp_server.to("camille@exemple.fr")
    assert message["Subject"] == "Votre mot de passe a été changé"
    assert "vient d'être changé" in text_of(message)
    assert NEW_PASSWORD not in text_of(message)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"current_password": "pas-le-bon-mot-de-passe", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
            "current_password",
            "Le mot de passe actuel n'est pas le bon.",
        ),
        (
            {"current_password": factories.PASSWORD, "password": "court", "password_confirm": "court"},
            "password",
            "Le mot de passe doit compter au moins 12 caractères.",
        ),
        (
            {"current_password": factories.PASSWORD, "password": NEW_PASSWORD, "password_confirm": "autre-chose-12"},
            "password_confirm",
            "Les deux mots de passe ne sont pas identiques.",
        ),
        (
            {"current_password": "", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
            "current_password",
            "Ce champ est obligatoire.",
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(app, db, smtp_server, data, field, message):
    user, browser = signed_in(app)
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})

    response = post(browser, "/compte/mot-de-passe", data)

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert NEW_PASSWORD not in response.get_data(as_text=True)
    assert stored_user(db, "camille@exemple.fr").check_password(factories.PASSWORD)
    assert signed_in_email(app, other) == "camille@exemple.fr"
    assert smtp_server.messages == []


# --- address ----------------------------------------------------------------------------------------------


def test_the_address_changes_only_once_the_link_sent_to_the_new_one_is_opened(app, db, smtp_server):
    user, browser = signed_in(app)

    response = post(
        browser, "/compte/adresse", {"email": "Camille.Nouvelle@Exemple.fr", "email_password": factories.PASSWORD}
    )

    assert response.status_code == 303
    assert EMAIL_SENT in page_text(fresh_get(app, browser, "/compte"))
    assert stored_user(db, "camille@exemple.fr").email == "camille@exemple.fr"  # not yet
    [message] = smtp_server.to("camille.nouvelle@exemple.fr")
    assert message["Subject"] == "Confirmez votre nouvelle adresse électronique"
    assert smtp_server.to("camille@exemple.fr") == []
    path = link_in(message, CHANGE_PATH)

    opened = fresh_get(app, browser, path)
    opened.close()

    assert opened.status_code == 303
    assert opened.headers["Location"] == "/compte"
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert changed.email == "camille.nouvelle@exemple.fr"
    assert changed.confirmed
    assert signed_in_email(app, browser) == "camille.nouvelle@exemple.fr"
    [notice] = smtp_server.to("camille@exemple.fr")
    assert notice["Subject"] == "L'adresse électronique de votre compte a changé"
    assert "camille.nouvelle@exemple.fr" in text_of(notice)
    # The link served once: the account's address is no longer the one it replaces.
    again = fresh_get(app, browser, path)
    assert again.status_code == 400
    assert tokens.EMAIL_CHANGE_STALE in page_text(again)


def test_an_address_of_another_account_gets_the_same_answer_and_no_link(app, db, smtp_server):
    factories.create_user(email="dominique@exemple.fr")
    _user, browser = signed_in(app)

    taken = post(browser, "/compte/adresse", {"email": "Dominique@exemple.fr", "email_password": factories.PASSWORD})
    free = post(browser, "/compte/adresse", {"email": "libre@exemple.fr", "email_password": factories.PASSWORD})

    assert taken.status_code == free.status_code == 303
    assert taken.headers["Location"] == free.headers["Location"] == "/compte"
    assert smtp_server.to("dominique@exemple.fr") == []
    assert len(smtp_server.to("libre@exemple.fr")) == 1
    assert stored_user(db, "camille@exemple.fr").email == "camille@exemple.fr"


def test_an_address_taken_after_the_link_was_sent_is_not_given_twice(app, db, smtp_server):
    _user, browser = signed_in(app)
    post(browser, "/compte/adresse", {"email": "libre@exemple.fr", "email_password": factories.PASSWORD})
    path = link_in(smtp_server.to("libre@exemple.fr")[0], CHANGE_PATH)
    factories.create_user(email="libre@exemple.fr")

    response = fresh_get(app, browser, path)

    assert response.status_code == 400
    assert stored_user(db, "camille@exemple.fr").email == "camille@exemple.fr"


def test_an_address_change_needs_the_password(app, db, smtp_server):
    _user, browser = signed_in(app)

    response = post(
        browser, "/compte/adresse", {"email": "libre@exemple.fr", "email_password": "pas-le-bon-mot-de-passe"}
    )

    assert response.status_code == 200
    assert field_errors(response, "email_password") == ["Le mot de passe actuel n'est pas le bon."]
    assert smtp_server.messages == []


def test_a_tampered_address_link_is_refused(app, db, smtp_server):
    user, browser = signed_in(app)
    post(browser, "/compte/adresse", {"email": "libre@exemple.fr", "email_password": factories.PASSWORD})
    token = link_in(smtp_server.to("libre@exemple.fr")[0], CHANGE_PATH).rsplit("/", 1)[1]
    forged = with_other_payload(token, {"user": user.id, "email": user.email, "new_email": "pirate@exemple.fr"})

    response = fresh_get(app, browser, f"/compte/adresse/{forged}")

    assert response.status_code == 400
    assert tokens.EMAIL_CHANGE_INVALID in page_text(response)
    assert stored_user(db, "camille@exemple.fr").email == "camille@exemple.fr"


# --- sign-up with an address that has an account -------------------------------------------------------------

SIGNUP = {
    "name": "Quelqu'un d'autre",
    "employer_kind": "consultancy",
    "employer_name": "Ailleurs",
    "password": "un-mot-de-passe-solide",
    "password_confirm": "un-mot-de-passe-solide",
}


def test_signing_up_with_a_taken_address_mails_its_owner_instead(app, db, client, smtp_server):
    owner = factories.create_user(email="camille@exemple.fr")

    response = post(client, "/inscription", {**SIGNUP, "email": "Camille@exemple.fr"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/inscription/envoyee"
    assert "Un courriel vient d'être envoyé" in page_text(fresh_get(app, client, "/inscription/envoyee"))
    [message] = smtp_server.to("camille@exemple.fr")
    assert message["Subject"] == "Tentative de création d'un compte avec votre adresse"
    assert "quelqu'un, peut-être vous, a tenté de créer un compte" in text_of(message).lower()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert stored_user(db, "camille@exemple.fr").check_password(factories.PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    assert owner.id == stored_user(db, "camille@exemple.fr").id
    # A second try within the hour sends nothing more.
    post(client, "/inscription", {**SIGNUP, "email": "camille@exemple.fr"})
    assert len(smtp_server.to("camille@exemple.fr")) == 1
    assert len(outbox(db)) == 1


def test_a_name_with_a_control_character_is_refused_at_sign_up(db, client):
    response = post(client, "/inscription", {**SIGNUP, "email": "nouveau@exemple.fr", "name": "Quelqu'un\x1b"})

    assert response.status_code == 200
    assert field_errors(response, "name") == ["Ce champ contient un caractère non autorisé (caractère de contrôle)."]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
