from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from feedback.accounts import login_attempts, services
from feedback.accounts.forms import (
    ConfirmActionForm,
    EmailChangeForm,
    LoginForm,
    NewPasswordForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignupForm,
)
from feedback.accounts.models import EmployerKind, User, UserSession, normalise_email
from feedback.accounts.tokens import TokenError, user_from_password_reset_token
from feedback.extensions import db, limiter, login_manager
from feedback.mail.delivery import deliver
from feedback.mail.models import OutgoingMail

blueprint = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The account a session cookie or a remember-me cookie names (`User.get_id`), while its server-side
    session is live and the account active: logging out, « se déconnecter partout », a password change or a
    suspension end the session on the server, and every copy of its cookies with it."""
    return services.user_of_session(session_id)


@blueprint.before_app_request
def note_session_seen() -> None:
    """Write when a signed-in browser was last used (at most every few minutes, before the request changes
    anything, so that committing here commits nothing else)."""
    if request.endpoint in (None, "static"):  # files and unknown addresses need nobody signed in
        return
    browser_session = current_user.browser_session if current_user.is_authenticated else None
    if browser_session is not None and services.session_seen(browser_session):
        db.session.commit()


# Control characters (tabs, line breaks: browsers drop them from a URL, a header cannot hold them).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# And in a path of this site, no space either (encoded or not: none of its paths has one).
_NOT_IN_A_PATH = re.compile(r"[\x00-\x20\x7f\\]")


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site: never an open redirect to another host, whatever its spelling (`//host`,
    `/\\host`, `https:host`, `\\\\host`, encoded as `%2F%2Fhost` or `/%5Chost`, tabs or line breaks inside),
    and never a character that cannot go in a Location header."""
    if not target or len(target) > 2000 or _CONTROL_CHARACTERS.search(target) or "\\" in target:
        return None
    decoded = target
    for _ in range(3):  # what a browser or a proxy on the way might decode
        decoded = unquote(decoded)
    decoded_path = decoded.split("?", 1)[0].split("#", 1)[0]
    if _NOT_IN_A_PATH.search(target.split("?", 1)[0].split("#", 1)[0]) or _NOT_IN_A_PATH.search(decoded_path):
        return None
    for form in (target, decoded_path):
        parts = urlsplit(form)
        if not form.startswith("/") or form.startswith("//") or parts.scheme or parts.netloc:
            return None
    return target


def _deliver_after_response(*mails: OutgoingMail | None) -> None:
    """Send an account mail as soon as the answer has gone to the browser.

    The mail is committed with the request; delivering it once the response is sent keeps the page from
    waiting on the mail server and makes the password reset form answer in the same time whether a mail was
    queued or not. A mail the server does not take stays pending for the `notifications send` worker."""
    mail_ids = [mail.id for mail in mails if mail is not None]
    if not mail_ids:
        return
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


def _submitted_address_and_client() -> str:
    """The rate-limit key of the password reset form: the address asked for, from this client. Keyed on the
    address alone, anyone could use up the limit of someone else's address and keep its owner from resetting
    their password; the per-client limit bounds what one client can send to all addresses."""
    address = normalise_email(request.form.get("email", ""))[:254]
    client = get_remote_address()
    return f"address:{address}:client:{client}" if address else client


def _signed_in_user_key() -> str:
    return f"user:{getattr(current_user, 'id', None)}"


def _unusable_link(message: str, *, action_url: str, action_label: str):
    return (
        render_template(
            "accounts/link_invalid.html", message=message, action_url=action_url, action_label=action_label
        ),
        400,
    )


def _unusable_account_link(message: str):
    """A link of the account's mails that cannot be used: back to one's account, or to the log-in page."""
    if current_user.is_authenticated:
        return _unusable_link(message, action_url=url_for("accounts.account"), action_label="Mon compte")
    return _unusable_link(message, action_url=url_for("accounts.login"), action_label="Se connecter")


@blueprint.route("/inscription", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            mail = services.register(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                employer_kind=EmployerKind(form.employer_kind.data),
                employer_name=form.employer_name.data,
            )
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            _deliver_after_response(mail)
            # The same answer whether the address already had an account or not.
            return redirect(url_for("accounts.signup_sent"), code=303)
    return render_template("accounts/signup.html", form=form)


@blueprint.get("/inscription/envoyee")
def signup_sent():
    return render_template("accounts/signup_sent.html")


@blueprint.route("/connexion", methods=["GET", "POST"])
@limiter.limit(
    "10 per minute;50 per hour", methods=["POST"], deduct_when=login_attempts.failed_attempt
)  # failures only, per client
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        address = form.email.data
        if login_attempts.address_locked(address):
            error, status = login_attempts.ADDRESS_LOCKED, 429
        else:
            user = services.authenticate(address, form.password.data)
            if user is None:
                login_attempts.record_failure(address)
                error = "Adresse électronique ou mot de passe incorrect."
            else:
                services.start_session(
                    user, user_agent=request.headers.get("User-Agent", ""), remembered=bool(form.remember.data)
                )
                db.session.commit()
                login_user(user, remember=form.remember.data)
                flash(f"Vous êtes connecté·e, {user.name}.", "success")
                return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), code=303)
    next_page = _safe_next(request.args.get("next"))
    return render_template("accounts/login.html", form=form, error=error, next_page=next_page), status


@blueprint.post("/deconnexion")
def logout():
    if current_user.is_authenticated:
        services.end_session(current_user.browser_session)
        db.session.commit()
    logout_user()
    flash("Vous êtes déconnecté·e.", "info")
    # A sign-in through an identity provider (`feedback.auth`) names the path that ends the session there too.
    after_logout = _safe_next(session.pop("after_logout_url", None))
    return redirect(after_logout or url_for("home.index"), code=303)


def _account_page(**forms):
    """« Mon compte », with the forms of a failed submission kept as they were sent."""
    user = current_user
    forms.setdefault("profile_form", ProfileForm(obj=user, formdata=None))
    forms.setdefault("password_form", PasswordChangeForm(formdata=None))
    forms.setdefault("email_form", EmailChangeForm(formdata=None))
    return render_template(
        "accounts/account.html",
        user=user,
        sessions=services.live_sessions(user),
        current_session=user.browser_session,
        action_form=ConfirmActionForm(formdata=None),
        **forms,
    )


@blueprint.get("/compte")
@login_required
def account():
    return _account_page()


@blueprint.post("/compte/profil")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(profile_form=form)
    services.update_profile(
        current_user,
        name=form.name.data,
        employer_kind=EmployerKind(form.employer_kind.data),
        employer_name=form.employer_name.data,
    )
    db.session.commit()
    flash("Vos informations sont enregistrées.", "success")
    return redirect(url_for("accounts.account"), code=303)


def _checked_with_current_password(form, form_name: str, current_password, field, change):
    """A change of the account page that asks for the current password: the form checked, the address's lock of
    failed passwords respected (a wrong password counts as a failed log-in), then `change` made, committed and
    its mail sent. Returns the page to show again when refused, else None."""
    if not form.validate_on_submit():
        return _account_page(**{form_name: form})
    if login_attempts.address_locked(current_user.email):
        current_password.errors.append(login_attempts.ADDRESS_LOCKED)
        return _account_page(**{form_name: form}), 429
    try:
        mail = change()
    except services.AccountError as error:
        if str(error) == services.WRONG_CURRENT_PASSWORD:
            login_attempts.record_failure(current_user.email)
            current_password.errors.append(str(error))
        else:
            field.errors.append(str(error))
        return _account_page(**{form_name: form})
    db.session.commit()
    _deliver_after_response(mail)
    return None


@blueprint.post("/compte/mot-de-passe")
@limiter.limit("10 per hour", key_func=_signed_in_user_key)
@login_required
def change_password():
    form = PasswordChangeForm()
    refused = _checked_with_current_password(
        form, "password_form", form.current_password, form.password,
        lambda: services.change_password(current_user, form.current_password.data, form.password.data),
    )  # fmt: skip
    if refused is not None:
        return refused
    flash(
        "Votre mot de passe est changé. Vos autres navigateurs ont été déconnectés ; un courriel vous le confirme.",
        "success",
    )
    return redirect(url_for("accounts.account"), code=303)


EMAIL_CHANGE_SENT = (
    "Si cette adresse peut être utilisée, un courriel de confirmation y a été envoyé. L'adresse de votre compte "
    "changera quand vous ouvrirez le lien qu'il contient."
)


@blueprint.post("/compte/adresse")
@limiter.limit("5 per hour", key_func=_signed_in_user_key)
@login_required
def request_email_change():
    form = EmailChangeForm()
    refused = _checked_with_current_password(
        form, "email_form", form.email_password, form.email,
        lambda: services.request_email_change(current_user, form.email_password.data, form.email.data),
    )  # fmt: skip
    if refused is not None:
        return refused
    # The same answer whether another account uses the address or not.
    flash(EMAIL_CHANGE_SENT, "info")
    return redirect(url_for("accounts.account"), code=303)


@blueprint.get("/compte/adresse/<token>")
@limiter.limit("30 per hour")
def change_email(token: str):
    try:
        user, notice = services.change_email(token)
    except TokenError as error:
        return _unusable_account_link(str(error))
    db.session.commit()
    _deliver_after_response(notice)
    flash(f"L'adresse électronique de votre compte est désormais {user.email}.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.account"), code=303)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"), code=303)
    return redirect(url_for("accounts.login"), code=303)


@blueprint.post("/compte/deconnexion-partout")
@login_required
def logout_everywhere():
    form = ConfirmActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.account"), code=303)
    services.end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("Vous êtes déconnecté·e de tous vos navigateurs et appareils.", "info")
    return redirect(url_for("home.index"), code=303)


@blueprint.post("/compte/sessions/<int:session_id>/fin")
@login_required
def end_session(session_id: int):
    form = ConfirmActionForm()
    browser_session = db.session.get(UserSession, session_id)  # the <int> converter bounds the id (input_limits)
    if browser_session is None or browser_session.user_id != current_user.id:
        return redirect(url_for("accounts.account"), code=303)
    if form.validate_on_submit():
        services.end_session(browser_session)
        db.session.commit()
        flash("Ce navigateur est déconnecté.", "info")
    return redirect(url_for("accounts.account"), code=303)


@blueprint.post("/compte/confirmation")
@limiter.limit("3 per hour", key_func=_signed_in_user_key)
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
        return _unusable_account_link(str(error))
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
@limiter.limit("3 per hour", methods=["POST"], key_func=_submitted_address_and_client)
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
            services.start_session(user, user_agent=request.headers.get("User-Agent", ""))
            db.session.commit()
            login_user(user)
            flash("Votre mot de passe est changé. Vous êtes connecté·e.", "success")
            return redirect(url_for("home.index"), code=303)
    return render_template("accounts/password_new.html", form=form, token=token)
