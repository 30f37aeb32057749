"""Reports: drafts with live figures, published ones frozen at /reports/<slug>, their exports.

Curators draft, edit and publish; everyone reads what is published, whose figures come from its snapshot only.
A draft is invisible to anyone but curators (404: its existence is not public either). The recommendations of
a draft are edited in place with htmx (the `recommendations` block of the page) and by plain forms without it.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from feedback.accounts.models import Organisation
from feedback.capitalisation import services
from feedback.capitalisation.exports import KINDS, report_json, report_markdown, write_csv_zip
from feedback.capitalisation.forms import ScopeForm
from feedback.capitalisation.models import Priority, Recommendation, Report
from feedback.capitalisation.pdf import html_to_pdf
from feedback.catalogue import queries as catalogue_queries
from feedback.extensions import db
from feedback.forms import Form
from feedback.htmx import add_vary_header, is_partial_request
from feedback.pagination import page_number
from feedback.threads.taxonomy import CATEGORIES_BY_CODE
from feedback.threads.workflow import organisation_ids

# The groups of similar requests a report's page lists, largest first; its exports give them all.
SHOWN_DEMAND_GROUPS = 50

blueprint = Blueprint("reports", __name__)

INBOX_REPORTS = 3


def reports_for_me(limit: int = INBOX_REPORTS) -> list[Report]:
    """The latest published reports about the person's organisations, for the inbox (the threads layer, below
    this one, cannot ask for them; its template does, and only when it shows them)."""
    if not current_user.is_authenticated:
        return []
    return services.reports_for_organisation(organisation_ids(current_user), 1, limit).items


PRIORITY_CHOICES = [(p.value, p.label) for p in Priority]


class NewReportForm(Form):
    title = StringField("Titre du rapport", validators=[DataRequired("Donnez un titre au rapport."), Length(max=200)])


class RestitutionForm(Form):
    producer = SelectField("Service producteur", choices=[], validate_choice=False)


class RecommendationForm(Form):
    title = StringField("Titre", validators=[DataRequired("Donnez un titre à la recommandation."), Length(max=200)])
    text = TextAreaField("Texte (markdown)")
    priority = SelectField("Priorité", choices=PRIORITY_CHOICES)
    audience = SelectField("Destinataire", choices=[], validate_choice=False)


class MoveForm(Form):
    direction = HiddenField(validators=[DataRequired()])


class ConfirmForm(Form):
    """A button that changes something (publish, regenerate, remove): only its CSRF token."""


def _require_curator() -> None:
    if not current_user.is_authenticated:
        abort(401)
    if not current_user.is_curator:
        abort(403)


def _is_curator() -> bool:
    return current_user.is_authenticated and current_user.is_curator


def _load(slug: str) -> Report:
    """A report its reader may see: a published one, or a draft for a curator (404 otherwise)."""
    report = db.session.scalar(sa.select(Report).where(Report.slug == slug))
    if report is None or (not report.is_published and not _is_curator()):
        abort(404)
    return report


def _load_draft(slug: str) -> Report:
    _require_curator()
    report = _load(slug)
    if report.is_published:
        flash("Ce rapport est publié : il ne peut plus être modifié.", "error")
        abort(redirect(url_for("reports.report", slug=slug), code=303))
    return report


def _load_recommendation(report: Report, recommendation_id: int) -> Recommendation:
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None or recommendation.report_id != report.id:
        abort(404)
    return recommendation


# Lists ------------------------------------------------------------------------------------------------------


@blueprint.get("/rapports")
def index():
    number = page_number(request.args.get("page"))
    size = current_app.config["FEEDBACK_PAGE_SIZE"]
    mine = request.args.get("pour") == "moi" and current_user.is_authenticated
    if mine:
        page = services.reports_for_organisation(organisation_ids(current_user), number, size)
    else:
        page = services.published_reports(number, size)
    drafts = services.draft_reports() if _is_curator() else None
    return render_template("reports/index.html", page=page, drafts=drafts, mine=mine)


# Creating ---------------------------------------------------------------------------------------------------


def _scope_form() -> ScopeForm:
    form = ScopeForm(request.args)
    form.validate()
    return form


@blueprint.route("/rapports/nouveau", methods=["GET", "POST"])
@login_required
def new():
    _require_curator()
    scope_form = _scope_form()
    form = NewReportForm()
    restitution_form = RestitutionForm(prefix="restitution")
    restitution_form.producer.choices = catalogue_queries.producer_choices()
    if request.method == "POST" and form.validate_on_submit():
        scope = scope_form.to_scope(allow_restricted=True)
        try:
            report = services.create_report(current_user, form.title.data, scope)
        except services.ReportError as error:
            form.title.errors.append(str(error))
        else:
            db.session.commit()
            flash("Le brouillon est créé avec les recommandations tirées des chiffres.", "success")
            return redirect(url_for("reports.report", slug=report.slug), code=303)
    scope_form.fill_choices()
    return render_template(
        "reports/new.html",
        scope_form=scope_form,
        form=form,
        restitution_form=restitution_form,
        scope_args=scope_form.query_args(),
    )


@blueprint.post("/rapports/nouveau/restitution")
@login_required
def new_restitution():
    _require_curator()
    scope_form = _scope_form()
    restitution_form = RestitutionForm(prefix="restitution")
    slug = restitution_form.producer.data or ""
    producer = db.session.scalar(
        sa.select(Organisation).where(Organisation.slug == slug, Organisation.is_producer.is_(True))
    )
    if not restitution_form.validate_on_submit() or producer is None:
        flash("Choisissez le service producteur du rapport de restitution.", "error")
        return redirect(url_for("reports.new", **scope_form.query_args()), code=303)
    report = services.restitution_report(current_user, producer, scope_form.to_scope(allow_restricted=False))
    db.session.commit()
    flash(f"Le rapport de restitution pour {producer.name} est créé.", "success")
    return redirect(url_for("reports.report", slug=report.slug), code=303)


# The report -------------------------------------------------------------------------------------------------


def _audience_choices(report: Report, data: dict) -> list[tuple[str, str]]:
    """Whom a recommendation may be for: every producer, or one of those the report's figures list (and the
    audiences already chosen)."""
    choices = {p["slug"]: p["name"] for p in data["producers"]}
    choices |= {p["slug"]: p["name"] for p in data["scope"]["producers"]}
    for recommendation in report.recommendations:
        if recommendation.audience is not None:
            choices[recommendation.audience.slug] = recommendation.audience.name
    return [("", "Tous les services producteurs"), *sorted(choices.items(), key=lambda item: item[1])]


def _context(report: Report, *, printable: bool = False, **forms) -> dict:
    data = services.shown_data(report)
    items = list(data["recommendations"])
    if not report.is_published:
        # The draft's recommendations, in the same order as in its data, with their ids for the edit forms.
        ordered = sorted(report.recommendations, key=lambda r: r.position)
        items = [dict(item, id=r.id) for item, r in zip(items, ordered, strict=True)]
    context = {
        "report": report,
        "data": data,
        "items": items,
        "printable": printable,
        "kinds": KINDS,
        "categories": CATEGORIES_BY_CODE,
        "priority_labels": {p.value: p.label for p in Priority},
        "shown_groups": SHOWN_DEMAND_GROUPS,
        "editable": not report.is_published and _is_curator() and not printable,
    }
    if context["editable"]:
        audiences = _audience_choices(report, data)
        edit_forms = {}
        for recommendation in report.recommendations:
            form = forms.get("edit_forms", {}).get(recommendation.id) or RecommendationForm(
                formdata=None,
                prefix=f"r{recommendation.id}",
                title=recommendation.title,
                text=recommendation.text,
                priority=recommendation.priority,
                audience=recommendation.audience.slug if recommendation.audience else "",
            )
            form.audience.choices = audiences
            edit_forms[recommendation.id] = form
        add_form = forms.get("add_form") or RecommendationForm(formdata=None, prefix="new")
        add_form.audience.choices = audiences
        context.update(edit_forms=edit_forms, add_form=add_form, notice=forms.get("notice"))
    return context


@blueprint.get("/rapports/<slug>")
def report(slug: str):
    report = _load(slug)
    return render_template("reports/report.html", **_context(report))


@blueprint.get("/rapports/<slug>/impression")
def printable(slug: str):
    report = _load(slug)
    return render_template("reports/report.html", **_context(report, printable=True))


def _after_change(report: Report, message: str | None, *, failed: bool = False, **forms):
    """Commit (or not), then the recommendations block for htmx, or the page (errors) or a 303 without it."""
    if failed:
        db.session.rollback()
        db.session.refresh(report)
    else:
        db.session.commit()
    if is_partial_request():
        context = _context(report, notice=None if failed else message, **forms)
        return add_vary_header(
            current_app.make_response(render_block("reports/report.html", "recommendations", **context))
        )
    if failed:
        return render_template("reports/report.html", **_context(report, **forms)), 200
    if message:
        flash(message, "success")
    return redirect(url_for("reports.report", slug=report.slug, _anchor="recommandations"), code=303)


def _audience(slug: str) -> Organisation | None:
    if not slug:
        return None
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        abort(400)
    return organisation


@blueprint.post("/rapports/<slug>/recommandations")
def add_recommendation(slug: str):
    report = _load_draft(slug)
    form = RecommendationForm(prefix="new")
    if not form.validate_on_submit():
        return _after_change(report, None, failed=True, add_form=form)
    try:
        services.add_recommendation(
            report,
            title=form.title.data,
            text=form.text.data,
            priority=form.priority.data,
            audience=_audience(form.audience.data),
        )
    except services.ReportError as error:
        form.title.errors.append(str(error))
        return _after_change(report, None, failed=True, add_form=form)
    return _after_change(report, "La recommandation est ajoutée.")


@blueprint.post("/rapports/<slug>/recommandations/<int:recommendation_id>")
def update_recommendation(slug: str, recommendation_id: int):
    report = _load_draft(slug)
    recommendation = _load_recommendation(report, recommendation_id)
    form = RecommendationForm(prefix=f"r{recommendation.id}")
    if not form.validate_on_submit():
        return _after_change(report, None, failed=True, edit_forms={recommendation.id: form})
    try:
        services.update_recommendation(
            recommendation,
            title=form.title.data,
            text=form.text.data,
            priority=form.priority.data,
            audience=_audience(form.audience.data),
        )
    except services.ReportError as error:
        form.title.errors.append(str(error))
        return _after_change(report, None, failed=True, edit_forms={recommendation.id: form})
    return _after_change(report, "La recommandation est modifiée.")


@blueprint.post("/rapports/<slug>/recommandations/<int:recommendation_id>/suppression")
def remove_recommendation(slug: str, recommendation_id: int):
    report = _load_draft(slug)
    recommendation = _load_recommendation(report, recommendation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_recommendation(recommendation)
    return _after_change(report, "La recommandation est supprimée.")


@blueprint.post("/rapports/<slug>/recommandations/<int:recommendation_id>/deplacement")
def move_recommendation(slug: str, recommendation_id: int):
    report = _load_draft(slug)
    recommendation = _load_recommendation(report, recommendation_id)
    form = MoveForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        abort(400)
    moved = services.move_recommendation(recommendation, form.direction.data)
    return _after_change(report, "La recommandation est déplacée." if moved else None)


@blueprint.post("/rapports/<slug>/regeneration")
def regenerate(slug: str):
    report = _load_draft(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = services.regenerate_recommendations(report)
    return _after_change(
        report, f"Recommandations régénérées : {count} tirée{'s' if count > 1 else ''} des chiffres actuels."
    )


@blueprint.post("/rapports/<slug>/publication")
def publish(slug: str):
    report = _load_draft(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.publish_report(report, current_user)
    db.session.commit()
    flash("Le rapport est publié ; les coordinateurs des services concernés en sont avertis.", "success")
    return redirect(url_for("reports.report", slug=report.slug), code=303)


# Exports ----------------------------------------------------------------------------------------------------


def _download(body: bytes, report: Report, extension: str, mimetype: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{report.slug}.{extension}"'
    return response


@blueprint.get("/rapports/<slug>.pdf")
def export_pdf(slug: str):
    """The report as an A4 document: the printable page rendered by WeasyPrint."""
    report = _load(slug)
    html = render_template("reports/report.html", layout="reports/document.html", **_context(report, printable=True))
    return _download(html_to_pdf(html), report, "pdf", "application/pdf")


@blueprint.get("/rapports/<slug>.json")
def export_json(slug: str):
    report = _load(slug)
    return _download(report_json(services.shown_data(report)).encode(), report, "json", "application/json")


@blueprint.get("/rapports/<slug>.md")
def export_markdown(slug: str):
    report = _load(slug)
    return _download(report_markdown(services.shown_data(report)).encode(), report, "md", "text/markdown")


@blueprint.get("/rapports/<slug>.csv.zip")
def export_csv(slug: str):
    report = _load(slug)
    buffer = io.BytesIO()
    write_csv_zip(services.shown_data(report), buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype="application/zip", as_attachment=True, download_name=f"{report.slug}.csv.zip", etag=False
    )
