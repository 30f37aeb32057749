"""Mixed load on gunicorn: do a few curators on the capitalisation dashboard slow down everyone else?

Serves the application with gunicorn (4 workers) on the database the threads benchmark leaves, then sends it
the same mix of pages from 50 clients twice: without the dashboard, then with 10 % of the requests being a
signed-in curator's dashboard (the first screen, a filter changed in place, and the four long tables it
loads as they are scrolled to, in turn). It prints, page by page, the median and 90th percentile latency of
both runs side by side and their ratio, and the throughput. Target: no page of the mix grows by more than
1.5× when the dashboard is added.

    .venv/bin/python bench/run.py --part threads --keep --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The clients are threads of this process, each with its own keep-alive connection, sending requests back to
back (no think time): on a 2-core machine they share the cores with gunicorn and the database, as the
latencies do.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "mot-de-passe-du-banc-2026"  # bench/threads.py: every generated person's password
TARGET_RATIO = 1.5
DASHBOARD_SHARE = 0.10


@dataclass(frozen=True)
class Request:
    label: str
    path: str
    curator: bool = False
    htmx: bool = False


@dataclass
class Results:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def choose_pages(database_url: str) -> tuple[list[Request], list[Request], str]:
    """The mix of pages everyone uses, the curator's dashboard requests, and a curator's e-mail, read from the
    benchmark's database."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        threads = connection.execute(
            sa.text("SELECT id FROM thread WHERE visibility = 'public' ORDER BY id LIMIT 200")
        ).scalars()
        thread_ids = list(threads)
        dataset = connection.execute(
            sa.text(
                "SELECT d.catalogue_id FROM dataset d JOIN thread t ON t.dataset_id = d.id "
                "GROUP BY d.catalogue_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        organisation = connection.execute(
            sa.text(
                "SELECT o.slug FROM organisation o JOIN thread t ON t.organisation_id = o.id "
                "GROUP BY o.slug ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        curator = connection.execute(
            sa.text("SELECT email FROM user_account WHERE role = 'curator' ORDER BY id LIMIT 1")
        ).scalar_one()
    engine.dispose()
    rng = random.Random(1)
    mix = [
        Request("home", "/"),
        Request("threads, page 1", "/fils"),
        Request("search « zone »", "/fils?q=zone"),
        *(Request("thread page", f"/fils/{rng.choice(thread_ids)}") for _ in range(3)),
        Request("dataset page", f"/jeux-de-donnees/{dataset}"),
        Request("organisation page", f"/organisations/{organisation}"),
        Request("catalogue", "/jeux-de-donnees"),
        Request("catalogue « eau »", "/jeux-de-donnees?" + urlencode({"q": "eau"})),
    ]
    dashboard = [
        Request("dashboard", "/capitalisation", curator=True),
        Request("dashboard, kind changed (htmx)", "/capitalisation?type=data_request", curator=True, htmx=True),
        *(
            Request(f"dashboard table « {name} » (htmx)", f"/capitalisation/{name}", curator=True, htmx=True)
            for name in ("services", "qualite", "demande", "demandes-similaires")
        ),
    ]
    return mix, dashboard, curator


def start_gunicorn(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench-load-secret")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped: see its output above")
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in 30 s")


def sign_in(port: int, email: str) -> str:
    """Sign in through the login form (CSRF token included); returns the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/connexion")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    body = urlencode({"email": email, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})})
    connection.request(
        "POST", "/connexion", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )  # fmt: skip
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise SystemExit(f"signing in as {email} failed: HTTP {response.status}")
    return response.getheader("Set-Cookie", "").split(";")[0]


def run_load(port: int, sequence: list[Request], cookie: str, clients: int, seconds: float) -> Results:
    """`clients` threads send the requests of `sequence` in turn (each starting at another place) for `seconds`."""
    results = Results()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        position = number * 7
        while time.perf_counter() < deadline:
            request = sequence[position % len(sequence)]
            position += 1
            headers = {"Cookie": cookie} if request.curator else {}
            if request.htmx:
                headers["HX-Request"] = "true"
            start = time.perf_counter()
            try:
                connection.request("GET", request.path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    results.latencies[request.label].append(elapsed)
                else:
                    results.errors[request.label] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.seconds = time.perf_counter() - started
    return results


def with_dashboard(mix: list[Request], dashboard: list[Request], share: float) -> list[Request]:
    """The mix with the dashboard requests interleaved so that they make `share` of the sequence."""
    per_dashboard = round((1 - share) / share)  # 9 requests of the mix for each of the dashboard
    sequence, pages = [], iter(mix * (per_dashboard * len(dashboard)))
    for request in dashboard * len(mix):
        sequence.extend(next(pages) for _ in range(per_dashboard))
        sequence.append(request)
    return sequence


def percentile(values: list[float], rank: float) -> float:
    """By nearest rank: the ⌈rank · n⌉-th smallest value."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank * len(ordered)) - 1)]


def report(mix: list[Request], dashboard: list[Request], without: Results, loaded: Results) -> bool:
    labels = list(dict.fromkeys(r.label for r in mix))
    print(f"{'page':46} {'n':>6} {'median ms':>10} {'p90 ms':>8} | {'n':>6} {'median ms':>10} {'p90 ms':>8} "
          f"{'ratio':>6}  ≤ {TARGET_RATIO}×")  # fmt: skip
    print(f"{'':46} {'without the dashboard':>26} | {'with 10 % dashboard':>26}")
    ok = True
    for label in labels:
        a, b = without.latencies.get(label, []), loaded.latencies.get(label, [])
        if not a or not b:
            print(f"{label:46} no answer")
            ok = False
            continue
        ratio = statistics.median(b) / statistics.median(a)
        ok &= ratio <= TARGET_RATIO
        print(
            f"{label:46} {len(a):>6} {1000 * statistics.median(a):>10.0f} {1000 * percentile(a, 0.9):>8.0f} | "
            f"{len(b):>6} {1000 * statistics.median(b):>10.0f} {1000 * percentile(b, 0.9):>8.0f} "
            f"{ratio:>5.2f}×  {'OK' if ratio <= TARGET_RATIO else 'MISSED'}"
        )
    for label in dict.fromkeys(r.label for r in dashboard):
        b = loaded.latencies.get(label, [])
        if b:
            print(f"{label:46} {'':>6} {'':>10} {'':>8} | {len(b):>6} {1000 * statistics.median(b):>10.0f} "
                  f"{1000 * percentile(b, 0.9):>8.0f}")  # fmt: skip
    print()
    print(
        f"throughput: {without.requests / without.seconds:.1f} requests/s without the dashboard, "
        f"{loaded.requests / loaded.seconds:.1f} requests/s with it "
        f"({sum(len(loaded.latencies[r.label]) for r in dashboard if r.label in loaded.latencies)} dashboard "
        f"requests); errors: {sum(without.errors.values())} / {sum(loaded.errors.values())}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the database bench/run.py --keep left filled")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=40.0, help="duration of each run, in seconds (40)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--port", type=int, default=5081, help="the port gunicorn listens on (5081)")
    args = parser.parse_args(argv)

    mix, dashboard, curator = choose_pages(args.database_url)
    print(f"Mixed load: gunicorn, {args.workers} workers, {args.clients} clients, {args.seconds:.0f} s a run, "
          f"{os.cpu_count()} cores; database {args.database_url.split('@')[-1]}")  # fmt: skip
    server = start_gunicorn(args.database_url, args.port, args.workers)
    try:
        cookie = sign_in(args.port, curator)
        run_load(args.port, mix + dashboard, cookie, 4, 5)  # warm every worker on every page
        without = run_load(args.port, mix, cookie, args.clients, args.seconds)
        loaded = run_load(args.port, with_dashboard(mix, dashboard, DASHBOARD_SHARE), cookie, args.clients,
                          args.seconds)  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print()
    ok = report(mix, dashboard, without, loaded)
    print(f"Target: no page's median grows by more than {TARGET_RATIO}× with the dashboard: {'OK' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
