"""Write load on gunicorn: many people replying to the same few threads at once, on PostgreSQL.

Prepares its own database (`--database-url`, created if missing, emptied and migrated): a producer service,
`--threads` public questions addressed to it and `--clients` signed-up people. Serves the application with
gunicorn on 127.0.0.1 only (as bench/load.py does: `deploy/gunicorn.conf.py` when the repository has it,
`--workers` sync workers) and drives it with locust used as a library: each client signs in through the form
(CSRF token included), then replies without pause, as a form without JavaScript does (POST, 303), to one of
the threads (client i to thread i mod `--threads`), for `--seconds`.

Prints requests/s, p50/p95/p99, the answers by status, then checks the database: every reply accepted
(303) is stored, word for word; nothing is stored that was not answered; each thread's counters equal its
rows (messages, public messages, followers), so that no thread is half-written.

`--restart-postgres`: at a third of the run, PostgreSQL is restarted (`pg_ctlcluster ... main restart`).
The script reports the requests that failed during the outage and how (the French 503 page or another
answer), whether replies were accepted again afterwards with the same gunicorn (same master process), and
the same checks of the database. Rate limits are off for this run (`RATELIMIT_ENABLED=0`): it measures
concurrent writes, not the limiter.

    .venv/bin/python bench/writes.py
    .venv/bin/python bench/writes.py --restart-postgres
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import DATA_DIR, ROOT, start_gunicorn, stop  # bench/load.py: the same gunicorn

PASSWORD = "mot-de-passe-des-ecritures-2026"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_writes"
UNAVAILABLE = "Service momentanément indisponible"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# The database --------------------------------------------------------------------------------------------


def prepare(database_url: str, clients: int, threads: int) -> tuple[list[int], list[str]]:
    """An empty, migrated database with a producer, `threads` questions and `clients` people; their ids/emails."""
    import sqlalchemy as sa

    name = database_url.rsplit("/", 1)[1]
    server = sa.create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    environment = dict(os.environ, DATABASE_URL=database_url)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=environment,
                   check=True, capture_output=True)  # fmt: skip
    script = f"""
from werkzeug.security import generate_password_hash
from feedback import create_app
from feedback.accounts.models import Organisation, User
from feedback.extensions import db
from feedback.threads import services
from feedback.threads.models import ThreadKind
app = create_app()
with app.app_context():
    producer = Organisation(name="DDT du banc", slug="ddt-du-banc", kind="ddt", is_producer=True)
    db.session.add(producer)
    password = generate_password_hash({PASSWORD!r}, "pbkdf2:sha256:1000")
    people = [User(email=f"ecrivain{{i}}@banc.example", name=f"Écrivain {{i}}", password_hash=password, confirmed=True)
              for i in range({clients})]
    db.session.add_all(people)
    db.session.flush()
    ids = [services.create_thread(people[i % len(people)], services.NewThread(kind=ThreadKind.QUESTION,
           title=f"Fil très suivi {{i}}", body="Premier message.", organisation=producer)).id for i in range({threads})]
    db.session.commit()
    print(" ".join(map(str, ids)))
    print(" ".join(p.email for p in people))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"preparing the database failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return [int(i) for i in lines[-2].split()], lines[-1].split()


def check_database(database_url: str, thread_ids: list[int], accepted: set[str], marker: str) -> dict:
    """What the run left: replies stored, accepted ones missing, unanswered ones stored, inconsistent threads."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        stored = set(connection.scalars(sa.text("SELECT body FROM message WHERE body LIKE :m"), {"m": marker + "%"}))
        inconsistent = list(
            connection.execute(
                sa.text(
                    """SELECT t.id, t.messages_count, t.public_messages_count, t.followers_count,
                       (SELECT count(*) FROM message m WHERE m.thread_id = t.id),
                       (SELECT count(*) FROM message m WHERE m.thread_id = t.id AND NOT m.internal),
                       (SELECT count(*) FROM subscription s WHERE s.thread_id = t.id)
                       FROM thread t WHERE t.id IN :ids"""
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": thread_ids},
            )
        )
    engine.dispose()
    half_written = [row for row in inconsistent if (row[1], row[2], row[3]) != (row[4], row[5], row[6])]
    return {
        "stored": len(stored),
        "missing": len(accepted - stored),
        "unanswered_but_stored": len(stored - accepted),
        "half_written": half_written,
    }


# The load --------------------------------------------------------------------------------------------------


class Run:
    """What the clients saw: each answer's time and status, and the bodies of the replies accepted."""

    def __init__(self, thread_ids: list[int], emails: list[str]):
        self.thread_ids = thread_ids
        self.emails = list(emails)
        self.marker = f"banc-{uuid.uuid4().hex[:8]}"
        self.accepted: set[str] = set()
        self.answers: list[tuple[float, int, bool]] = []  # (time, status, the French 503 page)
        self.next_client = 0


def replier_class(run: Run) -> type[FastHttpUser]:
    class Replier(FastHttpUser):
        wait_time = constant(0)
        network_timeout = 60.0
        connection_timeout = 30.0

        def on_start(self) -> None:
            index = run.next_client
            run.next_client += 1
            self.thread_id = run.thread_ids[index % len(run.thread_ids)]
            self.email = run.emails[index % len(run.emails)]
            self.count = 0
            page = self.client.get("/connexion", name="sign-in form")
            token = TOKEN.search(page.text or "")
            self.client.post(
                "/connexion",
                data={"email": self.email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""},
                name="sign in",
                allow_redirects=False,
            )
            self.token = ""

        @task
        def reply(self) -> None:
            if not self.token:
                page = self.client.get(f"/fils/{self.thread_id}", name="thread page")
                found = TOKEN.search(page.text or "")
                if not found:
                    return
                self.token = found.group(1)
            self.count += 1
            body = f"{run.marker} {self.email} réponse {self.count}"
            with self.client.post(
                f"/fils/{self.thread_id}/messages",
                data={"body": body, "csrf_token": self.token},
                name="reply",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                status = response.status_code or 0
                unavailable = status == 503 and UNAVAILABLE in (response.text or "")
                run.answers.append((time.perf_counter(), status, unavailable))
                if status == 303:
                    run.accepted.add(body)
                    response.success()
                else:
                    response.failure(f"HTTP {status}")

    return Replier


def restart_postgres(run: Run, window: dict) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    window["start"] = time.perf_counter()
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], capture_output=True, text=True
    )
    window["end"] = time.perf_counter()
    window["result"] = done.returncode, (done.stderr or done.stdout).strip()[:200]


def percentile(entry, share: float) -> float:
    return entry.get_response_time_percentile(share) or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help=f"PostgreSQL, emptied ({DEFAULT_DATABASE})")
    parser.add_argument("--clients", type=int, default=20, help="clients replying at once (20)")
    parser.add_argument("--threads", type=int, default=5, help="threads they reply to (5)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the run (30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--port", type=int, default=5082, help="the port gunicorn listens on, on 127.0.0.1 (5082)")
    parser.add_argument("--restart-postgres", action="store_true", help="restart PostgreSQL at a third of the run")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url must name a PostgreSQL database")

    restart = ", PostgreSQL restarted at a third" if args.restart_postgres else ""
    print(f"Write load: gunicorn, {args.workers} workers, {args.clients} clients replying to {args.threads} "
          f"threads, {args.seconds:.0f} s{restart}")  # fmt: skip
    thread_ids, emails = prepare(args.database_url, args.clients, args.threads)
    os.environ["RATELIMIT_ENABLED"] = "0"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    server = start_gunicorn(args.database_url, args.port, args.workers, DATA_DIR / "writes-gunicorn.log")
    master = server.pid
    run = Run(thread_ids, emails)
    window: dict = {}
    try:
        environment = Environment(user_classes=[replier_class(run)], events=events, host=f"http://127.0.0.1:{args.port}")
        runner = environment.create_local_runner()
        runner.start(args.clients, spawn_rate=args.clients)
        while runner.user_count < args.clients:
            gevent.sleep(0.05)
        gevent.sleep(1)  # every client signed in
        environment.stats.reset_all()
        run.answers.clear()
        started = time.perf_counter()
        if args.restart_postgres:
            gevent.spawn_later(args.seconds / 3, restart_postgres, run, window)
        gevent.sleep(args.seconds)
        elapsed = time.perf_counter() - started
        runner.quit()
        entry = environment.stats.get("reply", "POST")
        answers = list(run.answers)
        still_running = server.poll() is None
    finally:
        stop(server)

    statuses = Counter(status for _, status, _ in answers)
    print(f"Replies : {len(answers)} in {elapsed:.1f} s = {len(answers) / elapsed:.1f} requests/s; "
          f"p50 {percentile(entry, 0.5):.0f} ms, p95 {percentile(entry, 0.95):.0f} ms, "
          f"p99 {percentile(entry, 0.99):.0f} ms")  # fmt: skip
    print("Answers : " + ", ".join(f"{code or 'none'}: {n}" for code, n in sorted(statuses.items())))
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    print(f"5xx     : {server_errors}")
    ok = True
    if window:
        code, said = window["result"]
        outage = [(t, s, page) for t, s, page in answers if t >= window["start"] and s != 303]
        french = sum(1 for _, s, page in outage if page)
        after = [t for t, s, _ in answers if s == 303 and t > window["end"]]
        recovered = (after[0] - window["end"]) if after else None
        print(f"Restart : pg_ctlcluster exit {code} {said!r}, took {window['end'] - window['start']:.1f} s")
        print(f"Outage  : {len(outage)} requests failed from the restart on: {french} with the French 503 page, "
              f"others {dict(Counter(s for _, s, page in outage if not page))}")  # fmt: skip
        recovery = f"{recovered:.1f} s after the restart ended" if recovered is not None else "NEVER"
        print(f"Recovery: replies accepted again {recovery}; {len(after)} accepted afterwards; "
              f"same gunicorn master (pid {master}) still running: {still_running}")  # fmt: skip
        ok = ok and recovered is not None and still_running and french == len(outage)
    else:
        ok = ok and server_errors == 0
    check = check_database(args.database_url, thread_ids, run.accepted, run.marker)
    print(f"Stored  : {len(run.accepted)} replies accepted (303), {check['stored']} stored; "
          f"{check['missing']} accepted but missing, {check['unanswered_but_stored']} stored without a 303 "
          "(in flight at the end, or answered by an error after the commit)")  # fmt: skip
    print(f"Threads : {len(thread_ids) - len(check['half_written'])}/{len(thread_ids)} with counters equal to "
          f"their rows{'; half-written: ' + str(check['half_written']) if check['half_written'] else ''}")  # fmt: skip
    ok = ok and bool(run.accepted) and check["missing"] == 0 and not check["half_written"]
    print("Result  : " + ("OK" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
