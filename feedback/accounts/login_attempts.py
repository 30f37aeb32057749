"""Failed log-in attempts, counted per address typed in the form.

After `FAILURES_PER_ADDRESS` failures on one address within the window, password log-in on that address is
refused until the window has passed, whoever tries and from wherever: guessing one person's password from many
clients is slowed down as much as from one. Unknown addresses are counted the same way, so the refusal tells
nobody whether an account exists. Successful log-ins are not counted.

The counters live in the rate limiter's storage (`RATELIMIT_STORAGE_URI`: memory, or Redis shared by every
worker). The per-client limit of the log-in form is the limiter's decorator on the view, which also counts
failures only.
"""

from __future__ import annotations

from flask import current_app
from limits import RateLimitItemPerMinute

from feedback.accounts.models import normalise_email
from feedback.extensions import limiter

FAILURES_PER_ADDRESS = RateLimitItemPerMinute(10, 15)
ADDRESS_LOCKED = (
    "Trop de tentatives de connexion ont échoué pour cette adresse. Par sécurité, la connexion par mot de passe "
    "est suspendue pendant quelques minutes (15 au plus). Réessayez plus tard, ou choisissez un nouveau mot de "
    "passe avec « Mot de passe oublié ? »."
)


def _counting() -> bool:
    return bool(limiter.enabled and limiter.initialized)


def _identifiers(address: str) -> tuple[str, ...]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    key = f"address:{normalise_email(address)[:254]}"
    return (prefix, "login-failures", key) if prefix else ("login-failures", key)


def address_locked(address: str) -> bool:
    """Whether password log-in on this address is refused for now. If the storage cannot be reached, log-in
    stays open (and the fault is logged): an outage of Redis must not lock everybody out."""
    if not _counting():
        return False
    try:
        return not limiter.limiter.test(FAILURES_PER_ADDRESS, *_identifiers(address))
    except Exception:  # the storage's client raises its own errors (redis, memcached…)
        current_app.logger.exception("Rate-limit storage unreachable: failed log-ins per address not checked.")
        return False


def record_failure(address: str) -> None:
    """Count a failed log-in on this address (known or not)."""
    if not _counting():
        return
    try:
        limiter.limiter.hit(FAILURES_PER_ADDRESS, *_identifiers(address))
    except Exception:
        current_app.logger.exception("Rate-limit storage unreachable: a failed log-in was not counted.")


def failed_attempt(response) -> bool:
    """For the limiter's per-client limit of the log-in form: a POST that did not sign anyone in (a success
    answers 303)."""
    return response.status_code != 303
