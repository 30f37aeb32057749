"""One-click unsubscribe: the link of every notification mail works without logging in, from the page or from a
mail program (RFC 8058, without CSRF token), and a forged or altered link changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from feedback.extensions import db
from feedback.notifications.models import NotificationKind, NotificationPreference
from feedback.notifications.services import notify

from ..threads.conftest import page_text

NOW = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)


def choices_of(user) -> dict[str, str]:
    db.session.rollback()
    rows = db.session.execute(
        sa.select(NotificationPreference.topic, NotificationPreference.frequency).where(
            NotificationPreference.user_id == user.id
        )
    )
    return dict(rows.all())


@pytest.fixture
def mailed(db, runner, scene, smtp_server):
    """The author's mail about an answer, as received."""
    notify([scene.author], NotificationKind.MESSAGE, "Mathilde a répondu sur « A »", "/fils/3", at=NOW)
    db.session.commit()
    result = runner.invoke(args=["notifications", "send", "--now", NOW.isoformat()])
    assert result.exit_code == 0, result.output
    (message,) = smtp_server.messages
    return message


def link_in(message) -> str:
    """The unsubscribe link's path, as found in the text of the mail."""
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"Ne plus recevoir de courriels « Réponses sur les fils que vous suivez » : (\S+)", text)
    assert found, text
    return urlsplit(found.group(1)).path


def test_every_notification_mail_has_the_one_click_headers(app, mailed):
    base = app.config["FEEDBACK_BASE_URL"].rstrip("/")
    header = mailed["List-Unsubscribe"]
    assert re.fullmatch(rf"<{re.escape(base)}/notifications/desabonnement/[^>]+>", header)
    assert mailed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header[1:-1].endswith(link_in(mailed))
    assert f'href="{header[1:-1]}"' in mailed.get_body(("html",)).get_content()


def test_the_link_asks_to_confirm_then_stops_that_topic_without_login(web, scene, mailed):
    path = link_in(mailed)

    page = web.get(path)
    assert page.status_code == 200
    assert "Confirmez-vous que l'adresse" in page_text(page)
    assert "« Réponses sur les fils que vous suivez »" in page_text(page)
    assert choices_of(scene.author) == {}  # looking changes nothing

    done = web.post(path)
    assert done.status_code == 200
    assert "Désabonnement enregistré" in page_text(done)
    assert choices_of(scene.author) == {"message": "never"}


def test_a_mail_program_one_click_post_works_without_csrf_token(app, web, scene, mailed, monkeypatch):
    web.sign_in(scene.author)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    # CSRF is on: another form posted without its token is refused…
    assert web.post("/notifications/tout-lu").status_code == 400

    # …but the one-click post of a mail program goes through (RFC 8058).
    response = web.post(
        urlsplit(mailed["List-Unsubscribe"][1:-1]).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert choices_of(scene.author) == {"message": "never"}


def test_an_all_topics_link_stops_every_mail(app, web, scene):
    from feedback.notifications.preferences import TOPICS
    from feedback.notifications.unsubscribe import unsubscribe_path

    with app.app_context():
        path = unsubscribe_path(scene.author.id, "all")
    page = web.get(path)
    assert "aucun courriel de la plateforme" in page_text(page)
    web.post(path)
    assert choices_of(scene.author) == dict.fromkeys(TOPICS, "never")


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature altered
        lambda token: "WzEsImFsbCJd." + token.split(".", 1)[1],  # content swapped for [1, "all"]
        lambda token: "n-importe-quoi",
    ],
    ids=["signature", "content", "garbage"],
)
def test_a_forged_or_altered_link_is_refused_and_changes_nothing(web, scene, mailed, alter):
    token = link_in(mailed).rsplit("/", 1)[1]
    path = f"/notifications/desabonnement/{alter(token)}"

    for response in (web.get(path), web.post(path)):
        assert response.status_code == 400
        assert "Lien de désabonnement invalide" in page_text(response)
        assert "Aucune préférence n'a été changée" in page_text(response)
    assert choices_of(scene.author) == {}


def _signed_elsewhere(app, salt: str | None, content) -> str:
    """`content` signed with the application's own secret key for another purpose (`salt`; None: the default
    salt of the signing library)."""
    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    if salt is None:
        return URLSafeSerializer(app.config["SECRET_KEY"]).dumps(content)
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt).dumps(content)


@pytest.mark.parametrize(
    "purpose",
    ["confirmation", "password reset", "default salt", "session cookie", "another feature's salt"],
)
def test_a_token_signed_for_another_purpose_never_unsubscribes(app, web, scene, purpose):
    """Its own salt is what keeps every other token of the platform (same secret key) from being an
    unsubscribe link: the same content [person, "all"] signed for any other purpose is refused."""
    from feedback.accounts import tokens

    user = scene.author
    content = [user.id, "all"]
    token = {
        "confirmation": lambda: tokens.confirmation_token(user),
        "password reset": lambda: tokens.password_reset_token(user),
        "default salt": lambda: _signed_elsewhere(app, None, content),
        "session cookie": lambda: _signed_elsewhere(app, "cookie-session", content),
        "another feature's salt": lambda: _signed_elsewhere(app, "feedback.mail.reply", content),
    }[purpose]()
    path = f"/notifications/desabonnement/{token}"

    for response in (web.get(path), web.post(path)):
        assert response.status_code == 400
        assert "Lien de désabonnement invalide" in page_text(response)
    assert choices_of(user) == {}
