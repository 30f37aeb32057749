from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from feedback.accounts.models import Membership, User
from feedback.accounts.services import organisation_by_slug
from feedback.catalogue import queries as catalogue_queries
from feedback.catalogue.models import Dataset, Territory, Theme, ThemeScheme
from feedback.catalogue.resolver import look_up_dataset, parse_identifier, resolve_dataset, suggestion_label
from feedback.extensions import db, limiter, login_manager
from feedback.forms import Form
from feedback.htmx import add_vary_header, is_partial_request
from feedback.input_limits import clamp_day, fits_an_id
from feedback.markdown import render_markdown
from feedback.pagination import page_number
from feedback.storage import receives_files, storage
from feedback.threads import queries, services
from feedback.threads.attachments import AttachmentError, check_uploads
from feedback.threads.forms import (
    ActionForm,
    AskDetailsForm,
    AssignForm,
    EditMessageForm,
    ExtendForm,
    NewThreadForm,
    ReclassifyForm,
    ReplyForm,
    RouteForm,
    StatusForm,
    TransferForm,
    WithdrawForm,
)
from feedback.threads.models import Attachment, Message, Thread, ThreadKind, ThreadStatus, UseCase
from feedback.threads.workflow import can, can_edit_message, readable_messages, status_choices

blueprint = Blueprint("threads", __name__)

KIND_SLUGS = {kind.value for kind in ThreadKind}


def thread_panel(dataset=None, organisation=None, limit: int = 5) -> dict:
    """For catalogue pages: the visible threads of a dataset or of an organisation, counted by status, and the
    latest few. Two queries."""
    where = {"dataset_id": dataset.id} if dataset is not None else {"organisation_id": organisation.id}
    counts = queries.status_counts(current_user, **where)
    filters = queries.ThreadFilters(
        dataset=dataset.catalogue_id if dataset is not None else "",
        producer=organisation.slug if organisation is not None else "",
    )
    latest = queries.search_threads(filters, current_user, 1, limit)
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "open": sum(counts[s.value] for s in ThreadStatus if s.is_open),
        "latest": latest.items,
        "list_url": url_for("threads.list_threads", jeu=filters.dataset or None, producteur=filters.producer or None),
    }


# Lists ------------------------------------------------------------------------------------------------


def filters_from_request() -> queries.ThreadFilters:
    """The filters of /threads from the query string; its Atom feed reads the same ones."""
    args = request.args
    return queries.ThreadFilters(
        q=args.get("q", "").strip()[:300],
        kind=args.get("type", ""),
        status=args.get("statut", ""),
        state=args.get("etat", ""),
        producer=args.get("producteur", "")[:255],
        dataset=args.get("jeu", "")[:24],
        theme=args.get("theme", "")[:100],
        territory=args.get("territoire", "")[:16],
        use_case=args.get("usage", "")[:30],
        overdue=args.get("retard") == "1",
        mine=args.get("mes-fils") == "1",
        assigned=args.get("assignes") == "1",
        date_from=_day_arg(args.get("du")),
        date_to=_day_arg(args.get("au")),
        thread_ids=_thread_ids_arg(args.get("fils")),
        sort=args.get("tri", ""),
    )


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_THREAD_ID = re.compile(r"[0-9]{1,9}")  # within any integer column's range


def _day_arg(value: str | None) -> date | None:
    """A day written AAAA-MM-JJ, brought within the years the platform counts in; anything else is no filter."""
    value = (value or "").strip()
    if not _ISO_DAY.fullmatch(value):
        return None
    try:
        return clamp_day(date.fromisoformat(value))
    except ValueError:
        return None


def _thread_ids_arg(value: str | None) -> tuple[int, ...]:
    """Comma-separated thread ids, the first MAX_THREAD_IDS of them; what is not a number is left out."""
    ids = (int(part) for part in (value or "")[:5000].split(",") if _THREAD_ID.fullmatch(part.strip()))
    return tuple(dict.fromkeys(ids))[: queries.MAX_THREAD_IDS]


@blueprint.get("/fils")
def list_threads():
    filters = filters_from_request()
    page = queries.search_threads(
        filters, current_user, page_number(request.args.get("page")), current_app.config["FEEDBACK_PAGE_SIZE"]
    )
    context = dict(filters=filters, page=page, sorts=queries.SORTS)
    if is_partial_request():
        response = current_app.make_response(render_block("threads/list.html", "results", **context))
    else:
        context.update(
            producers=catalogue_queries.producer_choices(),
            themes=catalogue_queries.inspire_theme_choices(),
            territory_choices=[(t.code, t.label) for t in catalogue_queries.territory_choices()],
            kind_choices=[(k.value, k.label) for k in ThreadKind],
            status_choices=[(s.value, s.label) for s in ThreadStatus],
            use_case_choices=[(u.value, u.label) for u in UseCase],
        )
        response = current_app.make_response(render_template("threads/list.html", **context))
    return add_vary_header(response)


# Posting ----------------------------------------------------------------------------------------------


def _theme_choices() -> list:
    inspire = [(f"inspire:{code}", label) for code, label in catalogue_queries.inspire_theme_choices()]
    ecospheres = [
        (f"ecospheres:{t.code}", t.label)
        for t in db.session.scalars(
            sa.select(Theme)
            .where(Theme.scheme == ThemeScheme.ECOSPHERES, Theme.parent_id.is_(None))
            .order_by(Theme.label)
        )
    ]
    return [("", "Choisissez un thème"), *ecospheres, *((value, f"{label} (INSPIRE)") for value, label in inspire)]


def _fill_choices(form: NewThreadForm) -> None:
    form.organisation.choices = [("", "Choisissez un service")] + list(catalogue_queries.producer_choices())
    form.territory.choices = [("", "Choisissez un territoire")] + [
        (t.code, ("\u00a0\u00a0" if t.kind == "departement" else "") + t.label)
        for t in catalogue_queries.territory_choices()
    ]
    form.theme.choices = _theme_choices()


def _theme_from_choice(value: str | None) -> Theme | None:
    if not value or ":" not in value:
        return None
    scheme, code = value.split(":", 1)
    return db.session.scalars(sa.select(Theme).where(Theme.scheme == scheme, Theme.code == code)).first()


@blueprint.get("/fils/nouveau")
def new_thread_choice():
    kind = request.args.get("type")
    if kind in KIND_SLUGS:
        return new_thread(kind)
    return render_template("threads/new_choice.html", dataset=request.args.get("jeu", ""), kinds=list(ThreadKind))


@blueprint.post("/fils/nouveau")
@receives_files
@limiter.limit("20 per hour")
@login_required
def create_thread():
    kind = request.args.get("type")
    if kind not in KIND_SLUGS:
        abort(400)
    return new_thread(kind)


def new_thread(kind: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    kind = ThreadKind(kind)
    form = NewThreadForm()
    _fill_choices(form)
    if request.method == "GET":  # what a page that leads here already knows (a dataset, the words searched)
        form.dataset.data = request.args.get("jeu", "")
        form.title.data = request.args.get("titre", "")[: services.MAX_TITLE_LENGTH]
        form.territory.data = request.args.get("territoire") or form.territory.data
        form.quality_category.data = request.args.get("categorie") or form.quality_category.data
    dataset, candidates = _dataset_field(form.dataset, "dataset_choice")
    if request.method == "POST" and request.form.get("action") == "preview":  # shown again, nothing posted
        return render_template(
            "threads/new.html", form=form, kind=kind, dataset=dataset, candidates=candidates, **_preview_of(form.body)
        )
    if request.method == "POST" and form.validate():
        _require_dataset(form.dataset, dataset, candidates)
        organisation = organisation_by_slug(form.organisation.data) if form.organisation.data else None
        territory = db.session.get(Territory, form.territory.data) if form.territory.data else None
        theme = _theme_from_choice(form.theme.data)
        related = _related_datasets(form.related_datasets)
        if not has_errors(form):
            try:
                thread = services.create_thread(
                    current_user,
                    services.NewThread(
                        kind=kind,
                        title=form.title.data,
                        body=form.body.data,
                        dataset=dataset,
                        organisation=organisation,
                        quality_category=form.quality_category.data or None,
                        use_case=form.use_case.data or None,
                        territory=territory,
                        themes=[theme] if theme else [],
                        related_datasets=related,
                        request_want=form.request_want.data or None,
                        wished_on=form.wished_on.data,
                        restricted=bool(form.restricted.data),
                        files=_checked_files(form),
                    ),
                )
            except services.ThreadError as error:
                _field_error(form, error)
            else:
                db.session.commit()
                published = "Votre message est publié. Vous serez tenu·e au courant des réponses."
                flash(HELD if thread.held_at else published, "success")
                return redirect(url_for("threads.thread", thread_id=thread.id), code=303)
    return render_template("threads/new.html", form=form, kind=kind, dataset=dataset, candidates=candidates)


NO_DATASET = (
    "Aucun jeu de données du catalogue n'a ce titre ou cet identifiant : vérifiez-le, ou choisissez parmi les "
    "suggestions."
)
SEVERAL_DATASETS = "Plusieurs jeux de données portent ce titre : choisissez le vôtre dans la liste."


def _dataset_field(field, choice_name: str) -> tuple[Dataset | None, tuple[Dataset, ...]]:
    """The dataset a field names (any identifier, or a title: `look_up_dataset`), or the candidates its title
    names; a candidate chosen among them (`choice_name`, a radio button) names it, and the field then shows it."""
    choice = request.form.get(choice_name) if request.method == "POST" else None
    if choice:
        chosen = resolve_dataset(choice)
        if chosen is not None:
            field.data = suggestion_label(chosen)
            return chosen, ()
    found = look_up_dataset(field.data)
    if found.dataset is not None and field.data and parse_identifier(field.data.strip()):
        field.data = suggestion_label(found.dataset)  # the form shows the dataset's title, never a bare id
    return found.dataset, found.candidates


def _require_dataset(field, dataset: Dataset | None, candidates: tuple[Dataset, ...]) -> None:
    """An error on a dataset field whose text names no dataset, or several."""
    if not field.data or dataset is not None:
        return
    field.errors.append(SEVERAL_DATASETS if candidates else NO_DATASET)


def _related_datasets(field) -> list[Dataset]:
    """The datasets of a field of one title or identifier per line; an error names the lines that name none or
    several (with the identifiers of the candidates, to paste instead)."""
    related: list[Dataset] = []
    problems: list[str] = []
    for line in (field.data or "").splitlines():
        if not line.strip():
            continue
        found = look_up_dataset(line)
        if found.dataset is not None:
            related.append(found.dataset)
        elif found.candidates:
            names = " ; ".join(f"{suggestion_label(d)} ({d.catalogue_id})" for d in found.candidates)
            problems.append(f"« {line.strip()} » désigne plusieurs jeux de données : {names}")
        else:
            problems.append(f"« {line.strip()} » est introuvable dans le catalogue")
    if problems:
        field.errors.append(". ".join(problems) + ". Indiquez l'identifiant du bon jeu de données.")
    return related


def has_errors(form) -> bool:
    return bool(form.form_errors) or any(field.errors for field in form)


def _field_error(form, error: services.ThreadError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(str(error))
    else:
        field.errors = [*field.errors, str(error)]


def _preview_of(body_field) -> dict:
    body = (body_field.data or "")[: services.MAX_BODY_LENGTH]
    html = render_markdown(body) if body.strip() else Markup("<p class='fr-text--sm'>Rien à prévisualiser.</p>")
    return {"preview": True, "html": html}


@blueprint.post("/fils/apercu")
@limiter.limit("30 per minute")
def preview():
    """The markdown of a message as it will be shown (htmx); as long as a message may be, and rate-limited."""
    body = request.form.get("body", "")[: services.MAX_BODY_LENGTH]
    html = render_markdown(body) if body.strip() else Markup("<p class='fr-text--sm'>Rien à prévisualiser.</p>")
    return add_vary_header(current_app.make_response(render_template("threads/_preview.html", html=html)))


@blueprint.get("/fils/similaires")
def similar():
    title = request.args.get("title", "")[:200]
    dataset = resolve_dataset(request.args.get("dataset", "")) if request.args.get("dataset") else None
    theme = _theme_from_choice(request.args.get("theme"))
    threads = queries.similar_threads(
        title,
        current_user,
        dataset=dataset,
        theme_ids=[theme.id] if theme else (),
        territory_code=request.args.get("territory") or None,
    )
    return render_template("threads/_similar.html", threads=threads)


# The thread page and its actions ------------------------------------------------------------------


def _load(thread_id: int) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if thread is None or not can(current_user, "view", thread):
        abort(404)  # a restricted thread does not exist for those who may not see it
    return thread


def _members_choices(thread: Thread) -> list[tuple[str, str]]:
    if thread.organisation_id is None:
        return []
    rows = db.session.execute(
        sa.select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == thread.organisation_id)
        .order_by(User.name)
    ).all()
    return [("", "Personne")] + [(str(user_id), name) for user_id, name in rows]


_THREAD_FORMS = (
    "reply_form", "status_form", "ask_form", "transfer_form", "extend_form", "assign_form", "reclassify_form",
    "action_form", "withdraw_form",
)  # fmt: skip


def _thread_context(thread: Thread, **forms) -> dict:
    context = dict(
        thread=thread,
        timeline=queries.thread_timeline(thread, current_user),
        following=queries.is_following(thread, current_user),
        voted=queries.has_voted(thread, current_user),
        error=forms.get("error"),
    )
    if not current_user.is_authenticated:
        # A visitor not signed in acts on nothing here: no form, hence no CSRF token put in a session cookie for
        # merely reading the page (which can then be kept for the next visitor: feedback/page_cache.py).
        return context | dict.fromkeys(_THREAD_FORMS)
    return context | _thread_forms(thread, forms)


def _thread_forms(thread: Thread, forms: dict) -> dict:
    reply = forms.get("reply_form") or ReplyForm(formdata=None)
    status_form = forms.get("status_form") or StatusForm(formdata=None)
    status_form.status.choices = [("", "Choisissez un statut")] + [
        (s.value, s.label) for s in status_choices(current_user, thread)
    ]
    transfer = forms.get("transfer_form") or TransferForm(formdata=None)
    transfer.organisation.choices = (
        [("", "Choisissez un service")] + [(slug, name) for slug, name in catalogue_queries.producer_choices()]
        if can(current_user, "transfer", thread)
        else []
    )
    assign = forms.get("assign_form") or AssignForm(formdata=None)
    assign.assignee.choices = _members_choices(thread) if can(current_user, "assign", thread) else []
    reclassify = forms.get("reclassify_form") or ReclassifyForm(
        formdata=None, kind=thread.kind, quality_category=thread.quality_category or ""
    )
    for form in (status_form, transfer, assign, reclassify):
        form.version.data = thread.version
    return dict(
        reply_form=reply,
        status_form=status_form,
        ask_form=forms.get("ask_form") or AskDetailsForm(formdata=None, version=thread.version),
        transfer_form=transfer,
        extend_form=forms.get("extend_form") or ExtendForm(formdata=None, version=thread.version),
        assign_form=assign,
        reclassify_form=reclassify,
        action_form=ActionForm(formdata=None, version=thread.version),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None, version=thread.version),
    )


@blueprint.get("/fils/<int:thread_id>")
def thread(thread_id: int):
    thread = _load(thread_id)
    return add_vary_header(current_app.make_response(render_template("threads/thread.html", **_thread_context(thread))))


def _after_action(thread: Thread, message: str | None = None, **forms):
    """htmx: the thread's body again, changed in place; without JavaScript: back to the page (303), or the
    page with the form's errors."""
    failed = bool(forms.get("error")) or any(has_errors(f) for key, f in forms.items() if key.endswith("_form"))
    if not failed:
        db.session.commit()
    else:
        db.session.rollback()
        db.session.refresh(thread)
    if is_partial_request():
        context = _thread_context(thread, **(forms if failed else {}))
        context["notice"] = None if failed else message
        return add_vary_header(current_app.make_response(render_block("threads/thread.html", "thread_body", **context)))
    if failed:
        return render_template("threads/thread.html", **_thread_context(thread, **forms)), 200
    if message:
        flash(message, "success")
    return redirect(url_for("threads.thread", thread_id=thread.id), code=303)


def _action(thread_id: int, action: str) -> Thread:
    if not current_user.is_authenticated:
        abort(401)
    thread = _load(thread_id)
    if not can(current_user, action, thread):
        abort(403)
    return thread


VERSION_UNREADABLE = (
    "Ce formulaire ne dit pas quelle version du fil vous aviez sous les yeux. Rechargez la page, puis recommencez."
)


def _run(
    thread: Thread, form_name: str, form, operation, message: str | Callable[[Any], str], *, versioned: bool = False
):
    """Validate `form`, run `operation()`, and answer; a refused operation keeps the form and its error.
    `message`: the confirmation, or a function of what the operation returned that says it. `versioned`: the
    operation is checked against the version the page showed, which the form must carry."""
    if not form.validate_on_submit():
        return _after_action(thread, **{form_name: form})
    if versioned and form.expected_version is None:  # missing or garbled: refused, never unchecked
        return _after_action(thread, error=VERSION_UNREADABLE, **{form_name: form})
    try:
        done = operation()
    except services.Conflict as error:
        return _after_action(thread, error=str(error), **{form_name: form})
    except services.ThreadError as error:
        _field_error(form, error)
        return _after_action(thread, **{form_name: form})
    return _after_action(thread, message(done) if callable(message) else message)


@blueprint.post("/fils/<int:thread_id>/messages")
@receives_files
@limiter.limit("60 per hour")
def reply(thread_id: int):
    thread = _action(thread_id, "reply")
    form = ReplyForm()
    if request.form.get("action") == "preview":  # without JavaScript: the page again, the text and its preview
        context = _thread_context(thread, reply_form=form)
        return render_template("threads/thread.html", **context, **_preview_of(form.body))
    internal = bool(form.internal.data)

    def post():
        if internal and not can(current_user, "internal_note", thread):  # refused, never published instead
            raise services.ThreadError(INTERNAL_NOTE_REFUSED, "body")
        files = _checked_files(form)
        return services.post_message(thread, current_user, form.body.data, internal=internal, files=files)

    def notice(posted: Message) -> str:
        if internal:
            return "Note interne ajoutée."
        return HELD if posted.held_at else "Votre message est publié."

    return _run(thread, "reply_form", form, post, notice)


HELD = (
    "Merci : comme les premières contributions de chaque nouveau compte, la vôtre sera lisible par tous une fois "
    "relue par les administrateurs des données. Vous en serez averti·e."
)


INTERNAL_NOTE_REFUSED = (
    "Seuls les membres du service producteur et les administrateurs des données écrivent des notes internes : "
    "votre message n'a pas été publié."
)


def _checked_files(form) -> list:
    """The form's files, checked on their content (`attachments.check_uploads`); a refusal goes on the field."""
    try:
        return check_uploads(form.files.data or [])
    except AttachmentError as error:
        raise services.ThreadError(str(error), "files") from None


@blueprint.get("/fils/<int:thread_id>/fichiers/<int:attachment_id>")
@blueprint.get("/fils/<int:thread_id>/fichiers/<int:attachment_id>/<name>")
def attachment(thread_id: int, attachment_id: int, name: str | None = None):
    """A message's file, to those who may read the message (the timeline's own condition): downloaded, never
    shown in the page's origin. The name in the path is for people and browsers; the file is its id's."""
    found = db.session.scalar(
        sa.select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id, Attachment.thread_id == thread_id, readable_messages(current_user))
    )
    if found is None:
        abort(404)
    disposition = content_disposition(found.name)
    elsewhere = storage().url(found.storage_key, download_name=disposition)
    if elsewhere:
        response = redirect(elsewhere, code=302)
    else:
        response = send_file(
            storage().open(found.storage_key),
            mimetype=found.content_type,
            as_attachment=True,
            download_name=found.name,
            conditional=False,
            etag=False,
        )
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def content_disposition(name: str) -> str:
    """`attachment`, with the name in ASCII and in UTF-8 (RFC 6266)."""
    ascii_name = name.encode("ascii", "ignore").decode("ascii").replace('"', "") or "fichier"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@blueprint.post("/fils/<int:thread_id>/statut")
def change_status(thread_id: int):
    thread = _action(thread_id, "change_status")
    form = StatusForm()
    form.status.choices = [(s.value, s.label) for s in status_choices(current_user, thread)]

    def operation():
        duplicate_of = _thread_from_reference(form.duplicate_of.data) if form.duplicate_of.data else None
        if form.duplicate_of.data and duplicate_of is None:
            raise services.ThreadError("Fil d'origine introuvable.", "duplicate_of")
        resolution, form.resolution_candidates = _dataset_field(form.resolution_dataset, "resolution_dataset_choice")
        _require_dataset(form.resolution_dataset, resolution, form.resolution_candidates)
        if form.resolution_dataset.errors:
            raise services.ThreadError(form.resolution_dataset.errors.pop(), "resolution_dataset")
        services.change_status(
            thread,
            current_user,
            ThreadStatus(form.status.data),
            expected_version=form.expected_version,
            decline_reason=form.decline_reason.data or None,
            motive=form.motive.data,
            duplicate_of=duplicate_of,
            resolution_dataset=resolution,
        )

    return _run(thread, "status_form", form, operation, "Le statut du fil est changé.", versioned=True)


def _thread_from_reference(text: str) -> Thread | None:
    found = re.search(r"(\d+)\s*/?\s*$", text.strip())
    if not found or not fits_an_id(int(found.group(1))):
        return None
    original = db.session.get(Thread, int(found.group(1)))
    return original if original is not None and can(current_user, "view", original) else None


@blueprint.post("/fils/<int:thread_id>/precisions")
def ask_details(thread_id: int):
    thread = _action(thread_id, "ask_details")
    form = AskDetailsForm()
    return _run(
        thread,
        "ask_form",
        form,
        lambda: services.ask_details(thread, current_user, form.question.data, expected_version=form.expected_version),
        "Votre demande de précisions est envoyée au demandeur.",
        versioned=True,
    )


@blueprint.post("/fils/<int:thread_id>/transfert")
def transfer(thread_id: int):
    thread = _action(thread_id, "transfer")
    form = TransferForm()
    form.organisation.choices = list(catalogue_queries.producer_choices())

    def operation():
        organisation = organisation_by_slug(form.organisation.data)
        if organisation is None:
            raise services.ThreadError("Service introuvable.", "organisation")
        services.transfer_thread(
            thread, current_user, organisation, form.message.data, expected_version=form.expected_version
        )

    message = "Le fil est transféré ; le demandeur en est informé."
    return _run(thread, "transfer_form", form, operation, message, versioned=True)


@blueprint.post("/fils/<int:thread_id>/prolongation")
def extend(thread_id: int):
    thread = _action(thread_id, "extend")
    form = ExtendForm()
    return _run(
        thread,
        "extend_form",
        form,
        lambda: services.extend_deadline(
            thread, current_user, form.motive.data, expected_version=form.expected_version
        ),
        "Le délai de réponse est porté à deux mois ; le demandeur en est informé.",
        versioned=True,
    )


@blueprint.post("/fils/<int:thread_id>/assignation")
def assign(thread_id: int):
    thread = _action(thread_id, "assign")
    form = AssignForm()
    form.assignee.choices = _members_choices(thread) or [("", "Personne")]

    def operation():
        assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
        services.assign_thread(thread, current_user, assignee, expected_version=form.expected_version)

    return _run(thread, "assign_form", form, operation, "L'assignation est enregistrée.", versioned=True)


@blueprint.post("/fils/<int:thread_id>/reclassement")
def reclassify(thread_id: int):
    thread = _action(thread_id, "reclassify")
    form = ReclassifyForm()
    return _run(
        thread,
        "reclassify_form",
        form,
        lambda: services.reclassify_thread(
            thread,
            current_user,
            ThreadKind(form.kind.data),
            form.quality_category.data or None,
            expected_version=form.expected_version,
        ),
        "Le fil est reclassé.",
        versioned=True,
    )


def _simple_action(thread_id: int, action: str, operation, message: str, *, versioned: bool = False):
    thread = _action(thread_id, action)
    form = ActionForm()
    return _run(thread, "action_form", form, lambda: operation(thread, form), message, versioned=versioned)


@blueprint.post("/fils/<int:thread_id>/soutien")
def vote(thread_id: int):
    return _simple_action(
        thread_id, "vote", lambda t, f: services.toggle_vote(t, current_user), "Votre soutien est enregistré."
    )


@blueprint.post("/fils/<int:thread_id>/suivi")
def follow(thread_id: int):
    return _simple_action(thread_id, "follow", lambda t, f: services.toggle_follow(t, current_user), "C'est noté.")


@blueprint.post("/fils/<int:thread_id>/retrait")
def withdraw(thread_id: int):
    thread = _action(thread_id, "withdraw")
    form = WithdrawForm()
    return _run(
        thread,
        "withdraw_form",
        form,
        lambda: services.withdraw_thread(
            thread, current_user, motive=form.motive.data, expected_version=form.expected_version
        ),
        "Votre fil est retiré."
        if thread.author_id == current_user.id
        else "Le fil est retiré ; son auteur en est informé.",
        versioned=True,
    )


@blueprint.post("/fils/<int:thread_id>/reouverture")
def reopen(thread_id: int):
    return _simple_action(
        thread_id,
        "reopen",
        lambda t, f: services.reopen_thread(t, current_user, expected_version=f.expected_version),
        "Le fil est rouvert.",
        versioned=True,
    )


@blueprint.route("/fils/<int:thread_id>/messages/<int:message_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_message(thread_id: int, message_id: int):
    thread = _load(thread_id)
    message = db.session.get(Message, message_id)
    if (
        message is None
        or message.thread_id != thread.id
        or (message.internal and not can(current_user, "see_internal", thread))
    ):
        abort(404)
    if not can_edit_message(current_user, message):
        abort(403)
    form = EditMessageForm(obj=message)
    if form.validate_on_submit():
        try:
            services.edit_message(message, current_user, form.body.data)
        except services.ThreadError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Votre message est modifié.", "success")
            return redirect(url_for("threads.thread", thread_id=thread.id, _anchor=f"message-{message.id}"), code=303)
    return render_template("threads/edit_message.html", thread=thread, message=message, form=form)


# One's own threads -------------------------------------------------------------------------------------


@blueprint.get("/mes-fils")
@login_required
def mine():
    page = queries.my_threads(
        current_user, page_number(request.args.get("page")), current_app.config["FEEDBACK_PAGE_SIZE"]
    )
    return render_template(
        "threads/mine.html",
        page=page,
        counts=queries.my_thread_counts(current_user),
        groups=queries.MINE_GROUPS,
        group_of=queries.mine_group_of,
    )


# Inbox and triage --------------------------------------------------------------------------------------


@blueprint.get("/boite-de-reception")
@login_required
def inbox():
    box = queries.inbox(
        current_user,
        request.args.get("onglet", "a-traiter"),
        page_number(request.args.get("page")),
        current_app.config["FEEDBACK_PAGE_SIZE"],
    )
    return render_template(
        "threads/inbox.html",
        producers=box.producers,
        counts=box.counts,
        page=box.page,
        tab=box.tab,
        tabs=queries.INBOX_TABS,
        regional=box.regional,
    )


@blueprint.route("/triage", methods=["GET", "POST"])
@login_required
def triage():
    if not current_user.is_curator:
        abort(403)
    form = RouteForm()
    form.organisation.choices = list(catalogue_queries.producer_choices())
    if request.method == "POST" and form.validate_on_submit():
        thread = db.session.get(Thread, form.thread_id.data)
        organisation = organisation_by_slug(form.organisation.data)
        if thread is None or organisation is None:
            abort(404)
        try:
            services.route_thread(thread, current_user, organisation)
        except services.ThreadError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"« {thread.title} » est adressé à {organisation.name}.", "success")
        return redirect(url_for("threads.triage"), code=303)
    page = queries.unrouted_threads(page_number(request.args.get("page")), current_app.config["FEEDBACK_PAGE_SIZE"])
    producers = catalogue_queries.producer_choices()
    return render_template("threads/triage.html", page=page, producers=producers, form=form)


# Following a dataset or a producer ------------------------------------------------------------------------


def _after_follow(template: str, block: str, page_url: str, following: bool, message: str, **context):
    """htmx: the button again, pressed or not; without JavaScript: back to the page (303)."""
    db.session.commit()
    if is_partial_request():
        return add_vary_header(current_app.make_response(render_block(template, block, **context)))
    flash(message if following else "C'est noté : vous ne suivez plus ses nouveaux fils.", "success")
    return redirect(page_url, code=303)


@blueprint.post("/jeux-de-donnees/<identifier>/suivi")
def follow_dataset(identifier: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    dataset = resolve_dataset(identifier)
    if dataset is None:
        abort(404)
    if not Form().validate_on_submit():
        abort(400)
    following = services.toggle_follow_dataset(dataset, current_user)
    return _after_follow(
        "catalogue/dataset.html",
        "follow_button",
        url_for("catalogue.dataset", identifier=dataset.catalogue_id),
        following,
        "Vous suivez ce jeu de données : vous serez averti·e de ses nouveaux fils.",
        dataset=dataset,
    )


@blueprint.post("/organisations/<slug>/suivi")
def follow_organisation(slug: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    organisation = organisation_by_slug(slug)
    if organisation is None or not organisation.is_producer:
        abort(404)
    if not Form().validate_on_submit():
        abort(400)
    following = services.toggle_follow_organisation(organisation, current_user)
    return _after_follow(
        "catalogue/organisation.html",
        "follow_button",
        url_for("catalogue.organisation", slug=organisation.slug),
        following,
        "Vous suivez ce service : vous serez averti·e des nouveaux fils qui lui sont adressés.",
        organisation=organisation,
    )
