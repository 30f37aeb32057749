"""Server-side sessions: a session ends on the server, so that a copied cookie stops working with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from feedback.accounts import services
from feedback.accounts.models import UserSession

from .. import factories
from .test_auth import fresh_get, signed_in_email


def log_in(client, user, *, remember: bool = False, user_agent: str = "Navigateur de test"):
    data = {"email": user.email, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/connexion", data=data, headers={"User-Agent": user_agent})
    assert response.status_code == 303
    return response


def copy_cookies(app, source, names: tuple[str, ...] = ("session", "remember_token")):
    """A new browser holding copies of some cookies of `source`, as someone who stole them would."""
    thief = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def sessions_of(db, user) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)))


def test_log_in_opens_one_server_session(app, db, client):
    user = factories.create_user()

    log_in(client, user, user_agent="Firefox 140 sur Linux")

    [browser_session] = sessions_of(db, user)
    assert browser_session.ended_at is None
    assert browser_session.user_agent == "Firefox 140 sur Linux"
    assert not browser_session.remembered


def test_control_characters_of_the_browser_name_are_not_stored(app, db, client):
    user = factories.create_user()

    log_in(client, user, user_agent="Navigateur\x00\x1b étrange" + "x" * 400)

    [browser_session] = sessions_of(db, user)
    assert browser_session.user_agent.startswith("Navigateur étrange")
    assert len(browser_session.user_agent) == 255


def test_a_copied_session_cookie_stops_working_after_logging_out(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user)
    copy = copy_cookies(app, client, ("session",))
    assert signed_in_email(app, copy) == "camille@exemple.fr"  # the copy works while the session lasts

    client.post("/deconnexion")

    assert signed_in_email(app, client) is None
    assert signed_in_email(app, copy) is None
    [browser_session] = sessions_of(db, user)
    assert browser_session.ended_at is not None


def test_a_copied_remember_me_cookie_stops_working_after_logging_out(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user, remember=True)
    assert client.get_cookie("remember_token") is not None
    copy = copy_cookies(app, client, ("remember_token",))
    assert signed_in_email(app, copy) == "camille@exemple.fr"  # the remember-me cookie alone signs in
    still_remembered = copy_cookies(app, client, ("remember_token",))

    client.post("/deconnexion")

    assert signed_in_email(app, still_remembered) is None
    assert signed_in_email(app, copy) is None


def test_logging_out_ends_only_that_browser(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    other = app.test_client()
    log_in(client, user)
    log_in(other, user)

    client.post("/deconnexion")

    assert signed_in_email(app, client) is None
    assert signed_in_email(app, other) == "camille@exemple.fr"


def test_log_out_everywhere_ends_every_session_of_the_account(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    someone_else = factories.create_user(email="dominique@exemple.fr")
    phone, laptop, colleague = app.test_client(), app.test_client(), app.test_client()
    log_in(client, user)
    log_in(phone, user, remember=True)
    log_in(laptop, user)
    log_in(colleague, someone_else)
    copied_phone = copy_cookies(app, phone, ("remember_token",))

    page = fresh_get(app, client, "/compte")
    assert "Se déconnecter partout" in page.get_data(as_text=True)
    response = client.post("/compte/deconnexion-partout")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Vous êtes déconnecté·e de tous vos navigateurs" in fresh_get(app, client, "/").get_data(as_text=True)
    for browser in (client, phone, laptop, copied_phone):
        assert signed_in_email(app, browser) is None
    assert all(s.ended_at is not None for s in sessions_of(db, user))
    assert signed_in_email(app, colleague) == "dominique@exemple.fr"


def test_log_out_everywhere_needs_a_post(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user)

    assert client.get("/compte/deconnexion-partout").status_code == 405
    assert signed_in_email(app, client) == "camille@exemple.fr"


def test_a_suspended_account_is_signed_out_of_its_sessions(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user, remember=True)
    copy = copy_cookies(app, client, ("remember_token",))

    user.active = False
    db.session.commit()

    assert signed_in_email(app, client) is None
    assert signed_in_email(app, copy) is None


def test_end_all_sessions_ends_them_for_good_even_once_the_account_is_active_again(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user)

    user.active = False
    assert services.end_all_sessions(user) == 1
    db.session.commit()
    user.active = True
    db.session.commit()

    assert signed_in_email(app, client) is None
    assert all(s.ended_at is not None for s in sessions_of(db, user))


def test_the_account_page_lists_the_browsers_and_ends_another_one(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    other = app.test_client()
    log_in(client, user, user_agent="Firefox sur le poste du bureau")
    log_in(other, user, user_agent="Safari sur le téléphone")

    html = fresh_get(app, client, "/compte").get_data(as_text=True)
    assert "Firefox sur le poste du bureau <strong>(ce navigateur)</strong>" in html
    assert "Safari sur le téléphone" in html
    phone = next(s for s in sessions_of(db, user) if s.user_agent.startswith("Safari"))

    response = client.post(f"/compte/sessions/{phone.id}/fin")

    assert response.status_code == 303
    assert signed_in_email(app, other) is None
    assert signed_in_email(app, client) == "camille@exemple.fr"


def test_nobody_ends_the_session_of_someone_else(app, db, client):
    user = factories.create_user(email="camille@exemple.fr")
    victim = factories.create_user(email="dominique@exemple.fr")
    other = app.test_client()
    log_in(client, user)
    log_in(other, victim)
    [victim_session] = sessions_of(db, victim)

    client.post(f"/compte/sessions/{victim_session.id}/fin")
    client.post("/compte/sessions/99999999999999999999/fin")

    assert signed_in_email(app, other) == "dominique@exemple.fr"


def test_a_cookie_of_the_former_kind_signs_nobody_in(app, db):
    """A session written before server-side sessions (`<id>:<password fingerprint>`) is refused."""
    user = factories.create_user(email="camille@exemple.fr")
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.password_fingerprint}"
        session["_fresh"] = True

    assert signed_in_email(app, old) is None


def test_the_command_line_signs_an_account_out_everywhere(app, db, client, runner):
    user = factories.create_user(email="camille@exemple.fr")
    other = app.test_client()
    log_in(client, user)
    log_in(other, user, remember=True)

    result = runner.invoke(args=["users", "end-sessions", "Camille@exemple.fr"])

    assert result.exit_code == 0, result.output
    assert "camille@exemple.fr : 2 sessions terminées." in result.output
    assert signed_in_email(app, client) is None
    assert signed_in_email(app, other) is None


def test_the_command_line_says_when_there_is_no_such_account(db, runner):
    result = runner.invoke(args=["users", "end-sessions", "personne@exemple.fr"])

    assert result.exit_code != 0
    assert "Aucun compte avec l'adresse personne@exemple.fr" in result.output


def test_the_last_use_of_a_session_is_written_every_few_minutes(app, db, client, moment):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    moment(start)
    user = factories.create_user(email="camille@exemple.fr")
    log_in(client, user)

    moment(start + timedelta(minutes=5))
    fresh_get(app, client, "/")
    assert sessions_of(db, user)[0].last_seen_at == start

    moment(start + timedelta(minutes=11))
    fresh_get(app, client, "/")
    assert sessions_of(db, user)[0].last_seen_at == start + timedelta(minutes=11)
