"""The WSGI application bench/load.py serves with gunicorn: the application itself (`wsgi:app`), plus
`/healthz` when the application does not have one yet — a route that runs `SELECT 1` through the same
stack (Flask, its request hooks, the session, the database pool), the floor the pages are compared with.

Served as `load_server:app` with `--pythonpath bench`, from the project root; never imported by the application.
"""

from __future__ import annotations

import sqlalchemy as sa

from feedback.extensions import db
from wsgi import app  # gunicorn runs from the project root, which is on sys.path

if not any(rule.rule == "/healthz" for rule in app.url_map.iter_rules()):

    def healthz():
        db.session.execute(sa.text("SELECT 1"))
        return {"status": "ok"}

    app.add_url_rule("/healthz", "load_healthz", healthz)
