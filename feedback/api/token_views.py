"""The personal API tokens' section of « Mon compte »: create one (its secret shown once), revoke one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from feedback.api import tokens
from feedback.api.forms import NewTokenForm, RevokeTokenForm
from feedback.extensions import db, limiter

blueprint = Blueprint("api_tokens", __name__)

SECTION = "jetons-api"


def _back():
    return redirect(url_for("accounts.account", _anchor=SECTION), code=303)


@blueprint.app_context_processor
def token_section() -> dict:
    """What the account page's token section shows: the signed-in person's live tokens and the form."""

    def api_token_section():
        if not current_user.is_authenticated:
            return {"tokens": [], "form": None}
        return {"tokens": tokens.live_tokens(current_user), "form": NewTokenForm(formdata=None)}

    return {"api_token_section": api_token_section}


@blueprint.post("/compte/jetons")
@limiter.limit("10 per hour")
@login_required
def create_token():
    form = NewTokenForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back()
    try:
        created = tokens.create_token(current_user, form.name.data)
    except tokens.TokenError as error:
        flash(str(error), "error")
        return _back()
    db.session.commit()
    response = render_template("api/token_created.html", token=created.token, secret=created.secret)
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blueprint.post("/compte/jetons/<int:token_id>/revocation")
@login_required
def revoke_token(token_id: int):
    form = RevokeTokenForm()
    token = tokens.token_of(current_user, token_id)
    if token is not None and form.validate_on_submit():
        tokens.revoke_token(token)
        db.session.commit()
        flash(f"Le jeton « {token.name} » est révoqué : il ne donne plus accès à l'API.", "success")
    return _back()
