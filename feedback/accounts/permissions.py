"""Who may do what with accounts and organisations. Views and templates ask here; they never decide."""

from __future__ import annotations

from feedback.accounts.models import Organisation


def can(user, action: str, target: Organisation | None = None) -> bool:
    """Whether `user` (possibly anonymous) may do `action` on `target`."""
    if user is None or not user.is_authenticated:
        return False
    if action in ("manage_members", "see_members"):
        return user.is_curator
    raise ValueError(f"unknown action {action!r}")
