from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Blueprint, after_this_request, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from feedback.accounts import services
from feedback.accounts.forms import LoginForm, NewPasswordForm, PasswordResetRequestForm, SignupForm
from feedback.accounts.models import EmployerKind, User, normalise_email
from feedback.accounts.tokens import TokenError, user_from_password_reset_token
from feedback.extensions import db, limiter, login_manager
from feedback.mail.delivery import deliver
from feedback.mail.models import OutgoingMail

blueprint = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The account of a session (`User.get_id`), unless its password changed since the session began."""
    user_id, _, fingerprint = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not hmac.compare_digest(fingerprint, user.password_fingerprint):
        return None
    return user


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site: never an open redirect to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _deliver_after_response(mail: OutgoingMail | None) -> None:
    """Send an account mail as soon as the answer has gone to the browser.

    The mail is committed with the request; delivering it once the response is sent keeps the page from
    waiting on the mail server and makes the password reset form answer in the same time whether a mail was
    queued or not. A mail the server does not take stays pending for the `notifications send` worker."""
    if mail is None:
        return
    mail_ids = [mail.id]
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's documented way

    def send() -> None:
        with app.app_context():
            try:
                deliver(mail_ids)
            except Exception:  # the response is gone: log it; the worker retries what is left pending
                app.logger.exception("Account mail %s not delivered at once; the worker will retry it.", mail_ids)

    @after_this_request
    def send_when_closed(response):
        response.call_on_close(send)
        return response


def _submitted_address() -> str:
    """The rate-limit key of the password reset form: the address asked for, whoever asks."""
    address = normalise_email(request.form.get("email", ""))[:254]
    return f"address:{address}" if address else get_remote_address()


def _unusable_link(message: str, *, action_url: str, action_label: str):
    return (
        render_template(
            "accounts/link_invalid.html", message=message, action_url=action_url, action_label=action_label
        ),
        400,
    )


@blueprint.route("/inscription", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                employer_kind=EmployerKind(form.employer_kind.data),
                employer_name=form.employer_name.data,
            )
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            mail = services.queue_confirmation_mail(user)
            db.session.commit()
            _deliver_after_response(mail)
            login_user(user)
            flash(
                f"Votre compte est créé. Bienvenue ! Un courriel vient d'être envoyé à {user.email} : "
                "ouvrez le lien qu'il contient pour confirmer votre adresse.",
                "success",
            )
            return redirect(url_for("home.index"), code=303)
    return render_template("accounts/signup.html", form=form)


@blueprint.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute;50 per hour", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            error = "Adresse électronique ou mot de passe incorrect."
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(f"Vous êtes connecté·e, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), code=303)
    return render_template("accounts/login.html", form=form, error=error)


@blueprint.post("/deconnexion")
def logout():
    logout_user()
    flash("Vous êtes déconnecté·e.", "info")
    return redirect(url_for("home.index"), code=303)


@blueprint.get("/compte")
@login_required
def account():
    return render_template("accounts/account.html", user=current_user)


@blueprint.post("/compte/confirmation")
@limiter.limit("3 per hour", key_func=lambda: f"user:{current_user.get_id()}")
@login_required
def resend_confirmation():
    if current_user.confirmed:
        flash("Votre adresse électronique est déjà confirmée.", "info")
        return redirect(url_for("accounts.account"), code=303)
    mail = services.queue_confirmation_mail(current_user)
    db.session.commit()
    _deliver_after_response(mail)
    flash(f"Un nouveau courriel de confirmation vient d'être envoyé à {current_user.email}.", "success")
    return redirect(url_for("accounts.account"), code=303)


@blueprint.get("/compte/confirmer/<token>")
@limiter.limit("30 per hour")
def confirm_email(token: str):
    try:
        user, newly_confirmed = services.confirm_email(token)
    except TokenError as error:
        if current_user.is_authenticated:
            return _unusable_link(str(error), action_url=url_for("accounts.account"), action_label="Mon compte")
        return _unusable_link(str(error), action_url=url_for("accounts.login"), action_label="Se connecter")
    db.session.commit()
    if newly_confirmed:
        flash("Votre adresse électronique est confirmée. Merci !", "success")
    else:
        flash("Votre adresse électronique était déjà confirmée.", "info")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.account"), code=303)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"), code=303)
    return redirect(url_for("accounts.login"), code=303)


@blueprint.route("/mot-de-passe/oubli", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_submitted_address)
def forgotten_password():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        mail = services.request_password_reset(form.email.data)
        db.session.commit()
        _deliver_after_response(mail)
        # The same answer whether the address has an account or not.
        return redirect(url_for("accounts.password_reset_requested"), code=303)
    return render_template("accounts/password_forgotten.html", form=form)


@blueprint.get("/mot-de-passe/oubli/envoye")
def password_reset_requested():
    return render_template("accounts/password_reset_requested.html")


@blueprint.route("/mot-de-passe/nouveau/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def new_password(token: str):
    new_link = {"action_url": url_for("accounts.forgotten_password"), "action_label": "Demander un nouveau lien"}
    try:
        user_from_password_reset_token(token)
    except TokenError as error:
        return _unusable_link(str(error), **new_link)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except TokenError as error:
            return _unusable_link(str(error), **new_link)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            login_user(user)
            flash("Votre mot de passe est changé. Vous êtes connecté·e.", "success")
            return redirect(url_for("home.index"), code=303)
    return render_template("accounts/password_new.html", form=form, token=token)
