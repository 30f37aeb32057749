"""The threads domain's scene (producers, users, a curator, a dataset) and its test client serve moderation."""

from tests.threads.conftest import scene, web  # noqa: F401
