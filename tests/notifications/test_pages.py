"""The notifications in the application: the bell in the header, `/notifications` (paged, newest first, the
unread ones marked, each leading to its thread), marking one or all as read, only one's own; and the number of
SQL queries of a page does not grow with the number of notifications."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from feedback.database import utcnow
from feedback.extensions import db
from feedback.notifications.models import Notification, NotificationKind
from feedback.notifications.services import NotYours, mark_read, notify
from feedback.threads import services
from feedback.threads.models import Message

from ..threads.conftest import html, page_text, question

START = utcnow() - timedelta(days=1)


def bell(response) -> tuple[str, str | None] | None:
    """The header's bell: its accessible name (its label, or else its text) and the number it shows (None: no
    number), or None: no bell."""
    found = re.search(r'<a id="notifications-bell"([^>]*)>(.*?)</a>', html(response), re.S)
    if not found:
        return None
    attributes, inner = found.groups()
    shown = re.search(r'<span class="notification-bell__count">([^<]*)</span>', inner)
    label = re.search(r'aria-label="([^"]*)"', attributes)
    name = unescape(label.group(1)) if label else " ".join(unescape(re.sub(r"<[^>]+>", "", inner)).split())
    return name, shown.group(1) if shown else None


def listed(response) -> list[tuple[bool, str, str]]:
    """The notifications listed: (unread, text, where it leads: the form's action or the link's address)."""
    result = []
    for classes, inner in re.findall(r'<li class="(notification-list__item[^"]*)">(.*?)</li>', html(response), re.S):
        unread = "notification-list__item--unread" in classes
        text = re.search(r'class="fr-link notification-list__text"[^>]*>(.*?)</(?:a|button)>', inner, re.S).group(1)
        if unread:
            target = re.search(r'<form method="post" action="([^"]+)">', inner).group(1)
        else:
            target = re.search(r'<a class="fr-link notification-list__text" href="([^"]+)">', inner).group(1)
        result.append((unread, " ".join(unescape(text).split()), target))
    return result


def tell(user, text: str, link: str = "/fils/1", *, minutes: int = 0, read: bool = False) -> Notification:
    """A notification for `user`, `minutes` after START, committed."""
    (notification,) = notify([user], NotificationKind.MESSAGE, text, link, at=START + timedelta(minutes=minutes))
    if read:
        notification.read_at = START + timedelta(minutes=minutes + 1)
    db.session.commit()
    return notification


def unread_of(user) -> int:
    db.session.rollback()  # what the requests committed
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    )


# The bell ---------------------------------------------------------------------------------------------------


def test_the_bell_counts_the_unread_notifications_of_the_signed_in_person(web, scene):
    assert bell(web.get("/")) is None  # anonymous: no bell

    web.sign_in(scene.author)
    assert bell(web.get("/")) == ("Notifications", None)

    thread = question(scene)
    services.post_message(thread, scene.member, "Notre réponse.")
    db.session.commit()
    assert bell(web.get("/")) == ("Notifications, 1 non lue", "1")

    tell(scene.author, "Deuxième", minutes=1)
    tell(scene.author, "Troisième", minutes=2)
    tell(scene.author, "Déjà lue", minutes=3, read=True)
    tell(scene.other_user, "Pour quelqu'un d'autre", minutes=4)
    for page in ("/", "/fils", f"/fils/{thread.id}", "/jeux-de-donnees", "/notifications"):
        assert bell(web.get(page)) == ("Notifications, 3 non lues", "3"), page


def test_the_bell_leads_to_the_list(web, scene):
    web.sign_in(scene.author)

    home = web.get("/")
    listing = web.get("/notifications")

    assert re.search(r'<a id="notifications-bell"[^>]*href="/notifications"', html(home))
    assert 'aria-current="page"' not in re.search(r'<a id="notifications-bell"[^>]*>', html(home)).group(0)
    assert 'aria-current="page"' in re.search(r'<a id="notifications-bell"[^>]*>', html(listing)).group(0)


# The list -------------------------------------------------------------------------------------------------------


def test_the_list_shows_ones_own_notifications_newest_first_the_unread_ones_marked(web, scene):
    first = tell(scene.author, "Première", "/fils/3", minutes=0)
    tell(scene.author, "Deuxième, déjà lue", "/fils/4#message-9", minutes=1, read=True)
    third = tell(scene.author, "Troisième", "/fils/5#message-12", minutes=2)
    tell(scene.other_user, "Pour quelqu'un d'autre", minutes=3)
    web.sign_in(scene.author)

    response = web.get("/notifications")

    assert response.status_code == 200
    assert "3 notifications, dont 2 non lues" in page_text(response)
    assert listed(response) == [
        (True, "Troisième", f"/notifications/{third.id}/lue"),
        (False, "Deuxième, déjà lue", "/fils/4#message-9"),
        (True, "Première", f"/notifications/{first.id}/lue"),
    ]
    assert page_text(response).count("Non lue") == 2
    assert "Tout marquer comme lu" in page_text(response)
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_of_someone_never_told_anything_says_what_will_come(web, scene):
    tell(scene.other_user, "Pour quelqu'un d'autre")
    web.sign_in(scene.author)

    response = web.get("/notifications")

    assert listed(response) == []
    text = page_text(response)
    assert "Aucune notification" in text
    assert "Vous serez prévenu·e ici des réponses" in text
    assert "Tout marquer comme lu" not in text


def test_the_list_pages_through_the_notifications(web, app, scene, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_PAGE_SIZE", 2)
    for minute in range(5):
        tell(scene.author, f"Notification n° {minute}", minutes=minute)
    web.sign_in(scene.author)

    first = web.get("/notifications")
    last = web.get("/notifications?page=3")

    assert [text for _, text, _ in listed(first)] == ["Notification n° 4", "Notification n° 3"]
    assert [text for _, text, _ in listed(last)] == ["Notification n° 0"]
    assert "5 notifications, dont 5 non lues" in page_text(first)
    assert 'aria-label="Pages des notifications"' in html(first)
    assert 'href="/notifications?page=2" rel="next"' in html(first)


def test_a_thread_event_is_listed_with_its_text_and_leads_to_the_message(web, scene):
    thread = question(scene, title="Source des données")
    web.sign_in(scene.member)
    assert web.post(f"/fils/{thread.id}/messages", data={"body": "Notre réponse."}).status_code == 303
    db.session.rollback()
    answer = db.session.scalars(
        sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.id.desc())
    ).first()
    notification = db.session.scalars(sa.select(Notification).where(Notification.recipient_id == scene.author.id)).one()
    web.sign_in(scene.author)

    listing = web.get("/notifications")
    followed = web.post(f"/notifications/{notification.id}/lue")

    assert listed(listing) == [
        (
            True,
            "Mathilde Membre, pour DDT du Loiret, a répondu sur « Source des données »",
            f"/notifications/{notification.id}/lue",
        )
    ]
    assert followed.status_code == 303
    assert followed.headers["Location"] == f"/fils/{thread.id}#message-{answer.id}"
    page = web.get(f"/fils/{thread.id}")
    assert f'id="message-{answer.id}"' in html(page)
    assert bell(page) == ("Notifications", None)


# Marking read -------------------------------------------------------------------------------------------------------


def test_marking_one_read_follows_its_link_and_counts_it_read(web, scene):
    notification = tell(scene.author, "Réponse", "/fils/7#message-21")
    other = tell(scene.author, "Autre", "/fils/8", minutes=1)
    web.sign_in(scene.author)

    response = web.post(f"/notifications/{notification.id}/lue")

    assert response.status_code == 303
    assert response.headers["Location"] == "/fils/7#message-21"
    db.session.rollback()
    assert db.session.get(Notification, notification.id).read_at is not None
    assert db.session.get(Notification, other.id).read_at is None
    assert bell(web.get("/notifications")) == ("Notifications, 1 non lue", "1")
    # Once read, it is a plain link.
    assert listed(web.get("/notifications"))[1] == (False, "Réponse", "/fils/7#message-21")


def test_marking_one_read_again_keeps_when_it_was_first_read(web, scene):
    notification = tell(scene.author, "Réponse")
    web.sign_in(scene.author)
    web.post(f"/notifications/{notification.id}/lue")
    db.session.rollback()
    first_read = db.session.get(Notification, notification.id).read_at

    again = web.post(f"/notifications/{notification.id}/lue")

    assert again.status_code == 303
    db.session.rollback()
    assert db.session.get(Notification, notification.id).read_at == first_read


def test_marking_one_read_with_htmx_asks_htmx_to_go_there(web, scene):
    notification = tell(scene.author, "Réponse", "/fils/7#message-21")
    web.sign_in(scene.author)

    response = web.htmx_post(f"/notifications/{notification.id}/lue")

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/fils/7#message-21"
    assert unread_of(scene.author) == 0


def test_marking_all_read_marks_ones_own_only(web, scene):
    for minute in range(3):
        tell(scene.author, f"N° {minute}", minutes=minute)
    tell(scene.other_user, "Pour quelqu'un d'autre")
    web.sign_in(scene.author)

    response = web.post("/notifications/tout-lu")

    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications"
    assert unread_of(scene.author) == 0
    assert unread_of(scene.other_user) == 1
    after = web.get("/notifications")
    assert "Toutes vos notifications sont marquées comme lues." in page_text(after)
    assert [unread for unread, _, _ in listed(after)] == [False, False, False]
    assert bell(after) == ("Notifications", None)
    assert "Tout marquer comme lu" not in page_text(after)


def test_marking_all_read_with_htmx_updates_the_list_and_the_bell_in_place(web, scene):
    for minute in range(2):
        tell(scene.author, f"N° {minute}", minutes=minute)
    web.sign_in(scene.author)

    response = web.htmx_post("/notifications/tout-lu")

    assert response.status_code == 200
    body = html(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="notifications"')
    assert "Toutes vos notifications sont marquées comme lues." in page_text(response)
    assert [unread for unread, _, _ in listed(response)] == [False, False]
    # The bell of the header and its copy in the mobile menu, replaced out of band, with nothing left to read.
    bells = re.findall(r'<a id="(notifications-bell[^"]*)"[^>]*hx-swap-oob="true"[^>]*>(.*?)</a>', body, re.S)
    assert [(bell_id, page_text(inner)) for bell_id, inner in bells] == [
        ("notifications-bell", "Notifications"),
        ("notifications-bell-mobile", "Notifications"),
    ]
    assert "HX-Request" in response.headers["Vary"]
    assert unread_of(scene.author) == 0


# Only one's own; signed in ------------------------------------------------------------------------------------------


def test_someone_elses_notification_does_not_exist_for_you(web, scene):
    theirs = tell(scene.other_user, "Pour quelqu'un d'autre", "/fils/9")
    web.sign_in(scene.author)

    response = web.post(f"/notifications/{theirs.id}/lue")
    missing = web.post(f"/notifications/{theirs.id + 1000}/lue")

    assert response.status_code == 404
    assert missing.status_code == 404
    assert unread_of(scene.other_user) == 1
    # The service says no too, whoever calls it.
    with pytest.raises(NotYours):
        mark_read(db.session.get(Notification, theirs.id), scene.author)
    assert unread_of(scene.other_user) == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/notifications"), ("post", "/notifications/1/lue"), ("post", "/notifications/tout-lu")],
)
def test_the_notifications_need_to_be_signed_in(web, scene, method, url):
    notification = tell(scene.author, "Réponse")

    response = getattr(web, method)(url.replace("/1/", f"/{notification.id}/"))

    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/connexion")
    assert unread_of(scene.author) == 1


# SQL queries do not grow with the notifications ---------------------------------------------------------------------


def test_a_thread_page_runs_as_many_queries_whatever_the_number_of_notifications(web, scene):
    thread = question(scene)
    services.post_message(thread, scene.member, "Notre réponse.")
    db.session.commit()
    web.sign_in(scene.author)
    small, response = web.count_queries(f"/fils/{thread.id}")
    assert bell(response) == ("Notifications, 1 non lue", "1")

    for number in range(60):
        tell(scene.author, f"N° {number}", minutes=number, read=number % 3 == 0)
        tell(scene.other_user, f"N° {number}", minutes=number)
    large, response = web.count_queries(f"/fils/{thread.id}")

    assert bell(response) == ("Notifications, 41 non lues", "41")
    assert large <= small


def test_the_list_runs_as_many_queries_whatever_the_number_of_notifications(web, scene):
    for number in range(3):
        tell(scene.author, f"N° {number}", minutes=number)
    web.sign_in(scene.author)
    small, response = web.count_queries("/notifications")
    assert len(listed(response)) == 3

    for number in range(3, 60):
        tell(scene.author, f"N° {number}", minutes=number, read=number % 2 == 0)
    large, response = web.count_queries("/notifications?page=2")

    assert len(listed(response)) == 20
    assert large <= small
