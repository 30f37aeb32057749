"""The producer–user feedback platform of the Ecosphères catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from feedback import input_limits, legacy_urls, serving, templating
from feedback.config import PROJECT_ROOT, settings_from_environment
from feedback.extensions import csrf, db, limiter, login_manager, migrate
from feedback.htmx import add_vary_header
from feedback.storage import widen_body_limit_for_files

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The one page other sites may frame: the embed of a dataset, by the origins of FEEDBACK_EMBED_ORIGINS alone, which
# its own policy names (`framable_policy`); X-Frame-Options, which cannot name origins, is left out for it.
FRAMABLE_ENDPOINTS = frozenset({"opendata.embed"})


def framable_policy(origins: list[str]) -> str:
    """The platform's policy, but for `frame-ancestors`: these origins (none: no one)."""
    ancestors = " ".join(origins) or "'none'"
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


ERROR_MESSAGES = {
    400: ("Requête incorrecte", "La requête envoyée n'a pas pu être comprise. Vérifiez l'adresse ou le formulaire."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour accéder à cette page."),
    404: ("Page introuvable", "La page que vous cherchez n'existe pas ou a été déplacée."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible à cette adresse."),
    413: (
        "Envoi trop volumineux",
        "Les données envoyées dépassent la taille autorisée. Si vous avez joint des fichiers, revenez à la page "
        "précédente et envoyez-en moins ou de plus petits : les limites sont indiquées sous le champ des fichiers.",
    ),
    429: ("Trop de tentatives", "Vous avez fait trop de tentatives. Réessayez dans quelques minutes."),
    500: (
        "Erreur inattendue",
        "Une erreur est survenue de notre côté. Réessayez plus tard ; si le problème "
        "persiste, contactez l'équipe du service.",
    ),
}


def create_app(config: Mapping | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(Path((config or {}).get("INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    input_limits.bound_ids(app)  # before any rule is added

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    app.before_request(widen_body_limit_for_files)  # before the CSRF check, which reads the body
    csrf.init_app(app)
    app.before_request(input_limits.refuse_nul_characters)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    templating.register(app)
    _register_blueprints(app)
    _register_template_globals(app)
    legacy_urls.register(app)
    _register_commands(app)
    _register_error_pages(app)
    _register_api(app)  # after the error pages: /api/v1 answers its own errors in JSON
    app.after_request(_security_headers)
    serving.register(app)  # production's refusals, /healthz, the 503 page, request log, static files, proxy
    return app


def _register_blueprints(app: Flask) -> None:
    from feedback.accounts.views import blueprint as accounts
    from feedback.api.udata import blueprint as udata
    from feedback.auth.views import blueprint as auth
    from feedback.capitalisation.demand import register as follow_demand
    from feedback.capitalisation.home_figure import register as register_home_figure
    from feedback.capitalisation.report_views import blueprint as reports
    from feedback.capitalisation.views import blueprint as capitalisation
    from feedback.catalogue.views import blueprint as catalogue
    from feedback.home import blueprint as home
    from feedback.moderation.views import blueprint as moderation
    from feedback.notifications.views import blueprint as notifications
    from feedback.opendata.views import blueprint as opendata
    from feedback.privacy.views import blueprint as privacy
    from feedback.threads.attachments import register as delete_files_of_rolled_back_messages
    from feedback.threads.feeds import blueprint as feeds
    from feedback.threads.home_sections import register as register_home_sections
    from feedback.threads.mail_replies import register as register_mail_replies
    from feedback.threads.notification_details import register as register_notification_details
    from feedback.threads.summaries import register as register_weekly_summary
    from feedback.threads.views import blueprint as threads

    for blueprint in (home, accounts, catalogue, threads, feeds, notifications, capitalisation, reports):
        app.register_blueprint(blueprint)
    app.register_blueprint(privacy)
    app.register_blueprint(auth)
    app.register_blueprint(moderation)
    app.register_blueprint(opendata)
    app.register_blueprint(udata)
    register_weekly_summary()
    register_notification_details()
    register_mail_replies()
    register_home_sections()
    register_home_figure()
    delete_files_of_rolled_back_messages()
    follow_demand()


def _register_api(app: Flask) -> None:
    from feedback.api.views import register as register_api

    register_api(app)


def _register_template_globals(app: Flask) -> None:
    from feedback import template_globals

    template_globals.register(app)


def _register_commands(app: Flask) -> None:
    from feedback.accounts.cli import users
    from feedback.capitalisation.cli import reports
    from feedback.catalogue.cli import catalogue, reference
    from feedback.demo import demo
    from feedback.mail.cli import mail
    from feedback.notifications.cli import notifications
    from feedback.privacy.cli import delete_user
    from feedback.texts import texts
    from feedback.threads.cli import deadlines, threads

    for group in (users, reference, catalogue, threads, deadlines, notifications, mail, reports, texts, demo):
        app.cli.add_command(group)
    users.add_command(delete_user)


def _register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException | Exception):
        # The request's work is abandoned before the page is drawn: a session left in a failed transaction
        # (a refused flush, a lost connection) would make the error page fail in turn. A connection already
        # lost is let go of instead (the next checkout opens a new one).
        try:
            db.session.rollback()
        except SQLAlchemyError:
            db.session.remove()
        code = error.code if isinstance(error, HTTPException) and error.code else 500
        if code not in ERROR_MESSAGES:
            return error
        title, message = ERROR_MESSAGES[code]
        if isinstance(error, HTTPException) and code == 400 and error.description and "CSRF" in error.description:
            message = "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."
        if isinstance(error, HTTPException) and getattr(error, "shown_to_people", False) and error.description:
            message = error.description
        if request.accept_mimetypes.best == "application/json":
            return {"error": title, "message": message}, code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    for code in ERROR_MESSAGES:
        app.register_error_handler(code, render_error)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint not in FRAMABLE_ENDPOINTS:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if response.mimetype == "text/html":
        add_vary_header(response)
    return response
