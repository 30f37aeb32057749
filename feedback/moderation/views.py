"""Reporting a message or a thread, and the curators' queue with its actions. Every form works without
JavaScript (POST, then 303 back to where it was sent from)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from feedback.accounts.models import User
from feedback.extensions import db, limiter
from feedback.moderation import services
from feedback.moderation.forms import ConfirmForm, MotiveForm, ReportForm
from feedback.moderation.models import REASON_LABELS, ReportReason
from feedback.threads.models import Message, Thread
from feedback.threads.workflow import can

blueprint = Blueprint("moderation", __name__)


def _thread_or_404(thread_id: int) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if thread is None or not can(current_user, "view", thread):
        abort(404)
    return thread


def _message_or_404(thread: Thread, message_id: int | None) -> Message | None:
    if message_id is None:
        return None
    message = db.session.get(Message, message_id)
    if message is None or message.thread_id != thread.id:
        abort(404)
    if message.internal and not can(current_user, "see_internal", thread):
        abort(404)
    return message


def _require_curator() -> None:
    if not current_user.is_curator:
        abort(403)


@blueprint.route("/fils/<int:thread_id>/signaler", methods=["GET", "POST"], defaults={"message_id": None})
@blueprint.route("/fils/<int:thread_id>/messages/<int:message_id>/signaler", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], key_func=lambda: f"user:{current_user.get_id()}")
@login_required
def report(thread_id: int, message_id: int | None):
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    form = ReportForm()
    error = None
    if form.validate_on_submit():
        try:
            services.report_content(current_user, thread, message, form.reason.data, form.comment.data)
        except services.ModerationError as exc:
            error = str(exc)
        else:
            db.session.commit()
            flash(
                "Merci : votre signalement est transmis aux administrateurs des données. "
                "Vous serez averti·e de la suite qui lui sera donnée.",
                "success",
            )
            anchor = f"#message-{message.id}" if message is not None else ""
            return redirect(url_for("threads.thread", thread_id=thread.id) + anchor, code=303)
    return render_template("moderation/report.html", thread=thread, message=message, form=form, error=error)


@blueprint.get("/moderation")
@login_required
def queue():
    _require_curator()
    reason = request.args.get("motif") or None
    if reason not in {r.value for r in ReportReason}:
        reason = None
    return render_template(
        "moderation/queue.html",
        items=services.queue(reason),
        counts=services.counts_by_reason(),
        reason=reason,
        reason_labels=REASON_LABELS,
        suspended=services.suspended_accounts(),
        held=services.held_posts(),
        motive_form=MotiveForm(),
        confirm_form=ConfirmForm(),
    )


def _back(thread: Thread | None = None):
    """Back to the queue, or to the thread's page when the action was taken there."""
    if request.form.get("retour") == "fil" and thread is not None:
        return redirect(url_for("threads.thread", thread_id=thread.id), code=303)
    return redirect(url_for("moderation.queue"), code=303)


def _act(action, *arguments, done: str, thread: Thread | None = None, form=None):
    form = form or ConfirmForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
        return _back(thread)
    try:
        action(current_user, *arguments)
    except services.ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return _back(thread)


@blueprint.post("/moderation/fils/<int:thread_id>/messages/<int:message_id>/masquer")
@login_required
def hide_message(thread_id: int, message_id: int):
    _require_curator()
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    form = MotiveForm()
    return _act(
        lambda actor, m: services.hide_message(actor, m, form.motive.data),
        message,
        done="Le message est masqué : un avis le remplace pour les lecteurs du fil.",
        thread=thread,
        form=form,
    )


@blueprint.post("/moderation/fils/<int:thread_id>/messages/<int:message_id>/retablir")
@login_required
def restore_message(thread_id: int, message_id: int):
    _require_curator()
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    return _act(services.restore_message, message, done="Le message est rétabli.", thread=thread)


@blueprint.post("/moderation/fils/<int:thread_id>/masquer")
@login_required
def hide_thread(thread_id: int):
    _require_curator()
    thread = _thread_or_404(thread_id)
    form = MotiveForm()
    return _act(
        lambda actor, t: services.hide_thread(actor, t, form.motive.data),
        thread,
        done="Le fil est masqué : seuls les administrateurs des données le voient.",
        thread=thread,
        form=form,
    )


@blueprint.post("/moderation/fils/<int:thread_id>/retablir")
@login_required
def restore_thread(thread_id: int):
    _require_curator()
    thread = _thread_or_404(thread_id)
    return _act(services.restore_thread, thread, done="Le fil est rétabli.", thread=thread)


@blueprint.post("/moderation/fils/<int:thread_id>/classer", defaults={"message_id": None})
@blueprint.post("/moderation/fils/<int:thread_id>/messages/<int:message_id>/classer")
@login_required
def dismiss(thread_id: int, message_id: int | None):
    _require_curator()
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    return _act(services.dismiss, thread, message, done="Les signalements sont classés sans suite.")


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@blueprint.post("/moderation/comptes/<int:user_id>/suspendre")
@login_required
def suspend(user_id: int):
    _require_curator()
    user = _user_or_404(user_id)
    return _act(services.suspend_account, user, done=f"Le compte de {user.name} est suspendu.")


@blueprint.post("/moderation/comptes/<int:user_id>/reactiver")
@login_required
def reactivate(user_id: int):
    _require_curator()
    user = _user_or_404(user_id)
    return _act(services.reactivate_account, user, done=f"Le compte de {user.name} est réactivé.")


@blueprint.app_template_global()
def open_reports_count() -> int:
    """The number of open reports, shown to curators beside the queue's link in the header."""
    return services.open_reports_count()


@blueprint.post("/moderation/fils/<int:thread_id>/publier", defaults={"message_id": None})
@blueprint.post("/moderation/fils/<int:thread_id>/messages/<int:message_id>/publier")
@login_required
def publish(thread_id: int, message_id: int | None):
    """A held first post of a new account is published."""
    _require_curator()
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    return _act(services.publish_held, thread, message, done="La contribution est publiée ; son auteur en est averti.")


@blueprint.post("/moderation/fils/<int:thread_id>/refuser", defaults={"message_id": None})
@blueprint.post("/moderation/fils/<int:thread_id>/messages/<int:message_id>/refuser")
@login_required
def refuse(thread_id: int, message_id: int | None):
    """A held first post of a new account is refused: it stays hidden, its author is told why."""
    _require_curator()
    thread = _thread_or_404(thread_id)
    message = _message_or_404(thread, message_id)
    form = MotiveForm()
    return _act(
        lambda actor, t, m: services.refuse_held(actor, t, m, form.motive.data),
        thread,
        message,
        done="La contribution n'est pas publiée ; son auteur en est averti.",
        form=form,
    )
