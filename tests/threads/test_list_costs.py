"""What a list costs does not grow with the threads: counts stop at `COUNT_CAP`, pages know whether another
follows without counting, and a search sorted by relevance reads one rank of matches at a time — in the
same order as sorting every match would give."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from feedback.pagination import COUNT_CAP, Page
from feedback.search import FEW_MATCHES, normalise, query_words
from feedback.threads import queries
from feedback.threads.models import THREAD_SEARCH, Thread

from .. import factories

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def add_threads(db, author, titles: list[str], texts: list[str] | None = None) -> list[int]:
    """Public questions written straight into the table (a thousand through the services would take minutes),
    the later in the list the more recently active, with the search columns the services would write."""
    texts = texts or titles
    rows = [
        {
            "kind": "question",
            "status": "new",
            "is_open": True,
            "visibility": "public",
            "author_id": author.id,
            "title": title,
            "search_title": normalise(title),
            "search_text": normalise(f"{title} {text}"),
            "created_at": START,
            "received_at": START,
            "last_activity_at": START + timedelta(minutes=index),
        }
        for index, (title, text) in enumerate(zip(titles, texts, strict=True))
    ]
    before = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Thread.id), 0)))
    db.session.execute(sa.insert(Thread), rows)
    ids = list(db.session.scalars(sa.select(Thread.id).where(Thread.id > before).order_by(Thread.id)))
    THREAD_SEARCH.index(db.session, ids)
    db.session.commit()
    return ids


@contextmanager
def counted_statements(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def heading(response) -> str:
    found = re.search(r'<h2 id="results-count"[^>]*>(.*?)</h2>', response.get_data(as_text=True), re.S)
    assert found, "no results heading"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def listed_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'href="/fils/(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def author(db):
    return factories.create_user(email="usager@exemple.fr")


def test_a_list_longer_than_the_cap_says_more_than_and_pages_on_without_a_last_page(app, db, client, author):
    add_threads(db, author, [f"Question numéro {n} sur les haies" for n in range(COUNT_CAP + 30)])
    size = app.config["FEEDBACK_PAGE_SIZE"]

    first = client.get("/fils")
    assert first.status_code == 200
    assert heading(first) == "Plus de 1 000 fils"
    page = first.get_data(as_text=True)
    assert 'rel="next"' in page and "?page=2" in page
    assert "fr-pagination__link--last\" href" not in page  # the last page is not known: no link to it
    assert len(set(listed_ids(first))) == size

    second = client.get("/fils?page=2&q=haies")
    assert heading(second) == "Plus de 1 000 fils pour « haies »"
    assert 'rel="prev"' in second.get_data(as_text=True) and 'rel="next"' in second.get_data(as_text=True)

    last_number = -(-(COUNT_CAP + 30) // size)
    last = client.get(f"/fils?page={last_number}")
    assert len(set(listed_ids(last))) == (COUNT_CAP + 30) - (last_number - 1) * size
    assert 'rel="next"' not in last.get_data(as_text=True)

    past_the_end = client.get(f"/fils?page={last_number + 7}")  # counted in full, once, to show the last page
    assert heading(past_the_end) == "1 030 fils"
    assert listed_ids(past_the_end) == listed_ids(last)


def test_a_short_list_is_counted_exactly_with_its_last_page(app, db, client, author):
    add_threads(db, author, [f"Question {n}" for n in range(45)])

    response = client.get("/fils")

    assert heading(response) == "45 fils"
    assert 'fr-pagination__link--last" href="/fils?page=3"' in response.get_data(as_text=True)


def test_a_page_knows_whether_another_follows(db, author):
    add_threads(db, author, [f"Question {n}" for n in range(7)])

    capped = queries.search_threads(queries.ThreadFilters(), None, 1, 3, count_cap=4)
    assert (capped.total, capped.exact, capped.has_next, capped.pages) == (4, False, True, 2)
    assert capped.window() == [1, 2, None]
    third = queries.search_threads(queries.ThreadFilters(), None, 3, 3, count_cap=4)
    assert (len(third.items), third.has_next, third.number) == (1, False, 3)
    exact = queries.search_threads(queries.ThreadFilters(), None, 1, 3, count_cap=None)
    assert (exact.total, exact.exact, exact.pages, exact.window()) == (7, True, 3, [1, 2, 3])


def test_relevance_ranks_give_the_order_of_sorting_every_match(db, author):
    """Titles holding both words, one of them, none (the words in the text only), mixed in time: every page,
    read rank by rank, is the page a full sort by (words in the title, latest activity, id) gives."""
    titles, texts = [], []
    for n in range(40):
        title = ["Zone inondable du Loiret", "Zone de bruit", "Carte inondable", "Haies bocagères"][n % 4] + f" {n}"
        titles.append(title)
        texts.append("Les zones inondables du secteur et la carte" if n % 4 == 3 else "")
    ids = add_threads(db, author, titles, texts)
    words = query_words("zone inondable")
    title_of = dict(zip(ids, titles, strict=True))
    expected = sorted(
        ids,
        key=lambda i: (-sum(word in normalise(title_of[i]) for word in words), -ids.index(i), -i),
    )

    read: list[int] = []
    page_number = 1
    while True:
        page: Page[Thread] = queries.search_threads(queries.ThreadFilters(q="zone inondable"), None, page_number, 7)
        read += [thread.id for thread in page.items]
        if not page.has_next:
            break
        page_number += 1

    matches = [i for i in expected if "inond" in normalise(title_of[i] + texts[ids.index(i)]) and "zon" in normalise(
        title_of[i] + texts[ids.index(i)])]  # fmt: skip
    assert read == matches
    assert len(read) == 20  # both words: 10 titles with both, 10 texts with both; the others hold one


def test_the_statements_of_a_search_do_not_grow_with_the_matches(app, db, client, author):
    add_threads(db, author, [f"Zone humide {n}" for n in range(5)])

    def statements(url: str) -> int:
        with app.app_context():
            client.get(url)  # warm-up
        with app.app_context(), counted_statements(db.engine) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    urls = ["/fils?q=zone", "/fils?q=zone+humide", "/fils?q=zone&page=2", "/fils", "/fils?page=3"]
    few = [statements(url) for url in urls]
    add_threads(db, author, [f"Zone humide {n}" if n % 2 else f"Haie {n} en zone" for n in range(COUNT_CAP + 10)])
    many = [statements(url) for url in urls]

    # A search reads its ranks best first until the page is full, one statement each at most: many matches fill
    # it sooner. Never more statements for more matches, and never more than one per rank.
    assert all(more <= fewer for more, fewer in zip(many, few, strict=True)), (many, few)
    assert many[:3] != few[:3]  # the first rank filled the page: the lower ranks were not read
    assert max(few) - min(few[3:]) <= 3  # "zone humide": three ranks (both words, one, none)


def test_a_common_word_and_a_rare_one_are_both_found_in_order(db, author):
    """More matches than FEW_MATCHES: SQLite walks the index of the list's order; a handful: it reads them by
    id. Either way the page is the latest matches, those holding the word in their title first."""
    titles = [f"Haies du bocage {n}" if n % 3 else f"Bocage numéro {n}" for n in range(FEW_MATCHES + 400)]
    texts = ["des haies" for _ in titles]
    texts[5] = texts[1700] = "une mare à tritons"
    ids = add_threads(db, author, titles, texts)

    common = queries.search_threads(queries.ThreadFilters(q="haies"), None, 1, 20)
    with_title = [i for n, i in enumerate(ids) if n % 3]
    assert [t.id for t in common.items] == list(reversed(with_title))[:20]
    assert (common.exact, common.has_next) == (False, True)

    rare = queries.search_threads(queries.ThreadFilters(q="tritons"), None, 1, 20)
    assert [t.id for t in rare.items] == [ids[1700], ids[5]]
    assert (rare.total, rare.exact, rare.has_next) == (2, True, False)
