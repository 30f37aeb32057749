"""/threads filtered by received date (`du`, `au`: days of Paris) and by a list of thread ids (`fils`).

Paris is UTC+2 in summer (from 30 March 2025) and UTC+1 in winter: 31 March 2025 at 22:30 UTC is already
1 April in Paris, 30 April at 22:00 UTC is 1 May at midnight there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedback.threads.models import ThreadKind

from .conftest import data_request, html, listed_ids, post_thread, question


def at(month, day, hour, minute=0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def test_the_period_counts_days_of_paris(scene, web):
    march_31_late = question(scene, title="Le 31 mars à 23 h 59 à Paris", created_at=at(3, 31, 21, 59))
    april_1_early = question(scene, title="Le 1er avril à 0 h 30 à Paris", created_at=at(3, 31, 22, 30))
    april_30_late = question(scene, title="Le 30 avril à 23 h 30 à Paris", created_at=at(4, 30, 21, 30))
    may_1_midnight = question(scene, title="Le 1er mai à minuit à Paris", created_at=at(4, 30, 22, 0))

    april = listed_ids(web.get("/fils?du=2025-04-01&au=2025-04-30&tri=recent"))
    assert april == [april_30_late.id, april_1_early.id]
    assert listed_ids(web.get("/fils?du=2025-05-01&tri=recent")) == [may_1_midnight.id]
    assert listed_ids(web.get("/fils?au=2025-03-31&tri=recent")) == [march_31_late.id]
    # One day: from its first instant to the next day's.
    assert listed_ids(web.get("/fils?du=2025-04-30&au=2025-04-30")) == [april_30_late.id]


def test_a_malformed_date_is_no_filter(scene, web):
    first = question(scene, title="Premier", created_at=at(2, 10, 9))
    second = question(scene, title="Second", created_at=at(5, 10, 9))
    for query in ("du=2025-02-30", "du=10/05/2025", "au=demain", "du=2025-5-1"):
        assert listed_ids(web.get(f"/fils?{query}&tri=recent")) == [second.id, first.id], query


def test_the_period_combines_with_the_other_filters(scene, web):
    question(scene, title="Une question d'avril", created_at=at(4, 10, 9))
    request = data_request(scene, title="Une demande d'avril", created_at=at(4, 11, 9))
    data_request(scene, title="Une demande de juin", created_at=at(6, 11, 9))
    response = web.get("/fils?du=2025-04-01&au=2025-04-30&type=data_request")
    assert listed_ids(response) == [request.id]


def test_fils_lists_exactly_the_threads_named(scene, web):
    named = [question(scene, title=f"Question {n}", created_at=at(4, n, 9)) for n in range(1, 4)]
    question(scene, title="Question hors liste", created_at=at(4, 5, 9))
    ids = f"{named[2].id},{named[0].id}"
    assert listed_ids(web.get(f"/fils?fils={ids}&tri=recent")) == [named[2].id, named[0].id]
    # With other filters, the list is what both say.
    assert listed_ids(web.get(f"/fils?fils={ids}&du=2025-04-02")) == [named[2].id]
    # Blanks, words and repeats are left out.
    mixed = f"/fils?fils=,abc,{named[1].id}, {named[1].id} ,-3,1e3,%C2%B2&tri=recent"
    assert listed_ids(web.get(mixed)) == [named[1].id]


def test_fils_takes_the_first_200_ids(scene, web):
    thread = question(scene, title="La question cherchée", created_at=at(4, 1, 9))
    absent = [str(thread.id + 1000 + n) for n in range(199)]
    assert listed_ids(web.get(f"/fils?fils={','.join([*absent, str(thread.id)])}")) == [thread.id]
    too_far = [*absent, str(thread.id + 5000), str(thread.id)]
    assert listed_ids(web.get(f"/fils?fils={','.join(too_far)}")) == []


def test_fils_does_not_show_a_restricted_thread_to_whoever_may_not_see_it(scene, web):
    public = data_request(scene, title="Demande publique", created_at=at(4, 1, 9))
    restricted = data_request(scene, title="Demande restreinte", restricted=True, created_at=at(4, 2, 9))
    url = f"/fils?fils={public.id},{restricted.id}&tri=recent"
    assert listed_ids(web.get(url)) == [public.id]
    web.sign_in(scene.other_user)
    assert listed_ids(web.get(url)) == [public.id]
    web.sign_in(scene.member)
    assert listed_ids(web.get(url)) == [restricted.id, public.id]
    web.sign_in(scene.curator)
    assert listed_ids(web.get(url)) == [restricted.id, public.id]


def test_the_page_shows_the_period_and_the_selection(scene, web):
    thread = post_thread(scene.author, ThreadKind.QUESTION, dataset=scene.dataset, created_at=at(4, 1, 9))
    page = html(web.get(f"/fils?du=2025-04-01&au=2025-04-30&fils={thread.id}"))
    assert '<input class="fr-input" type="date" id="du" name="du" value="2025-04-01">' in page
    assert '<input class="fr-input" type="date" id="au" name="au" value="2025-04-30">' in page
    assert f'<input type="hidden" name="fils" value="{thread.id}">' in page
    assert "Liste restreinte à une sélection de 1 fil" in page
    assert 'href="/fils?du=2025-04-01&amp;au=2025-04-30">Retirer cette sélection</a>' in page


def test_the_htmx_request_returns_the_filtered_results_only(scene, web):
    april = question(scene, title="Question d'avril", created_at=at(4, 10, 9))
    question(scene, title="Question de mai", created_at=at(5, 10, 9))
    response = web.htmx_get("/fils?du=2025-04-01&au=2025-04-30")
    assert "<html" not in html(response)
    assert html(response).lstrip().startswith('<section id="results"')
    assert listed_ids(response) == [april.id]
