from __future__ import annotations

from functools import cache

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from feedback.extensions import db
from feedback.htmx import add_vary_header, is_partial_request, redirect_response
from feedback.notifications import services
from feedback.notifications.models import Notification
from feedback.pagination import page_number

blueprint = Blueprint("notifications", __name__)


@blueprint.app_context_processor
def notification_helpers():
    # Called by the header's bell, once per page: a fragment that shows no bell runs no query.
    return {"unread_notifications": cache(lambda: services.unread_count(current_user))}


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


@blueprint.post("/notifications/<int:notification_id>/read")
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


@blueprint.post("/notifications/read-all")
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
