"""The threads domain's scene (producers, users, a curator, a dataset) serves the personal data tests too."""

from tests.threads.conftest import scene  # noqa: F401
