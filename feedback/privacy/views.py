"""Pages of personal data: one's own data (page and JSON download), deleting one's account, and the public page
that tells what the platform processes and how to exercise one's rights."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from feedback.accounts import login_attempts
from feedback.extensions import db, limiter
from feedback.i18n import french_datetime
from feedback.privacy.erasure import delete_account
from feedback.privacy.export import personal_data
from feedback.privacy.forms import DeleteAccountForm

blueprint = Blueprint("privacy", __name__)

WRONG_PASSWORD = "Le mot de passe ne correspond pas."


@blueprint.get("/donnees-personnelles")
def policy():
    return render_template(
        "privacy/policy.html",
        retention_days=current_app.config["FEEDBACK_MAIL_RETENTION_DAYS"],
        contact=current_app.config["FEEDBACK_DPO_CONTACT"],
    )


@blueprint.get("/compte/mes-donnees")
@login_required
def my_data():
    return render_template("privacy/my_data.html", data=personal_data(current_user), when=_readable_moment)


def _readable_moment(iso: str | None) -> str:
    """An ISO 8601 moment of the download, as the page shows it: « 9 mai 2022 à 14:05 »."""
    return french_datetime(datetime.fromisoformat(iso)) if iso else "—"


@blueprint.get("/compte/mes-donnees.json")
@login_required
def my_data_json():
    data = personal_data(current_user)
    response = Response(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees-retours-ecospheres.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _deletion_page(form: DeleteAccountForm, status: int = 200):
    return render_template("privacy/delete_account.html", form=form), status


@blueprint.get("/compte/supprimer")
@login_required
def confirm_deletion():
    return _deletion_page(DeleteAccountForm(formdata=None))


def _signed_in_person() -> str:
    """Attempts at deleting an account count per account, not per address: colleagues behind one proxy do not
    share them."""
    return f"delete-account:{getattr(current_user, 'id', None)}"


@blueprint.post("/compte/supprimer")
@limiter.limit("10 per hour", key_func=_signed_in_person)
@login_required
def delete():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _deletion_page(form)
    if login_attempts.address_locked(current_user.email):
        form.password.errors.append(login_attempts.ADDRESS_LOCKED)
        return _deletion_page(form, 429)
    if not current_user.check_password(form.password.data):
        login_attempts.record_failure(current_user.email)
        form.password.errors.append(WRONG_PASSWORD)
        return _deletion_page(form)
    user = current_user._get_current_object()
    delete_account(user)
    db.session.commit()
    logout_user()
    session.pop("_flashes", None)  # messages not yet shown may name the person ("Vous êtes connecté·e, …")
    flash("Votre compte est supprimé. Vos messages restent dans les fils, signés « Compte supprimé ».", "success")
    return redirect(url_for("home.index"), code=303)
