"""After log-in, `next` leads only to a page of this site, whatever its spelling, and never to a 500."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from .. import factories

OFF_SITE = [
    "//pirate.example",
    "//pirate.example/compte",
    "/\\pirate.example",
    "\\\\pirate.example",
    "\\/pirate.example",
    "https:pirate.example",
    "https:/pirate.example",
    "https://pirate.example",
    "HTTPS://pirate.example",
    "javascript:alert(1)",
    "%2F%2Fpirate.example",
    "/%2Fpirate.example",
    "/%2F/pirate.example",
    "/%5Cpirate.example",
    "/%5cpirate.example",
    "%5C%5Cpirate.example",
    "/%252F%252Fpirate.example",
    "/%09/pirate.example",
    "/\t/pirate.example",
    "/\n/pirate.example",
    "/\r\n/pirate.example",
    "\t//pirate.example",
    " //pirate.example",
    "/ /pirate.example",
    "///pirate.example",
    "pirate.example",
]
BROKEN = [
    "/compte\r\nSet-Cookie: volé=1",
    "/compte%0D%0ASet-Cookie:%20vole=1",
    "/\x01compte",
    "/compte\x7f",
]


def log_in_with_next(client, target: str):
    user = factories.create_user()
    return client.post(
        "/connexion", query_string={"next": target}, data={"email": user.email, "password": factories.PASSWORD}
    )


def stays_here(location: str) -> bool:
    """Where a browser would go from https://ecologie.example/connexion: it drops tabs and line breaks and reads
    a backslash as a slash (once decoded, as some do)."""
    from urllib.parse import unquote

    here = "https://ecologie.example/connexion"
    for form in (location, unquote(location), unquote(unquote(location))):
        cleaned = re.sub(r"[\t\r\n]", "", form).replace("\\", "/").strip()
        resolved = urlsplit(urljoin(here, cleaned))
        if resolved.scheme != "https" or resolved.netloc != "ecologie.example":
            return False
    return True


@pytest.mark.parametrize("target", OFF_SITE)
def test_log_in_never_sends_to_another_site(db, client, target):
    response = log_in_with_next(client, target)

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert stays_here(response.headers["Location"])


@pytest.mark.parametrize("target", BROKEN)
def test_a_next_that_cannot_go_in_a_header_is_dropped_not_a_500(db, client, target):
    response = log_in_with_next(client, target)

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert not any(name.lower() == "set-cookie" and "vol" in value for name, value in response.headers.items())


@pytest.mark.parametrize(
    "target",
    ["/compte", "/jeux-de-donnees?q=inondation&page=2", "/fils?q=a%2Fb", "/organisations/ddt-loiret#membres"],
)
def test_log_in_goes_back_to_a_page_of_this_site(db, client, target):
    response = log_in_with_next(client, target)

    assert response.status_code == 303
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", OFF_SITE[:6] + BROKEN[:1])
def test_the_log_in_form_does_not_carry_an_off_site_next(client, target):
    response = client.get("/connexion", query_string={"next": target})

    assert response.status_code == 200
    action = re.search(r'<form method="post" action="([^"]*)"', response.get_data(as_text=True)).group(1)
    assert action == "/connexion"
