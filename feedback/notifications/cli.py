"""`flask --app wsgi notifications …`: the mail worker."""

from __future__ import annotations

import click


@click.group(help="Les notifications : l'envoi des courriels.")
def notifications():
    pass
