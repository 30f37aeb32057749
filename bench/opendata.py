"""Benchmark of the open platform (feedback/opendata): the badge and the embed of a dataset, and the full open data
exports, on an existing benchmark database (100,000 threads), which it only reads.

    .venv/bin/python bench/opendata.py [--database-url URL] [--requests N]

- The badge (`/badge/datasets/<id>.svg`, with and without `If-None-Match`) and the embed (`/embed/datasets/<id>`)
  of the dataset with the most public threads, and of a dataset with one, timed through the WSGI app (Flask's
  test client, no HTTP server): `--requests` timed requests after 5 warm-ups; median and 95th percentile.
- The exports `/exports/threads.csv` and `/exports/messages.csv`, each read whole in a child process of its own
  (start method `spawn`), chunk by chunk as a client would: rows (parsed back with `csv`), bytes, time, the
  process's resident memory when the export starts and every quarter of the rows (`/proc/self/statm`), and its
  peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`). Flat memory: the peak does not grow with the rows.

The database is opened read only (PostgreSQL's `default_transaction_read_only`): nothing is ever written to it.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from read_only import read_only_app  # bench/read_only.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
WARM_UPS = 5


def make_app(database_url: str):
    return read_only_app(database_url, "opendata")


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _timed(client, url: str, requests: int, headers: dict | None = None) -> tuple[float, float, int]:
    status = 0
    for _ in range(WARM_UPS):
        status = client.get(url, headers=headers or {}).status_code
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, headers=headers or {})
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        status = response.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], status


def _datasets(app) -> list[tuple[str, str, int]]:
    """(label, catalogue id, public threads): the busiest dataset and one with a single thread."""
    import sqlalchemy as sa

    from feedback.catalogue.models import Dataset
    from feedback.extensions import db
    from feedback.opendata.public import public_threads
    from feedback.threads.models import Thread

    with app.app_context():
        counts = (
            sa.select(Thread.dataset_id, sa.func.count().label("threads"))
            .where(public_threads(), Thread.dataset_id.is_not(None))
            .group_by(Thread.dataset_id)
            .subquery()
        )
        busiest = db.session.execute(
            sa.select(Dataset.catalogue_id, counts.c.threads)
            .join(counts, counts.c.dataset_id == Dataset.id)
            .order_by(counts.c.threads.desc())
            .limit(1)
        ).one()
        single = db.session.execute(
            sa.select(Dataset.catalogue_id, counts.c.threads)
            .join(counts, counts.c.dataset_id == Dataset.id)
            .where(counts.c.threads == 1)
            .limit(1)
        ).first()
    found = [("le plus discuté", busiest[0], busiest[1])]
    if single:
        found.append(("un seul fil", single[0], single[1]))
    return found


def measure_pages(database_url: str, requests: int) -> None:
    app = make_app(database_url)
    client = app.test_client()
    print(f"Badge and embed ({requests} requests each after {WARM_UPS} warm-ups, through the WSGI app)")
    for label, catalogue_id, threads in _datasets(app):
        badge = f"/badge/datasets/{catalogue_id}.svg"
        etag = client.get(badge).headers["ETag"]
        rows = [
            ("badge", badge, None),
            ("badge, If-None-Match (304)", badge, {"If-None-Match": etag}),
            ("embed", f"/embed/datasets/{catalogue_id}", None),
        ]
        print(f"  dataset {catalogue_id} ({label}: {threads} public threads)")
        for name, url, headers in rows:
            median, p95, status = _timed(client, url, requests, headers)
            print(f"    {name:<28} {status}  median {median:6.2f} ms   p95 {p95:6.2f} ms")
    median, p95, status = _timed(client, "/embed/datasets/0123456789abcdef01234567", requests)
    print(f"  unknown dataset: embed {status} median {median:.2f} ms; ", end="")
    median, p95, status = _timed(client, "/badge/datasets/0123456789abcdef01234567.svg", requests)
    print(f"badge {status} median {median:.2f} ms")


def export_in_child(database_url: str, url: str, expected: int, queue) -> None:
    app = make_app(database_url)
    client = app.test_client()
    client.get("/badge/datasets/unknown.svg")  # connections opened, templates and modules loaded
    start_rss, start_peak = _rss_mb(), _peak_mb()
    quarters = [expected * q // 4 for q in (1, 2, 3)]
    samples = []
    rows = -1  # the header
    size = 0
    start = time.perf_counter()
    response = client.get(url, buffered=False)
    for chunk in response.response:
        size += len(chunk)
        # Each chunk ends at a row's end: parsed alone, it gives whole rows (texts may hold line breaks).
        rows += sum(1 for _ in csv.reader(io.StringIO(chunk.decode("utf-8")), delimiter=";"))
        while quarters and rows >= quarters[0]:
            samples.append((quarters.pop(0), _rss_mb()))
    response.close()
    elapsed = time.perf_counter() - start
    queue.put(
        {
            "rows": rows,
            "bytes": size,
            "seconds": elapsed,
            "start_rss": start_rss,
            "start_peak": start_peak,
            "samples": samples,
            "end_rss": _rss_mb(),
            "peak": _peak_mb(),
        }
    )


def _public_counts(database_url: str) -> tuple[int, int, int, int]:
    import sqlalchemy as sa

    from feedback.extensions import db
    from feedback.opendata.public import public_messages_of_public_threads, public_threads
    from feedback.threads.models import Message, Thread

    app = make_app(database_url)
    with app.app_context():
        threads = db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) or 0
        messages = db.session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0
        public = db.session.scalar(sa.select(sa.func.count()).select_from(Thread).where(public_threads())) or 0
        public_messages = (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Message)
                .join(Thread, Thread.id == Message.thread_id)
                .where(public_messages_of_public_threads())
            )
            or 0
        )
    return threads, messages, public, public_messages


def measure_exports(database_url: str) -> None:
    threads, messages, public, public_messages = _public_counts(database_url)
    print(f"\nExports (database: {threads:,} threads, {messages:,} messages)")
    print(f"  public: {public:,} threads, {public_messages:,} messages")
    if messages < 400_000:
        print(f"  note: the database holds {messages:,} messages, fewer than the 400,000 of the target")
    context = multiprocessing.get_context("spawn")
    for url, expected in (("/exports/threads.csv", public), ("/exports/messages.csv", public_messages)):
        queue = context.Queue()
        child = context.Process(target=export_in_child, args=(database_url, url, expected, queue))
        child.start()
        result = queue.get()
        child.join()
        print(
            f"  {url:<22} {result['rows']:>9,} rows  {result['bytes'] / 1024 / 1024:7.1f} MB  "
            f"{result['seconds']:6.1f} s  ({result['rows'] / result['seconds']:,.0f} rows/s)"
        )
        samples = "  ".join(f"{rows:,} rows: {rss:.0f} MB" for rows, rss in result["samples"])
        print(
            f"    RSS at start {result['start_rss']:.0f} MB (peak so far {result['start_peak']:.0f} MB); "
            f"{samples}; at end {result['end_rss']:.0f} MB; process peak RSS {result['peak']:.0f} MB"
        )
        assert result["rows"] == expected, (result["rows"], expected)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--part", choices=("pages", "exports", "all"), default="all")
    args = parser.parse_args(argv)
    if args.part in ("pages", "all"):
        measure_pages(args.database_url, args.requests)
    if args.part in ("exports", "all"):
        measure_exports(args.database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
