"""Pages kept for anonymous visitors (feedback/page_cache.py), counts kept past their cap and the values each
worker keeps (feedback/kept_values.py): what is kept is only ever what any visitor not signed in would see, and
never for longer than its time."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from feedback.kept_values import kept
from feedback.pagination import capped_count
from feedback.threads.models import Thread, ThreadStatus

from .. import factories
from ..conftest import build_app
from ..threads.conftest import post_thread


@pytest.fixture
def caching_app(app, tmp_path_factory):
    # CSRF on, as in production: a page that puts a token in a form gives its visitor a session cookie.
    return build_app(app, tmp_path_factory, FEEDBACK_PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True)


def _thread(title: str = "Zones inondables du Loiret", author=None) -> Thread:
    producer = factories.create_organisation()
    return post_thread(author or factories.create_user(), title=title, organisation=producer)


def _rename(thread_id: int, title: str, db) -> None:
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(title=title))
    db.session.commit()


def test_a_page_read_twice_by_anonymous_visitors_is_drawn_once(caching_app, db):
    thread = _thread()
    visitor = caching_app.test_client(use_cookies=False)

    first = visitor.get("/fils")
    assert first.status_code == 200 and "Age" not in first.headers
    assert first.headers.getlist("Set-Cookie") == []  # reading a page gives no session
    _rename(thread.id, "Bruit routier aisnois", db)

    again = visitor.get("/fils")
    assert again.headers["Age"] == "0"
    assert again.get_data() == first.get_data()
    assert "Zones inondables du Loiret" in again.get_data(as_text=True)
    # The headers every page gets are there on a kept page too, once each.
    assert again.headers.getlist("Content-Security-Policy") == first.headers.getlist("Content-Security-Policy")
    assert again.headers.getlist("X-Frame-Options") == ["DENY"]

    # Another address, another query string, another host: drawn anew.
    assert "Bruit routier aisnois" in visitor.get("/fils?page=1").get_data(as_text=True)
    assert "Bruit routier aisnois" in visitor.get("/fils", base_url="http://autre.exemple").get_data(as_text=True)


def test_a_signed_in_person_or_a_visitor_with_a_cookie_always_gets_a_fresh_page(caching_app, db):
    author = factories.create_user()
    thread = _thread(author=author)
    visitor = caching_app.test_client(use_cookies=False)
    visitor.get("/fils")
    _rename(thread.id, "Bruit routier aisnois", db)

    with_cookie = visitor.get("/fils", headers={"Cookie": "session=quelconque"})
    assert "Age" not in with_cookie.headers
    assert "Bruit routier aisnois" in with_cookie.get_data(as_text=True)
    htmx = visitor.get("/fils", headers={"HX-Request": "true"})
    assert "Age" not in htmx.headers and "Bruit routier aisnois" in htmx.get_data(as_text=True)
    with_token = visitor.get("/fils", headers={"Authorization": "Bearer jeton"})
    assert "Age" not in with_token.headers

    person = caching_app.test_client()
    page = person.get("/connexion").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = person.post("/connexion", data={"email": author.email, "password": factories.PASSWORD,
                                                "csrf_token": token})  # fmt: skip
    assert signed_in.status_code == 303
    mine = person.get("/fils")
    assert "Age" not in mine.headers and "Bruit routier aisnois" in mine.get_data(as_text=True)
    # What the signed-in person was shown is never served to anonymous visitors.
    _rename(thread.id, "Haies bocagères du Cher", db)
    assert "Bruit routier aisnois" not in visitor.get("/fils").get_data(as_text=True)


def test_pages_that_set_a_cookie_errors_and_redirects_are_never_kept(caching_app, db):
    visitor = caching_app.test_client(use_cookies=False)
    for _ in range(2):
        login_page = visitor.get("/connexion")  # its form carries a CSRF token, hence a session cookie
        assert login_page.headers.getlist("Set-Cookie") and "Age" not in login_page.headers
        missing = visitor.get("/fils/999999")
        assert missing.status_code == 404 and "Age" not in missing.headers
        redirected = visitor.get("/boite-de-reception")
        assert redirected.status_code == 302 and "Age" not in redirected.headers


def test_reading_a_thread_a_dataset_or_a_service_gives_an_anonymous_visitor_no_cookie(caching_app, db):
    producer = factories.create_organisation()
    dataset = factories.create_dataset(organisation=producer)
    thread = post_thread(factories.create_user(), dataset=dataset)
    visitor = caching_app.test_client(use_cookies=False)
    pages = ("/", "/fils", f"/fils/{thread.id}", "/jeux-de-donnees", f"/jeux-de-donnees/{dataset.catalogue_id}",
             f"/organisations/{producer.slug}")  # fmt: skip
    for path in pages:
        answer = visitor.get(path)
        assert answer.status_code == 200, path
        assert answer.headers.getlist("Set-Cookie") == [], path
        assert visitor.get(path).headers["Age"] == "0", path


def test_a_kept_page_is_drawn_again_once_older_than_its_time(app, db, tmp_path_factory):
    short = build_app(app, tmp_path_factory, FEEDBACK_PAGE_CACHE_SECONDS=1)
    thread = _thread()
    visitor = short.test_client(use_cookies=False)
    visitor.get("/fils")
    _rename(thread.id, "Bruit routier aisnois", db)
    time.sleep(1.05)
    assert "Bruit routier aisnois" in visitor.get("/fils").get_data(as_text=True)


def test_a_count_past_the_cap_is_kept_a_count_under_it_never(app, db, tmp_path_factory):
    keeping = build_app(app, tmp_path_factory, FEEDBACK_LONG_COUNT_SECONDS=60)
    author = factories.create_user()
    threads = [_thread(f"Fil {n}", author) for n in range(3)]
    open_threads = sa.select(Thread).where(Thread.is_open.is_(True))
    with keeping.app_context():
        assert capped_count(open_threads, cap=2) == 3  # past the cap: kept
        assert capped_count(open_threads, cap=5) == 3  # under this cap: counted, not kept
        assert capped_count(open_threads.where(Thread.title != "Fil 9"), cap=2) == 3
    for thread in threads[:2]:
        db.session.execute(sa.update(Thread).where(Thread.id == thread.id).values(status=ThreadStatus.RESOLVED,
                                                                                  is_open=False))  # fmt: skip
    db.session.commit()
    with keeping.app_context():
        assert capped_count(open_threads, cap=2) == 3  # "more than 2" for a minute
        assert capped_count(open_threads, cap=5) == 1  # exact, at once
        assert capped_count(open_threads, cap=None) == 1
        # The same statement with other parameters is another key.
        assert capped_count(open_threads.where(Thread.title != "Fil 2"), cap=2) == 0


def test_values_are_kept_per_application_and_for_their_time(app, tmp_path_factory):
    one = build_app(app, tmp_path_factory)
    other = build_app(app, tmp_path_factory)
    calls: list[str] = []

    def count(name: str):
        calls.append(name)
        return len(calls)

    with one.app_context():
        assert kept("figure", 60, lambda: count("one")) == 1
        assert kept("figure", 60, lambda: count("one")) == 1
        assert kept("figure", 0, lambda: count("one")) == 2  # 0: nothing kept
    with other.app_context():
        assert kept("figure", 60, lambda: count("other")) == 3
    with one.app_context():
        assert kept("figure", 1e-9, lambda: count("one")) == 4  # older than its time
    assert calls == ["one", "one", "other", "one"]
