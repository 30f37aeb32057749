"""The routes of the open platform: the embed and the badge of a dataset, for the catalogue's pages, and the open
data exports (also under the API's path). Public content only; nobody's session changes what they show."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context, url_for

from feedback import framable_policy
from feedback.catalogue.resolver import dataset_of_path
from feedback.extensions import limiter
from feedback.opendata import exports
from feedback.opendata.badge import badge_etag, badge_svg
from feedback.opendata.dataset_record import dataset_record, open_threads_count

blueprint = Blueprint("opendata", __name__)

BADGE_MAX_AGE = 300  # seconds a badge may be kept before asking again (with its ETag)
EXPORT_MAX_AGE = 3600
EXPORT_LIMIT = "30 per hour"
CSV_TYPE = "text/csv; charset=utf-8"
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", re.I)


def embed_origins() -> list[str]:
    """The origins of `FEEDBACK_EMBED_ORIGINS` (scheme://host[:port]); anything else in the list is left out."""
    listed = current_app.config.get("FEEDBACK_EMBED_ORIGINS", "").split(",")
    return [origin.strip().rstrip("/") for origin in listed if ORIGIN.match(origin.strip().rstrip("/"))]


@blueprint.get("/embed/datasets/<path:identifier>")
def embed(identifier: str):
    """The dataset's open threads, its answer record and the buttons to write, for a frame of a catalogue page;
    an identifier the platform does not know gets a neutral page (200), not an error page."""
    dataset = dataset_of_path(identifier)
    record = dataset_record(dataset) if dataset is not None else None
    response = Response(render_template("opendata/embed.html", record=record, identifier=identifier))
    response.headers["Content-Security-Policy"] = framable_policy(embed_origins())
    response.cache_control.public = True
    response.cache_control.max_age = BADGE_MAX_AGE
    return response


@blueprint.get("/badge/datasets/<path:identifier>.svg")
def badge(identifier: str):
    """The number of open public threads; a neutral badge for an unknown identifier. Kept `BADGE_MAX_AGE` seconds,
    then asked again with its ETag (304 when unchanged)."""
    dataset = dataset_of_path(identifier)
    count = open_threads_count(dataset.id) if dataset is not None else None
    etag = badge_etag(count)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(badge_svg(count), mimetype="image/svg+xml")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = BADGE_MAX_AGE
    # An image read by other sites' pages: no page of its own, nothing to run.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _csv(chunks, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = CSV_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.public = True
    response.cache_control.max_age = EXPORT_MAX_AGE
    return response


def _thread_url_of():
    """Each thread's page address, built once and filled per row (url_for per row would cost a second)."""
    pattern = url_for("threads.thread", thread_id=987654321, _external=True).replace("987654321", "{}")
    return pattern.format


@blueprint.get("/exports/threads.csv")
@blueprint.get("/api/v1/exports/threads.csv", endpoint="api_threads_csv")
@limiter.limit(EXPORT_LIMIT)
def threads_csv():
    return _csv(exports.threads_csv(_thread_url_of()), "fils.csv")


@blueprint.get("/exports/messages.csv")
@blueprint.get("/api/v1/exports/messages.csv", endpoint="api_messages_csv")
@limiter.limit(EXPORT_LIMIT)
def messages_csv():
    return _csv(exports.messages_csv(), "messages.csv")
