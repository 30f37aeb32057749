"""`flask --app wsgi threads …`."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from feedback.clock import PARIS
from feedback.database import refresh_statistics, utcnow
from feedback.extensions import db
from feedback.threads.alerts import check_deadlines
from feedback.threads.udata import UnreadableDiscussions, import_discussions

MAX_LISTED = 50


@click.group(help="Les fils de discussion.")
def threads():
    pass


@click.group(help="Les échéances des fils : rappels avant l'échéance, relances des fils en retard ou sans réponse.")
def deadlines():
    pass


@threads.command(
    "import-udata",
    help="Importer des discussions de data.gouv.fr (pages JSON de GET /api/1/discussions/ : une page ou une "
    "liste de pages par fichier). Chacune devient une question sur son jeu de données ; celles déjà importées "
    "sont laissées telles quelles ; un fichier illisible arrête tout sans rien modifier.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_udata(paths: tuple[Path, ...]):
    try:
        with click.progressbar(paths, label="Import des discussions", show_pos=True) as files:
            summary = import_discussions(list(files))
    except UnreadableDiscussions as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Rien n'a été importé.") from None
    db.session.commit()
    if summary.imported:
        refresh_statistics(db.session)
        db.session.commit()
    for udata_id, dataset_id in summary.unknown_datasets[:MAX_LISTED]:
        click.echo(f"Non importée — discussion {udata_id} : jeu de données {dataset_id} absent du catalogue", err=True)
    for where, reason in summary.rejected[:MAX_LISTED]:
        click.echo(f"Rejetée — {where} : {reason}", err=True)
    hidden = len(summary.unknown_datasets) + len(summary.rejected) - 2 * MAX_LISTED
    if hidden > 0:
        click.echo(f"… et {hidden} autre(s)", err=True)
    click.echo(f"Discussions : {summary.line()}")


class Moment(click.ParamType):
    """A date and time in ISO 8601; without a time zone, Paris time."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"« {value} » n'est pas une date ISO 8601 (par exemple 2026-12-04T08:00 ou 2026-12-04).", param, ctx
            )
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


@deadlines.command(
    "check",
    help="Envoyer les rappels d'échéance (7 jours et 1 jour avant) des demandes de données ouvertes, et relancer "
    "les fils en retard ou sans action de leur service (aux coordinateurs, puis aux administrateurs des données). "
    "Chaque rappel et chaque relance ne part qu'une fois : la commande peut tourner toutes les quelques minutes.",
)
@click.option(
    "--now",
    type=Moment(),
    default=None,
    help="Faire comme s'il était ce moment-là (ISO 8601, heure de Paris sans fuseau indiqué) ; par défaut, maintenant.",
)
@click.option("--loop", is_flag=True, help="Recommencer sans fin, jusqu'à l'interruption (Ctrl-C).")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Avec --loop, l'attente entre deux vérifications, en secondes.",
)
@with_appcontext
def check(now: datetime | None, loop: bool, interval: float):
    if not loop:
        click.echo(_check_once(now))
        return
    try:
        while True:
            try:
                line = _check_once(now)
            except click.ClickException as error:
                line = error.message
            except Exception as error:  # the loop goes on: the next pass takes up what this one left
                db.session.rollback()
                current_app.logger.exception("deadlines check failed")
                line = f"Vérification interrompue : {error}"
            click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} {line}")
            time.sleep(interval)
    except KeyboardInterrupt:
        db.session.rollback()
        click.echo("Arrêt demandé : vérification des échéances interrompue proprement.")


def _check_once(now: datetime | None) -> str:
    try:
        summary = check_deadlines(now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(
            "Une autre vérification des échéances a envoyé les mêmes rappels en même temps ; rien n'a été envoyé "
            "par celle-ci. La prochaine reprendra ce qui reste."
        ) from None
    return summary.line()
