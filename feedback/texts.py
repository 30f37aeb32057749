"""`flask --app wsgi texts render`: every stored HTML rendered again from its markdown.

Texts are rendered once, when they are written, and their sanitised HTML stored beside them. When the renderer
or the sanitiser's allow-list changes (`feedback.markdown`, a new version of cmarkgfm or nh3), this command
brings every stored HTML in line. Published reports keep their frozen snapshot: they are not rendered again.
Like the application factory, this module sits above every domain.
"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from feedback.capitalisation.models import Recommendation, Report
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.markdown import RENDERER, render_again
from feedback.threads.models import Message

# (label, model, markdown column, HTML column)
STORED_HTML = [
    ("message(s)", Message, "body", "body_html"),
    ("description(s) de jeux de données", Dataset, "description", "description_html"),
    ("résumé(s) de rapport", Report, "summary", "summary_html"),
    ("recommandation(s)", Recommendation, "text", "text_html"),
]


@click.group(help="Textes des usagers et du catalogue (markdown rendu et nettoyé une fois, à l'écriture).")
def texts():
    pass


@texts.command(
    "render",
    help="Rendre à nouveau le HTML enregistré de chaque texte (messages, descriptions, rapports en brouillon) : "
    "à lancer après un changement du rendu ou de la liste des balises permises. Les rapports publiés gardent "
    "leur instantané.",
)
@with_appcontext
def render() -> None:
    total = sum(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0 for _, model, _, _ in STORED_HTML)
    counts = []
    with click.progressbar(length=total, label=f"Rendu ({RENDERER})", file=sys.stderr) as bar:
        for label, model, source, target in STORED_HTML:
            counts.append((render_again(db.session, model, source, target, on_batch=bar.update), label))
    click.echo(", ".join(f"{count} {label}" for count, label in counts) + " rendu(s) à nouveau.")
