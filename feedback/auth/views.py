"""ProConnect sign-in and logout, requests to join a service, the SIRET of the services."""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from feedback.accounts import services as accounts
from feedback.accounts.models import Organisation
from feedback.accounts.permissions import can
from feedback.accounts.views import _safe_next as safe_next
from feedback.auth import proconnect, services
from feedback.auth.forms import ButtonForm, SiretForm
from feedback.auth.models import JoinRequest
from feedback.extensions import db, limiter, login_manager

blueprint = Blueprint("auth", __name__)

# Keys of the browser's signed session.
PENDING_SIGN_IN = "proconnect_sign_in"
ID_TOKEN = "proconnect_id_token"
ACR = "proconnect_acr"
AMR = "proconnect_amr"
# Where `accounts.logout` sends the browser once the platform's session is ended: here, the provider's logout.
AFTER_LOGOUT = "after_logout_url"
LOGOUT_STATE = "proconnect_logout_state"


def _proconnect_or_404() -> None:
    if not proconnect.is_configured(current_app.config):
        abort(404)


@blueprint.app_context_processor
def proconnect_button() -> dict:
    """Whether the log-in page shows « S'identifier avec ProConnect »."""
    return {"proconnect_enabled": proconnect.is_configured(current_app.config)}


@blueprint.after_app_request
def allow_forms_to_reach_the_provider(response):
    """A log-out form's answer leads the browser to the provider's logout page: the page's `form-action` must let
    it go there (browsers check a form's redirects too)."""
    origin = proconnect.provider_origin(current_app.config)
    policy = response.headers.get("Content-Security-Policy")
    if origin and policy and "form-action 'self'" in policy and origin not in policy:
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


def _refused(message: str, status: int = 400):
    return render_template("auth/sign_in_failed.html", message=message), status


def _failed_sign_in(response) -> bool:
    """For the per-client limit of the way back from ProConnect: an answer that signed nobody in."""
    return response.status_code >= 400


@blueprint.get("/proconnect/connexion")
@limiter.limit("20 per minute")
def sign_in():
    _proconnect_or_404()
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    try:
        url, pending = proconnect.authorization_request(url_for("auth.callback", _external=True))
    except proconnect.SignInFailed as error:
        return _refused(str(error), 503)
    session[PENDING_SIGN_IN] = {**pending.as_dict(), "next": safe_next(request.args.get("next")) or ""}
    return redirect(url, code=303)


@blueprint.get("/proconnect/retour")
@limiter.limit("10 per minute;50 per hour", deduct_when=_failed_sign_in)
def callback():
    _proconnect_or_404()
    kept = session.pop(PENDING_SIGN_IN, None)
    pending = proconnect.PendingSignIn.from_dict(kept)
    next_page = safe_next(kept.get("next")) if isinstance(kept, dict) else None
    try:
        identity = proconnect.complete_sign_in(request.args.to_dict(), pending)
        signed = services.sign_in(identity)
    except (proconnect.SignInFailed, services.SignInRefused) as error:
        db.session.rollback()
        return _refused(str(error), 403 if isinstance(error, services.SignInRefused) else 400)
    user = signed.user
    accounts.start_session(user, user_agent=request.headers.get("User-Agent", ""))
    db.session.commit()
    login_user(user)
    session[ID_TOKEN] = identity.id_token
    session[ACR] = identity.acr
    session[AMR] = identity.amr
    session[AFTER_LOGOUT] = url_for("auth.logout_at_provider")
    if signed.created:
        flash(f"Bienvenue, {user.name} : votre compte a été créé avec ProConnect.", "success")
    elif signed.linked:
        flash(f"Vous êtes connecté·e, {user.name} : ProConnect est maintenant rattaché à votre compte.", "success")
    else:
        flash(f"Vous êtes connecté·e, {user.name}.", "success")
    if services.joinable_organisation(user) is not None:
        return redirect(url_for("auth.join", next=next_page), code=303)
    return redirect(next_page or url_for("home.index"), code=303)


@blueprint.get("/proconnect/deconnexion")
def logout_at_provider():
    """After the platform's own log-out (`accounts.logout`): end the session at ProConnect too, then come back to
    the home page. Does nothing for a browser still signed in here."""
    _proconnect_or_404()
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    id_token = session.pop(ID_TOKEN, None)
    session.pop(ACR, None)
    session.pop(AMR, None)
    if not id_token:
        return redirect(url_for("home.index"), code=303)
    state = session[LOGOUT_STATE] = secrets.token_urlsafe(32)
    target = proconnect.logout_url(id_token, url_for("auth.logged_out", _external=True), state)
    return redirect(target or url_for("home.index"), code=303)


@blueprint.get("/proconnect/deconnectee")
def logged_out():
    """Where ProConnect sends the browser back after its logout: the home page, saying so when the `state` is the
    one this browser left with."""
    _proconnect_or_404()
    expected = session.pop(LOGOUT_STATE, None)
    if expected and hmac.compare_digest(request.args.get("state", ""), expected):
        flash("Vous êtes aussi déconnecté·e de ProConnect.", "info")
    return redirect(url_for("home.index"), code=303)


@blueprint.route("/proconnect/rejoindre", methods=["GET", "POST"])
@login_required
def join():
    """The one click after a ProConnect sign-in: ask to join the service of one's SIRET."""
    _proconnect_or_404()
    organisation = services.joinable_organisation(current_user)
    if organisation is None:
        abort(404)
    next_page = safe_next(request.args.get("next"))
    form = ButtonForm()
    if form.validate_on_submit():
        services.request_to_join(current_user)
        db.session.commit()
        flash(
            f"Votre demande pour rejoindre {organisation.name} est envoyée : un coordinateur du service ou un "
            "administrateur des données y répondra.",
            "success",
        )
        return redirect(next_page or url_for("home.index"), code=303)
    return render_template("auth/join.html", organisation=organisation, form=form, next_page=next_page)


def _organisation_or_404(slug: str) -> Organisation:
    organisation = accounts.organisation_by_slug(slug)
    if organisation is None:
        abort(404)
    return organisation


@blueprint.post("/organisations/<slug>/demandes-de-rattachement/<int:request_id>/<any(acceptation, refus):decision>")
def decide(slug: str, request_id: int, decision: str):
    organisation = _organisation_or_404(slug)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "decide_join_requests", organisation):
        abort(403)
    join_request = db.session.get(JoinRequest, request_id)
    if join_request is None or join_request.organisation_id != organisation.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    accept = decision == "acceptation"
    try:
        services.decide(join_request, current_user, accept=accept)
    except services.SignInRefused as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        if accept:
            flash(f"{join_request.user.name} est maintenant membre de {organisation.name}.", "success")
        else:
            flash(f"La demande de {join_request.user.name} est refusée.", "info")
    return redirect(url_for("catalogue.organisation", slug=slug, _anchor="demandes-de-rattachement"), code=303)


@blueprint.route("/organisations/<slug>/siret", methods=["GET", "POST"])
@login_required
def edit_siret(slug: str):
    organisation = _organisation_or_404(slug)
    if not can(current_user, "edit_siret", organisation):
        abort(403)
    form = SiretForm(data={"siret": organisation.siret or ""}) if request.method == "GET" else SiretForm()
    if form.validate_on_submit():
        try:
            accounts.set_organisation_siret(organisation, form.siret.data or "")
        except accounts.AccountError as error:
            db.session.rollback()
            form.siret.errors = [*form.siret.errors, str(error)]
        else:
            db.session.commit()
            flash(
                f"Le SIRET de {organisation.name} est enregistré." if organisation.siret else "Le SIRET est effacé.",
                "success",
            )
            return redirect(url_for("catalogue.organisation", slug=slug), code=303)
    return render_template("auth/siret.html", organisation=organisation, form=form)
