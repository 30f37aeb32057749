"""Capitalisation benchmark: a national report and one producer's, next to the bare SQL they run.

`build_report_data(scope)` is timed on the database the threads part leaves (100,000 threads by default).
While it runs, every SQL statement it sends is recorded with its parameters; the same statements are then
replayed on a raw DB-API cursor (execute + fetchall, no ORM, no Python work on the rows): that is the floor the
report cannot go below on this database, and the difference is the time spent in Python (working days,
medians, grouping of similar titles, recommendation rules).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import sqlalchemy as sa

from feedback.capitalisation.indicators import build_report_data
from feedback.capitalisation.scope import Scope
from feedback.extensions import db

REPEATS = 3
TARGET_NATIONAL_S = 1.0
TARGET_PRODUCER_S = 0.2
TARGET_DASHBOARD_MS = 300
TARGET_DASHBOARD_KB = 150
# The curator's dashboard, national: the default period (the last twelve months), then one filter changed
# as htmx sends it (the results block only), then its long tables.
DASHBOARD_URLS = [
    ("dashboard, national", "/capitalisation", {}),
    ("dashboard, kind changed (htmx)", "/capitalisation?type=data_request", {"HX-Request": "true"}),
    # The long tables the dashboard loads into their places as they are scrolled to.
    *(
        (f"table « {name} » (htmx)", f"/capitalisation/{name}", {"HX-Request": "true"})
        for name in ("services", "qualite", "demande", "demandes-similaires")
    ),
]
DASHBOARD_REQUESTS = 5


@dataclass
class PageTiming:
    label: str
    url: str
    milliseconds: list[float]
    kilobytes: float

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds)


def measure_dashboard(client) -> list[PageTiming]:
    """Each dashboard URL, as a signed-in curator: one warm-up, then DASHBOARD_REQUESTS timed requests."""
    timings = []
    for label, url, headers in DASHBOARD_URLS:
        client.get(url, headers=headers)
        milliseconds, size = [], 0
        for _ in range(DASHBOARD_REQUESTS):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            milliseconds.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            size = len(response.data)
        timings.append(PageTiming(label, url, milliseconds, size / 1024))
    return timings


@dataclass
class ReportTiming:
    label: str
    threads: int
    seconds: list[float]
    statements: int
    sql_seconds: list[float]
    recommendations: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql_seconds)


class StatementRecorder:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[tuple[str, object]] = []

    def on_execute(self, connection, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def __enter__(self) -> StatementRecorder:
        sa.event.listen(self.engine, "before_cursor_execute", self.on_execute)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self.on_execute)


def _replay(statements) -> float:
    """The recorded statements on a raw DB-API connection: execute and fetch every row."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        start = time.perf_counter()
        for statement, parameters in statements:
            cursor.execute(statement, parameters or ())
            if cursor.description is not None:
                cursor.fetchall()
        seconds = time.perf_counter() - start
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return seconds


def time_report(label: str, scope: Scope, repeats: int = REPEATS) -> ReportTiming:
    seconds, statements, data = [], [], None
    for attempt in range(repeats + 1):  # the first run warms the caches and is not counted
        recorder = StatementRecorder(db.engine)
        with recorder:
            start = time.perf_counter()
            data = build_report_data(scope)
            elapsed = time.perf_counter() - start
        db.session.rollback()
        if attempt:
            seconds.append(elapsed)
        statements = recorder.statements
    sql_seconds = [_replay(statements) for _ in range(repeats)]
    return ReportTiming(
        label=label,
        threads=data["totals"]["threads"],
        seconds=seconds,
        statements=len(statements),
        sql_seconds=sql_seconds,
        recommendations=len(data.get("recommendations") or []),
    )


def measure(busiest_organisation_id: int) -> list[ReportTiming]:
    return [
        time_report("national, every thread", Scope()),
        time_report("one producer (the busiest)", Scope(producer_ids=(busiest_organisation_id,))),
    ]
