"""Reports: drafts with live figures, published ones frozen at /reports/<slug>, their exports."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("reports", __name__)
