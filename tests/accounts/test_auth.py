"""Sign-up, log in and log out, as a person does them with the forms (CSRF is off in these tests)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from wtforms.i18n import get_translations

from feedback.accounts.models import EmployerKind, Role, User

from .. import factories

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
REQUIRED = "Ce champ est obligatoire."
SIGNUP = {
    "name": "Camille Martin",
    "email": "Camille.Martin@Exemple.fr",
    "employer_kind": "consultancy",
    "employer_name": "Hydro-Conseil",
    "password": "un-mot-de-passe-solide",
    "password_confirm": "un-mot-de-passe-solide",
}


# --- helpers ---------------------------------------------------------------------------------------------


def fresh_get(app, client, url: str, **kwargs):
    """GET in a new application context, as a real request gets one.

    The `db` fixture keeps an application context open for the whole test, and Flask reuses it for every
    request of the test client: Flask-Login's user cached on `g` would survive from one request to the
    next. A fresh context makes the request read who is signed in from the session cookie alone."""
    with app.app_context():
        return client.get(url, **kwargs)


def signed_in_email(app, client) -> str | None:
    """The address shown on « Mon compte », or None when /compte sends the visitor to the login page."""
    response = fresh_get(app, client, "/compte")
    if response.status_code != 200:
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/connexion"
        return None
    found = re.search(r"<dt>Adresse électronique</dt><dd>(.*?)</dd>", response.get_data(as_text=True))
    assert found, "the account page shows no address"
    return unescape(found.group(1))


def field_errors(response, field_id: str) -> list[str]:
    """The error messages shown under one form field (the DSFR messages group tied to the input)."""
    html = response.get_data(as_text=True)
    group = re.search(rf'<div class="fr-messages-group" id="{field_id}-messages"[^>]*>(.*?)</div>', html, re.S)
    assert group, f"no messages group for the field {field_id!r}"
    return [unescape(m) for m in re.findall(r'<p class="fr-message fr-message--error">(.*?)</p>', group.group(1))]


def alerts(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split())
        for m in re.findall(r'<div class="fr-alert fr-alert--error[^"]*"[^>]*>(.*?)</div>', html, re.S)
    ]


def users_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


# --- sign-up ---------------------------------------------------------------------------------------------


def test_signup_page_is_a_french_form(client):
    response = client.get("/inscription")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Créer un compte</h1>" in html
    for label in ("Prénom et nom", "Adresse électronique", "Vous travaillez pour", "Confirmez le mot de passe"):
        assert label in html
    assert '<option value="consultancy">Bureau d&#39;études</option>' in html


def test_signup_creates_the_account_and_says_a_mail_was_sent(app, db, client):
    response = client.post("/inscription", data=SIGNUP)

    assert response.status_code == 303
    assert response.headers["Location"] == "/inscription/envoyee"
    user = db.session.scalars(sa.select(User)).one()
    assert user.email == "camille.martin@exemple.fr"
    assert user.name == "Camille Martin"
    assert user.role == Role.USER
    assert user.employer_kind == EmployerKind.CONSULTANCY
    assert user.employer_name == "Hydro-Conseil"
    assert user.active
    assert user.check_password("un-mot-de-passe-solide")
    assert user.password_hash != "un-mot-de-passe-solide"

    sent = fresh_get(app, client, "/inscription/envoyee")
    assert "Un courriel vient d'être envoyé à l'adresse indiquée." in unescape(sent.get_data(as_text=True))
    # Not signed in: an address that already has an account gets this very answer.
    assert signed_in_email(app, client) is None
    client.post("/connexion", data={"email": "camille.martin@exemple.fr", "password": "un-mot-de-passe-solide"})
    assert signed_in_email(app, client) == "camille.martin@exemple.fr"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", REQUIRED),
        ({"email": ""}, "email", REQUIRED),
        ({"employer_kind": ""}, "employer_kind", "Choisissez le type de votre organisation."),
        ({"employer_name": "  "}, "employer_name", REQUIRED),
        (
            {"email": "camille.martin"},
            "email",
            "Saisissez une adresse électronique valide, par exemple nom@exemple.fr.",
        ),
        ({"email": "camille@"}, "email", "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
        (
            {"password": "court-2026", "password_confirm": "court-2026"},
            "password",
            "Le mot de passe doit compter au moins 12 caractères.",
        ),
        (
            {"password_confirm": "un-autre-mot-de-passe"},
            "password_confirm",
            "Les deux mots de passe ne sont pas identiques.",
        ),
        ({"password_confirm": ""}, "password_confirm", REQUIRED),
    ],
)
def test_signup_error_is_shown_in_french_next_to_its_field(app, db, client, changes, field, message):
    response = client.post("/inscription", data={**SIGNUP, **changes})

    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert alerts(response) == ["Le formulaire contient 1 erreur : corrigez le champ signalé."]
    assert users_count(db) == 0
    assert signed_in_email(app, client) is None


def test_signup_with_nothing_filled_in_lists_every_missing_field(db, client):
    response = client.post("/inscription", data={})

    assert response.status_code == 200
    for field in ("name", "email", "employer_name", "password", "password_confirm"):
        assert field_errors(response, field) == [REQUIRED]
    assert field_errors(response, "employer_kind") == ["Choisissez le type de votre organisation."]
    assert alerts(response) == ["Le formulaire contient 6 erreurs : corrigez les champs signalés."]
    assert users_count(db) == 0


def test_signup_form_keeps_what_was_typed_but_never_the_password(client):
    response = client.post("/inscription", data={**SIGNUP, "password_confirm": "un-autre-mot-de-passe"})

    html = response.get_data(as_text=True)
    assert 'value="Camille Martin"' in html
    assert 'value="Hydro-Conseil"' in html
    assert "un-mot-de-passe-solide" not in html
    assert "un-autre-mot-de-passe" not in html


@pytest.mark.parametrize(
    ("existing", "typed"),
    [("camille@exemple.fr", "Camille@Exemple.fr"), ("Camille@Exemple.fr", "camille@exemple.fr")],
)
def test_signup_with_an_address_already_taken_answers_as_a_success_and_creates_nothing(
    app, db, client, existing, typed
):
    first = factories.create_user(email=existing, name="Première Personne")
    new = app.test_client()

    taken = client.post("/inscription", data={**SIGNUP, "email": typed})
    free = new.post("/inscription", data={**SIGNUP, "email": "personne.nouvelle@exemple.fr"})

    assert taken.status_code == free.status_code == 303
    assert taken.headers["Location"] == free.headers["Location"] == "/inscription/envoyee"
    assert taken.get_data() == free.get_data()
    assert sorted(taken.headers.keys()) == sorted(free.headers.keys())
    assert users_count(db) == 2
    db.session.refresh(first)
    assert first.name == "Première Personne"
    assert first.check_password(factories.PASSWORD)
    assert signed_in_email(app, client) is None


def test_signup_refuses_an_unknown_employer_kind_in_french(db, client):
    """A tampered select: the built-in WTForms message must be translated like the others."""
    response = client.post("/inscription", data={**SIGNUP, "employer_kind": "martien"})

    assert response.status_code == 200
    french = get_translations(["fr_FR", "fr"]).gettext("Not a valid choice.")
    assert field_errors(response, "employer_kind") == [french]
    assert users_count(db) == 0


def test_signed_in_person_is_sent_home_from_the_signup_page(client, login):
    login(factories.create_user())

    response = client.get("/inscription")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- log in ----------------------------------------------------------------------------------------------


def test_login_page_is_a_french_form(client):
    response = client.get("/connexion")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Se connecter</h1>" in html
    assert "Rester connecté sur cet appareil" in html
    assert 'href="/inscription"' in html


@pytest.mark.parametrize("typed", ["camille@exemple.fr", "Camille@Exemple.FR", "  camille@exemple.fr  "])
def test_login_with_good_credentials_signs_in(app, db, client, typed):
    user = factories.create_user(email="camille@exemple.fr")
    assert user.last_login_at is None

    response = client.post("/connexion", data={"email": typed, "password": factories.PASSWORD})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    db.session.refresh(user)
    assert user.last_login_at is not None
    home = fresh_get(app, client, "/")
    assert f"Vous êtes connecté·e, {user.name}." in unescape(home.get_data(as_text=True))
    assert signed_in_email(app, client) == "camille@exemple.fr"


def test_wrong_password_and_unknown_address_get_the_same_answer(app, db, client):
    factories.create_user(email="camille@exemple.fr")

    wrong_password = client.post("/connexion", data={"email": "camille@exemple.fr", "password": "pas-le-bon-mot"})
    unknown_address = client.post("/connexion", data={"email": "dominique@exemple.fr", "password": "pas-le-bon-mot"})

    assert wrong_password.status_code == unknown_address.status_code == 200
    assert alerts(wrong_password) == alerts(unknown_address) == [BAD_CREDENTIALS]
    assert signed_in_email(app, client) is None


def test_inactive_account_cannot_log_in(app, db, client):
    user = factories.create_user(email="ancien@exemple.fr", active=False)

    response = client.post("/connexion", data={"email": user.email, "password": factories.PASSWORD})

    assert response.status_code == 200
    assert alerts(response) == [BAD_CREDENTIALS]
    assert signed_in_email(app, client) is None


def test_login_with_empty_fields_shows_french_errors(client):
    response = client.post("/connexion", data={"email": "", "password": ""})

    assert response.status_code == 200
    assert field_errors(response, "email") == [REQUIRED]
    assert field_errors(response, "password") == [REQUIRED]


@pytest.mark.parametrize("target", ["/compte", "/jeux-de-donnees?q=inondation&page=2", "/organisations/ddt-loiret"])
def test_login_goes_back_to_the_local_page_it_was_asked_from(db, client, target):
    user = factories.create_user()

    response = client.post(
        "/connexion", query_string={"next": target}, data={"email": user.email, "password": factories.PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == target


def lands_on_this_site(location: str) -> bool:
    """Whether a browser following `location` from this site stays on it: browsers drop tabs and line
    breaks from a URL and read a backslash as a slash."""
    here = "https://ecologie.example/connexion"
    cleaned = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    resolved = urlsplit(urljoin(here, cleaned))
    return resolved.scheme == "https" and resolved.netloc == "ecologie.example"


@pytest.mark.parametrize(
    "target",
    [
        "https://pirate.example/compte",
        "http://pirate.example",
        "//pirate.example/compte",
        "/\\pirate.example/compte",
        "/\t/pirate.example/compte",
        "javascript:alert(1)",
        "compte",
    ],
)
def test_login_never_redirects_to_another_site(db, client, target):
    user = factories.create_user()

    response = client.post(
        "/connexion", query_string={"next": target}, data={"email": user.email, "password": factories.PASSWORD}
    )

    assert response.status_code == 303
    assert lands_on_this_site(response.headers["Location"]), response.headers["Location"]
    if "://" in target or target.startswith(("//", "javascript:")) or not target.startswith("/"):
        assert response.headers["Location"] == "/"


def test_login_form_keeps_the_next_page_in_its_action(client):
    response = client.get("/connexion", query_string={"next": "/compte"})

    action = re.search(r'<form method="post" action="([^"]*)"', response.get_data(as_text=True)).group(1)
    assert urlsplit(unescape(action)).path == "/connexion"
    assert parse_qs(urlsplit(unescape(action)).query) == {"next": ["/compte"]}


@pytest.mark.parametrize(("remember", "expected"), [("y", True), (None, False)])
def test_remember_me_sets_a_long_lived_cookie_only_when_asked(db, client, remember, expected):
    user = factories.create_user()
    data = {"email": user.email, "password": factories.PASSWORD}
    if remember:
        data["remember"] = remember

    response = client.post("/connexion", data=data)

    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") for c in cookies) is expected
    assert all("HttpOnly" in c for c in cookies)


# --- log out ---------------------------------------------------------------------------------------------


def test_logout_signs_out(app, client, login):
    user = factories.create_user(email="camille@exemple.fr")
    login(user)
    assert signed_in_email(app, client) == "camille@exemple.fr"

    response = client.post("/deconnexion")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Vous êtes déconnecté·e." in fresh_get(app, client, "/").get_data(as_text=True)
    assert signed_in_email(app, client) is None


def test_logout_by_get_is_not_allowed(app, client, login):
    login(factories.create_user(email="camille@exemple.fr"))

    response = client.get("/deconnexion")

    assert response.status_code == 405
    assert "Méthode non autorisée" in response.get_data(as_text=True)
    assert signed_in_email(app, client) == "camille@exemple.fr"


def test_account_page_shows_who_is_signed_in(app, client, login):
    login(factories.create_user(email="camille@exemple.fr", name="Camille Martin"))

    response = fresh_get(app, client, "/compte")

    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert '<h1 class="fr-mt-4w">Mon compte</h1>' in html
    assert "<dt>Nom</dt><dd>Camille Martin</dd>" in html
    assert "<dt>Rôle</dt><dd>Usager</dd>" in html
    assert "Bureau d'études Exemple (Bureau d'études)" in html
    assert "Vous n'êtes membre d'aucun service producteur." in html
