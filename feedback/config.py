"""Settings, read from environment variables, with embedded defaults that run on one machine.

Every setting a deployment may change is listed in the README (section "Configuration").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
# The real data sets shipped beside the project (catalogue export, organisations, reference lists).
DEFAULT_SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def load_secret_key(instance_path: Path) -> str:
    """`SECRET_KEY` from the environment, else a key generated once into `instance/secret_key`."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with owner-only permissions: the key signs sessions and CSRF tokens.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def settings_from_environment(instance_path: Path) -> dict:
    port = os.environ.get("PORT") or "5000"
    # "production" makes the application refuse settings that only suit one machine (feedback/serving.py).
    production = os.environ.get("FEEDBACK_ENV", "").strip().lower() == "production"
    session_cookie_secure = _bool("SESSION_COOKIE_SECURE", production)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'feedback.sqlite3'}"
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FEEDBACK_ENV": "production" if production else "development",
        # In production, only a key given by the operator: never one generated on one machine.
        "SECRET_KEY": os.environ.get("SECRET_KEY", "") if production else load_secret_key(instance_path),
        # The public origin, for links in mails and feeds; on one machine, the port the server listens on.
        "FEEDBACK_BASE_URL": os.environ.get("FEEDBACK_BASE_URL") or ("" if production else f"http://127.0.0.1:{port}"),
        "FEEDBACK_SHARED_DATA": Path(os.environ.get("FEEDBACK_SHARED_DATA", DEFAULT_SHARED_DATA)),
        "FEEDBACK_PAGE_SIZE": int(os.environ.get("FEEDBACK_PAGE_SIZE", "20")),
        # Answering target, in working days, of the threads that R124-1 does not cover (not data requests).
        "FEEDBACK_SERVICE_TARGET_WORKING_DAYS": int(os.environ.get("FEEDBACK_SERVICE_TARGET_WORKING_DAYS", "15")),
        # Mail. No MAIL_SERVER: mails are written to the console (standard output) instead of being sent.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        # "none", "starttls" or "ssl" (SMTPS).
        "MAIL_SECURITY": os.environ.get("MAIL_SECURITY", "none").strip().lower(),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Retours Ecosphères <ne-pas-repondre@ecospheres.localhost>"),
        # Replies by mail: the domain of the reply addresses (the mail relay hands their mails to `flask mail
        # receive`), and how many days after its mail such an address still takes a reply.
        "FEEDBACK_REPLY_DOMAIN": os.environ.get("FEEDBACK_REPLY_DOMAIN", "reponses.ecospheres.localhost"),
        "FEEDBACK_REPLY_VALIDITY_DAYS": int(os.environ.get("FEEDBACK_REPLY_VALIDITY_DAYS", "90")),
        # The largest reply mail taken, in bytes (files are posted on the site, not by mail).
        "FEEDBACK_INBOUND_MAX_BYTES": int(os.environ.get("FEEDBACK_INBOUND_MAX_BYTES", str(10 * 1024 * 1024))),
        # How many times a mail is tried before it is given up (with a growing wait between tries).
        "FEEDBACK_MAIL_MAX_ATTEMPTS": int(os.environ.get("FEEDBACK_MAIL_MAX_ATTEMPTS", "10")),
        # Mails sent (or given up) this many days ago lose their bodies and addresses (`flask --app wsgi mail purge`).
        "FEEDBACK_MAIL_RETENTION_DAYS": int(os.environ.get("FEEDBACK_MAIL_RETENTION_DAYS", "30")),
        # Where people write to exercise their rights on their personal data (the data protection officer).
        "FEEDBACK_DPO_CONTACT": os.environ.get(
            "FEEDBACK_DPO_CONTACT", "donnees-personnelles@developpement-durable.gouv.fr"
        ),
        # A thread without any action of its producer for this many working days is escalated, as an overdue
        # one is: to the organisation's coordinators, then (as many working days later) to the curators.
        "FEEDBACK_ESCALATION_WORKING_DAYS": int(os.environ.get("FEEDBACK_ESCALATION_WORKING_DAYS", "10")),
        # The first posts (threads and replies) of each new account wait for a curator before anyone else reads
        # them, until this many were published; 0: nothing is held.
        "FEEDBACK_HOLD_FIRST_POSTS": int(os.environ.get("FEEDBACK_HOLD_FIRST_POSTS", "0")),
        # What each worker keeps for a while (feedback/kept_values.py, feedback/page_cache.py), in seconds: the home
        # page's figures, a count found past its cap, the filter menus' lists, the pages of anonymous visitors.
        "FEEDBACK_HOME_FIGURE_SECONDS": int(os.environ.get("FEEDBACK_HOME_FIGURE_SECONDS", "300")),
        "FEEDBACK_LONG_COUNT_SECONDS": int(os.environ.get("FEEDBACK_LONG_COUNT_SECONDS", "60")),
        "FEEDBACK_REFERENCE_LISTS_SECONDS": int(os.environ.get("FEEDBACK_REFERENCE_LISTS_SECONDS", "300")),
        "FEEDBACK_PAGE_CACHE_SECONDS": int(os.environ.get("FEEDBACK_PAGE_CACHE_SECONDS", "5")),
        # ProConnect sign-in (OpenID Connect) for the State's agents: the provider's issuer URL and this platform's
        # client; without all three, no ProConnect button and its addresses answer 404.
        "PROCONNECT_ISSUER": os.environ.get("PROCONNECT_ISSUER", "").strip().rstrip("/"),
        "PROCONNECT_CLIENT_ID": os.environ.get("PROCONNECT_CLIENT_ID", "").strip(),
        "PROCONNECT_CLIENT_SECRET": os.environ.get("PROCONNECT_CLIENT_SECRET", ""),
        # Origins (scheme://host[:port], comma-separated) whose pages may read the udata-compatible API
        # (/api/1/discussions/, CORS), and whose pages may frame the embed of a dataset (/embed/datasets/…).
        "FEEDBACK_CORS_ORIGINS": os.environ.get("FEEDBACK_CORS_ORIGINS", ""),
        "FEEDBACK_EMBED_ORIGINS": os.environ.get("FEEDBACK_EMBED_ORIGINS", ""),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Every rate-limit key in a shared storage (Redis) starts with it: several platforms can share one Redis.
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": os.environ.get("RATELIMIT_KEY_PREFIX", "feedback")},
        # How many reverse proxies stand in front of the application, whose X-Forwarded-* headers are trusted.
        "FEEDBACK_PROXY_HOPS": int(os.environ.get("FEEDBACK_PROXY_HOPS", "0")),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "SESSION_COOKIE_SECURE": session_cookie_secure,
        # Never less protected than the session cookie (create_app makes it Secure when the session's is).
        "REMEMBER_COOKIE_SECURE": _bool("REMEMBER_COOKIE_SECURE", session_cookie_secure),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        # WTForms' own French messages (Form.Meta.locales), not Flask-Babel's, which the platform does not use.
        "WTF_I18N_ENABLED": False,
        # Files of messages: each at most FEEDBACK_UPLOAD_MAX_BYTES, FEEDBACK_UPLOAD_MAX_FILES per message, kept in
        # FEEDBACK_UPLOAD_FOLDER, or in an S3-compatible store named by FEEDBACK_STORAGE_URL (s3://bucket/prefix).
        "FEEDBACK_UPLOAD_MAX_BYTES": int(os.environ.get("FEEDBACK_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))),
        "FEEDBACK_UPLOAD_MAX_FILES": int(os.environ.get("FEEDBACK_UPLOAD_MAX_FILES", "5")),
        "FEEDBACK_UPLOAD_FOLDER": os.environ.get("FEEDBACK_UPLOAD_FOLDER") or str(instance_path / "uploads"),
        "FEEDBACK_STORAGE_URL": os.environ.get("FEEDBACK_STORAGE_URL", ""),
        "FEEDBACK_S3_ENDPOINT_URL": os.environ.get("FEEDBACK_S3_ENDPOINT_URL", ""),
        # A request's body: a form's. The views that receive files take the files of one message on top of it
        # (feedback.storage.widen_body_limit_for_files). Each text field keeps Flask's own limit
        # (MAX_FORM_MEMORY_SIZE, 500 kB), which the longest message fits.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
