"""`flask --app wsgi reports …`: capitalisation reports without the interface."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from feedback.accounts.services import find_organisation
from feedback.capitalisation import demand
from feedback.capitalisation.exports import report_json, report_markdown, write_csv_zip
from feedback.capitalisation.indicators import REPORT_STEPS, build_report_data
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Territory, Theme
from feedback.clock import paris_today
from feedback.extensions import db
from feedback.threads import stored_figures
from feedback.threads.models import KIND_LABELS, USE_CASE_LABELS, Thread

FORMATS = ("json", "md", "csv")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@click.group(help="Rapports de capitalisation : les indicateurs tirés des fils, pour les services producteurs.")
def reports():
    pass


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        if not _ISO_DAY.fullmatch(value.strip()):
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.ClickException(
            f"Date invalide pour {option} : « {value} ». Écrivez-la AAAA-MM-JJ, par exemple 2025-01-31."
        ) from None


def _listed(values: dict) -> str:
    return ", ".join(f"{code} ({label})" for code, label in values.items())


def _scope(date_from, date_to, producers, kinds, themes, territories, use_cases, include_restricted) -> Scope:
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    if start is not None and end is None:
        end = paris_today()
    if start is not None and end is not None and start > end:
        raise click.ClickException(
            f"La période est vide : le {start:%d/%m/%Y} (--from) vient après le {end:%d/%m/%Y} (--to)."
        )

    producer_ids = []
    for key in producers:
        organisation = find_organisation(key)
        if organisation is None:
            raise click.ClickException(
                f"Service producteur introuvable : « {key} ». Indiquez son slug ou son identifiant data.gouv.fr."
            )
        if not organisation.is_producer:
            raise click.ClickException(f"« {organisation.name} » n'est pas un service producteur.")
        producer_ids.append(organisation.id)

    known_kinds = {kind.value: label for kind, label in KIND_LABELS.items()}
    for kind in kinds:
        if kind not in known_kinds:
            raise click.ClickException(f"Type de fil inconnu : « {kind} ». Types possibles : {_listed(known_kinds)}.")
    known_use_cases = {use_case.value: label for use_case, label in USE_CASE_LABELS.items()}
    for use_case in use_cases:
        if use_case not in known_use_cases:
            raise click.ClickException(
                f"Cas d'usage inconnu : « {use_case} ». Cas possibles : {_listed(known_use_cases)}."
            )
    if themes:
        found = set(db.session.scalars(sa.select(Theme.code).where(Theme.code.in_(themes))))
        unknown = [t for t in themes if t not in found]
        if unknown:
            raise click.ClickException(
                f"Thème inconnu : « {unknown[0]} ». Indiquez un code de thème INSPIRE (hy, lc…) ou Ecosphères (eau…)."
            )
    if territories:
        found = set(db.session.scalars(sa.select(Territory.code).where(Territory.code.in_(territories))))
        unknown = [t for t in territories if t not in found]
        if unknown:
            raise click.ClickException(
                f"Territoire inconnu : « {unknown[0]} ». Indiquez un code du COG : FR, R84 (région), D45 (département)."
            )
    return Scope(
        date_from=start,
        date_to=end,
        kinds=tuple(dict.fromkeys(kinds)),
        producer_ids=tuple(dict.fromkeys(producer_ids)),
        theme_codes=tuple(dict.fromkeys(themes)),
        territory_codes=tuple(dict.fromkeys(territories)),
        use_cases=tuple(dict.fromkeys(use_cases)),
        include_restricted=include_restricted,
    )


@reports.command(
    "build",
    help="Calculer les indicateurs des fils d'un périmètre (période de réception, services, types, thèmes, "
    "territoires, cas d'usage) et écrire le rapport en JSON, en Markdown ou en tables CSV zippées. "
    "Les demandes restreintes ne sont comptées qu'avec --include-restricted.",
)
@click.option("--from", "date_from", metavar="AAAA-MM-JJ", help="Premier jour de réception des fils (inclus, Paris).")
@click.option(
    "--to",
    "date_to",
    metavar="AAAA-MM-JJ",
    help="Dernier jour de réception (inclus). Avec --from seul : jusqu'à aujourd'hui.",
)
@click.option(
    "--producer",
    "producers",
    multiple=True,
    metavar="ID",
    help="Slug ou identifiant data.gouv.fr d'un service producteur ; répétable.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="TYPE",
    help="Type de fil : data_request, quality_issue, missing_data ou question ; répétable.",
)
@click.option(
    "--theme", "themes", multiple=True, metavar="CODE", help="Thème INSPIRE (hy) ou Ecosphères (eau) ; répétable."
)
@click.option(
    "--territory",
    "territories",
    multiple=True,
    metavar="CODE",
    help="Territoire FR, R84, D45… (une région inclut ses départements) ; répétable.",
)
@click.option("--use-case", "use_cases", multiple=True, metavar="CODE", help="Cas d'usage (pcaet, scot…) ; répétable.")
@click.option(
    "--include-restricted",
    is_flag=True,
    help="Compter aussi les demandes restreintes : le rapport est alors interne et ne doit pas être publié.",
)
@click.option("--format", "output_format", metavar="json|md|csv", help="Format du rapport (obligatoire).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Fichier à écrire. Sans lui, le rapport JSON ou Markdown s'affiche ; obligatoire pour csv (un zip).",
)
@with_appcontext
def build(
    date_from,
    date_to,
    producers,
    kinds,
    themes,
    territories,
    use_cases,
    include_restricted,
    output_format,
    output: Path | None,
):
    if output_format is None:
        raise click.ClickException("Indiquez le format du rapport : --format json, md ou csv.")
    if output_format not in FORMATS:
        raise click.ClickException(f"Format inconnu : « {output_format} ». Formats possibles : json, md, csv.")
    if output_format == "csv" and output is None:
        raise click.ClickException("Le format csv produit un zip : indiquez le fichier avec --output.")
    if output is not None and not output.parent.is_dir():
        raise click.ClickException(f"Dossier introuvable pour --output : {output.parent}")
    scope = _scope(date_from, date_to, producers, kinds, themes, territories, use_cases, include_restricted)

    # On the error stream: the standard output may be the report itself.
    with click.progressbar(length=REPORT_STEPS, label="Calcul des indicateurs", file=sys.stderr) as bar:
        data = build_report_data(scope, progress=lambda: bar.update(1))

    try:
        if output is None:  # json or md (csv needs a file: checked above)
            click.echo(report_json(data) if output_format == "json" else report_markdown(data), nl=False)
            where = "affiché ci-dessus"
        elif output_format == "csv":
            files = write_csv_zip(data, output)
            where = f"{len(files)} tables CSV dans {output}"
        else:
            output.write_text(report_json(data) if output_format == "json" else report_markdown(data), encoding="utf-8")
            where = f"écrit dans {output}"
    except OSError as error:
        raise click.ClickException(f"Impossible d'écrire {output} : {error.strerror or error}") from None
    totals = data["totals"]
    click.echo(
        f"Rapport : {totals['threads']} fil(s), {len(data['producers'])} service(s), "
        f"{len(data['demand_groups'])} groupe(s) de demandes similaires — {where}",
        err=output is None,
    )


@reports.command(
    "verify",
    help=(
        "Recompter, depuis les messages, les soutiens, les abonnements et l'historique de chaque fil, les chiffres "
        "que les fils gardent (nombres de messages, de soutiens et d'abonnés ; réception, première réponse et "
        "réponse du service), recalculer depuis le début les groupes de demandes similaires, et signaler toute "
        "différence : code de sortie 1 s'il y en a."
    ),
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Différences affichées.")
@with_appcontext
def verify(limit: int) -> None:
    with click.progressbar(length=stored_figures.STEPS + 1, label="Vérification des fils", file=sys.stderr) as bar:
        found = [
            f"Fil n° {d.thread_id} : {d.figure} enregistré {d.stored}, recalculé {d.recomputed}"
            for d in stored_figures.differences(db.session, on_step=lambda: bar.update(1))
        ]
        found += [
            f"Fil n° {d.thread_id} : groupe de demandes similaires du thème {d.theme_id or 'aucun'} enregistré "
            f"{_group(d.stored)}, recalculé {_group(d.recomputed)}"
            for d in demand.differences()
        ]
        bar.update(1)
    threads = db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) or 0
    for line in found[:limit]:
        click.echo(line)
    if found:
        more = f" (les {limit} premières ci-dessus)" if len(found) > limit else ""
        raise click.ClickException(f"{len(found)} différence(s) sur {threads} fil(s){more}.")
    click.echo(f"{threads} fil(s) vérifié(s) : aucune différence.")


def _group(entry: tuple[int, str] | None) -> str:
    return "aucun" if entry is None else f"celui du fil n° {entry[0]} (« {entry[1]} »)"
