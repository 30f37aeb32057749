"""Fixtures of the API tests: the threads domain's scene, and personal tokens of its people."""

from __future__ import annotations

import pytest

from feedback.api import tokens

from ..threads.conftest import scene  # noqa: F401 — the scene of the threads tests


@pytest.fixture
def bearer(db):
    """`bearer(user)`: the headers of a request made with a new personal token of `user`."""

    def headers_of(user) -> dict[str, str]:
        created = tokens.create_token(user, "Script de test")
        db.session.commit()
        return {"Authorization": f"Bearer {created.secret}"}

    return headers_of
