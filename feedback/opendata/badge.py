"""The badge of a dataset: a small SVG image, in the two-part shape of the badges that README files and catalogue
pages show, that says how many public threads are open on it. A dataset the platform does not know gets a
neutral badge, never an error."""

from __future__ import annotations

import hashlib

from markupsafe import escape

LABEL = "retours"
LABEL_COLOUR = "#555"
OPEN_COLOUR = "#000091"  # the DSFR's blue France
NONE_COLOUR = "#18753c"  # the DSFR's success green
UNKNOWN_COLOUR = "#666"
# Average advance of the 11 px Verdana-like characters the badges are drawn with, and the padding of each half.
CHARACTER_WIDTH = 6.5
PADDING = 10


def badge_text(open_count: int | None) -> tuple[str, str]:
    """The value half of the badge and its colour; None: a dataset the platform does not know."""
    if open_count is None:
        return "jeu inconnu", UNKNOWN_COLOUR
    if open_count == 0:
        return "aucun fil ouvert", NONE_COLOUR
    if open_count == 1:
        return "1 fil ouvert", OPEN_COLOUR
    return f"{open_count} fils ouverts", OPEN_COLOUR


def _width(text: str) -> int:
    return round(len(text) * CHARACTER_WIDTH) + PADDING


def badge_svg(open_count: int | None) -> str:
    value, colour = badge_text(open_count)
    left, right = _width(LABEL), _width(value)
    total = left + right
    title = escape(f"Retours sur les données Ecosphères : {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{escape(LABEL)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )


def badge_etag(open_count: int | None) -> str:
    """What the badge shows changes exactly when this does."""
    return hashlib.sha256(f"badge-1:{open_count}".encode()).hexdigest()[:20]
