"""The database out of reach: a French 503 page, `/healthz` 503, and the application back by itself once the
database answers again (pool_pre_ping), without restarting anything. On PostgreSQL, reached through a relay that
the test cuts and restores as a restart of the server would."""

from __future__ import annotations

import contextlib
import socket
import threading

import psycopg
import pytest
import sqlalchemy as sa

from feedback.extensions import db as database
from tests.conftest import make_app


class Relay:
    """A TCP relay to PostgreSQL on a port of its own: `cut()` closes it and every connection through it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
            self.listener.close()
            self.listener = None
        for connection in self.sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.sockets.clear()


@pytest.fixture
def relayed_app(migrated_postgresql, tmp_path_factory):
    url = sa.make_url(migrated_postgresql)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relay.open()
    app = make_app(
        tmp_path_factory,
        SQLALCHEMY_DATABASE_URI=url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"connect_timeout": 3}},
    )
    yield app, relay
    relay.cut()
    with app.app_context():
        database.engine.dispose()


def test_the_database_out_of_reach_gives_a_french_503_then_the_application_recovers(relayed_app):
    app, relay = relayed_app
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/fils").status_code == 200

    relay.cut()  # the server restarts: connections cut, nobody listening
    page = client.get("/fils")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Service momentanément indisponible" in text
    assert "Réessayez dans quelques instants" in text
    assert page.headers["Retry-After"] == "30"
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json == {"status": "indisponible"}
    as_json = client.get("/fils", headers={"Accept": "application/json"})
    assert as_json.status_code == 503
    assert as_json.json["error"] == "Service momentanément indisponible"

    relay.open()  # the server is back: the same application, the same pool
    assert client.get("/healthz").status_code == 200
    assert client.get("/fils").status_code == 200


def test_connections_ended_by_the_server_are_replaced_before_the_next_request(migrated_postgresql, tmp_path_factory):
    app = make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=migrated_postgresql)
    client = app.test_client()
    assert client.get("/fils").status_code == 200
    with app.app_context():
        pids = {row[0] for row in database.session.execute(sa.text("SELECT pg_backend_pid()"))}
        database.session.rollback()
    url = sa.make_url(migrated_postgresql)
    with psycopg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, dbname=url.database,
        autocommit=True,
    ) as admin:  # fmt: skip
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),)
        ).fetchall()
    assert ended and all(row[0] for row in ended)
    assert client.get("/fils").status_code == 200
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        database.engine.dispose()


def test_a_signed_in_person_gets_the_503_page_too_not_a_500(relayed_app):
    """The page of a signed-in person asks the database who they are: the 503 page must not ask again."""
    from secrets import token_hex

    from tests import factories

    app, relay = relayed_app
    with app.app_context():
        user = factories.create_user(email=f"panne-{token_hex(4)}@exemple.fr")
        email = user.email
    client = app.test_client()
    assert client.post("/connexion", data={"email": email, "password": factories.PASSWORD}).status_code == 303
    assert client.get("/fils").status_code == 200
    relay.cut()
    for path in ("/fils", "/compte", "/"):
        page = client.get(path)
        assert page.status_code == 503, (path, page.status_code)
        assert "Service momentanément indisponible" in page.get_data(as_text=True)
    relay.open()
    assert client.get("/compte").status_code == 200  # still signed in once the database is back
