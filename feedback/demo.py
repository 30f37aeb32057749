"""`flask --app wsgi demo load`: the demo a newcomer browses after `make run`."""

from __future__ import annotations

import secrets
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
