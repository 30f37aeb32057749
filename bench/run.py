"""Benchmark of the catalogue and the threads: import of the real export, the catalogue pages at 60,000
datasets, then generated threads (10,000, then 100,000) and the thread pages at both sizes.

Run from the project root: `.venv/bin/python bench/run.py [--part catalogue|threads|all]` (or `make bench`).
No network is used. See bench/README.md for what is measured and how to read the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import capitalisation as capitalisation_bench  # bench/capitalisation.py
import catalogue as generated  # bench/catalogue.py: the script's folder comes first on sys.path
import notifications as notifications_bench  # bench/notifications.py
import sqlalchemy as sa
import threads as generated_threads  # bench/threads.py
from flask_migrate import upgrade

from feedback import create_app
from feedback.accounts.models import Organisation, User
from feedback.catalogue import queries
from feedback.catalogue.models import DATASET_SEARCH, Dataset, Theme, ThemeScheme, dataset_territory, dataset_theme
from feedback.catalogue.reference import load_reference
from feedback.catalogue.services import import_catalogue
from feedback.extensions import db
from feedback.threads import queries as thread_queries
from feedback.threads.models import Thread, ThreadStatus
from feedback.threads.workflow import organisation_ids

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
DEFAULT_EXPORT = Path("../shared/data/catalogue/export-dataset-20260116-ddt-dreal-geoide.csv.gz")

SEARCH_WORD = "zone"
DEEP_PAGE = 2000
WARMUPS = 3
WARMUP_BUDGET_S = 2.0  # no further warm-up once this is spent (a slow URL is not slow for lack of warming)
URL_BUDGET_S = 15.0  # timed requests stop once this is spent and MIN_SAMPLES are taken
MIN_SAMPLES = 5
TARGET_IMPORT_RATIO = 2.0
TARGET_REIMPORT_RATIO = 1.0
TARGET_MEMORY_MB = 500
TARGET_MEDIAN_MS = 50.0


# Helpers -------------------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"  … {message}", flush=True)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A plain-text table; columns listed in `right` are right-aligned."""
    right = right or set()
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def number(value: int) -> str:
    return f"{value:,}"


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def app_config(workdir: Path, database: Path | str) -> dict:
    """The application's settings for a run: a SQLite file of the scratch folder, or a database URL."""
    return {
        "INSTANCE_PATH": str(workdir / "instance"),
        "SECRET_KEY": "bench-secret-key",
        "SQLALCHEMY_DATABASE_URI": database if isinstance(database, str) else f"sqlite:///{database}",
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }


def open_export_text(path: Path):
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        import gzip

        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


# 1. Import, in a child process -----------------------------------------------------------------------------


def _import_in_child(config: dict, export: str, sender) -> None:
    """Runs in a spawned process: the real import service, timed, then the process's own peak RSS."""
    app = create_app(config)
    with app.app_context():
        before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        summary = import_catalogue([Path(export)])
        db.session.commit()
        seconds = time.perf_counter() - start
    sender.send(
        {
            "seconds": seconds,
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "rejected": len(summary.rejected),
            "organisations": summary.organisations_created,
            "line": summary.line(),
            "self_before_kb": before_kb,
            "self_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )
    sender.close()


@dataclass
class ImportRun:
    seconds: float
    created: int
    updated: int
    unchanged: int
    rejected: int
    organisations: int
    line: str
    self_before_kb: int
    self_peak_kb: int
    children_peak_kb: int  # resource.getrusage(RUSAGE_CHILDREN).ru_maxrss once the child is reaped


def import_in_child(config: dict, export: Path) -> ImportRun:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited from this one
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_import_in_child, args=(config, str(export), sender))
    process.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        process.join()
        raise SystemExit(f"the import process failed (exit code {process.exitcode})") from None
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"the import process failed (exit code {process.exitcode})")
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return ImportRun(**result, children_peak_kb=children_peak)


# 2. Raw baseline ------------------------------------------------------------------------------------------


def raw_baseline(export: Path, database: Path) -> tuple[float, int]:
    """csv + sqlite3: every row into a plain table of TEXT columns, one executemany, one commit."""
    start = time.perf_counter()
    with open_export_text(export) as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        connection = sqlite3.connect(database)
        columns = ", ".join('"{}" TEXT'.format(name.replace('"', '""')) for name in header)
        connection.execute(f"CREATE TABLE export ({columns})")
        connection.executemany(f"INSERT INTO export VALUES ({', '.join('?' * len(header))})", reader)
        connection.commit()
    seconds = time.perf_counter() - start
    rows = connection.execute("SELECT count(*) FROM export").fetchone()[0]
    connection.close()
    return seconds, rows


# 3. Requests ----------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    filters: queries.DatasetFilters | None = None  # for the list pages: to report how many results
    page: int = 1
    who: str = "anonymous"  # threads part: whose test client sends the request
    count: Callable | None = None  # threads part: (user, page size) → (results, page served)


@dataclass
class Measure:
    median_ms: float
    p95_ms: float
    queries: list[int]
    results: int | None
    served_page: int | None
    size_kb: float
    samples: int


class QueryCounter:
    """Counts the SQL statements the engine sends (an executemany counts as one)."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def on_execute(self, *args, **kwargs) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self.on_execute)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self.on_execute)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def choose_endpoints(app) -> tuple[list[Endpoint], dict[str, str]]:
    """The URLs measured, chosen once on the real catalogue and reused at every size."""
    with app.app_context():
        count = sa.func.count(Dataset.id)
        producer = db.session.execute(
            sa.select(Organisation.slug, Organisation.name, count)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .where(Dataset.archived.is_(False))
            .group_by(Organisation.id)
            .order_by(count.desc(), Organisation.slug)
            .limit(1)
        ).one()
        themes = db.session.execute(
            sa.select(Theme.code, Theme.label, sa.func.count())
            .join(dataset_theme, dataset_theme.c.theme_id == Theme.id)
            .join(Dataset, Dataset.id == dataset_theme.c.dataset_id)
            .join(Organisation, Organisation.id == Dataset.organisation_id)
            .where(Theme.scheme == ThemeScheme.INSPIRE, Organisation.slug == producer.slug)
            .group_by(Theme.id)
            .order_by(sa.func.count().desc(), Theme.code)
        ).all()
        theme = themes[0] if themes else None
        for candidate in themes:
            filters = queries.DatasetFilters(q=SEARCH_WORD, producer=producer.slug, theme=candidate.code)
            if queries.search_datasets(filters, 1, 20).total:
                theme = candidate
                break
        lengths = sorted(len(d) for d in db.session.scalars(sa.select(Dataset.description)))
        median_length = lengths[len(lengths) // 2]
        dataset = db.session.execute(
            sa.select(Dataset.catalogue_id, Dataset.title, sa.func.length(Dataset.description))
            .where(
                sa.exists().where(dataset_theme.c.dataset_id == Dataset.id),
                sa.exists().where(dataset_territory.c.dataset_id == Dataset.id),
                Dataset.archived.is_(False),
            )
            .order_by(sa.func.abs(sa.func.length(Dataset.description) - median_length), Dataset.id)
            .limit(1)
        ).one()

    theme_code = theme.code if theme else ""
    search = queries.DatasetFilters(q=SEARCH_WORD)
    filtered = queries.DatasetFilters(q=SEARCH_WORD, producer=producer.slug, theme=theme_code)
    endpoints = [
        Endpoint("list, page 1", "/jeux-de-donnees", filters=queries.DatasetFilters()),
        Endpoint(f"search « {SEARCH_WORD} »", "/jeux-de-donnees?" + urlencode({"q": SEARCH_WORD}), filters=search),
        Endpoint(
            "search + producer + theme",
            "/jeux-de-donnees?" + urlencode({"q": SEARCH_WORD, "producteur": producer.slug, "theme": theme_code}),
            filters=filtered,
        ),
        Endpoint(
            f"list, page {DEEP_PAGE}",
            "/jeux-de-donnees?" + urlencode({"page": DEEP_PAGE}),
            filters=queries.DatasetFilters(),
            page=DEEP_PAGE,
        ),
        Endpoint(
            "search, htmx fragment",
            "/jeux-de-donnees?" + urlencode({"q": SEARCH_WORD}),
            headers={"HX-Request": "true"},
            filters=search,
        ),
        Endpoint("dataset page", f"/jeux-de-donnees/{dataset.catalogue_id}"),
        Endpoint("organisation page", f"/organisations/{producer.slug}"),
    ]
    chosen = {
        "search word": SEARCH_WORD,
        "producer": f"{producer.slug} ({producer.name}, {number(producer[2])} current datasets)",
        "theme": f"{theme_code} ({theme.label})" if theme else "(none)",
        "dataset": f"{dataset.catalogue_id} ({dataset.title[:60]}, description {number(dataset[2])} chars)",
    }
    return endpoints, chosen


def measure_requests(app, endpoints: list[Endpoint], requests: int) -> dict[str, Measure]:
    with app.app_context():
        engine = db.engine
        size = app.config["FEEDBACK_PAGE_SIZE"]
        results = {}
        for endpoint in endpoints:
            if endpoint.filters is not None:
                found = queries.search_datasets(endpoint.filters, endpoint.page, size, count_cap=None)
                results[endpoint.label] = (found.total, found.number)
                db.session.rollback()
    client = app.test_client()
    measures = {}
    with QueryCounter(engine) as counter:
        for endpoint in endpoints:
            start = time.perf_counter()
            measure = measures[endpoint.label] = _measure_one(client, counter, endpoint, requests, results)
            say(
                f"  {endpoint.label}: median {measure.median_ms:.1f} ms "
                f"over {measure.samples} requests ({time.perf_counter() - start:.1f} s with the warm-ups)"
            )
    return measures


def _measure_one(client, counter: QueryCounter, endpoint: Endpoint, requests: int, results: dict) -> Measure:
    """Warm-ups, then up to `requests` timed requests; a URL slower than the budget gets fewer (at least
    MIN_SAMPLES), so that one pathological URL cannot stretch the run to a quarter of an hour."""
    started = time.perf_counter()
    for _ in range(WARMUPS):
        response = client.get(endpoint.url, headers=endpoint.headers)
        if response.status_code != 200:
            raise SystemExit(f"{endpoint.url}: HTTP {response.status_code}")
        if time.perf_counter() - started > WARMUP_BUDGET_S:
            break
    started = time.perf_counter()
    samples, counts, sizes = [], [], []
    for _ in range(requests):
        counter.count = 0
        start = time.perf_counter()
        response = client.get(endpoint.url, headers=endpoint.headers)
        body = response.get_data()
        samples.append((time.perf_counter() - start) * 1000)
        counts.append(counter.count)
        sizes.append(len(body))
        if response.status_code != 200:
            raise SystemExit(f"{endpoint.url}: HTTP {response.status_code}")
        if len(samples) >= MIN_SAMPLES and time.perf_counter() - started > URL_BUDGET_S:
            break
    total, served = results.get(endpoint.label, (None, None))
    return Measure(
        median_ms=statistics.median(samples),
        p95_ms=percentile(samples, 0.95),
        queries=sorted(set(counts)),
        results=total,
        served_page=served,
        size_kb=statistics.median(sizes) / 1024,
        samples=len(samples),
    )


def dataset_count(app) -> tuple[int, int]:
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count(Dataset.id)))
        current = db.session.scalar(sa.select(sa.func.count(Dataset.id)).where(Dataset.archived.is_(False)))
        db.session.rollback()
    return total, current


def fts_integrity(app) -> str:
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return "n/a (PostgreSQL: a GIN index kept by the database)"
        fts = DATASET_SEARCH.fts_table
        try:
            db.session.execute(sa.text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))
            db.session.rollback()
        except sa.exc.DatabaseError as error:
            db.session.rollback()
            return f"FAILED ({error.orig})"
    return "OK"


# Main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, default=None, help="the export-dataset CSV (.csv or .csv.gz)")
    parser.add_argument("--size", type=int, default=60000, help="datasets in the padded catalogue (60000)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL, after 3 warm-ups (30)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (databases, generated CSV)")
    parser.add_argument("--part", choices=["catalogue", "threads", "all"], default="all", help="what to measure (all)")
    parser.add_argument(
        "--threads", type=int, default=100_000, help="threads at the second size; the first is a tenth (100000)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="run on this database instead of a SQLite file of the scratch folder, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/bench (its public schema is wiped)",
    )
    args = parser.parse_args(argv)
    export = (args.export if args.export else ROOT / DEFAULT_EXPORT).resolve()
    if not export.is_file():
        parser.error(f"export not found: {export}")
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.threads < 1000:
        parser.error("--threads must be at least 1000")

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=DATA_DIR))
    try:
        return run(args, export, workdir)
    finally:
        if args.keep:
            print(f"\nScratch folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            with contextlib.suppress(OSError):
                DATA_DIR.rmdir()  # only if empty (another run's --keep folder stays)


def run(args, export: Path, workdir: Path) -> int:
    started = time.perf_counter()
    title = {
        "catalogue": "catalogue benchmark",
        "threads": "threads benchmark",
        "all": "catalogue and threads benchmark",
    }[args.part]
    print(f"Ecosphères feedback — {title}")
    print("=" * len(f"Ecosphères feedback — {title}"))
    print(
        f"Machine : {os.cpu_count()} cores (os.cpu_count()), {platform.machine()}, {platform.system()} "
        f"{platform.release()}"
    )
    print(f"Software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, SQLAlchemy {sa.__version__}")
    print(f"Export  : {export} ({export.stat().st_size / 1e6:.1f} MB on disk)")
    print(f"Scratch : {workdir}")
    print(f"Load    : {load_average()} (1/5/15 min load average at start; other processes skew the timings)")
    print()
    print("Progress")
    export.read_bytes()  # warm the page cache, so that neither the baseline nor the import pays the first read

    database = args.database_url or workdir / "feedback.sqlite3"
    config = app_config(workdir, database)
    app = create_app(config)
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):  # alembic's INFO lines
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
            print(f"Database: PostgreSQL {db.engine.connect().dialect.server_version_info} ({args.database_url})")
        upgrade()
        load_reference()
        db.session.commit()
    say("schema migrated (flask_migrate.upgrade), reference lists loaded")

    if args.part in ("catalogue", "all"):
        run_catalogue(args, export, workdir, app, config)
        section = 4
    else:
        built = build_catalogue(args, export, workdir, app)
        report_built_catalogue(built)
        section = 2
    if args.part in ("threads", "all"):
        people = run_threads(args, app, section)
        run_capitalisation(app, people, section + 2)
        run_notifications(app, people, section + 3)
    print(f"\nTotal run time: {time.perf_counter() - started:.0f} s; load average at the end: {load_average()}")
    return 0


def run_catalogue(args, export: Path, workdir: Path, app, config: dict) -> None:
    # The baseline runs before, between and after the two imports: its median reflects the machine's
    # load over the same minutes (other processes may share the cores).
    baselines = []

    def baseline() -> int:
        database = workdir / f"baseline-{len(baselines) + 1}.sqlite3"
        seconds, rows = raw_baseline(export, database)
        database.unlink()
        baselines.append(seconds)
        say(f"raw baseline run {len(baselines)}: {number(rows)} rows in {seconds:.2f} s")
        return rows

    baseline_rows = baseline()
    first = import_in_child(config, export)
    say(f"import: {first.line} in {first.seconds:.2f} s")
    baseline()
    second = import_in_child(config, export)
    say(f"re-import: {second.line} in {second.seconds:.2f} s")
    baseline()
    real_total, real_current = dataset_count(app)

    endpoints, chosen = choose_endpoints(app)
    say(f"measuring {len(endpoints)} URLs at {number(real_total)} datasets ({args.requests} requests each)")
    small = measure_requests(app, endpoints, args.requests)

    generation = pad_catalogue(args, export, workdir, app, real_total)
    padding = generation[0] if generation else 0
    big_total, big_current = dataset_count(app)
    integrity = fts_integrity(app)
    say(f"full-text index integrity-check at {number(big_total)} datasets: {integrity}")
    say(f"measuring {len(endpoints)} URLs at {number(big_total)} datasets ({args.requests} requests each)")
    big = measure_requests(app, endpoints, args.requests) if padding else small

    report(baselines, baseline_rows, first, second, real_total, real_current)
    report_padding(generation, big_total, big_current, integrity)
    report_requests(args, endpoints, chosen, small, big, real_total, big_total)


def pad_catalogue(args, export: Path, workdir: Path, app, total: int):
    """Generated rows up to `args.size` datasets, imported by the real service; None if none are needed."""
    padding = max(0, args.size - total)
    if not padding:
        return None
    start = time.perf_counter()
    sample = generated.ExportSample.read(export)
    generated_csv = generated.write_generated_export(sample, padding, workdir / "export-generated.csv")
    written = time.perf_counter() - start
    with app.app_context():
        start = time.perf_counter()
        summary = import_catalogue([generated_csv])
        db.session.commit()
        imported = time.perf_counter() - start
    say(f"padding: {number(padding)} generated rows written in {written:.2f} s, imported in {imported:.2f} s")
    return (padding, written, imported, summary.line())


def build_catalogue(args, export: Path, workdir: Path, app) -> dict:
    """For `--part threads`: the same catalogue as the catalogue part ends with, without its measurements
    (the real export imported in this process, then the padding)."""
    with app.app_context():
        start = time.perf_counter()
        summary = import_catalogue([export])
        db.session.commit()
        imported = time.perf_counter() - start
    say(f"catalogue: import of the real export, {summary.line()} in {imported:.2f} s")
    real_total, _ = dataset_count(app)
    generation = pad_catalogue(args, export, workdir, app, real_total)
    total, current = dataset_count(app)
    return {"imported": imported, "line": summary.line(), "generation": generation, "total": total, "current": current}


def report_built_catalogue(built: dict) -> None:
    print()
    print("1. Catalogue (built for the threads part, not measured)")
    print("-" * 55)
    print(f"Real export imported with import_catalogue in {built['imported']:.2f} s: {built['line']}")
    if built["generation"]:
        padding, written, imported, line = built["generation"]
        print(
            f"Padding: {number(padding)} rows generated by bench/catalogue.py in {written:.2f} s, imported in "
            f"{imported:.2f} s: {line}"
        )
    print(f"Catalogue: {number(built['total'])} datasets, {number(built['current'])} not archived")
    print("(The catalogue part, `--part catalogue` or `all`, measures the import and the catalogue pages.)")


def report(baselines: list[float], baseline_rows: int, first: ImportRun, second: ImportRun, total: int, current: int):
    baseline_seconds = statistics.median(baselines)
    mb = 1e6 / 1024  # ru_maxrss is in KiB on Linux; figures are printed in MB (10^6 bytes), as the target
    import_ratio = first.seconds / baseline_seconds
    reimport_ratio = second.seconds / baseline_seconds
    peak_mb = first.children_peak_kb / mb
    expected = baseline_rows
    reimport_ok = second.unchanged == expected and second.created == 0 and second.updated == 0
    print()
    print(f"1. Import of the real export ({number(baseline_rows)} rows)")
    print("-" * 40)
    print(
        "Import = feedback.catalogue.services.import_catalogue([path]) + db.session.commit(), run in a child\n"
        "process (multiprocessing, 'spawn' start method) on a fresh SQLite file (migrations applied, reference\n"
        "lists loaded). Time: time.perf_counter() around the call, inside the child. Memory: the child's maximum\n"
        "RSS, resource.getrusage(RUSAGE_CHILDREN).ru_maxrss read once it has exited (the import is the first\n"
        "child process of the run). Baseline = csv.reader on gzip.open(text) + sqlite3 executemany into one\n"
        "table of TEXT columns + commit, in this process, on a fresh file (sqlite3 defaults); run before, between\n"
        f"and after the two imports, its median is the reference (runs: {', '.join(f'{b:.2f}' for b in baselines)} s)."
    )
    print()
    rows = [
        [
            "raw baseline (median of 3)",
            f"{baseline_seconds:.2f}",
            "1.00",
            number(int(baseline_rows / baseline_seconds)),
            "",
            "",
            "",
        ],
        [
            "import (fresh database)",
            f"{first.seconds:.2f}",
            f"{import_ratio:.2f}",
            number(int(expected / first.seconds)),
            f"≤ {TARGET_IMPORT_RATIO:.0f}× baseline",
            verdict(import_ratio <= TARGET_IMPORT_RATIO),
            f"{first.created:,} created, {first.rejected} rejected",
        ],
        [
            "re-import (same file)",
            f"{second.seconds:.2f}",
            f"{reimport_ratio:.2f}",
            number(int(expected / second.seconds)),
            f"≤ {TARGET_REIMPORT_RATIO:.0f}× baseline",
            verdict(reimport_ratio <= TARGET_REIMPORT_RATIO),
            f"{second.unchanged:,} unchanged, {second.created + second.updated} written",
        ],
        [
            "import peak RSS (child)",
            f"{peak_mb:.0f} MB",
            "",
            "",
            f"< {TARGET_MEMORY_MB} MB",
            verdict(peak_mb < TARGET_MEMORY_MB),
            f"{first.self_before_kb / mb:.0f} MB before the import (interpreter + app)",
        ],
    ]
    print(table(["step", "seconds", "× base", "rows/s", "target", "verdict", "notes"], rows, right={1, 2, 3}))
    print()
    print(f"Import summary   : {first.line}")
    print(f"Re-import summary: {second.line}")
    print(
        f"Re-import reports {number(second.unchanged)} unchanged of {number(expected)} rows: {verdict(reimport_ok)}"
        f" — re-import child peak RSS {second.self_peak_kb / mb:.0f} MB"
    )
    print(f"Catalogue after import: {number(total)} datasets, {number(current)} not archived")


def report_padding(generation, total, current, integrity):
    print()
    print("2. Padding with generated datasets")
    print("-" * 34)
    if generation is None:
        print("No padding: the catalogue already holds the requested size.")
    else:
        padding, written, imported, line = generation
        print(
            f"{number(padding)} rows generated by bench/catalogue.py from the real export (titles recombined from\n"
            "two real titles, real organisations/zones/dates, real tags, real description paragraphs, fresh\n"
            "24-hex ids), written as an export CSV, imported with import_catalogue + commit (same code path,\n"
            "full-text index kept by DATASET_SEARCH.index)."
        )
        rate = number(int(padding / imported))
        print(f"Generation + CSV writing: {written:.2f} s; import: {imported:.2f} s ({rate} rows/s)")
        print(f"Import summary: {line}")
    print(f"Catalogue now: {number(total)} datasets, {number(current)} not archived; FTS5 integrity-check: {integrity}")


def report_requests(args, endpoints, chosen, small, big, small_total, big_total):
    print()
    print(f"3. Requests through the WSGI app (test client, {WARMUPS} warm-ups then {args.requests} timed requests)")
    print("-" * 84)
    for name, value in chosen.items():
        print(f"{name:12}: {value}")
    print()
    print("URLs:")
    for endpoint in endpoints:
        extra = " [HX-Request: true]" if endpoint.headers else ""
        print(f"  {endpoint.label:27} {endpoint.url}{extra}")
    print()
    s, b = f"@{number(small_total)}", f"@{number(big_total)}"
    rows = []
    all_ok = True
    for endpoint in endpoints:
        little, large = small[endpoint.label], big[endpoint.label]
        ok = large.median_ms < TARGET_MEDIAN_MS
        all_ok = all_ok and ok
        results = ""
        if large.results is not None:
            results = f"{number(little.results)} / {number(large.results)}"
            if endpoint.page != 1:
                results = f"p.{little.served_page} / p.{large.served_page}"
        rows.append(
            [
                endpoint.label,
                "/".join(map(str, little.queries)),
                "/".join(map(str, large.queries)),
                f"{little.median_ms:.1f}",
                f"{large.median_ms:.1f}",
                f"{large.p95_ms:.1f}",
                f"{little.samples}/{large.samples}",
                f"{large.size_kb:.0f}",
                results,
                verdict(ok),
            ]
        )
    print(
        table(
            [
                "request",
                f"SQL {s}",
                f"SQL {b}",
                f"med ms {s}",
                f"med ms {b}",
                f"p95 ms {b}",
                "n",
                "KiB",
                "results",
                "< 50 ms",
            ],
            rows,
            right={1, 2, 3, 4, 5, 6, 7},
        )
    )
    print()
    print(
        "SQL = SQL statements per request (before_cursor_execute on the engine; one value when every request ran\n"
        f"the same number). n = timed requests {s}/{b}: fewer than {args.requests} when a URL used up its\n"
        f"{URL_BUDGET_S:.0f} s budget (at least {MIN_SAMPLES}); p95 is the nearest-rank value, the maximum below 20"
        " requests.\n"
        f"KiB = response body. results = matching datasets {s} / {b} (for page {DEEP_PAGE}: the page actually\n"
        "served, the last one when the catalogue is shorter). Times include rendering, not an HTTP server.\n"
        f"Target: median < {TARGET_MEDIAN_MS:.0f} ms at {number(big_total)} datasets: "
        f"{'all OK' if all_ok else 'MISSED for some'}."
    )


# 4. Threads ------------------------------------------------------------------------------------------------

THREAD_SEARCH_WORD = "zone"
THREAD_DEEP_PAGE = 2000
TARGET_GROWTH = 1.5
SAMPLE_SEED = 10


@dataclass
class ThreadBatch:
    label: str
    stats: generated_threads.BatchStats
    summary: dict
    checks: list[tuple[str, int]]
    check_seconds: float
    integrity: str


def run_threads(args, app, section: int) -> None:
    say(f"threads part: load average {load_average()}")
    total = args.threads
    small_size = max(1, total // 10)
    start = time.perf_counter()
    with app.app_context():
        generator = generated_threads.ThreadGenerator(db.session)
        setup = time.perf_counter() - start
        corpus = generator.corpus
        paragraphs = sum(len(pool) for pool in corpus.pools.values())
        say(
            f"threads generator ready in {setup:.2f} s: {number(len(corpus.sentences))} sentences of real "
            f"descriptions, {number(paragraphs)} paragraphs rendered in {corpus.render_seconds:.2f} s"
        )
        people = generator.add_people()
        say(
            f"people: {number(len(people.authors))} authors, {number(people.member_count)} producer members, "
            f"{len(people.curators)} curators in {people.seconds:.2f} s"
        )
        ids = generator.plan(total)
        first = sorted(random.Random(SAMPLE_SEED).sample(ids, small_size))
        rest = sorted(set(ids) - set(first))
        small_batch = thread_batch(generator, first, "a random tenth")
    endpoints, chosen, users = choose_thread_endpoints(app, people)
    clients = {"anonymous": app.test_client()}
    for who, user_id in users.items():
        clients[who] = login(app, people.emails[user_id])
    say(f"logged in through POST /connexion as {', '.join(users)}")
    size_small = small_batch.summary["threads"]
    say(f"measuring {len(endpoints)} URLs at {number(size_small)} threads ({args.requests} requests each)")
    small = measure_thread_requests(app, endpoints, clients, users, args.requests)
    with app.app_context():
        big_batch = thread_batch(generator, rest, "the rest")
    size_big = big_batch.summary["threads"]
    say(f"measuring {len(endpoints)} URLs at {number(size_big)} threads ({args.requests} requests each)")
    big = measure_thread_requests(app, endpoints, clients, users, args.requests)
    report_thread_generation(section, generator, people, setup, [small_batch, big_batch])
    report_thread_requests(section + 1, args, endpoints, chosen, small, big, size_small, size_big)
    return people


def thread_batch(generator, ids: list[int], label: str) -> ThreadBatch:
    say(f"generating {number(len(ids))} threads ({label})")
    stats = generator.add_threads(ids, progress=lambda message: say(f"  {message}"))
    say(
        f"{number(stats.threads)} threads, {number(stats.rows['message'])} messages, "
        f"{number(stats.rows['thread_event'])} events written in {stats.seconds:.2f} s"
    )
    start = time.perf_counter()
    checks = generated_threads.check_consistency(db.session)
    integrity = generated_threads.fts_integrity(db.session)
    seconds = time.perf_counter() - start
    broken = sum(count for _, count in checks)
    say(f"consistency checks: {broken} rows out of line, FTS5 integrity-check {integrity} ({seconds:.2f} s)")
    settle_after_bulk_writes()
    return ThreadBatch(label, stats, generated_threads.summary(db.session), checks, seconds, integrity)


def settle_after_bulk_writes() -> None:
    """On PostgreSQL, VACUUM ANALYZE: what autovacuum does within a minute or so of a bulk insert (it starts on
    inserts since PostgreSQL 13). Without it the pages would be measured on a state no running platform is in
    (no visibility map, so no index-only scan; statistics of the smaller size)."""
    if db.engine.dialect.name != "postgresql":
        return
    start = time.perf_counter()
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    say(f"VACUUM ANALYZE, as autovacuum would after the bulk insert ({time.perf_counter() - start:.1f} s)")


def login(app, email: str):
    client = app.test_client()
    response = client.post("/connexion", data={"email": email, "password": generated_threads.PASSWORD})
    if response.status_code != 303:
        raise SystemExit(f"login as {email} failed: HTTP {response.status_code}")
    return client


def _list_count(filters: thread_queries.ThreadFilters, page: int = 1):
    def count(user, size):
        found = thread_queries.search_threads(filters, user, page, size, count_cap=None)  # every match counted
        return found.total, found.number

    return count


def _my_threads_count(user, size):
    return thread_queries.my_threads(user, 1, size, count_cap=None).total, None


def _inbox_count(tab: str):
    def count(user, size):
        ids = set(
            db.session.scalars(
                sa.select(Organisation.id).where(Organisation.id.in_(organisation_ids(user)), Organisation.is_producer)
            )
        )
        return thread_queries.inbox_counts(user, ids)[tab], None

    return count


def _thread_count(thread_id: int):
    def count(user, size):
        thread = db.session.get(Thread, thread_id)
        return len(thread_queries.thread_timeline(thread, user)), None

    return count


def _panel_count(**where):
    def count(user, size):
        return sum(thread_queries.status_counts(user, **where).values()), None

    return count


def choose_thread_endpoints(app, people) -> tuple[list[Endpoint], dict[str, str], dict[str, int]]:
    """The URLs and the people measured, chosen once at the first size and reused at the second."""
    with app.app_context():
        session = db.session
        busiest = session.get(Organisation, people.busiest_organisation)
        authors = set(people.authors)
        restricted = sa.func.sum(sa.case((Thread.visibility == "restricted", 1), else_=0))
        rows = session.execute(
            sa.select(Thread.author_id, sa.func.count(), restricted)
            .group_by(Thread.author_id)
            .order_by(sa.func.count().desc(), Thread.author_id)
        ).all()
        plain = next(row for row in rows if row[0] in authors and row[2])
        member = people.members[busiest.id][1]
        long_thread = session.execute(
            sa.select(Thread.id, Thread.messages_count, Thread.public_messages_count)
            .where(
                Thread.messages_count >= generated_threads.LONG_THREAD_MESSAGES,
                Thread.visibility == "public",
            )
            .order_by((Thread.organisation_id == busiest.id).desc(), Thread.id)
            .limit(1)
        ).one()
        dataset_row = session.execute(
            sa.select(Dataset.id, Dataset.catalogue_id, Dataset.title, sa.func.count(Thread.id))
            .join(Thread, Thread.dataset_id == Dataset.id)
            .group_by(Dataset.id)
            .order_by(sa.func.count(Thread.id).desc(), Dataset.id)
            .limit(1)
        ).one()
        slug, name = busiest.slug, busiest.name
        session.rollback()
    users = {"user": plain[0], "curator": people.curators[0], "member": member}
    everything = thread_queries.ThreadFilters()
    quality = thread_queries.ThreadFilters(kind="quality_issue", state="ouverts")
    search = thread_queries.ThreadFilters(q=THREAD_SEARCH_WORD)
    endpoints = [
        Endpoint("home page", "/"),
        Endpoint("home page, member", "/", who="member"),
        Endpoint("my threads, plain user", "/mes-fils", who="user", count=_my_threads_count),
        Endpoint("threads, page 1", "/fils", count=_list_count(everything)),
        Endpoint(
            "open quality issues",
            "/fils?" + urlencode({"type": "quality_issue", "etat": "ouverts"}),
            count=_list_count(quality),
        ),
        Endpoint(
            f"search « {THREAD_SEARCH_WORD} »",
            "/fils?" + urlencode({"q": THREAD_SEARCH_WORD}),
            count=_list_count(search),
        ),
        Endpoint(
            f"threads, page {THREAD_DEEP_PAGE}",
            "/fils?" + urlencode({"page": THREAD_DEEP_PAGE}),
            count=_list_count(everything, THREAD_DEEP_PAGE),
            page=THREAD_DEEP_PAGE,
        ),
        Endpoint("threads, plain user", "/fils", who="user", count=_list_count(everything)),
        Endpoint("threads, curator", "/fils", who="curator", count=_list_count(everything)),
        Endpoint("thread, 50 messages", f"/fils/{long_thread.id}", count=_thread_count(long_thread.id)),
        Endpoint(
            "thread, 50 msgs, member",
            f"/fils/{long_thread.id}",
            who="member",
            count=_thread_count(long_thread.id),
        ),
        Endpoint("inbox (busiest producer)", "/boite-de-reception", who="member", count=_inbox_count("a-traiter")),
        Endpoint(
            "inbox, en retard",
            "/boite-de-reception?" + urlencode({"onglet": "en-retard"}),
            who="member",
            count=_inbox_count("en-retard"),
        ),
        Endpoint(
            "dataset page (most threads)",
            f"/jeux-de-donnees/{dataset_row.catalogue_id}",
            count=_panel_count(dataset_id=dataset_row.id),
        ),
        Endpoint(
            "organisation page (busiest)",
            f"/organisations/{slug}",
            count=_panel_count(organisation_id=people.busiest_organisation),
        ),
    ]
    chosen = {
        "search word": THREAD_SEARCH_WORD,
        "plain user": f"{people.emails[plain[0]]}, the author with the most threads ({plain[1]}, {plain[2]} "
        "restricted) at the first size",
        "curator": people.emails[people.curators[0]],
        "member": f"{people.emails[member]}, one of the {len(people.members[people.busiest_organisation])} "
        f"members of {name}",
        "long thread": f"n° {long_thread.id}, {long_thread.messages_count} messages "
        f"({long_thread.public_messages_count} public)",
        "dataset": f"{dataset_row.catalogue_id} ({dataset_row.title[:60]}), {dataset_row[3]} threads at the first size",
    }
    return endpoints, chosen, users


def measure_thread_requests(app, endpoints, clients, users, requests: int) -> dict[str, Measure]:
    with app.app_context():
        engine = db.engine
        size = app.config["FEEDBACK_PAGE_SIZE"]
        results = {}
        for endpoint in endpoints:
            if endpoint.count is None:  # a page that is no list of results (the home page)
                continue
            user = db.session.get(User, users[endpoint.who]) if endpoint.who in users else None
            results[endpoint.label] = endpoint.count(user, size)
            db.session.rollback()
    measures = {}
    with QueryCounter(engine) as counter:
        for endpoint in endpoints:
            start = time.perf_counter()
            measure = _measure_one(clients[endpoint.who], counter, endpoint, requests, results)
            measures[endpoint.label] = measure
            say(
                f"  {endpoint.label}: median {measure.median_ms:.1f} ms "
                f"over {measure.samples} requests ({time.perf_counter() - start:.1f} s with the warm-ups)"
            )
    return measures


def report_thread_generation(section: int, generator, people, setup: float, batches: list[ThreadBatch]) -> None:
    title = f"{section}. Threads: generated data"
    print()
    print(title)
    print("-" * len(title))
    busiest = people.busiest_organisation
    corpus = generator.corpus
    paragraphs = sum(len(pool) for pool in corpus.pools.values())
    print(
        f"Generator (bench/threads.py), set up in {setup:.2f} s: the producer organisations and current datasets of\n"
        f"the catalogue read, {number(len(corpus.sentences))} French sentences taken from real dataset descriptions, "
        f"{number(paragraphs)} paragraphs\n"
        f"(template + real sentence) rendered once by render_markdown in {corpus.render_seconds:.2f} s.\n"
        f"People, inserted in {people.seconds:.2f} s: {number(len(people.authors))} authors, "
        f"{number(people.member_count)} members of the {len(people.members)} producer organisations\n"
        f"({len(people.members[busiest])} for the busiest, {generator.organisation_names[busiest]}), "
        f"{len(people.curators)} curators; one password, hashed once.\n"
        "Threads are inserted in bulk (SQLAlchemy Core executemany, "
        f"{generated_threads.CHUNK:,} threads and their rows per round), the FTS5\n"
        "index filled by THREAD_SEARCH.index per round; not through the services, one thread at a time, which\n"
        "would take about half an hour at 100,000 threads (see bench/README.md)."
    )
    print()
    rows = []
    for batch in batches:
        stats = batch.stats
        written = sum(stats.rows.values())
        rows.append(
            [
                batch.label,
                number(stats.threads),
                number(stats.rows["message"]),
                number(stats.rows["thread_event"]),
                number(stats.rows["vote"]),
                number(stats.rows["subscription"]),
                f"{stats.seconds:.2f}",
                number(int(stats.threads / stats.seconds)),
                number(int(written / stats.seconds)),
                f"{stats.index_seconds:.2f}",
                f"{stats.analyze_seconds:.2f}",
                f"{stats.groups_seconds:.2f}",
            ]
        )
    print(
        table(
            [
                "batch",
                "threads",
                "messages",
                "events",
                "votes",
                "follows",
                "seconds",
                "threads/s",
                "rows/s",
                "FTS s",
                "ANALYZE s",
                "groups s",
            ],
            rows,
            right=set(range(1, 11)),
        )
    )
    total_seconds = setup + people.seconds + sum(batch.stats.seconds for batch in batches)
    print(f"Generation time of the threads, set-up and people included: {total_seconds:.1f} s")
    print()
    small, big = batches[0].summary, batches[1].summary
    s, b = f"@{number(small['threads'])}", f"@{number(big['threads'])}"

    def share(summary, key):
        return f"{number(summary[key])} ({100 * summary[key] / summary['threads']:.0f} %)"

    def per_thread(summary, key):
        return f"{number(summary[key])} ({summary[key] / summary['threads']:.1f}/thread)"

    contents = [
        ["messages", per_thread(small, "messages"), per_thread(big, "messages")],
        ["  official answers", number(small["official answers"]), number(big["official answers"])],
        ["  internal notes", number(small["internal notes"]), number(big["internal notes"])],
        ["events", per_thread(small, "events"), per_thread(big, "events")],
        ["votes", number(small["votes"]), number(big["votes"])],
        ["subscriptions", number(small["subscriptions"]), number(big["subscriptions"])],
        ["open threads", share(small, "open"), share(big, "open")],
        ["  overdue (open, past due_at)", share(small, "overdue"), share(big, "overdue")],
        ["restricted data requests", number(small["restricted"]), number(big["restricted"])],
        ["without a service (triage)", number(small["unrouted"]), number(big["unrouted"])],
        ["threads of ≥ 50 messages", number(small["long threads"]), number(big["long threads"])],
        [
            "busiest organisation",
            f"{number(small['busiest organisation threads'])} threads",
            f"{number(big['busiest organisation threads'])} threads",
        ],
        [
            "busiest dataset",
            f"{number(small['busiest dataset threads'])} threads",
            f"{number(big['busiest dataset threads'])} threads",
        ],
        ["datasets with threads", number(small["datasets with threads"]), number(big["datasets with threads"])],
    ]
    for kind in ("quality_issue", "question", "data_request", "missing_data"):
        contents.append([f"kind {kind}", number(small["kinds"].get(kind, 0)), number(big["kinds"].get(kind, 0))])
    for status in ThreadStatus:
        contents.append(
            [f"status {status.value}", number(small["statuses"].get(status, 0)), number(big["statuses"].get(status, 0))]
        )
    print(table(["contents", s, b], contents, right={1, 2}))
    print()
    checks = [
        [name, number(count), number(batches[1].checks[i][1])] for i, (name, count) in enumerate(batches[0].checks)
    ]
    checks.append(["FTS5 integrity-check of thread_fts", batches[0].integrity, batches[1].integrity])
    broken = sum(c for _, c in batches[0].checks) + sum(c for _, c in batches[1].checks)
    ok = not broken and batches[0].integrity == batches[1].integrity == "OK"
    print(table(["consistency: rows out of line (0 expected)", s, b], checks, right={1, 2}))
    print(
        f"Consistency with what the services write: {verdict(ok)} "
        f"(checked in {batches[0].check_seconds:.1f} s and {batches[1].check_seconds:.1f} s)"
    )


def report_thread_requests(section, args, endpoints, chosen, small, big, small_total, big_total) -> None:
    title = (
        f"{section}. Threads: requests through the WSGI app (test client, {WARMUPS} warm-ups, {args.requests} timed)"
    )
    print()
    print(title)
    print("-" * len(title))
    for name, value in chosen.items():
        print(f"{name:12}: {value}")
    print()
    print("URLs:")
    for endpoint in endpoints:
        print(f"  {endpoint.label:28} {endpoint.url}  [{endpoint.who}]")
    print()
    s, b = f"@{number(small_total)}", f"@{number(big_total)}"
    rows = []
    verdicts = {"time": True, "sql": True, "growth": True}
    for endpoint in endpoints:
        little, large = small[endpoint.label], big[endpoint.label]
        growth = large.median_ms / little.median_ms
        fast, same, flat = large.median_ms < TARGET_MEDIAN_MS, little.queries == large.queries, growth <= TARGET_GROWTH
        verdicts["time"] &= fast
        verdicts["sql"] &= same
        verdicts["growth"] &= flat
        results = f"{number(little.results)} / {number(large.results)}" if endpoint.count else "—"
        if endpoint.page != 1:
            results = f"p.{little.served_page} / p.{large.served_page}"
        rows.append(
            [
                endpoint.label,
                "/".join(map(str, little.queries)),
                "/".join(map(str, large.queries)),
                f"{little.median_ms:.1f}",
                f"{little.p95_ms:.1f}",
                f"{large.median_ms:.1f}",
                f"{large.p95_ms:.1f}",
                f"{growth:.2f}",
                f"{little.samples}/{large.samples}",
                f"{large.size_kb:.0f}",
                results,
                verdict(fast),
                verdict(same),
                verdict(flat),
            ]
        )
    print(
        table(
            [
                "request",
                f"SQL {s}",
                f"SQL {b}",
                f"med ms {s}",
                f"p95 {s}",
                f"med ms {b}",
                f"p95 {b}",
                "growth",
                "n",
                "KiB",
                "results",
                "< 50 ms",
                "same SQL",
                "≤ 1.5×",
            ],
            rows,
            right=set(range(1, 10)),
        )
    )
    print()
    print(
        f"growth = median {b} / median {s}. n = timed requests {s}/{b} (fewer than {args.requests} when a URL used\n"
        f"up its {URL_BUDGET_S:.0f} s budget). results = {s} / {b}: matching threads for the lists, threads under the\n"
        "inbox tab, timeline items shown on the thread page, visible threads counted in a catalogue page's panel;\n"
        f"for page {THREAD_DEEP_PAGE}, the page actually served (the last one when there are fewer pages).\n"
        f"Targets at {number(big_total)} threads: median < {TARGET_MEDIAN_MS:.0f} ms: "
        f"{'all OK' if verdicts['time'] else 'MISSED for some'}; SQL statements the same at both sizes: "
        f"{'all OK' if verdicts['sql'] else 'MISSED for some'};\n"
        f"growth ≤ {TARGET_GROWTH}×: {'all OK' if verdicts['growth'] else 'MISSED for some'}."
    )


# Capitalisation and notifications, on the threads the threads part leaves -------------------------------


def run_capitalisation(app, people, section: int) -> None:
    say("capitalisation: national and one-producer reports")
    with app.app_context():
        timings = capitalisation_bench.measure(people.busiest_organisation)
    repeats = capitalisation_bench.REPEATS
    title = f"{section}. Capitalisation reports (build_report_data; median of {repeats} after a warm-up)"
    print()
    print(title)
    print("-" * len(title))
    rows = []
    targets = [capitalisation_bench.TARGET_NATIONAL_S, capitalisation_bench.TARGET_PRODUCER_S]
    for timing, target in zip(timings, targets, strict=True):
        rows.append(
            [
                timing.label,
                number(timing.threads),
                f"{timing.median:.3f}",
                f"{max(timing.seconds):.3f}",
                str(timing.statements),
                f"{timing.sql_median:.3f}",
                f"{timing.median / timing.sql_median:.1f}×" if timing.sql_median else "-",
                str(timing.recommendations),
                f"< {target:g} s",
                verdict(timing.median < target),
            ]
        )
    print(
        table(
            ["report", "threads", "median s", "max s", "SQL", "bare SQL s", "ratio", "recs", "target", ""],
            rows,
            right={1, 2, 3, 4, 5, 6, 7},
        )
    )
    print()
    print(
        "bare SQL s = the statements the report sent, replayed on a raw DB-API cursor (execute + fetchall), median\n"
        "of 3; ratio = report / bare SQL: the rest is Python (summing the counts, medians, group members, rules)."
    )
    curator = login(app, people.emails[people.curators[0]])
    pages = capitalisation_bench.measure_dashboard(curator)
    print()
    target_ms, target_kb = capitalisation_bench.TARGET_DASHBOARD_MS, capitalisation_bench.TARGET_DASHBOARD_KB
    print(
        table(
            ["page (signed-in curator)", "URL", "median ms", "max ms", "KB", f"< {target_ms} ms", f"< {target_kb} KB"],
            [
                [
                    page.label,
                    page.url,
                    f"{page.median:.0f}",
                    f"{max(page.milliseconds):.0f}",
                    f"{page.kilobytes:.0f}",
                    verdict(page.median < target_ms),
                    verdict(page.kilobytes < target_kb),
                ]
                for page in pages
            ],
            right={2, 3, 4},
        )
    )
    print(f"median of {capitalisation_bench.DASHBOARD_REQUESTS} requests after a warm-up, through app.test_client().")


def run_notifications(app, people, section: int) -> None:
    say("notifications: a new thread on the busiest organisation, then 10,000 mails to loopback SMTP")
    with app.app_context():
        authors = sorted(people.authors)
        created = notifications_bench.notifications_of_a_new_thread(people.busiest_organisation, authors, QueryCounter)
        delivered = notifications_bench.delivery_of_queued_mails(app)
    title = f"{section}. Notifications and mail"
    print()
    print(title)
    print("-" * len(title))
    print(
        f"New thread on {created.organisation} ({created.members} members told of new threads, "
        f"{number(created.followers)} followers of the organisation):\n"
        f"  create_thread + commit: median {created.median_ms:.1f} ms, max {max(created.seconds) * 1000:.1f} ms "
        f"over {len(created.seconds)}; {number(created.notifications)} notifications; "
        f"{created.statements} SQL statements"
    )
    rate = delivered.mails / delivered.seconds if delivered.seconds else 0
    print(
        f"Delivery of {number(delivered.mails)} queued mails to aiosmtpd on 127.0.0.1 (deliver_due, "
        f"{delivered.passes} passes): {delivered.seconds:.1f} s, {rate:,.0f} mails/s; accepted by the server: "
        f"{number(delivered.accepted_by_server)}; rows marked sent: {number(delivered.sent_rows)} "
        f"({verdict(delivered.accepted_by_server == delivered.sent_rows == delivered.mails)})"
    )


if __name__ == "__main__":
    sys.exit(main())
