"""The home page: what the platform is for, and a way into the catalogue."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from feedback.accounts.models import Organisation
from feedback.catalogue.models import Dataset
from feedback.extensions import db

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index():
    datasets = db.session.scalar(sa.select(sa.func.count(Dataset.id)).where(Dataset.archived.is_(False)))
    producers = db.session.scalar(sa.select(sa.func.count(Organisation.id)).where(Organisation.is_producer))
    return render_template("home.html", datasets_count=datasets, producers_count=producers)


@blueprint.get("/accessibilite")
def accessibility():
    return render_template("accessibility.html")


@blueprint.get("/mentions-legales")
def legal():
    return render_template("legal.html")
