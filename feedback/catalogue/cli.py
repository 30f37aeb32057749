"""`flask --app wsgi reference …` and `flask --app wsgi catalogue …`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from feedback.catalogue.reference import ReferenceError, load_reference
from feedback.catalogue.services import import_catalogue
from feedback.catalogue.sources import UnreadableFile
from feedback.extensions import db

MAX_REJECTIONS_SHOWN = 50


@click.group(help="Listes de référence : territoires (COG de l'INSEE), thèmes INSPIRE et Ecosphères.")
def reference():
    pass


@reference.command(
    "load",
    help="Charger ou mettre à jour les territoires et les thèmes. DIR : dossier des fichiers "
    "(par défaut, la copie fournie avec la plateforme). Peut être relancé sans risque.",
)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def load(directory: Path | None):
    try:
        summary = load_reference(directory)
    except ReferenceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Référentiels : {summary.territories} territoires, {summary.themes} thèmes — "
        f"{summary.created} ajouté(s), {summary.updated} mis à jour"
        + (" — rien n'a changé" if not (summary.created or summary.updated) else "")
    )


@click.group(help="Le catalogue des jeux de données.")
def catalogue():
    pass


@catalogue.command(
    "import",
    help="Importer des jeux de données depuis l'export CSV de data.gouv.fr (export-dataset, « ; », "
    "éventuellement .gz) ou des réponses JSON de l'API udata. Met à jour les jeux déjà connus "
    "(par identifiant) ; un fichier illisible arrête tout sans rien modifier.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--services",
    "services_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Dossier d'une autre liste des services (services-ddt-dreal.csv, « ; ») ; sa colonne facultative « siret » "
    "donne leur SIRET aux organisations qui n'en ont pas.",
)
@with_appcontext
def import_command(paths: tuple[Path, ...], services_dir: Path | None):
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise click.ClickException(f"Fichier introuvable : {', '.join(missing)}")
    total = sum(p.stat().st_size for p in paths)
    try:
        with click.progressbar(length=total, label="Import du catalogue", show_percent=True) as bar:
            summary = import_catalogue(paths, on_read=bar.update, services_dir=services_dir)
    except ReferenceError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Rien n'a été importé.") from None
    except UnreadableFile as error:
        db.session.rollback()
        raise click.ClickException(f"{error}. Rien n'a été importé.") from None
    db.session.commit()
    for rejection in summary.rejected[:MAX_REJECTIONS_SHOWN]:
        click.echo(f"Rejeté — {rejection}", err=True)
    if len(summary.rejected) > MAX_REJECTIONS_SHOWN:
        click.echo(f"… et {len(summary.rejected) - MAX_REJECTIONS_SHOWN} autre(s) ligne(s) rejetée(s)", err=True)
    click.echo(f"Catalogue : {summary.line()}")
