"""`flask --app wsgi mail …`: the receiver of replies by mail."""

from __future__ import annotations

import logging
import signal
import threading

import click
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from flask import current_app
from flask.cli import with_appcontext

from feedback.extensions import db
from feedback.mail.inbound import LmtpReceiver, ReplyReceiver
from feedback.mail.retention import purge_old_mail


@click.group(
    help="Les courriels : la réception des réponses aux notifications, qui deviennent des messages des fils, et "
    "l'effacement des courriels anciens."
)
def mail():
    pass


class LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def start_receiver(app, host: str, port: int, *, lmtp: bool = False) -> Controller:
    """Start the receiver in a thread of its own (aiosmtpd's controller); `stop()` ends it."""
    handler = (LmtpReceiver if lmtp else ReplyReceiver)(app)
    controller_class = LmtpController if lmtp else Controller
    controller = controller_class(
        handler,
        hostname=host,
        port=port,
        data_size_limit=app.config["FEEDBACK_INBOUND_MAX_BYTES"],
        server_hostname=app.config["FEEDBACK_REPLY_DOMAIN"],
        ident="Retours Ecosphères",
    )
    controller.start()
    return controller


@mail.command(
    "receive",
    help="Recevoir les réponses par courriel (serveur SMTP, ou LMTP avec --lmtp) : le relais de messagerie lui "
    "confie les courriels du domaine de réponse (FEEDBACK_REPLY_DOMAIN). Chaque réponse devient un message du fil "
    "si elle vient de la bonne personne ; sinon elle est refusée (550) avec la raison, que le relais renvoie à "
    "l'expéditeur. Tourne jusqu'à l'interruption (Ctrl-C ou SIGTERM).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", type=click.IntRange(1, 65535), default=8025, show_default=True, help="Port d'écoute.")
@click.option("--lmtp", is_flag=True, help="Parler LMTP (RFC 2033) plutôt que SMTP, comme l'attend Postfix en lmtp:.")
@with_appcontext
def receive(host: str, port: int, lmtp: bool):
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's own account of every SMTP command
    try:
        controller = start_receiver(app, host, port, lmtp=lmtp)
    except (OSError, RuntimeError) as error:
        raise click.ClickException(f"Impossible d'écouter sur {host}:{port} : {error}") from None
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    click.echo(
        f"Réception des réponses ({'LMTP' if lmtp else 'SMTP'}) sur {host}:{port}, "
        f"domaine {app.config['FEEDBACK_REPLY_DOMAIN']}. Ctrl-C pour arrêter."
    )
    stopping.wait()
    controller.stop()
    click.echo("Réception arrêtée.")


@mail.command(
    "purge",
    help="Effacer le contenu des courriels anciens : ceux envoyés (ou abandonnés) depuis plus de "
    "FEEDBACK_MAIL_RETENTION_DAYS jours (30 par défaut) perdent leur texte, leur objet et leur adresse ; les "
    "courriels reçus, leur expéditeur et leur destinataire. Restent la date, l'état et la nature de chaque "
    "courriel, pour les statistiques. Les courriels en attente d'envoi ne sont pas touchés.",
)
@click.option(
    "--days",
    type=click.IntRange(0, 36500),
    default=None,
    help="Durée de conservation en jours (par défaut FEEDBACK_MAIL_RETENTION_DAYS).",
)
@with_appcontext
def purge(days: int | None):
    if days is None:
        days = current_app.config["FEEDBACK_MAIL_RETENTION_DAYS"]
    if days < 0:
        raise click.ClickException(f"FEEDBACK_MAIL_RETENTION_DAYS doit être positif ou nul (lu : {days}).")
    purged = purge_old_mail(days)
    db.session.commit()
    click.echo(
        f"Courriels de plus de {days} jours effacés : {purged.outgoing} envoyé(s), {purged.inbound} reçu(s)."
    )
