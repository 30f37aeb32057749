"""The local OpenID Connect provider the ProConnect tests sign in with: `server.js` (the npm package
`oidc-provider`) run by Node.js on a free loopback port, with the clients and accounts a test gives it.

`make test` installs its packages (`npm ci` in this folder) when `node_modules` is missing.
"""

from __future__ import annotations

import json
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROVIDER_DIR = Path(__file__).resolve().parent
START_TIMEOUT_SECONDS = 20

CLIENT_ID = "plateforme-retours"
CLIENT_SECRET = "secret-du-client-de-test-0123456789"


class ProviderUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client(base_urls: list[str]) -> dict:
    """The platform as a client of the provider, coming back to any of `base_urls`."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{base}/proconnect/retour" for base in base_urls],
        "post_logout_redirect_uris": [f"{base}/proconnect/deconnectee" for base in base_urls],
    }


@contextmanager
def running_provider(*, clients: list[dict], accounts: dict[str, dict]) -> Iterator[str]:
    """Start the provider; yields its issuer URL (`http://127.0.0.1:<port>`) and stops it afterwards."""
    node = shutil.which("node")
    if node is None:
        raise ProviderUnavailable("Node.js introuvable : installez le paquet Debian nodejs (Node.js 20 ou plus).")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise ProviderUnavailable(f"Paquets absents : lancez « npm ci » dans {PROVIDER_DIR} (make test le fait).")
    port = _free_port()
    process = subprocess.Popen(
        [node, "server.js", str(port), json.dumps(clients), json.dumps(accounts)],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        assert process.stdout is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise ProviderUnavailable("le fournisseur d'identité de test n'a pas démarré :\n" + "".join(output))
            ready, _, _ = select.select([process.stdout], [], [], remaining)
            if ready:
                line = process.stdout.readline()
                output.append(line)
                if line.startswith(f"listening on {issuer}"):
                    break
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
