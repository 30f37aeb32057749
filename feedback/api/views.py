"""/api/v1: routes and serialisation only. Every rule is asked of the same services, queries and permission checks
(`workflow.can`, `visible_threads`, `readable_messages`) as the HTML views; the API adds the caller's
authentication (a personal token, or the browser session with its CSRF token), its errors and its rate limits."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from feedback.accounts.models import Membership, Organisation, User
from feedback.accounts.services import organisation_by_slug
from feedback.api import errors, openapi, schemas, serialisers, tokens
from feedback.api.errors import ApiError
from feedback.api.openapi import responses, spec
from feedback.capitalisation import indicators
from feedback.capitalisation import services as reports
from feedback.capitalisation.models import Report, ReportStatus
from feedback.capitalisation.scope import Scope
from feedback.catalogue.models import Dataset, Territory, Theme
from feedback.catalogue.resolver import dataset_of_path, look_up_dataset
from feedback.extensions import csrf, db, limiter
from feedback.input_limits import clamp_day
from feedback.notifications import services as notifications
from feedback.privacy.erasure import register_eraser
from feedback.privacy.export import register_personal_data
from feedback.threads import queries, services
from feedback.threads.models import Message, Thread, ThreadKind, ThreadStatus
from feedback.threads.views import attachment as serve_attachment
from feedback.threads.workflow import ACTIONS, can, readable_messages

blueprint = Blueprint("api", __name__, url_prefix=errors.PREFIX)
csrf.exempt(blueprint)  # a Bearer call carries no CSRF token; a session's call is checked in `authenticate`

DEFAULT_RATE_LIMIT = "300 per minute"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# The caller -------------------------------------------------------------------------------------------------


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else None


def caller_key() -> str:
    """Whom a rate limit counts: the token presented (its digest, no database read), the signed-in account, or
    the address."""
    secret = _bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return "api-address:" + (get_remote_address() or "")


def _rate_limit() -> str:
    return current_app.config.get("FEEDBACK_API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


limiter.limit(_rate_limit, key_func=caller_key)(blueprint)


@blueprint.before_request
def authenticate() -> None:
    """A Bearer token names the caller, for this request alone (no session is written); a request without one is
    the browser's, whose changes must carry the session's CSRF token, as the HTML forms do."""
    if "Authorization" in request.headers:
        secret = _bearer_secret()
        found = tokens.user_of_secret(secret) if secret else None
        if found is None:
            db.session.rollback()
            raise ApiError(
                401,
                "Jeton absent, inconnu ou révoqué, ou compte suspendu.",
                headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
            )
        token, user = found
        db.session.commit()  # the last use, if noted: nothing else is pending yet
        g._login_user = user  # Flask-Login's current user for this request
        g.api_token_id = token.id
        return
    if request.method in UNSAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def _caller() -> User:
    if not current_user.is_authenticated:
        raise ApiError(401)
    return current_user


def requires_caller(view: Callable) -> Callable:
    """401 before anything else is read of the request."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        _caller()
        return view(*args, **kwargs)

    return checked


def _json_body():
    body = getattr(getattr(request, "context", None), "json", None)
    if body is None:
        raise ApiError(415)
    return body


def _query():
    return request.context.query


# Errors of the blueprint's own views -----------------------------------------------------------------------


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    return errors.handle_api_error(error)


@blueprint.errorhandler(errors.HTTPException)
def _http_error(error):
    return errors.handle_http_exception(error)


def _thread_error(error: services.ThreadError) -> ApiError:
    if isinstance(error, services.Conflict):
        return ApiError(409, str(error))
    if isinstance(error, services.PermissionDenied):
        return ApiError(403, str(error))
    return ApiError(422, str(error), fields={error.field or "body": [str(error)]})


# Threads ----------------------------------------------------------------------------------------------------

SORTS = {"activity": "activite", "recent": "recent", "votes": "votes", "due": "echeance", "relevance": "pertinence"}


def _filters(query: schemas.ThreadQuery, dataset: str | None = None) -> queries.ThreadFilters:
    """The list's filters as /fils reads them; `dataset`: a dataset's own list, whatever the query says."""
    return queries.ThreadFilters(
        q=query.q.strip(),
        kind=query.kind.value if query.kind else "",
        status=query.status.value if query.status else "",
        state={"open": "ouverts", "closed": "clos"}.get(query.state.value if query.state else "", ""),
        producer=query.producer,
        dataset=query.dataset if dataset is None else dataset,
        theme=query.theme,
        territory=query.territory,
        use_case=query.use_case.value if query.use_case else "",
        overdue=query.overdue,
        mine=query.mine,
        assigned=query.assigned,
        date_from=clamp_day(query.date_from) if query.date_from else None,
        date_to=clamp_day(query.date_to) if query.date_to else None,
        sort=SORTS.get(query.sort.value, "") if query.sort else "",
    )


@blueprint.get("/threads")
@spec.validate(query=schemas.ThreadQuery, resp=responses(schemas.ThreadPage), tags=["fils"])
def list_threads():
    """Les fils que l'appelant peut voir, avec les filtres et la recherche de la page /fils."""
    query = _query()
    page = queries.search_threads(_filters(query), current_user, query.page, query.page_size)
    return serialisers.thread_page(page)


def _load_thread(thread_id: int, action: str = "view") -> Thread:
    """The thread, 404 to whoever may not see it (it does not exist for them), 403 to whoever may see it but not
    take `action`."""
    thread = db.session.get(Thread, thread_id) if 0 < thread_id <= 2_147_483_647 else None
    if thread is None or not can(current_user, "view", thread):
        raise ApiError(404)
    if action != "view" and not can(current_user, action, thread):
        raise ApiError(403)
    return thread


def _thread_answer(thread: Thread) -> schemas.ThreadOut:
    messages = list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.thread_id == thread.id, readable_messages(current_user))
            .options(joinedload(Message.author), joinedload(Message.as_organisation), selectinload(Message.attachments))
            .order_by(Message.created_at, Message.id)
        )
    )
    actions = sorted(action for action in ACTIONS if action != "view" and can(current_user, action, thread))
    return serialisers.thread_out(thread, messages, actions)


@blueprint.get("/threads/<int:thread_id>")
@spec.validate(resp=responses(schemas.ThreadOut, 404), tags=["fils"])
def get_thread(thread_id: int):
    """Un fil et les messages que l'appelant peut lire."""
    return _thread_answer(_load_thread(thread_id))


@blueprint.get("/threads/<int:thread_id>/files/<int:attachment_id>")
def attachment(thread_id: int, attachment_id: int):
    """A message's file, to whoever may read the message (the page's own view, so its own checks and headers),
    streamed: it is named in the document by the `url` of the message's attachments, not as an operation of its
    own, spectree reading whole every answer it checks."""
    return serve_attachment(thread_id, attachment_id)


def _theme(value: str | None) -> Theme | None:
    if not value or ":" not in value:
        return None
    scheme, code = value.split(":", 1)
    return db.session.scalars(sa.select(Theme).where(Theme.scheme == scheme, Theme.code == code)).first()


def _dataset_field(text: str | None, field: str) -> Dataset | None:
    if not text:
        return None
    found = look_up_dataset(text)
    if found.dataset is None:
        message = (
            "Plusieurs jeux de données portent ce titre : donnez son identifiant."
            if found.candidates
            else "Aucun jeu de données du catalogue n'a ce titre ou cet identifiant."
        )
        raise ApiError(422, fields={field: [message]})
    return found.dataset


def _finish(thread: Thread, operation: Callable[[], object]) -> schemas.ThreadOut:
    """Run a service operation, commit, and answer the thread as it now stands; a refusal is its 4xx."""
    try:
        operation()
    except services.ThreadError as error:
        raise _thread_error(error) from None
    db.session.commit()
    db.session.refresh(thread)
    return _thread_answer(thread)


@blueprint.post("/threads")
@requires_caller
@limiter.limit("20 per hour", key_func=caller_key)
@spec.validate(json=schemas.NewThreadIn, resp=responses(schemas.ThreadOut, 403, success=201), tags=["fils"])
def create_thread():
    """Poster un fil et son premier message."""
    body: schemas.NewThreadIn = _json_body()
    problems: dict[str, list[str]] = {}
    organisation = organisation_by_slug(body.organisation) if body.organisation else None
    if body.organisation and organisation is None:
        problems["organisation"] = ["Service introuvable."]
    territory = db.session.get(Territory, body.territory) if body.territory else None
    if body.territory and territory is None:
        problems["territory"] = ["Territoire inconnu."]
    theme = _theme(body.theme)
    if body.theme and theme is None:
        problems["theme"] = ["Thème inconnu : « inspire:<code> » ou « ecospheres:<code> »."]
    if problems:
        raise ApiError(422, fields=problems)
    dataset = _dataset_field(body.dataset, "dataset")
    related = [d for d in (_dataset_field(text, "related_datasets") for text in body.related_datasets) if d]
    try:
        thread = services.create_thread(
            current_user,
            services.NewThread(
                kind=body.kind,
                title=body.title,
                body=body.body,
                dataset=dataset,
                organisation=organisation,
                quality_category=body.quality_category or None,
                use_case=body.use_case,
                territory=territory,
                themes=[theme] if theme else [],
                related_datasets=related,
                request_want=body.request_want,
                wished_on=body.wished_on,
                restricted=body.restricted,
            ),
        )
    except services.ThreadError as error:
        raise _thread_error(error) from None
    db.session.commit()
    return _thread_answer(thread), 201


@blueprint.post("/threads/<int:thread_id>/messages")
@requires_caller
@limiter.limit("60 per hour", key_func=caller_key)
@spec.validate(json=schemas.ReplyIn, resp=responses(schemas.ThreadOut, 403, 404), tags=["fils"])
def reply(thread_id: int):
    """Répondre, ou écrire une note interne (membres du service et administrateurs)."""
    thread = _load_thread(thread_id, "reply")
    body: schemas.ReplyIn = _json_body()
    if body.internal and not can(current_user, "internal_note", thread):
        raise ApiError(403, "Seuls les membres du service et les administrateurs écrivent des notes internes.")
    return _finish(thread, lambda: services.post_message(thread, current_user, body.body, internal=body.internal))


@blueprint.post("/threads/<int:thread_id>/status")
@requires_caller
@spec.validate(json=schemas.StatusIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def change_status(thread_id: int):
    """Changer le statut (motif de refus, fil d'origine d'un doublon, jeu de données qui résout)."""
    thread = _load_thread(thread_id, "change_status")
    body: schemas.StatusIn = _json_body()
    if body.status in (ThreadStatus.NEW, ThreadStatus.WITHDRAWN) or body.status == thread.status:
        raise ApiError(422, fields={"status": ["Ce statut n'est pas possible depuis le statut actuel."]})
    original = None
    if body.duplicate_of is not None:
        original = db.session.get(Thread, body.duplicate_of)
        if original is None or not can(current_user, "view", original):
            raise ApiError(422, fields={"duplicate_of": ["Fil d'origine introuvable."]})
    resolution = _dataset_field(body.resolution_dataset, "resolution_dataset")
    return _finish(
        thread,
        lambda: services.change_status(
            thread,
            current_user,
            body.status,
            expected_version=body.version,
            decline_reason=body.decline_reason,
            motive=body.motive,
            duplicate_of=original,
            resolution_dataset=resolution,
        ),
    )


@blueprint.post("/threads/<int:thread_id>/details-request")
@requires_caller
@spec.validate(json=schemas.DetailsRequestIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def ask_details(thread_id: int):
    """Demander des précisions au demandeur."""
    thread = _load_thread(thread_id, "ask_details")
    body: schemas.DetailsRequestIn = _json_body()
    return _finish(
        thread, lambda: services.ask_details(thread, current_user, body.question, expected_version=body.version)
    )


@blueprint.post("/threads/<int:thread_id>/transfer")
@requires_caller
@spec.validate(json=schemas.TransferIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def transfer(thread_id: int):
    """Transférer le fil au service qui détient la donnée."""
    thread = _load_thread(thread_id, "transfer")
    body: schemas.TransferIn = _json_body()
    organisation = organisation_by_slug(body.organisation)
    if organisation is None:
        raise ApiError(422, fields={"organisation": ["Service introuvable."]})
    return _finish(
        thread,
        lambda: services.transfer_thread(
            thread, current_user, organisation, body.message, expected_version=body.version
        ),
    )


@blueprint.post("/threads/<int:thread_id>/extension")
@requires_caller
@spec.validate(json=schemas.ExtensionIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def extend(thread_id: int):
    """Prolonger le délai d'une demande de données à deux mois (art. R124-1), avec un motif."""
    thread = _load_thread(thread_id, "extend")
    body: schemas.ExtensionIn = _json_body()
    return _finish(
        thread, lambda: services.extend_deadline(thread, current_user, body.motive, expected_version=body.version)
    )


@blueprint.post("/threads/<int:thread_id>/assignment")
@requires_caller
@spec.validate(json=schemas.AssignmentIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def assign(thread_id: int):
    """Assigner le fil à un membre du service, ou à personne."""
    thread = _load_thread(thread_id, "assign")
    body: schemas.AssignmentIn = _json_body()
    assignee = None
    if body.assignee is not None:
        assignee = db.session.scalar(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id == body.assignee, Membership.organisation_id == thread.organisation_id)
        )
        if assignee is None:
            raise ApiError(422, fields={"assignee": ["On n'assigne un fil qu'à un membre du service concerné."]})
    return _finish(
        thread, lambda: services.assign_thread(thread, current_user, assignee, expected_version=body.version)
    )


@blueprint.post("/threads/<int:thread_id>/reclassification")
@requires_caller
@spec.validate(json=schemas.ReclassificationIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def reclassify(thread_id: int):
    """Changer le type du fil (et la nature du problème d'un signalement qualité)."""
    thread = _load_thread(thread_id, "reclassify")
    body: schemas.ReclassificationIn = _json_body()
    return _finish(
        thread,
        lambda: services.reclassify_thread(
            thread, current_user, ThreadKind(body.kind), body.quality_category, expected_version=body.version
        ),
    )


@blueprint.post("/threads/<int:thread_id>/withdrawal")
@requires_caller
@spec.validate(json=schemas.WithdrawalIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def withdraw(thread_id: int):
    """Retirer le fil (son auteur ; un administrateur, avec un motif)."""
    thread = _load_thread(thread_id, "withdraw")
    body: schemas.WithdrawalIn = _json_body()
    return _finish(
        thread,
        lambda: services.withdraw_thread(thread, current_user, motive=body.motive, expected_version=body.version),
    )


@blueprint.post("/threads/<int:thread_id>/reopening")
@requires_caller
@spec.validate(json=schemas.Versioned, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def reopen(thread_id: int):
    """Rouvrir un fil clos."""
    thread = _load_thread(thread_id, "reopen")
    body: schemas.Versioned = _json_body()
    return _finish(thread, lambda: services.reopen_thread(thread, current_user, expected_version=body.version))


@blueprint.post("/threads/<int:thread_id>/routing")
@requires_caller
@spec.validate(json=schemas.RoutingIn, resp=responses(schemas.ThreadOut, 403, 404, 409), tags=["fils"])
def route(thread_id: int):
    """Adresser un fil sans service au service qui doit répondre (administrateurs des données)."""
    thread = _load_thread(thread_id, "route")
    body: schemas.RoutingIn = _json_body()
    organisation = organisation_by_slug(body.organisation)
    if organisation is None:
        raise ApiError(422, fields={"organisation": ["Service introuvable."]})
    return _finish(thread, lambda: services.route_thread(thread, current_user, organisation))


def _toggle(thread_id: int, action: str, operation) -> schemas.ToggleOut:
    thread = _load_thread(thread_id, action)
    try:
        active = operation(thread, current_user)
    except services.ThreadError as error:
        raise _thread_error(error) from None
    db.session.commit()
    return schemas.ToggleOut(active=active)


@blueprint.post("/threads/<int:thread_id>/vote")
@requires_caller
@spec.validate(resp=responses(schemas.ToggleOut, 403, 404), tags=["fils"])
def vote(thread_id: int):
    """Soutenir le fil (« moi aussi »), ou retirer son soutien."""
    return _toggle(thread_id, "vote", services.toggle_vote)


@blueprint.post("/threads/<int:thread_id>/follow")
@requires_caller
@spec.validate(resp=responses(schemas.ToggleOut, 403, 404), tags=["fils"])
def follow(thread_id: int):
    """Suivre le fil, ou ne plus le suivre."""
    return _toggle(thread_id, "follow", services.toggle_follow)


# Datasets and organisations ------------------------------------------------------------------------------------


def _load_dataset(identifier: str) -> Dataset:
    dataset = dataset_of_path(identifier)
    if dataset is None:
        raise ApiError(404, "Aucun jeu de données du catalogue n'a cet identifiant.")
    return dataset


@blueprint.get("/datasets/<path:identifier>/threads")
@spec.validate(query=schemas.ThreadQuery, resp=responses(schemas.ThreadPage, 404), tags=["jeux de données"])
def dataset_threads(identifier: str):
    """Les fils d'un jeu de données, avec les mêmes filtres que la liste des fils."""
    dataset = _load_dataset(identifier)
    query = _query()
    filters = _filters(query, dataset=dataset.catalogue_id)
    return serialisers.thread_page(queries.search_threads(filters, current_user, query.page, query.page_size))


@blueprint.get("/datasets/<path:identifier>")
@spec.validate(resp=responses(schemas.DatasetOut, 404), tags=["jeux de données"])
def get_dataset(identifier: str):
    """Un jeu de données, par tout identifiant : id data.gouv.fr, slug, adresse, fiche Géo-IDE."""
    dataset = _load_dataset(identifier)
    return serialisers.dataset_out(dataset, queries.status_counts(current_user, dataset_id=dataset.id))


def _load_organisation(slug: str) -> Organisation:
    organisation = organisation_by_slug(slug)
    if organisation is None:
        raise ApiError(404, "Aucun service n'a cet identifiant.")
    return organisation


@blueprint.get("/organisations/<slug>")
@spec.validate(resp=responses(schemas.OrganisationOut, 404), tags=["services"])
def get_organisation(slug: str):
    """Un service (producteur ou non) et ses fils par statut."""
    organisation = _load_organisation(slug)
    return serialisers.organisation_out(
        organisation, queries.status_counts(current_user, organisation_id=organisation.id)
    )


@blueprint.get("/organisations/<slug>/indicators")
@spec.validate(query=schemas.IndicatorQuery, resp=responses(schemas.IndicatorsOut, 404), tags=["services"])
def organisation_indicators(slug: str):
    """Les indicateurs d'un service (fils publics) : reçus, répondus, délais, refus, retards."""
    organisation = _load_organisation(slug)
    query: schemas.IndicatorQuery = _query()
    date_from = clamp_day(query.date_from) if query.date_from else None
    date_to = clamp_day(query.date_to) if query.date_to else None
    scope = Scope(date_from=date_from, date_to=date_to, producer_ids=(organisation.id,))
    entry = next(e for e in indicators.producers(scope) if e["slug"] == organisation.slug)
    fields = schemas.IndicatorsOut.model_fields
    return schemas.IndicatorsOut(
        **{key: value for key, value in entry.items() if key in fields}, date_from=date_from, date_to=date_to
    )


# Reports and notifications ----------------------------------------------------------------------------------------


@blueprint.get("/reports")
@spec.validate(query=schemas.PageQuery, resp=responses(schemas.ReportPage), tags=["rapports"])
def list_reports():
    """Les rapports publiés, les plus récents d'abord."""
    query: schemas.PageQuery = _query()
    return serialisers.report_page(reports.published_reports(query.page, query.page_size))


@blueprint.get("/reports/<slug>")
@spec.validate(resp=responses(schemas.ReportOut, 404), tags=["rapports"])
def get_report(slug: str):
    """Un rapport publié, avec ses chiffres et recommandations figés à la publication."""
    report = db.session.scalar(
        sa.select(Report).where(Report.slug == slug, Report.status == ReportStatus.PUBLISHED.value)
    )
    if report is None:
        raise ApiError(404)
    return serialisers.report_out(report, reports.shown_data(report))


@blueprint.get("/notifications")
@requires_caller
@spec.validate(query=schemas.PageQuery, resp=responses(schemas.NotificationPage), tags=["notifications"])
def list_notifications():
    """Les notifications de l'appelant, les plus récentes d'abord."""
    query: schemas.PageQuery = _query()
    return serialisers.notification_page(notifications.notifications_of(current_user, query.page, query.page_size))


# The document and its page ---------------------------------------------------------------------------------------


@blueprint.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document, generated from the views above."""
    return errors.json_response(openapi.document())


@blueprint.get("/docs")
def documentation():
    """The document made readable, served from this site (no script, no outside asset)."""
    return render_template("api/docs.html", document=openapi.readable_document())


def register(app: Flask) -> None:
    """The API's blueprints, its JSON errors and the token section of the account page."""
    from feedback.api.token_views import blueprint as token_pages

    app.register_blueprint(blueprint)
    app.register_blueprint(token_pages)
    errors.register(app)
    register_personal_data("api_tokens", tokens.tokens_as_personal_data)
    register_eraser(tokens.erase_tokens)
