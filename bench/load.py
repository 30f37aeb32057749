"""Read load on gunicorn: requests/s and latency of the pages everyone reads, against a `SELECT 1` floor.

Serves the application with gunicorn (4 sync workers, or deploy/gunicorn.conf.py when it exists) on the
database a `--keep` run of the threads benchmark leaves, on 127.0.0.1 only, and drives it with locust,
headless, as a library, for a bounded time:

1. warm-up: a few clients read every page, so that every worker has compiled its templates;
2. alone: one client reads every page in turn, and `/healthz` (a route that only runs `SELECT 1` through
   the same stack): each page's own cost, and its ratio to that floor;
3. floor: `/healthz` alone from all the clients: the most requests/s the stack can serve;
4. the read mix from all the clients, no think time: the home page, the catalogue, a catalogue search, a
   dataset page, the thread list, a thread search on a common word, thread pages and a producer's inbox
   (signed in through the login form). Requests/s, p50/p95/p99 per page, errors and 5xx.

The visitors' pages are read with no cookie (as a visitor who is not signed in), the inbox with the producer's
session cookie alone. The server runs with the application's settings: anonymous pages are kept a few seconds
by each worker (FEEDBACK_PAGE_CACHE_SECONDS, 5); `--page-cache-seconds 0` measures every page drawn anew.

    .venv/bin/python bench/run.py --part threads --keep --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/load.py --database-url … --clients 200 --seconds 60
    .venv/bin/python bench/load.py --database-url … --page-cache-seconds 0

With `--dashboard`, a signed-in curator's capitalisation dashboard makes a tenth of the requests of step 4
(its first screen, a filter changed as htmx sends it, its four long tables).

On a 2-core machine, locust, gunicorn and PostgreSQL share the cores: the figures are a floor for the
application, and other processes lower them further (the load average is printed at the start and at the end).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
PASSWORD = "mot-de-passe-du-banc-2026"  # bench/threads.py: every generated person's password
FLOOR = "healthz (SELECT 1)"
TARGET_RPS = 150.0
TARGET_P95_MS = 300.0
WARM_SECONDS = 6.0
ALONE_SECONDS = 12.0
FLOOR_SECONDS = 10.0


@dataclass(frozen=True)
class Page:
    label: str
    paths: tuple[str, ...]
    signed_in: str = ""  # "producer" or "curator": sent with that person's session cookie
    htmx: bool = False


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def choose_pages(database_url: str) -> tuple[list[Page], list[Page], str, str]:
    """The read mix, the dashboard's requests, and the e-mails of a producer member and of a curator, read
    from the benchmark's database: real URLs, real ids."""
    import sqlalchemy as sa  # here, not above: locust's monkey-patching comes first

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:

        def scalars(sql: str, **params) -> list:
            return list(connection.execute(sa.text(sql), params).scalars())

        busiest = scalars(
            "SELECT organisation_id FROM thread WHERE organisation_id IS NOT NULL "
            "GROUP BY organisation_id ORDER BY count(*) DESC LIMIT 1"
        )[0]
        member = scalars(
            "SELECT u.email FROM user_account u JOIN membership m ON m.user_id = u.id "
            "WHERE m.organisation_id = :organisation ORDER BY u.id LIMIT 1",
            organisation=busiest,
        )[0]
        curator = scalars("SELECT email FROM user_account WHERE role = 'curator' ORDER BY id LIMIT 1")[0]
        threads = scalars("SELECT id FROM thread WHERE visibility = 'public' ORDER BY id")
        datasets = scalars(
            "SELECT d.catalogue_id FROM dataset d JOIN thread t ON t.dataset_id = d.id "
            "GROUP BY d.catalogue_id ORDER BY count(*) DESC LIMIT 50"
        )
    engine.dispose()
    rng = random.Random(1)
    mix = [
        Page("home", ("/",)),
        Page("catalogue", ("/jeux-de-donnees",)),
        Page("catalogue search « eau »", ("/jeux-de-donnees?" + urlencode({"q": "eau"}),)),
        Page("dataset page", tuple(f"/jeux-de-donnees/{identifier}" for identifier in datasets)),
        Page("threads list", ("/fils",)),
        Page("thread search « zone »", ("/fils?q=zone",)),
        Page("thread page", tuple(f"/fils/{thread_id}" for thread_id in rng.sample(threads, 200))),
        Page("producer's inbox", ("/boite-de-reception",), signed_in="producer"),
    ]
    dashboard = [
        Page("dashboard", ("/capitalisation",), signed_in="curator"),
        Page("dashboard, kind changed (htmx)", ("/capitalisation?type=data_request",), "curator", htmx=True),
        Page(
            "dashboard tables (htmx)",
            tuple(f"/capitalisation/{name}" for name in ("services", "qualite", "demande", "demandes-similaires")),
            "curator",
            htmx=True,
        ),
    ]
    return mix, dashboard, member, curator


# gunicorn ---------------------------------------------------------------------------------------------------


def start_gunicorn(
    database_url: str, port: int, workers: int, log: Path, settings_env: dict[str, str] | None = None
) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, serving bench/load_server.py (the application, plus `/healthz` if it has
    none), with the deployment's configuration when the repository has one, and `settings_env` on top."""
    env = dict(
        os.environ,
        **(settings_env or {}),
        DATABASE_URL=database_url,
        SECRET_KEY="bench-load-secret",
        FEEDBACK_BASE_URL=f"http://127.0.0.1:{port}",
    )
    settings = ["-c", str(GUNICORN_CONFIG)] if GUNICORN_CONFIG.is_file() else ["--worker-class", "sync"]
    command = [sys.executable, "-m", "gunicorn", *settings, "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--pythonpath", str(ROOT / "bench"), "load_server:app"]  # fmt: skip
    print(f"Server  : {' '.join(command[2:])} (its output: {log})")
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True)
    import http.client

    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped: see {log}")
        time.sleep(0.3)
    stop(process)
    raise SystemExit("gunicorn did not answer in 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def sign_in(port: int, email: str) -> str:
    """Signs in through the login form (its CSRF token included); returns the session cookie."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/connexion")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = [header.split(";")[0] for name, header in response.getheaders() if name.lower() == "set-cookie"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    body = urlencode({"email": email, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})})
    connection.request(
        "POST", "/connexion", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(cookies)},
    )  # fmt: skip
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise SystemExit(f"signing in as {email} failed: HTTP {response.status}")
    cookies = [header.split(";")[0] for name, header in response.getheaders() if name.lower() == "set-cookie"]
    return "; ".join(cookie for cookie in cookies if not cookie.endswith("="))


# locust ------------------------------------------------------------------------------------------------------


def reader_class(pages: list[tuple[Page, int]], cookies: dict[str, str]) -> type[FastHttpUser]:
    """A locust user that reads `pages` (each with its weight) back to back, each time a random one of its URLs."""
    population = [page for page, weight in pages for _ in range(weight)]

    class Reader(FastHttpUser):
        wait_time = constant(0)
        network_timeout = 120.0
        connection_timeout = 30.0

        @task
        def read(self) -> None:
            page = random.choice(population)
            # Each request carries only the cookie its page names: a visitor's pages are read with no cookie at all,
            # never with a session cookie that a signed-in page's answer left in the client's jar.
            self.client.cookiejar.clear()
            headers = {}
            if page.signed_in:
                headers["Cookie"] = cookies[page.signed_in]
            if page.htmx:
                headers["HX-Request"] = "true"
            self.client.get(random.choice(page.paths), name=page.label, headers=headers, allow_redirects=False)

    return Reader


@dataclass
class Phase:
    seconds: float
    stats: dict[str, dict]
    statuses: Counter

    @property
    def requests(self) -> int:
        return self.stats.get("all pages", {}).get("n", 0)

    @property
    def errors(self) -> int:
        return self.stats.get("all pages", {}).get("failures", 0)


def run_phase(host: str, pages: list[tuple[Page, int]], cookies: dict[str, str], clients: int, seconds: float) -> Phase:
    """`clients` locust users read `pages` for `seconds`, timed from the moment they are all started."""
    environment = Environment(user_classes=[reader_class(pages, cookies)], events=events, host=host)
    statuses: Counter = Counter()

    def count_status(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
        code = getattr(response, "status_code", 0) or 0
        statuses["5xx" if code >= 500 else "no answer" if not code else f"{code // 100}xx"] += 1

    environment.events.request.add_listener(count_status)
    runner = environment.create_local_runner()
    started = {}

    def on_spawned(user_count, **kwargs):
        environment.stats.reset_all()
        statuses.clear()
        started["at"] = time.perf_counter()

    environment.events.spawning_complete.add_listener(on_spawned)
    runner.start(clients, spawn_rate=min(clients, 100))
    spawn_deadline = time.perf_counter() + 30
    while "at" not in started and time.perf_counter() < spawn_deadline:
        gevent.sleep(0.05)
    started.setdefault("at", time.perf_counter())
    gevent.sleep(max(0.0, started["at"] + seconds - time.perf_counter()))
    elapsed = time.perf_counter() - started["at"]
    runner.quit()
    environment.events.request.remove_listener(count_status)
    environment.events.spawning_complete.remove_listener(on_spawned)
    stats = {}
    entries = [(name, entry) for (name, _method), entry in environment.stats.entries.items()]
    for name, entry in [*entries, ("all pages", environment.stats.total)]:
        stats[name] = {
            "n": entry.num_requests,
            "failures": entry.num_failures,
            "median": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
    return Phase(seconds=elapsed, stats=stats, statuses=statuses)


# Report ------------------------------------------------------------------------------------------------------


def report(pages: list[Page], alone: Phase, floor: Phase, loaded: Phase, clients: int) -> bool:
    floor_alone = alone.stats.get(FLOOR, {}).get("median") or math.nan
    floor_rps = floor.requests / floor.seconds
    mix_rps = loaded.requests / loaded.seconds
    print()
    print(f"{'page':34} {'alone ms':>8} {'× floor':>8} | {'n':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'errors':>6}")  # fmt: skip
    print(f"{'':34} {'one client':>17} | {f'{clients} clients':>45}")
    for page in [*pages, Page(FLOOR, ())]:
        one = alone.stats.get(page.label)
        many = (floor if page.label == FLOOR else loaded).stats.get(page.label)
        seconds = (floor if page.label == FLOOR else loaded).seconds
        solo = f"{one['median']:>8.0f} {one['median'] / floor_alone:>7.1f}×" if one else f"{'—':>8} {'—':>8}"
        if many:
            print(f"{page.label:34} {solo} | {many['n']:>6} {many['n'] / seconds:>7.1f} {many['median']:>7.0f} "
                  f"{many['p95']:>7.0f} {many['p99']:>7.0f} {many['failures']:>6}")  # fmt: skip
        else:
            print(f"{page.label:34} {solo} | no request")
    everything = loaded.stats.get("all pages") or {}
    p95 = max((entry["p95"] for name, entry in loaded.stats.items() if name != "all pages"), default=math.nan)
    print()
    print(f"Floor (/healthz alone, {clients} clients): {floor_rps:.1f} requests/s, errors {floor.errors}")
    print(f"Read mix ({clients} clients, {loaded.seconds:.0f} s): {mix_rps:.1f} requests/s "
          f"({mix_rps / floor_rps:.1%} of the floor), p50 {everything.get('median', math.nan):.0f} ms, "
          f"p95 {everything.get('p95', math.nan):.0f} ms (worst page {p95:.0f} ms), "
          f"p99 {everything.get('p99', math.nan):.0f} ms")  # fmt: skip
    print(f"Answers: {dict(sorted(loaded.statuses.items()))}; errors (not 2xx, or no answer): {loaded.errors}")
    fives = loaded.statuses.get("5xx", 0) + floor.statuses.get("5xx", 0)
    checks = [
        (f"≥ {TARGET_RPS:.0f} requests/s", mix_rps >= TARGET_RPS),
        (f"p95 < {TARGET_P95_MS:.0f} ms on every page", p95 < TARGET_P95_MS),
        ("no error", loaded.errors == 0 and floor.errors == 0),
        ("no 5xx", fives == 0),
    ]
    print("Targets : " + "; ".join(f"{label}: {'OK' if ok else 'MISSED'}" for label, ok in checks))
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the database bench/run.py --keep left filled")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of the read mix, in seconds (30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--port", type=int, default=5081, help="the port gunicorn listens on, on 127.0.0.1 (5081)")
    parser.add_argument("--dashboard", action="store_true", help="a curator's dashboard makes 10 %% of the mix")
    parser.add_argument(
        "--page-cache-seconds", type=int, default=None,
        help="FEEDBACK_PAGE_CACHE_SECONDS for the server (the application's default when left out; 0: every "
        "anonymous page drawn for its request)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")

    mix, dashboard, member, curator = choose_pages(args.database_url)
    print(f"Read load: gunicorn, {args.workers} workers, {args.clients} clients, {args.seconds:.0f} s, "
          f"{os.cpu_count()} cores; database {args.database_url.split('@')[-1]}")  # fmt: skip
    print(f"Load    : {load_average()} (1/5/15 min load average at start; other processes lower the figures)")
    settings_env = {}
    if args.page_cache_seconds is not None:
        settings_env["FEEDBACK_PAGE_CACHE_SECONDS"] = str(args.page_cache_seconds)
    kept_for = "the application's default (FEEDBACK_PAGE_CACHE_SECONDS)"
    if args.page_cache_seconds is not None:
        kept_for = f"{args.page_cache_seconds} s (--page-cache-seconds)"
    print(f"Pages kept for anonymous visitors: {kept_for}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    host = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(args.database_url, args.port, args.workers, DATA_DIR / "load-gunicorn.log", settings_env)
    try:
        cookies = {"producer": sign_in(args.port, member)}
        if args.dashboard:
            cookies["curator"] = sign_in(args.port, curator)
        floor_page = Page(FLOOR, ("/healthz",))
        weighted = [(page, 1) for page in mix]
        if args.dashboard:  # 10 % of the requests: 8 pages of weight 9 for 8 dashboard requests
            weighted = [(page, 9) for page in mix] + [(page, 8 // len(dashboard) or 1) for page in dashboard]
        print(f"Pages   : {', '.join(page.label for page in mix)}; producer {member}")
        run_phase(host, [(page, 1) for page in [*mix, *dashboard[: 3 if args.dashboard else 0]]], cookies,
                  min(4, args.clients), WARM_SECONDS)  # fmt: skip
        alone = run_phase(host, [(page, 1) for page in [*mix, floor_page]], cookies, 1, ALONE_SECONDS)
        floor = run_phase(host, [(floor_page, 1)], cookies, args.clients, FLOOR_SECONDS)
        loaded = run_phase(host, weighted, cookies, args.clients, args.seconds)
    finally:
        stop(server)
    ok = report(mix + (dashboard if args.dashboard else []), alone, floor, loaded, args.clients)
    print(f"Load    : {load_average()} at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
