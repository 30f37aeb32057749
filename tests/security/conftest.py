"""Fixtures of the security tests: the threads domain's scene (producers, users, a curator) and its test client
that serves each request in its own application context."""

from __future__ import annotations

from ..threads.conftest import scene, web  # noqa: F401 — fixtures shared with the threads tests
