"""The home page: what the platform is for, a way into the catalogue, and — told by the layers that know them —
what waits for the person signed in, the latest public activity and how well requests are answered.

The home page lives in the core layer; the threads are above it. Rather than importing them, it asks the
sections registered with it (`register_home_section`, filled by `feedback.threads.home_sections`): each is a
function of the current user that gives names for the template.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from flask_login import current_user

from feedback.accounts.models import Organisation
from feedback.catalogue.models import Dataset
from feedback.extensions import db
from feedback.kept_values import kept

blueprint = Blueprint("home", __name__)

HomeSection = Callable[[object], dict]
_sections: list[HomeSection] = []


def register_home_section(section: HomeSection) -> HomeSection:
    """Add what a layer above tells on the home page; registering twice is harmless."""
    if section not in _sections:
        _sections.append(section)
    return section


@blueprint.get("/")
def index() -> str:
    seconds = current_app.config["FEEDBACK_HOME_FIGURE_SECONDS"]
    datasets, producers = kept("home counts", seconds, _catalogue_counts)
    context: dict = {}
    for section in _sections:
        context.update(section(current_user))
    return render_template("home.html", datasets_count=datasets, producers_count=producers, **context)


def _catalogue_counts() -> tuple[int, int]:
    """The datasets in the catalogue and the services that produce them: they move with a catalogue import, and
    counting 60,000 datasets was the home page's costliest query."""
    datasets = db.session.scalar(sa.select(sa.func.count(Dataset.id)).where(Dataset.archived.is_(False)))
    producers = db.session.scalar(sa.select(sa.func.count(Organisation.id)).where(Organisation.is_producer))
    return datasets or 0, producers or 0


@blueprint.get("/accessibilite")
def accessibility():
    return render_template("accessibility.html")


@blueprint.get("/mentions-legales")
def legal():
    return render_template("legal.html")
