"""Who may do what with accounts and organisations. Views and templates ask here; they never decide."""

from __future__ import annotations

from feedback.accounts.models import MembershipRole, Organisation


def can(user, action: str, target: Organisation | None = None) -> bool:
    """Whether `user` (possibly anonymous) may do `action` on `target`."""
    if user is None or not user.is_authenticated:
        return False
    if action in ("manage_members", "see_members", "edit_siret"):
        return user.is_curator
    if action == "decide_join_requests":  # a coordinator of the service, or a curator
        return user.is_curator or (
            target is not None
            and any(
                membership.organisation_id == target.id and membership.role == MembershipRole.COORDINATOR
                for membership in user.memberships
            )
        )
    raise ValueError(f"unknown action {action!r}")
