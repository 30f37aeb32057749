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

from feedback.mail.inbound import LmtpReceiver, ReplyReceiver


@click.group(help="Les courriels reçus : les réponses aux notifications, qui deviennent des messages des fils.")
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
