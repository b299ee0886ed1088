"""`steady serve`: loopback by default, a password before anything else is exposed, clear errors."""

from __future__ import annotations

import socket

import httpx

from app.owners import new_token
from app.prompts import texts


def test_a_non_loopback_host_needs_a_password_or_an_explicit_no_auth(steady, tmp_path) -> None:
    result = steady("serve", "--host", "0.0.0.0", data_dir=tmp_path)
    assert result.returncode != 0
    assert "steady users add NAME" in result.stderr and "--no-auth" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_steady_auth_is_refused(steady, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STEADY_AUTH", "only-a-user")
    result = steady("serve", data_dir=tmp_path)
    assert result.returncode != 0 and texts("web")["serve"]["bad_auth"] in result.stderr


def test_with_steady_auth_nothing_is_served_before_logging_in(server_factory) -> None:
    server = server_factory(env={"STEADY_AUTH": "ann:a-long-passphrase"}).start()
    assert "people sign in" in server.log.read_text()
    with httpx.Client(timeout=30) as client:
        token = new_token()  # an owner token is no way around signing in
        assert client.post(f"{server.url}api/chat", json={"text": "hi"},
                           headers={"Authorization": f"Bearer {token}"}).status_code == 403
        assert client.get(server.url).headers["location"] == "/login"
        assert client.post(f"{server.url}login", data={"username": "ann", "password": "wrong"}).status_code == 401
        client.post(f"{server.url}login", data={"username": "ann", "password": "a-long-passphrase"})
        answered = client.post(f"{server.url}api/chat", json={"text": "Should I quit or transfer to another team?"})
    assert "[1]" in answered.json()["text"]


def test_a_busy_port_gets_a_clear_message(server_factory, steady) -> None:
    server = server_factory()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        result = steady("serve", "--port", str(server.port), data_dir=server.data_dir)
    assert result.returncode != 0
    assert texts("web")["serve"]["port_busy"].format(port=server.port, host="127.0.0.1") in result.stderr
    assert "Traceback" not in result.stderr
