"""Replies by mail: 1,000 replies in a row over loopback SMTP to the receiver, each posted once.

The receiver runs as in production, a process of its own (`flask --app wsgi mail receive`), on a fresh database
(a temporary SQLite file, or `--database-url`, whose schema is migrated and to which a service, a requester, a
member and a thread are added). This process sends `--replies` distinct replies, one after the other, half from
the requester and half from the member, each to the reply address of its sender, and for each one:

- the time from the end of DATA to the receiver's 250 (the reply is checked, posted and committed before it);
- the time from that 250 to the message being read back from the database by this process (target: < 1 s);

then counts the messages: there must be exactly one per reply. It sends the same mails again and counts again:
nothing more may be created. It prints the figures and exits 1 if a target is missed.

    .venv/bin/python bench/inbound.py [--replies 1000] [--database-url postgresql+psycopg://…/bench_inbound]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the receiver stopped (exit {process.returncode})")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the receiver did not start")


def _setup(database_url: str) -> tuple[int, list[tuple[str, str]]]:
    """A migrated database with a service, a requester, a member and a thread; (thread id, [(sender, address)])."""
    from flask_migrate import upgrade

    from feedback import create_app
    from feedback.accounts import services as accounts
    from feedback.accounts.models import MembershipRole, Organisation
    from feedback.extensions import db
    from feedback.mail.reply_address import reply_address
    from feedback.threads.models import ThreadKind
    from feedback.threads.services import NewThread, create_thread

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": os.environ["SECRET_KEY"]})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        suffix = str(int(time.time()))
        service = Organisation(name=f"DDT du banc {suffix}", slug=f"ddt-banc-{suffix}", is_producer=True)
        db.session.add(service)
        db.session.flush()
        requester = accounts.create_user(
            email=f"usager-{suffix}@banc.test", name="Usager du banc", password=None, confirmed=True
        )
        member = accounts.create_user(
            email=f"agent-{suffix}@banc.test", name="Agent du banc", password=None, confirmed=True
        )
        accounts.add_member(member, service, MembershipRole.MEMBER)
        thread = create_thread(
            requester,
            NewThread(kind=ThreadKind.DATA_REQUEST, title="Demande du banc", body="Bonjour.", organisation=service),
        )
        db.session.commit()
        senders = [(p.email, reply_address(p.id, thread.id)) for p in (requester, member)]
        return thread.id, senders


def _count(engine, thread_id: int) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT count(*) FROM message WHERE thread_id = :t"), {"t": thread_id})


def _present(engine, body: str) -> bool:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT 1 FROM message WHERE body = :b"), {"b": body}) is not None


def _send_all(port: int, mails: list[EmailMessage], engine) -> tuple[list[float], list[float], int]:
    """Send each mail on one connection; the DATA → 250 times, the 250 → in the database times, the refusals."""
    to_250, to_database, refused = [], [], 0
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        for mail in mails:
            started = time.perf_counter()
            try:
                smtp.send_message(mail)
            except smtplib.SMTPException:
                refused += 1
                continue
            accepted = time.perf_counter()
            to_250.append(accepted - started)
            body = mail.get_content().split("\n", 1)[0]  # what the receiver keeps: the quoted text goes
            while not _present(engine, body):
                if time.perf_counter() - accepted > 10:
                    break
                time.sleep(0.001)
            to_database.append(time.perf_counter() - accepted)
    return to_250, to_database, refused


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=1000, help="how many distinct replies to send (1000)")
    parser.add_argument("--database-url", help="the database (default: a temporary SQLite file)")
    arguments = parser.parse_args()

    scratch = tempfile.TemporaryDirectory()
    database_url = arguments.database_url or f"sqlite:///{Path(scratch.name) / 'inbound.sqlite3'}"
    os.environ.setdefault("SECRET_KEY", "bench-inbound-secret")
    thread_id, senders = _setup(database_url)
    engine = sa.create_engine(database_url)
    base = _count(engine, thread_id)

    port = _free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "receive", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, receiver)
        mails = []
        for number in range(arguments.replies):
            sender, address = senders[number % 2]
            mail = EmailMessage()
            mail["From"], mail["To"] = sender, address
            mail["Subject"] = "Re: [Fil] Demande du banc"
            mail["Message-ID"] = make_msgid(domain="banc.test")
            mail.set_content(f"Réponse n°{number} du banc.\n\nLe 5 déc. 2026, Retours a écrit :\n> cité\n")
            mails.append(mail)

        started = time.perf_counter()
        to_250, to_database, refused = _send_all(port, mails, engine)
        elapsed = time.perf_counter() - started
        posted = _count(engine, thread_id) - base
        again_250, _, again_refused = _send_all(port, mails, engine)
        posted_after_again = _count(engine, thread_id) - base
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
        engine.dispose()
        scratch.cleanup()

    database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    print(f"Replies by mail over loopback SMTP ({database}, receiver in its own process)")
    print(f"  sent {len(mails)}, taken (250) {len(to_250)}, refused {refused}, in {elapsed:.1f} s "
          f"({len(mails) / elapsed:.0f} replies/s)")  # fmt: skip
    print(f"  end of DATA → 250 (checked, posted, committed): {_quantiles(to_250)}")
    print(f"  250 → message read back from the database: {_quantiles(to_database)} (target < {TARGET_SECONDS:.0f} s)")
    print(f"  messages created: {posted} for {len(mails)} replies")
    print(f"  the same {len(mails)} mails sent again: {len(again_250)} answered 250, {again_refused} refused, "
          f"{posted_after_again - posted} more messages")  # fmt: skip
    ok = posted == len(mails) and refused == 0 and posted_after_again == posted and max(to_database) < TARGET_SECONDS
    print("  OK" if ok else "  TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
