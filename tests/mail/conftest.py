"""Fixtures of the mail tests: the threads domain's scene (producers, users, a curator)."""

from ..threads.conftest import scene  # noqa: F401  (fixture, shared with the threads tests)
