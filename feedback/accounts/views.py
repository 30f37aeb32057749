from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from feedback.accounts import services
from feedback.accounts.forms import LoginForm, SignupForm
from feedback.accounts.models import EmployerKind, User
from feedback.extensions import db, limiter, login_manager

blueprint = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str | None:
    """Only a path of this site: never an open redirect to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


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
            db.session.commit()
            login_user(user)
            flash("Votre compte est créé. Bienvenue !", "success")
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
