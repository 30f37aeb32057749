"""`flask --app wsgi users delete`: an operator deletes an account on its owner's written request."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from feedback.accounts.services import find_user_by_email
from feedback.extensions import db
from feedback.privacy.erasure import ErasureError, delete_account


@click.command(
    "delete",
    help="Supprimer un compte à la demande écrite de la personne (RGPD, droit à l'effacement) : son nom, son "
    "adresse, son organisation, son mot de passe, ses rattachements, ses sessions, ses abonnements, ses "
    "notifications et ses courriels en attente sont effacés ; ses fils et messages restent, signés « Compte "
    "supprimé ». Irréversible : sans --yes, la confirmation est demandée.",
)
@click.argument("email")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@with_appcontext
def delete_user(email: str, yes: bool):
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"Aucun compte avec l'adresse {email}")
    if not yes:
        click.confirm(f"Supprimer définitivement le compte de {user.name} ({user.email}) ?", abort=True)
    try:
        delete_account(user)
    except ErasureError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Compte {email} supprimé : ses contributions restent, signées « Compte supprimé ».")
