"""`flask --app wsgi notifications …`: the mail worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from flask import current_app

from feedback.database import utcnow
from feedback.extensions import db
from feedback.mail.delivery import DeliveryResult, deliver_due
from feedback.notifications.mails import MailingResult, prepare_mails


@click.group(help="Les notifications : l'envoi des courriels.")
def notifications():
    pass


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def summary_line(prepared: MailingResult, delivered: DeliveryResult) -> str:
    """`12 courriels envoyés, 1 à réessayer, 0 en échec.`, after what was queued in the pass if anything."""
    parts = []
    queued = prepared.queued + prepared.digests + prepared.summaries
    if queued:
        parts.append(_plural(queued, "courriel préparé", "courriels préparés"))
    parts.append(_plural(delivered.sent, "courriel envoyé", "courriels envoyés"))
    parts.append(f"{delivered.retried} à réessayer")
    parts.append(f"{delivered.failed} en échec")
    return ", ".join(parts) + "."


def run_once(now: datetime | None = None) -> tuple[MailingResult, DeliveryResult]:
    """One pass: notifications to the outbox, the digests and summaries due, then the mails due."""
    prepared = prepare_mails(now=now)
    delivered = deliver_due(now=now)
    return prepared, delivered


def _parse_now(ctx, param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"date et heure ISO 8601 attendues (par exemple 2026-11-23T07:00+01:00), pas {value!r}"
        ) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@notifications.command(
    "send",
    help=(
        "Envoie les courriels : ceux des nouvelles notifications, les résumés quotidiens et hebdomadaires dus, "
        "puis tous les courriels en attente de la file d'envoi. Sans --loop, fait un seul passage."
    ),
)
@click.option("--loop", is_flag=True, help="Recommencer sans fin, jusqu'à l'interruption (Ctrl-C).")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Avec --loop, l'attente entre deux passages, en secondes.",
)
@click.option(
    "--now",
    callback=_parse_now,
    metavar="DATE",
    help="Faire comme s'il était cette date et heure (ISO 8601, UTC si sans fuseau) : pour essayer les résumés.",
)
def send(loop: bool, interval: float, now: datetime | None):
    if not loop:
        click.echo(summary_line(*run_once(now)))
        return
    try:
        while True:
            try:
                line = summary_line(*run_once(now))
            except Exception as error:  # the worker goes on; what failed stays in the outbox for the next pass
                db.session.rollback()
                current_app.logger.exception("mail worker pass failed")
                click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} Passage interrompu : {error}", err=True)
            else:
                click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} {line}")
            time.sleep(interval)
    except KeyboardInterrupt:
        db.session.rollback()
        click.echo("Arrêt demandé : envoi interrompu proprement.")
