"""htmx requests and responses: the only module that knows htmx's headers.

A request is *partial* when htmx asked for a fragment: `HX-Request` is set, and it is neither a boosted
navigation nor a history restore (both want the whole page).
"""

from __future__ import annotations

from flask import Response, request


def is_partial_request() -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def add_vary_header(response: Response) -> Response:
    """Responses that may be a page or a fragment must not be cached as one for the other."""
    response.vary.add("HX-Request")
    return response


def redirect_response(location: str) -> Response:
    """Tell htmx to navigate to `location` (a full page load), as a 303 would without JavaScript."""
    response = Response(status=204)
    response.headers["HX-Redirect"] = location
    return response
