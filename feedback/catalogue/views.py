from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from feedback.accounts import services as accounts
from feedback.accounts.forms import AddMemberForm, RemoveMemberForm
from feedback.accounts.models import Membership, MembershipRole, Organisation
from feedback.accounts.permissions import can
from feedback.auth import services as join_requests
from feedback.catalogue import quality, queries
from feedback.catalogue.models import Dataset, Territory
from feedback.catalogue.resolver import dataset_of_path, look_up_dataset, parse_identifier, resolve_dataset
from feedback.extensions import db, login_manager
from feedback.htmx import add_vary_header, is_partial_request
from feedback.pagination import page_number

blueprint = Blueprint("catalogue", __name__)


def _filters_from_request() -> queries.DatasetFilters:
    args = request.args
    return queries.DatasetFilters(
        q=args.get("q", "").strip()[:300],
        producer=args.get("producteur", "").strip()[:255],
        theme=args.get("theme", "").strip()[:100],
        territory=args.get("territoire", "").strip()[:16],
        sort=args.get("tri", "").strip(),
        archived=args.get("archives") == "1",
    )


@blueprint.get("/jeux-de-donnees")
def datasets():
    filters = _filters_from_request()
    partial = is_partial_request()
    # A pasted identifier or URL that names one dataset leads straight to it (not while typing: the
    # live search only shows the match, so that the page does not jump away mid-word).
    exact = None
    if filters.q and parse_identifier(filters.q):
        exact = resolve_dataset(filters.q)
        if exact is not None and not partial:
            return redirect(url_for("catalogue.dataset", identifier=exact.catalogue_id), code=303)
    page = queries.search_datasets(
        filters, page_number(request.args.get("page")), current_app.config["FEEDBACK_PAGE_SIZE"]
    )
    context = dict(filters=filters, page=page, exact=exact, sorts=queries.SORTS)
    if partial:
        response = current_app.make_response(render_block("catalogue/datasets.html", "results", **context))
    else:
        context.update(
            producers=queries.producer_choices(),
            themes=queries.inspire_theme_choices(),
            territories=queries.territory_choices(),
        )
        response = current_app.make_response(render_template("catalogue/datasets.html", **context))
    return add_vary_header(response)


@blueprint.get("/jeux-de-donnees/suggestions")
def autocomplete():
    """Suggestions for a dataset field (htmx fills a <datalist>): the field's value is the query."""
    text = next((v for k, v in request.args.items() if k in ("dataset", "q", "resolution_dataset")), "")
    text = text.strip()[:300]
    datasets = []
    if len(text) >= 3:
        found = look_up_dataset(text)
        if found.dataset is not None:
            datasets = [found.dataset]
        else:
            datasets = list(found.candidates) or queries.search_datasets(queries.DatasetFilters(q=text), 1, 8).items
    return add_vary_header(
        current_app.make_response(render_template("catalogue/_autocomplete.html", datasets=datasets))
    )


@blueprint.get("/jeux-de-donnees/<identifier>")
def dataset(identifier: str):
    found = dataset_of_path(identifier)
    if found is None:
        abort(404)
    if identifier != found.catalogue_id:
        return redirect(url_for("catalogue.dataset", identifier=found.catalogue_id), code=301)
    return render_template(
        "catalogue/dataset.html", dataset=found, quality_results=quality.check_results(found.metadata_failed_checks)
    )


@blueprint.get("/organisations")
def organisations():
    counts = (
        sa.select(Dataset.organisation_id, sa.func.count(Dataset.id).label("datasets"))
        .where(Dataset.archived.is_(False))
        .group_by(Dataset.organisation_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Organisation, sa.func.coalesce(counts.c.datasets, 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .where(Organisation.is_producer)
        .order_by(Organisation.name)
    ).all()
    territories = dict(db.session.execute(sa.select(Territory.code, Territory.name)).all())
    return render_template("catalogue/organisations.html", rows=rows, territories=territories)


def _organisation_or_404(slug: str) -> Organisation:
    organisation = accounts.organisation_by_slug(slug)
    if organisation is None:
        abort(404)
    return organisation


def _render_organisation(organisation: Organisation, add_form: AddMemberForm | None = None):
    page = queries.organisation_datasets(
        organisation, page_number(request.args.get("page")), current_app.config["FEEDBACK_PAGE_SIZE"]
    )
    members = accounts.organisation_members(organisation) if can(current_user, "see_members", organisation) else None
    if add_form is None and can(current_user, "manage_members", organisation):
        add_form = AddMemberForm()
    territory = db.session.get(Territory, organisation.territory_code) if organisation.territory_code else None
    return render_template(
        "catalogue/organisation.html",
        organisation=organisation,
        page=page,
        members=members,
        territory=territory,
        add_form=add_form,
        can_edit_siret=can(current_user, "edit_siret", organisation),
        join_requests=(
            join_requests.pending_requests(organisation)
            if can(current_user, "decide_join_requests", organisation)
            else []
        ),
    )


@blueprint.get("/organisations/<slug>")
def organisation(slug: str):
    return _render_organisation(_organisation_or_404(slug))


@blueprint.post("/organisations/<slug>/membres")
def add_member(slug: str):
    organisation = _organisation_or_404(slug)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "manage_members", organisation):
        abort(403)
    form = AddMemberForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if user is None:
            form.email.errors.append("Aucun compte n'existe avec cette adresse : la personne doit d'abord s'inscrire.")
        else:
            accounts.add_member(user, organisation, MembershipRole(form.role.data))
            db.session.commit()
            flash(
                f"{user.name} est maintenant {MembershipRole(form.role.data).label.lower()} de {organisation.name}.",
                "success",
            )
            return redirect(url_for("catalogue.organisation", slug=slug, _anchor="membres"), code=303)
    return _render_organisation(organisation, form)


@blueprint.post("/organisations/<slug>/membres/<int:membership_id>/retrait")
def remove_member(slug: str, membership_id: int):
    organisation = _organisation_or_404(slug)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "manage_members", organisation):
        abort(403)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation.id:
        abort(404)
    form = RemoveMemberForm()
    if not form.validate_on_submit():
        abort(400)
    name = membership.user.name
    accounts.remove_member(membership)
    db.session.commit()
    flash(f"{name} ne fait plus partie de {organisation.name}.", "success")
    return redirect(url_for("catalogue.organisation", slug=slug, _anchor="membres"), code=303)
