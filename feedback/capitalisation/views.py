"""The capitalisation dashboard, /capitalisation: the indicators over a scope chosen with filters."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("capitalisation", __name__)
