"""What is public: the one definition that the embed, the badge, the exports and the udata-compatible API read.

A thread is public when an anonymous visitor may see it (`workflow.visible_threads(None)`: public visibility,
not hidden by the moderation) and it is not held for review; a message is public when an anonymous visitor may
read it (`workflow.readable_messages(None)`: of a public thread, not hidden, not an internal note) and it is not
held for review either.
"""

from __future__ import annotations

import sqlalchemy as sa

from feedback.threads.models import Message, MessagePurpose, Thread
from feedback.threads.workflow import readable_messages, visible_threads


def public_threads() -> sa.ColumnElement[bool]:
    """SQL condition on `Thread`: the threads anyone may read."""
    return sa.and_(visible_threads(None), Thread.held_at.is_(None))


def public_messages() -> sa.ColumnElement[bool]:
    """SQL condition on `Message`: the messages anyone may read. Written out on the message's own columns as
    well as through `readable_messages`, so that an export joining threads to messages reads an index, not a
    subquery per row."""
    return sa.and_(readable_messages(None), _shown_message())


def public_messages_of_public_threads() -> sa.ColumnElement[bool]:
    """SQL condition on `Message` joined to its `Thread`: the same as `public_messages`, said on the joined
    thread's columns instead of a subquery (the exports read every message once)."""
    return sa.and_(public_threads(), _shown_message())


def _shown_message() -> sa.ColumnElement[bool]:
    """On the message's own columns: neither an internal note, nor hidden, nor held for review."""
    return sa.and_(
        Message.internal.is_(False),
        Message.purpose != MessagePurpose.INTERNAL_NOTE.value,
        Message.hidden_at.is_(None),
        Message.held_at.is_(None),
    )
