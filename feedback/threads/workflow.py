"""Who may do what on a thread: the one place where the rules live.

Views, templates and services all ask `can(user, action, thread)`; nothing else decides.
"""

from __future__ import annotations

from feedback.threads.models import ThreadKind, ThreadStatus, Visibility

# Actions on a thread, and who may take them besides curators (who may take them all).
AUTHOR_ACTIONS = {"reply", "withdraw", "reopen", "follow"}
PRODUCER_ACTIONS = {
    "reply",
    "answer_officially",
    "internal_note",
    "see_internal",
    "change_status",
    "ask_details",
    "transfer",
    "extend",
    "assign",
    "reclassify",
    "follow",
}
USER_ACTIONS = {"reply", "vote", "follow"}
CURATOR_ONLY_ACTIONS = {"route", "moderate"}
ACTIONS = AUTHOR_ACTIONS | PRODUCER_ACTIONS | USER_ACTIONS | CURATOR_ONLY_ACTIONS | {"view"}


def organisation_ids(user) -> set[int]:
    """The organisations a user answers for: read from `user.memberships`, which the session loads once and
    loads again after a commit (a copy kept on the user object would outlive a change of membership)."""
    if user is None or not user.is_authenticated:
        return set()
    return {membership.organisation_id for membership in user.memberships}


def is_producer_of(user, thread) -> bool:
    return thread.organisation_id is not None and thread.organisation_id in organisation_ids(user)


def can_view(user, thread) -> bool:
    if thread.visibility == Visibility.PUBLIC:
        return True
    if user is None or not user.is_authenticated:
        return False
    return user.is_curator or thread.author_id == user.id or is_producer_of(user, thread)


def can(user, action: str, thread) -> bool:
    """Whether `user` (possibly anonymous) may take `action` on `thread` now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not can_view(user, thread):
        return False
    if action == "view":
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    is_open = ThreadStatus(thread.status).is_open
    is_author = thread.author_id == user.id
    producer = is_producer_of(user, thread)

    if action == "withdraw":
        return is_open and (is_author or user.is_curator)
    if action == "reopen":
        return not is_open and (is_author or producer or user.is_curator)
    if action == "extend":
        return (
            thread.kind == ThreadKind.DATA_REQUEST
            and is_open
            and not thread.deadline_extended
            and thread.due_at is not None
            and (producer or user.is_curator)
        )
    if action in ("change_status", "ask_details", "transfer", "assign", "reclassify"):
        return is_open and (producer or user.is_curator)
    if action == "vote":
        return not is_author
    if user.is_curator:
        return True
    if action in CURATOR_ONLY_ACTIONS:
        return False
    if producer and action in PRODUCER_ACTIONS:
        return True
    if is_author and action in AUTHOR_ACTIONS:
        return True
    return action in USER_ACTIONS


def can_edit_message(user, message) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and message.author_id == user.id
        and message.hidden_at is None
    )


def status_choices(user, thread) -> list[ThreadStatus]:
    """The statuses `user` may move `thread` to from where it stands."""
    if not can(user, "change_status", thread):
        return []
    current = ThreadStatus(thread.status)
    return [s for s in ThreadStatus if s != current and s != ThreadStatus.WITHDRAWN and s != ThreadStatus.NEW]
