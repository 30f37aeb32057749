"""Atom feeds of threads: of one thread, a dataset, an organisation, and of any filter of /threads.
Public content only."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("feeds", __name__)
