"""The home page: what the platform is for, a way into the catalogue, and — told by the layers that know them —
what waits for the person signed in, the latest public activity and how well requests are answered.

The home page lives in the core layer; the threads are above it. Rather than importing them, it asks the
sections registered with it (`register_home_section`, filled by `feedback.threads.home_sections`): each is a
function of the current user that gives names for the template.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_login import current_user

from feedback.accounts.models import Organisation
from feedback.catalogue.models import Dataset
from feedback.extensions import db

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
    datasets = db.session.scalar(sa.select(sa.func.count(Dataset.id)).where(Dataset.archived.is_(False)))
    producers = db.session.scalar(sa.select(sa.func.count(Organisation.id)).where(Organisation.is_producer))
    context: dict = {}
    for section in _sections:
        context.update(section(current_user))
    return render_template("home.html", datasets_count=datasets, producers_count=producers, **context)


@blueprint.get("/accessibilite")
def accessibility():
    return render_template("accessibility.html")


@blueprint.get("/mentions-legales")
def legal():
    return render_template("legal.html")
