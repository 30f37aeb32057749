from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from feedback.extensions import csrf, db
from feedback.htmx import add_vary_header, is_partial_request, redirect_response
from feedback.notifications import preferences, services
from feedback.notifications.forms import preferences_form
from feedback.notifications.models import Notification
from feedback.notifications.unsubscribe import InvalidToken, read_token
from feedback.pagination import page_number

blueprint = Blueprint("notifications", __name__)


def _load(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != current_user.id:
        abort(404)  # someone else's notification does not exist for this person
    return notification


def _list_context(notice: str | None = None) -> dict:
    size = current_app.config["FEEDBACK_PAGE_SIZE"]
    page = services.notifications_of(current_user, page_number(request.args.get("page")), size)
    return dict(page=page, notice=notice)


@blueprint.get("/notifications")
@login_required
def list_notifications():
    return add_vary_header(current_app.make_response(render_template("notifications/list.html", **_list_context())))


@blueprint.post("/notifications/<int:notification_id>/lue")
@login_required
def read(notification_id: int):
    """Mark one notification read and go where it leads."""
    notification = _load(notification_id)
    services.mark_read(notification, current_user)
    db.session.commit()
    target = request.script_root + notification.link
    if is_partial_request():
        return redirect_response(target)
    return redirect(target, code=303)


@blueprint.post("/notifications/tout-lu")
@login_required
def read_all():
    marked = services.mark_all_read(current_user)
    db.session.commit()
    message = "Toutes vos notifications sont marquées comme lues." if marked else "Aucune notification n'était à lire."
    if is_partial_request():
        context = _list_context(notice=message)
        html = render_block("notifications/list.html", "notifications", bell_out_of_band=True, **context)
        return add_vary_header(current_app.make_response(html))
    flash(message, "success")
    return redirect(url_for("notifications.list_notifications", page=request.args.get("page")), code=303)


@blueprint.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def edit_preferences():
    """Which mails, and how often: one frequency per topic."""
    form = preferences_form(preferences.frequencies(current_user))
    if form.validate_on_submit():
        changed = preferences.set_frequencies(current_user, form.choices())
        db.session.commit()
        flash(
            "Vos préférences de courriels sont enregistrées." if changed else "Vos préférences n'ont pas changé.",
            "success",
        )
        return redirect(url_for("notifications.edit_preferences"), code=303)
    return render_template("notifications/preferences.html", form=form)


@blueprint.route("/notifications/desabonnement/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """The link of every notification mail: GET asks to confirm (a link opened by a mail scanner changes
    nothing), POST stops the mails, logged in or not. Exempt from CSRF: a mail program posts
    `List-Unsubscribe=One-Click` here on its own (RFC 8058), and the signed token is what authorises it.
    The POST answers 200 with the result, not a redirect, as RFC 8058 clients expect."""
    try:
        unsubscription = read_token(token)
    except InvalidToken:
        return render_template("notifications/unsubscribe_invalid.html"), 400
    done = request.method == "POST"
    if done:
        preferences.stop_mail(unsubscription.user, unsubscription.topic)
        db.session.commit()
    return render_template("notifications/unsubscribe.html", unsubscription=unsubscription, token=token, done=done)
