"""The ProConnect tests sign in against a real OpenID provider (`tests/oidc_provider`), started once for the
module with the accounts below; the test client is the platform (http://localhost) and a `requests` session is
the person's browser at the provider."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
import requests

from feedback.auth import proconnect
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, client, running_provider

# Valid SIRET (Luhn): the Loiret's DDT in these tests, and a service the platform does not know.
DDT_SIRET = "13000548100010"
UNKNOWN_SIRET = "11000201100044"

ACCOUNTS = {
    "agent-nouveau": {
        "email": "camille.martin@loiret.gouv.fr",
        "email_verified": True,
        "given_name": "Camille",
        "usual_name": "Martin",
        "siret": DDT_SIRET,
    },
    "agent-existant": {
        "email": "dominique.leroy@developpement-durable.gouv.fr",
        "email_verified": True,
        "given_name": "Dominique",
        "usual_name": "Leroy",
        "siret": UNKNOWN_SIRET,
    },
    "agent-non-verifie": {
        "email": "claude.petit@exemple.fr",
        "email_verified": False,
        "given_name": "Claude",
        "usual_name": "Petit",
        "siret": UNKNOWN_SIRET,
    },
}


@pytest.fixture(scope="module")
def provider():
    with running_provider(clients=[client(["http://localhost"])], accounts=ACCOUNTS) as issuer:
        yield issuer


@pytest.fixture
def proconnect_on(app, provider, monkeypatch):
    """The platform configured with the provider, for this test only."""
    monkeypatch.setitem(app.config, "PROCONNECT_ISSUER", provider)
    monkeypatch.setitem(app.config, "PROCONNECT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setitem(app.config, "PROCONNECT_CLIENT_SECRET", CLIENT_SECRET)
    proconnect._cache.metadata.clear()
    proconnect._cache.keys.clear()
    return provider


class ProviderBrowser:
    """The person at the provider: follows its redirects, signs in on its page, and hands back the address the
    provider sends them to on the platform (which the test client then requests)."""

    def __init__(self):
        self.session = requests.Session()

    def follow(self, url: str, *, method: str = "GET", data: dict | None = None) -> requests.Response:
        response = self.session.request(method, url, data=data, allow_redirects=False, timeout=10)
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if urlsplit(target).netloc == "localhost":
                response.platform_url = target  # type: ignore[attr-defined]
                return response
            response = self.session.get(target, allow_redirects=False, timeout=10)
        return response

    def sign_in(self, authorization_url: str, account: str) -> str:
        """From the provider's authorization address to the platform's callback address (path and query)."""
        page = self.follow(authorization_url)
        if not hasattr(page, "platform_url"):  # not signed in at the provider yet: its sign-in page
            assert page.status_code == 200, page.text
            action = page.text.split('action="', 1)[1].split('"', 1)[0]
            page = self.follow(urljoin(page.url, action), method="POST", data={"login": account, "password": "x"})
        target = urlsplit(page.platform_url)  # type: ignore[attr-defined]
        return f"{target.path}?{target.query}"


@pytest.fixture
def provider_browser():
    browser = ProviderBrowser()
    yield browser
    browser.session.close()


@pytest.fixture
def start_sign_in(client, proconnect_on):
    """`start_sign_in(next=None)`: the platform's redirect to the provider (its address)."""

    def start(**query) -> str:
        response = client.get("/proconnect/connexion", query_string=query)
        assert response.status_code == 303, response.get_data(as_text=True)
        return response.headers["Location"]

    return start


@pytest.fixture
def sign_in_with(client, start_sign_in, provider_browser):
    """`sign_in_with(account)`: the whole flow; returns the platform's answer to the way back."""

    def sign_in(account: str, **query):
        callback = provider_browser.sign_in(start_sign_in(**query), account)
        return client.get(callback)

    return sign_in
