"""Benchmark of the JSON API's lists (feedback/api) on an existing benchmark database (100,000 threads), which it
only reads.

    .venv/bin/python bench/api.py [--database-url URL] [--requests N]

Each list call goes through the WSGI app (Flask's test client, no HTTP server), as an anonymous visitor, as a
member of the busiest producer and as a curator (the person is set as Flask-Login's user for the request, as a
token would: no session nor token row is written): the plain list, filtered lists, searches, a deep page and a
dataset's threads. For each URL: `--requests` timed requests after 3 warm-ups, the median and the 95th percentile
(nearest rank), and the SQL statements of one request. Target: median < 50 ms for a list call.

The database is opened read only (PostgreSQL's `default_transaction_read_only`): nothing is ever written to it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from read_only import read_only_app  # bench/read_only.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
WARM_UPS = 3
TARGET_MS = 50


def make_app(database_url: str):
    return read_only_app(database_url, "api")


def _people(app) -> dict[str, int | None]:
    """The callers measured: nobody, a member of the producer with the most threads, a curator."""
    import sqlalchemy as sa

    from feedback.accounts.models import Membership, User
    from feedback.extensions import db
    from feedback.threads.models import Thread

    with app.app_context():
        busiest = db.session.scalar(
            sa.select(Thread.organisation_id)
            .where(Thread.organisation_id.is_not(None))
            .group_by(Thread.organisation_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
        member = db.session.scalar(
            sa.select(Membership.user_id).where(Membership.organisation_id == busiest).order_by(Membership.id).limit(1)
        )
        curator = db.session.scalar(sa.select(User.id).where(User.is_curator).order_by(User.id).limit(1))
    return {"anonymous": None, "member": member, "curator": curator}


def _samples(app) -> dict[str, str]:
    """A producer's slug and the dataset with the most threads, for the filtered URLs."""
    import sqlalchemy as sa

    from feedback.accounts.models import Organisation
    from feedback.catalogue.models import Dataset
    from feedback.extensions import db
    from feedback.threads.models import Thread

    with app.app_context():
        organisation_id, dataset_id = db.session.execute(
            sa.select(Thread.organisation_id, Thread.dataset_id)
            .where(Thread.dataset_id.is_not(None))
            .group_by(Thread.organisation_id, Thread.dataset_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
        return {
            "producer": db.session.get(Organisation, organisation_id).slug,
            "dataset": db.session.get(Dataset, dataset_id).catalogue_id,
        }


def _urls(samples: dict[str, str]) -> list[tuple[str, str]]:
    producer, dataset = samples["producer"], samples["dataset"]
    return [
        ("plain list", "/api/v1/threads"),
        ("100 per page", "/api/v1/threads?page_size=100"),
        ("open data requests", "/api/v1/threads?kind=data_request&state=open"),
        ("producer, overdue", f"/api/v1/threads?producer={producer}&overdue=true"),
        ("producer, status, by due date", f"/api/v1/threads?producer={producer}&status=acknowledged&sort=due"),
        ("search « eau »", "/api/v1/threads?q=eau"),
        ("search « zones inondables »", "/api/v1/threads?q=zones%20inondables"),
        ("search « eau », open, recent", "/api/v1/threads?q=eau&state=open&sort=recent"),
        ("deep page (40)", "/api/v1/threads?page=40"),
        ("a dataset's threads", f"/api/v1/datasets/{dataset}/threads"),
    ]


def _statements(app, client, url: str) -> int:
    import sqlalchemy as sa

    from feedback.extensions import db

    counted = []

    def count(*args, **kwargs):
        counted.append(1)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(counted)


def measure(database_url: str, requests: int) -> None:
    from flask import g

    from feedback.accounts.models import User
    from feedback.extensions import db

    app = make_app(database_url)
    acting: dict[str, int | None] = {"user_id": None}

    @app.before_request
    def act_as_the_measured_person():
        if acting["user_id"] is not None:
            g._login_user = db.session.get(User, acting["user_id"])

    client = app.test_client()
    samples = _samples(app)
    people = _people(app)
    worst = 0.0
    print(f"API lists ({requests} requests each after {WARM_UPS} warm-ups, through the WSGI app; {database_url})")
    for person, user_id in people.items():
        acting["user_id"] = user_id
        print(f"  as {person}")
        for name, url in _urls(samples):
            status = 0
            for _ in range(WARM_UPS):
                status = client.get(url).status_code
            times = []
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(url)
                response.get_data()
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            median = statistics.median(times)
            p95 = times[max(0, -(-len(times) * 95 // 100) - 1)]
            worst = max(worst, median)
            total = response.get_json().get("total") if status == 200 else None
            statements = _statements(app, client, url)
            print(
                f"    {name:<32} {status}  median {median:6.1f} ms   p95 {p95:6.1f} ms   "
                f"{statements:2d} statements   total {total}"
            )
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"Slowest median: {worst:.1f} ms — target median < {TARGET_MS} ms {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=30)
    arguments = parser.parse_args(argv)
    from sqlalchemy.exc import ProgrammingError

    try:
        measure(arguments.database_url, arguments.requests)
    except ProgrammingError as error:  # a column or a table the code reads is missing: an older schema
        sys.exit(
            f"The database's schema is older than the code ({str(error.orig).splitlines()[0]}): this script never "
            "writes to it; migrate it or a copy of it (`flask --app wsgi db upgrade` with DATABASE_URL; a database "
            "stamped at a revision that was still empty when it ran: `db stamp` the one before, then `db upgrade`), "
            "and run the script on that."
        )


if __name__ == "__main__":
    main()
