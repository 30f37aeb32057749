"""`flask --app wsgi users …`: accounts from the command line."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import with_appcontext

from feedback.accounts import services
from feedback.accounts.models import MembershipRole, Role
from feedback.extensions import db


@click.group(help="Gérer les comptes des personnes.")
def users():
    pass


@users.command("create", help="Créer un compte. Sans --password-stdin, un mot de passe est tiré au hasard et affiché.")
@click.option("--email", required=True, help="Adresse électronique (identifiant de connexion).")
@click.option("--name", required=True, help="Prénom et nom.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.USER.value,
    show_default=True,
    help="user (usager), curator (administrateur des données), admin.",
)
@click.option(
    "--organisation", "organisation_key", help="Slug ou identifiant data.gouv.fr d'une organisation à rejoindre."
)
@click.option("--coordinator", is_flag=True, help="Avec --organisation : rejoindre comme coordinateur.")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard (une ligne).")
@with_appcontext
def create_user(email, name, role, organisation_key, coordinator, password_stdin):
    organisation = None
    if organisation_key:
        organisation = services.find_organisation(organisation_key)
        if organisation is None:
            raise click.ClickException(f"Organisation introuvable : {organisation_key}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    try:
        user = services.create_user(email=email, name=name, password=password, role=Role(role), confirmed=True)
        if organisation is not None:
            services.add_member(
                user, organisation, MembershipRole.COORDINATOR if coordinator else MembershipRole.MEMBER
            )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Compte créé : {user.email} ({Role(role).label})"
        + (f", membre de {organisation.name}" if organisation else "")
    )
    if generated:
        click.echo(f"Mot de passe : {password}")


@users.command(
    "add-member", help="Rattacher un compte existant à une organisation (ORGANISATION : slug ou identifiant)."
)
@click.argument("email")
@click.argument("organisation_key", metavar="ORGANISATION")
@click.option("--coordinator", is_flag=True, help="Comme coordinateur plutôt que membre.")
@with_appcontext
def add_member(email, organisation_key, coordinator):
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte avec l'adresse {email}")
    organisation = services.find_organisation(organisation_key)
    if organisation is None:
        raise click.ClickException(f"Organisation introuvable : {organisation_key}")
    role = MembershipRole.COORDINATOR if coordinator else MembershipRole.MEMBER
    services.add_member(user, organisation, role)
    db.session.commit()
    click.echo(f"{user.email} est {role.label.lower()} de {organisation.name}.")


@users.command(
    "end-sessions",
    help="Déconnecter un compte de tous ses navigateurs (cookies « rester connecté » compris), par exemple après "
    "la perte d'un appareil.",
)
@click.argument("email")
@with_appcontext
def end_sessions(email):
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte avec l'adresse {email}")
    ended = services.end_all_sessions(user)
    db.session.commit()
    click.echo(f"{user.email} : {ended} session{'s' if ended > 1 else ''} terminée{'s' if ended > 1 else ''}.")
