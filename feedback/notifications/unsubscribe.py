"""One-click unsubscribe links (RFC 8058): a signed token naming a person and a topic (or every topic).

The token does not expire: a link in a mail read months later must still work, and all it can do is stop
mail. It is signed with the application's secret key and a salt of its own, so that no other token of the
platform (sessions, account links) can pass for it, and nobody can forge one for someone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from feedback.accounts.models import User
from feedback.extensions import db
from feedback.notifications.preferences import ALL_TOPICS, TOPICS

SALT = "feedback.notifications.unsubscribe"


class InvalidToken(Exception):
    """A token that this platform did not sign, was altered, or names nothing that exists."""


@dataclass(frozen=True)
class Unsubscription:
    user: User
    topic: str  # a topic of `TOPICS`, or `ALL_TOPICS`

    @property
    def topic_label(self) -> str | None:
        return None if self.topic == ALL_TOPICS else TOPICS[self.topic]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, topic: str) -> str:
    if topic != ALL_TOPICS and topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}")
    return _serializer().dumps([user_id, topic])


def unsubscribe_path(user_id: int, topic: str) -> str:
    return f"/notifications/desabonnement/{unsubscribe_token(user_id, topic)}"


def read_token(token: str) -> Unsubscription:
    """The person and topic of a token; `InvalidToken` if it was not signed here or names nothing."""
    try:
        value = _serializer().loads(token)
    except BadSignature as error:
        raise InvalidToken(str(error)) from error
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise InvalidToken("unexpected content")
    user_id, topic = value
    if topic != ALL_TOPICS and topic not in TOPICS:
        raise InvalidToken(f"unknown topic {topic!r}")
    user = db.session.get(User, user_id)
    if user is None:
        raise InvalidToken("no such person")
    return Unsubscription(user=user, topic=topic)
