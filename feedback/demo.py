"""`flask --app wsgi demo load`: the demo a newcomer browses after `make run`."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import NamedTuple

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from feedback.accounts import services as accounts
from feedback.accounts.models import EmployerKind, MembershipRole, Organisation, Role
from feedback.catalogue.models import Dataset
from feedback.catalogue.reference import load_reference
from feedback.catalogue.services import import_catalogue
from feedback.catalogue.sources import UnreadableFile
from feedback.database import refresh_statistics
from feedback.extensions import db
from feedback.threads.udata import import_discussions

SAMPLE = Path("catalogue") / "export-dataset-20260116-sample.csv"
DISCUSSIONS = Path("catalogue") / "udata-api-discussions-example.json"
# A real DDT of the sample, whose services-list entry gives its territory and address.
DEMO_PRODUCER_DATAGOUV_ID = "58ad720388ee381d53318fb0"  # DDT Aisne


class DemoAccount(NamedTuple):
    email: str
    name: str
    role: Role
    employer_kind: EmployerKind
    employer_name: str


DEMO_ACCOUNTS = [
    DemoAccount(
        email="usager@demo.ecospheres.test",
        name="Camille Martin",
        role=Role.USER,
        employer_kind=EmployerKind.CONSULTANCY,
        employer_name="Bureau d'études Hydro-Conseil",
    ),
    DemoAccount(
        email="producteur@demo.ecospheres.test",
        name="Dominique Leroy",
        role=Role.USER,
        employer_kind=EmployerKind.STATE_SERVICE,
        employer_name="DDT de l'Aisne",
    ),
    DemoAccount(
        email="administrateur@demo.ecospheres.test",
        name="Alix Moreau",
        role=Role.CURATOR,
        employer_kind=EmployerKind.STATE_SERVICE,
        employer_name="CGDD — administration des données",
    ),
]


@click.group(help="Données de démonstration (à ne pas utiliser en production).")
def demo():
    pass


@demo.command(
    "load",
    help="Charger les référentiels, l'échantillon réel du catalogue (905 jeux), l'exemple de discussions "
    "data.gouv.fr et un compte par rôle. "
    "Les données existantes sont réutilisées ; les mots de passe des comptes de démonstration sont "
    "renouvelés et affichés à chaque lancement.",
)
@click.option(
    "--sample",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier du catalogue à importer (par défaut, l'échantillon de ../shared/data).",
)
@with_appcontext
def load(sample: Path | None):
    sample = sample or current_app.config["FEEDBACK_SHARED_DATA"] / SAMPLE
    load_reference()
    if db.session.scalar(sa.select(sa.func.count(Dataset.id))) == 0:
        if not sample.is_file():
            raise click.ClickException(f"Échantillon du catalogue introuvable : {sample} (voir FEEDBACK_SHARED_DATA)")
        try:
            summary = import_catalogue([sample])
        except UnreadableFile as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        click.echo(f"Catalogue de démonstration : {summary.line()}")
    else:
        click.echo("Catalogue déjà chargé : réutilisé.")
    discussions = current_app.config["FEEDBACK_SHARED_DATA"] / DISCUSSIONS
    if discussions.is_file():
        click.echo(f"Discussions de démonstration : {import_discussions([discussions]).line()}")
    producer = db.session.scalars(
        sa.select(Organisation).where(Organisation.datagouv_id == DEMO_PRODUCER_DATAGOUV_ID)
    ).first()

    lines = []
    for spec in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = accounts.find_user_by_email(spec.email)
        if user is None:
            user = accounts.create_user(password=password, confirmed=True, **spec._asdict())
        else:
            user.set_password(password)
        label = spec.role.label
        if spec.email.startswith("producteur"):
            label = f"Producteur ({producer.name if producer else '—'})"
            if producer is not None:
                accounts.add_member(user, producer, MembershipRole.COORDINATOR)
        lines.append((label, spec.email, password))
    db.session.commit()
    refresh_statistics(db.session)
    db.session.commit()
    click.echo("Comptes de démonstration (mots de passe renouvelés à chaque lancement) :")
    for label, email, password in lines:
        click.echo(f"  {label:<40} {email:<40} {password}")


# The platform on one machine, as it runs in production: each part its own process --------------------------------

RECEIVER_PORT = 8025


def demo_processes(port: int, receiver_port: int) -> dict[str, list[str]]:
    """The commands `demo serve` starts: the web server, the mail worker, the deadlines check, the receiver of
    replies by mail (the same commands a deployment runs, as services of their own)."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    return {
        "serveur web": [*flask, "run", "--port", str(port)],
        "envoi des courriels": [*flask, "notifications", "send", "--loop", "--interval", "5"],
        "échéances": [*flask, "deadlines", "check", "--loop", "--interval", "300"],
        "réception des réponses": [*flask, "mail", "receive", "--port", str(receiver_port)],
    }


@demo.command(
    "serve",
    help="Faire tourner la plateforme sur cette machine comme en production : le serveur web, l'envoi des "
    "courriels (écrits ici même sans MAIL_SERVER), la vérification des échéances et la réception des réponses "
    "par courriel. Ctrl-C les arrête tous ; si l'un s'arrête, les autres aussi.",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=5000, show_default=True, envvar="PORT", help="Port du serveur web."
)
@click.option(
    "--receiver-port",
    type=click.IntRange(1, 65535),
    default=RECEIVER_PORT,
    show_default=True,
    help="Port SMTP de la réception des réponses par courriel.",
)
def serve(port: int, receiver_port: int):
    environment = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    running: dict[str, subprocess.Popen] = {}

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for name, command in demo_processes(port, receiver_port).items():
            running[name] = subprocess.Popen(command, env=environment)
        click.echo(
            f"Plateforme : http://127.0.0.1:{port} — Ctrl-C pour tout arrêter.\n"
            "Les courriels s'affichent ici. Pour suivre un fil de bout en bout : connectez-vous comme usager et "
            "posez une question sur un jeu de la DDT de l'Aisne ; le courriel au producteur s'affiche ici, avec son "
            "adresse de réponse (Reply-To) ; répondez-y comme d'une messagerie :\n"
            f"  flask --app wsgi demo reply --port {receiver_port} --from producteur@demo.ecospheres.test "
            '<adresse Reply-To> "Votre réponse"\n'
            "La réponse est publiée sur le fil au nom du service, et le courriel à l'usager s'affiche ici."
        )
        while True:
            for name, process in running.items():
                if process.poll() is not None:
                    raise click.ClickException(f"« {name} » s'est arrêté (code {process.returncode}) : tout s'arrête.")
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("Arrêt demandé.")
    finally:
        _stop_all(running.values())


def _stop_all(processes, grace: float = 10.0) -> None:
    """Stop every process: Ctrl-C in the terminal reached them all already, so give them a moment to stop on their
    own, then ask those left (SIGINT, as Ctrl-C), wait, and kill what still runs."""
    processes = list(processes)
    _wait_all(processes, 1.0)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in _wait_all(processes, grace):
        process.kill()
        process.wait()


def _wait_all(processes: list[subprocess.Popen], seconds: float) -> list[subprocess.Popen]:
    """Wait up to `seconds` for the processes to end; those still running."""
    deadline = time.monotonic() + seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.01, deadline - time.monotonic()))
    return [process for process in processes if process.poll() is None]


@demo.command(
    "reply",
    help="Répondre par courriel à une notification, comme le ferait une messagerie : envoie TEXTE depuis "
    "l'adresse d'un compte à l'adresse de réponse d'un courriel affiché par `demo serve` (son en-tête Reply-To), "
    "au récepteur local, qui en fait un message du fil.",
)
@click.argument("address")
@click.argument("text")
@click.option("--from", "sender", required=True, help="L'adresse du compte qui répond (le destinataire du courriel).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=RECEIVER_PORT,
    show_default=True,
    help="Port SMTP de la réception des réponses.",
)
def reply(address: str, text: str, sender: str, port: int):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = "Re: réponse par courriel"
    message["Message-ID"] = make_msgid(domain="demo.ecospheres.test")
    message.set_content(text)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, refusal = next(iter(error.recipients.values()))
        raise click.ClickException(f"Refusée ({code}) : {_text(refusal)}") from None
    except smtplib.SMTPResponseException as error:
        raise click.ClickException(f"Refusée ({error.smtp_code}) : {_text(error.smtp_error)}") from None
    except OSError as error:
        raise click.ClickException(f"Réception injoignable sur 127.0.0.1:{port} ({error}) : lancez make run.") from None
    click.echo("Réponse acceptée : elle est publiée sur le fil.")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
