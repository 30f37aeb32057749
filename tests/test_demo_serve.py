"""`make run` runs the platform as production does: `demo serve` starts the web server, the mail worker, the
deadlines check and the receiver of replies, each its own process, and stops them all with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from feedback.config import settings_from_environment

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that exited but was not yet reaped by its parent is a zombie: gone for our purpose.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ", 1)[1][0] != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_port_sets_the_links_unless_the_base_url_is_given(monkeypatch, tmp_path):
    monkeypatch.delenv("FEEDBACK_BASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("PORT", "8123")
    assert settings_from_environment(tmp_path)["FEEDBACK_BASE_URL"] == "http://127.0.0.1:8123"

    monkeypatch.setenv("FEEDBACK_BASE_URL", "https://retours.ecologie.gouv.fr")
    assert settings_from_environment(tmp_path)["FEEDBACK_BASE_URL"] == "https://retours.ecologie.gouv.fr"

    monkeypatch.delenv("PORT")
    monkeypatch.delenv("FEEDBACK_BASE_URL")
    assert settings_from_environment(tmp_path)["FEEDBACK_BASE_URL"] == "http://127.0.0.1:5000"


def test_serve_runs_every_part_and_stops_them_with_it(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key not in {"FEEDBACK_BASE_URL", "TEST_DATABASE_URL"}
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        SECRET_KEY="demo-serve-test",
        PYTHONUNBUFFERED="1",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=environment, check=True, capture_output=True)
    port, receiver_port = _free_port(), _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*flask, "demo", "serve", "--receiver-port", str(receiver_port)],
        cwd=ROOT,
        env={**environment, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(lambda: _listening(port) and _listening(receiver_port)), (tmp_path / "serve.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
        children = _children(server.pid)
        commands = [Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in children]
        assert len(children) == 4, commands
        assert any(" run --port" in command for command in commands)
        assert any(" notifications send --loop" in command for command in commands)
        assert any(" deadlines check --loop" in command for command in commands)
        assert any(" mail receive" in command for command in commands)

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert _wait_for(lambda: not any(_alive(pid) for pid in children), timeout=15)
        assert not _listening(port)
        assert not _listening(receiver_port)
    finally:
        if server.poll() is None:
            server.kill()
        log.close()


@pytest.mark.parametrize("command", [["demo", "serve"], ["demo", "reply"]])
def test_demo_commands_have_help(runner, command):
    result = runner.invoke(args=[*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
