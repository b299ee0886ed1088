"""Security of the running server: owners kept apart, sign-in, the gate's refusals, no remote content.

Every test talks to the real `steady serve` subprocess on loopback (127.0.0.0/8 only) through httpx
or Debian's chromium. One server per scenario, shared by the module: the default (each browser its
own owner), STEADY_AUTH sign-in, and a trusted proxy's user header. Conversations are checked in the
server's own sessions.db through the owner-aware app.store.Store.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import expect
from webpage import DESKTOP, INPUT, USERS, Server, open_app, open_tab, send

from app.config import REPO_ROOT
from app.gate import OWNER_COOKIE, SIGN_IN_COOKIE, Gate, GateConfig, owner_of
from app.owners import TOKEN, browser_owner, new_token, user_owner
from app.prompts import texts
from app.server import free_port
from app.sessions import MAX_STORED_CHARS
from app.store_sqlite import SQLiteStore

AUTH = "alice:pw-alice-1,bob:pw-bob-22"
# Added with `steady users add NAME --password-stdin` (users.json); dave is removed by a test.
CAROL = ("carol", "pw-carol-333")
DAVE = ("dave", "pw-dave-4444")
MB = 1024 * 1024


# --- servers, clients and small helpers -------------------------------------------------------------

@pytest.fixture(scope="module")
def start_server(web_index: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Start a server over a fresh data folder (index copied, model linked); all stopped after the module."""
    made: list[Server] = []

    def start(name: str, env: dict[str, str] | None = None, before=None) -> Server:
        data_dir = tmp_path_factory.mktemp(name) / "data"
        shutil.copytree(web_index, data_dir)
        (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
        server = Server(data_dir=data_dir, env=env)
        made.append(server)
        if before is not None:
            before(server)
        return server.start()

    yield start
    for server in made:
        server.stop()


def steady_cli(*args: str, data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "STEADY_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=120)


@pytest.fixture(scope="module")
def auth_server(start_server) -> Server:
    """STEADY_AUTH's alice and bob, plus carol and dave in users.json (carol added by the CLI)."""
    def add_users(server: Server) -> None:
        for name, password in (CAROL, DAVE):
            added = steady_cli("users", "add", name, "--password-stdin", data_dir=server.data_dir, stdin=password + "\n")
            assert added.returncode == 0, added.stderr

    return start_server("auth", env={"STEADY_AUTH": AUTH}, before=add_users)


@pytest.fixture(scope="module")
def proxy_server(start_server) -> Server:
    return start_server("proxy", env={"STEADY_TRUSTED_USER_HEADER": "X-Forwarded-User",
                                      "STEADY_TRUSTED_PROXIES": "127.0.0.1"})


@pytest.fixture(scope="module")
def distant_proxy_server(start_server) -> Server:
    """The trusted proxy is at 127.0.0.2: requests from 127.0.0.1 are not the proxy's."""
    return start_server("proxy-elsewhere", env={"STEADY_TRUSTED_USER_HEADER": "X-Forwarded-User",
                                                "STEADY_TRUSTED_PROXIES": "127.0.0.2"})


@pytest.fixture
def contexts(browser):
    """New browser contexts (separate cookie jars: separate browsers), closed after the test."""
    made = []

    def make(**options):
        made.append(browser.new_context(viewport=DESKTOP, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


def client(server: Server, *, token: str | None = None, address: str | None = None, **headers: str) -> httpx.Client:
    """An httpx client for the server; `token` as a Bearer token, `address` the loopback address to connect from."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(base_url=server.url, timeout=120, headers=headers, transport=transport)


@contextmanager
def browser_client(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    """A client that visited the page, as a browser does: it holds an owner cookie. Yields (client, token)."""
    with client(server) as c:
        c.get("/").raise_for_status()
        token = c.cookies.get(OWNER_COOKIE)
        assert token and TOKEN.fullmatch(token)
        yield c, token


def chat(c: httpx.Client, text: str, session_id: str = "", **kwargs) -> httpx.Response:
    return c.post("/api/chat", json={"text": text, "session_id": session_id}, **kwargs)


def say(c: httpx.Client, text: str, session_id: str = "") -> dict:
    response = chat(c, text, session_id)
    assert response.status_code == 200, response.text
    return response.json()


def stored(server: Server, owner: str, session_id: str) -> list[str]:
    """The texts of a session's messages as the server stored them (owner-aware)."""
    store = SQLiteStore(path=server.data_dir / "sessions.db")
    try:
        return [m.body.get("text", "") for m in store.messages(session_id=session_id, owner=owner)]
    finally:
        store.close()


def stored_sessions(server: Server, owner: str) -> dict[str, str]:
    store = SQLiteStore(path=server.data_dir / "sessions.db")
    try:
        return {s.session_id: s.title for s in store.sessions(owner=owner)}
    finally:
        store.close()


def context_owner(context) -> str:
    token = next(c["value"] for c in context.cookies() if c["name"] == OWNER_COOKIE)
    return browser_owner(token)


def wait_until(check, *, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Site:
    """A tiny web site on a loopback address that records every request and serves one page."""

    def __init__(self, address: str, page: str = "") -> None:
        self.page = page
        self.seen: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                site.seen.append(f"{self.command} {self.path}")
                body = site.page.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- (a) owners kept apart: two browsers, two tokens ----------------------------------------------------

def test_a_second_browser_never_sees_opens_or_writes_the_first_ones_conversation(contexts, shared_server) -> None:
    server = shared_server
    first = contexts()
    page = first.new_page()
    open_app(page, server.url)
    title = "Should I quit or transfer to another team? (zebra-417)"
    send(page, title)
    mine = first.request.get(f"{server.url}api/sessions").json()
    assert [s["title"] for s in mine] == [title]
    first_id, first_owner = mine[0]["session_id"], context_owner(first)
    before = stored(server, first_owner, first_id)
    assert before[0] == title and len(before) == 2

    second = contexts()
    other = second.new_page()
    open_app(other, server.url)
    assert context_owner(second) != first_owner
    expect(other.locator(USERS)).to_have_count(0)  # the page opens on nothing of the first browser's
    open_tab(other, "history")
    expect(other.locator("#steady-history")).not_to_contain_text("zebra-417")
    assert "zebra-417" not in other.content()
    # With the second browser's own cookie, the first one's conversation can't be read, fetched or written.
    assert second.request.get(f"{server.url}api/sessions/{first_id}").status == 403
    assert second.request.get(f"{server.url}download/{first_id}/script").status in (403, 404)
    assert second.request.post(f"{server.url}api/chat", data={"text": "let me in", "session_id": first_id}).status == 403
    assert all(s["session_id"] != first_id for s in second.request.get(f"{server.url}api/sessions").json())

    send(other, "Intruder here: how do I keep up with new tools? (mallow-88)")
    assert stored(server, first_owner, first_id) == before
    theirs = stored_sessions(server, context_owner(second))
    assert first_id not in theirs and any("mallow-88" in t for t in theirs.values())
    page.reload()
    open_app(page, server.url)
    expect(page.locator(USERS)).to_have_count(1)
    expect(page.locator(USERS).first).to_contain_text("zebra-417")
    open_tab(page, "history")
    expect(page.locator("#steady-history")).not_to_contain_text("mallow-88")


def test_a_second_token_can_neither_read_nor_write_nor_download_the_firsts(shared_server) -> None:
    server = shared_server
    token_a, token_b = new_token(), new_token()
    with client(server, token=token_a) as a, client(server, token=token_b) as b:
        first = say(a, "How do I raise burnout with my manager? (owner-a)")
        session_id = first["session_id"]
        owner_a = browser_owner(token_a)
        before = stored(server, owner_a, session_id)
        assert len(before) == 2 and a.get(f"/api/sessions/{session_id}").status_code == 200

        assert b.get(f"/api/sessions/{session_id}").status_code == 403
        assert session_id not in {s["session_id"] for s in b.get("/api/sessions").json()}
        refused = chat(b, "overwrite this conversation", session_id)
        assert refused.status_code == 403 and "overwrite" not in refused.text
        for kind in ("script", "ics"):
            assert b.get(f"/download/{session_id}/{kind}").status_code in (403, 404)
        assert stored(server, owner_a, session_id) == before
        assert stored(server, browser_owner(token_b), session_id) == []

    with client(server) as nobody:  # no token at all: nothing is read or written
        assert chat(nobody, "who am I?").status_code == 403
        assert chat(nobody, "who am I?", session_id).status_code == 403
        assert nobody.get("/api/sessions").status_code == 403
        assert nobody.get(f"/api/sessions/{session_id}").status_code == 403
        assert nobody.get(f"/download/{session_id}/script").status_code == 403
    for bad in ("short", "x" * 31, token_a + "!", "Basic " + token_a):
        header = bad if bad.startswith("Basic ") else f"Bearer {bad}"
        with client(server, Authorization=header) as odd:
            assert chat(odd, "with an odd token").status_code == 403, bad
    assert stored(server, owner_a, session_id) == before


# --- (b) Delete everything is one owner's everything ------------------------------------------------------

def test_delete_everything_in_one_browser_leaves_the_others_conversation(contexts, shared_server) -> None:
    server = shared_server
    keeper = contexts().new_page()
    open_app(keeper, server.url)
    send(keeper, "Is GPU guilt a real thing? (keeper-31)")
    keeper_owner = context_owner(keeper.context)
    kept = stored_sessions(server, keeper_owner)
    assert len(kept) == 1
    kept_id = next(iter(kept))
    kept_messages = stored(server, keeper_owner, kept_id)

    deleter = contexts().new_page()
    open_app(deleter, server.url)
    send(deleter, "My manager ignores the drift alerts, should I transfer? (deleter-77)")
    deleter_owner = context_owner(deleter.context)
    assert len(stored_sessions(server, deleter_owner)) == 1
    open_tab(deleter, "history")
    deleter.locator("#steady-delete").click()
    deleter.locator("#steady-delete-confirm").click()
    expect(deleter.locator("#steady-deleted")).to_contain_text(texts("web")["history"]["deleted"])

    assert stored_sessions(server, deleter_owner) == {}
    assert stored_sessions(server, keeper_owner) == kept
    assert stored(server, keeper_owner, kept_id) == kept_messages
    keeper.reload()
    open_app(keeper, server.url)
    expect(keeper.locator(USERS)).to_have_count(1)
    expect(keeper.locator(USERS).first).to_contain_text("keeper-31")


# --- (c) sign-in: separate users, refused guesses ----------------------------------------------------------

@contextmanager
def signed_in(server: Server, name: str, password: str, *, address: str | None = None) -> Iterator[httpx.Client]:
    with client(server, address=address) as c:
        response = c.post("/login", data={"username": name, "password": password})
        assert response.status_code == 303 and response.headers["location"] == "/", (response.status_code, response.text)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SIGN_IN_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        yield c


def browser_sign_in(page, server: Server, name: str, password: str) -> None:
    page.goto(server.url)
    assert urlsplit(page.url).path == "/login"  # nothing before signing in
    page.fill("#u", name)
    page.fill("#p", password)
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as posted:
        page.locator("button[type=submit]").click()
    answer = posted.value
    assert answer.status == 303, f"the sign-in form was answered {answer.status}: {answer.text()}"
    page.locator("#steady-quick button").first.wait_for(state="visible", timeout=30_000)


def test_signed_in_users_each_see_only_their_own_conversations(auth_server) -> None:
    server = auth_server
    with signed_in(server, "alice", "pw-alice-1") as alice, signed_in(server, "bob", "pw-bob-22") as bob, \
            signed_in(server, *CAROL) as carol:
        alice_id = say(alice, "Should I quit or transfer to another team? (alice-only-5)")["session_id"]
        bob_id = say(bob, "What should I learn so AI doesn't replace me? (bob-only-6)")["session_id"]
        alices = {s["session_id"] for s in alice.get("/api/sessions").json()}
        bobs = {s["session_id"] for s in bob.get("/api/sessions").json()}
        assert alice_id in alices and bob_id not in alices and bob_id in bobs and alice_id not in bobs
        assert alices == stored_sessions(server, user_owner("alice")).keys()
        assert bobs == stored_sessions(server, user_owner("bob")).keys()
        before = stored(server, user_owner("alice"), alice_id)

        assert bob.get(f"/api/sessions/{alice_id}").status_code == 403
        assert alice.get(f"/api/sessions/{bob_id}").status_code == 403
        assert chat(bob, "bob writes here", alice_id).status_code == 403
        assert bob.get(f"/download/{alice_id}/script").status_code in (403, 404)
        assert carol.get("/api/sessions").json() == []  # a users.json user signs in too, and starts empty
        assert carol.get(f"/api/sessions/{alice_id}").status_code == 403
        assert alice.get(f"/api/sessions/{alice_id}").status_code == 200
    assert stored(server, user_owner("alice"), alice_id) == before

    with client(server) as nobody:  # not signed in: the page sends to the sign-in form, the rest is refused
        page = nobody.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/login"
        assert OWNER_COOKIE not in page.headers.get("set-cookie", "")  # with sign-in, no browser owners
        for path in ("/config", "/api/sessions", f"/api/sessions/{alice_id}", f"/download/{alice_id}/script"):
            assert nobody.get(path).status_code == 403, path
        assert chat(nobody, "hello?").status_code == 403
        assert nobody.post("/login", data={"username": "alice", "password": "pw-bob-22"}).status_code == 401
        nobody.cookies.set(SIGN_IN_COOKIE, "alice.9999999999." + "0" * 64)  # a forged sign-in
        assert nobody.get("/api/sessions").status_code == 403
        token = new_token()  # a browser token means nothing when sign-in is on
        assert nobody.get("/api/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_signing_in_in_a_browser_shows_each_user_only_their_own(contexts, auth_server) -> None:
    """Alice and Bob sign in through the form in chromium, each with their own History.

    Fails today: the gate sends `Referrer-Policy: no-referrer`, so chromium posts the sign-in form
    with `Origin: null`, which the gate's cross-origin check refuses (403): no browser can sign in.
    """
    server = auth_server
    alice = contexts().new_page()
    browser_sign_in(alice, server, "alice", "pw-alice-1")
    open_tab(alice, "history")
    alice.locator("#steady-new").click()  # other tests in this module signed alice in: a fresh conversation
    expect(alice.locator(USERS)).to_have_count(0)
    send(alice, "How do I protect time for deep reading? (alice-browser-7)")
    bob = contexts().new_page()
    browser_sign_in(bob, server, "bob", "pw-bob-22")
    # Bob may see his own latest conversation (other tests in this module signed him in), never Alice's.
    expect(bob.locator("#steady-chat")).not_to_contain_text("alice-browser-7")
    open_tab(bob, "history")
    bob.locator("#steady-new").click()
    expect(bob.locator(USERS)).to_have_count(0)
    send(bob, "Is GPU guilt a real thing? (bob-browser-8)")
    open_tab(bob, "history")
    expect(bob.locator("#steady-history")).to_contain_text("bob-browser-8")
    expect(bob.locator("#steady-history")).not_to_contain_text("alice-browser-7")
    open_tab(alice, "history")
    expect(alice.locator("#steady-history")).to_contain_text("alice-browser-7")
    expect(alice.locator("#steady-history")).not_to_contain_text("bob-browser-8")
    cookies = {c["name"]: c for c in alice.context.cookies()}
    assert cookies[SIGN_IN_COOKIE]["httpOnly"] and cookies[SIGN_IN_COOKIE]["sameSite"] == "Strict"


def test_six_wrong_passwords_are_refused_with_retry_after(auth_server) -> None:
    server = auth_server
    words = texts("web")["sign_in"]
    with client(server, address="127.0.0.3") as guesser:
        for i in range(5):
            wrong = guesser.post("/login", data={"username": "mallory", "password": f"guess-{i}"})
            assert wrong.status_code == 401 and SIGN_IN_COOKIE not in wrong.headers.get("set-cookie", ""), i
            assert html.escape(words["wrong"]) in wrong.text
        refused = guesser.post("/login", data={"username": "mallory", "password": "guess-5"})
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 301
        # The address is held back, even with a right password ...
        held = guesser.post("/login", data={"username": "alice", "password": "pw-alice-1"})
        assert held.status_code == 429 and SIGN_IN_COOKIE not in held.headers.get("set-cookie", "")
    with client(server, address="127.0.0.4") as elsewhere:  # ... and so is the guessed name, from anywhere
        assert elsewhere.post("/login", data={"username": "mallory", "password": "x"}).status_code == 429
    with signed_in(server, "alice", "pw-alice-1"):  # alice from her own address is not locked out
        pass


def test_a_removed_user_can_no_longer_use_their_sign_in(auth_server) -> None:
    """`steady users remove` ends a user's access: new sign-ins and the cookie they already hold.

    Fails today: the gate believes any validly signed cookie for its 14 days, whether or not the
    user still exists (or changed their password), and nothing revokes it, not even a restart.
    """
    server = auth_server
    with signed_in(server, *DAVE) as dave:
        say(dave, "How do I protect time for deep reading? (dave-9)")
        assert dave.get("/api/sessions").status_code == 200
        removed = steady_cli("users", "remove", DAVE[0], data_dir=server.data_dir)
        assert removed.returncode == 0, removed.stderr
        with client(server) as again:
            assert again.post("/login", data={"username": DAVE[0], "password": DAVE[1]}).status_code == 401
        assert dave.get("/api/sessions").status_code == 403, "a removed user's sign-in cookie still works"


# --- (d) host names, cookies, nothing secret in the page -------------------------------------------------

def test_a_foreign_host_name_is_misdirected(shared_server) -> None:
    server = shared_server
    with client(server) as c:
        for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example",
                     f"localhost.evil.example:{server.port}", ""):
            for path in ("/", "/config", "/api/sessions", "/gradio_api/info"):
                response = c.get(path, headers={"Host": host})
                assert response.status_code == 421, (host, path, response.status_code)
                assert "set-cookie" not in response.headers
        assert c.get("/", headers={"Host": f"localhost:{server.port}"}).status_code == 200


def test_the_owner_cookie_is_httponly_strict_and_never_in_the_page(contexts, shared_server) -> None:
    server = shared_server
    with client(server) as c:
        first = c.get("/")
        cookie = first.headers["set-cookie"]
        name_value, *attributes = [part.strip() for part in cookie.split(";")]
        name, _, token = name_value.partition("=")
        assert name == OWNER_COOKIE and TOKEN.fullmatch(token)
        assert "HttpOnly" in attributes and "SameSite=Strict" in attributes and "Path=/" in attributes
        assert first.headers["cache-control"] == "no-store"
        assert token not in first.text
        config = c.get("/config")
        assert config.status_code == 200
        assert token not in config.text and "secret" not in config.text.lower()
        assert "set-cookie" not in c.get("/").headers  # the browser keeps its token
        assert token not in c.get("/gradio_api/info").text and token not in c.get("/api/sessions").text
    page = contexts().new_page()
    open_app(page, server.url)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies[OWNER_COOKIE]["httpOnly"] is True and cookies[OWNER_COOKIE]["sameSite"] == "Strict"
    assert OWNER_COOKIE not in page.evaluate("document.cookie")  # no script on the page can read it
    assert cookies[OWNER_COOKIE]["value"] not in page.content()


def test_signed_in_pages_hold_neither_the_server_key_nor_the_sign_in(auth_server) -> None:
    server = auth_server
    key = (server.data_dir / "server-key").read_text().strip()
    assert len(key) == 64
    with client(server) as c:
        login = c.get("/login")
        assert login.status_code == 200 and key not in login.text
    with signed_in(server, *CAROL) as carol:
        signature = carol.cookies.get(SIGN_IN_COOKIE)
        for path in ("/", "/config", "/gradio_api/info", "/api/sessions"):
            response = carol.get(path)
            assert response.status_code == 200, path
            assert key not in response.text and signature not in response.text, path
        assert "secret" not in carol.get("/config").text.lower()


def test_a_link_from_another_site_keeps_the_browsers_conversations(contexts, shared_server) -> None:
    """Following a link to Steady from another site must not make the browser a new, empty owner.

    Fails today: SameSite=Strict keeps the cookie off a cross-site navigation, so the gate takes the
    browser for a first visitor and replaces its cookie; every earlier conversation is unreachable
    from then on (still stored, but no one can open or delete it).
    """
    server = shared_server
    context = contexts()
    page = context.new_page()
    open_app(page, server.url)
    send(page, "How do I keep up with new tools without burning out? (linked-12)")
    token = next(c["value"] for c in context.cookies() if c["name"] == OWNER_COOKIE)
    with Site("127.0.0.2", page=f'<!doctype html><a id="to-steady" href="{server.url}">Steady</a>') as elsewhere:
        page.goto(elsewhere.url)
        page.locator("#to-steady").click()
        page.locator("#steady-quick button").first.wait_for(state="visible", timeout=30_000)
    now = next(c["value"] for c in context.cookies() if c["name"] == OWNER_COOKIE)
    assert now == token, "the browser's owner cookie was replaced by a visit through a link"
    expect(page.locator(USERS)).to_have_count(1)


def test_another_apps_cookie_on_the_same_host_does_not_hide_the_owner(shared_server) -> None:
    """Cookies aren't kept apart by port: whatever another local app sets for 127.0.0.1 comes along.

    Fails today: a cookie value the standard library's SimpleCookie can't parse (JSON, a space, a
    backslash, non-ASCII) makes the gate read no cookies at all, so the owner is lost and a fresh one
    is issued over it.
    """
    server = shared_server
    with browser_client(server) as (c, token):
        say(c, "Should I quit or transfer to another team? (cookie-jar-3)")
    for other in ('prefs={"theme":"dark"}', "greeting=hello world", "path=C:\\tmp", "name=José"):
        headers = {"Cookie": f"{other}; {OWNER_COOKIE}={token}".encode()}
        with client(server) as raw:
            listed = raw.get("/api/sessions", headers=headers)
            assert listed.status_code == 200, (other, listed.status_code)
            assert [s["title"] for s in listed.json()] == ["Should I quit or transfer to another team? (cookie-jar-3)"]
            assert "set-cookie" not in raw.get("/", headers=headers).headers, other


# --- (e) the Content-Security-Policy on every response ------------------------------------------------------

LOCAL_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "data:", "blob:"}


def policy(response: httpx.Response) -> dict[str, list[str]]:
    value = response.headers.get("content-security-policy")
    assert value, (response.request.url, response.status_code)
    return {part.split()[0]: part.split()[1:] for part in value.split(";") if part.strip()}


def test_every_response_carries_a_csp_that_loads_nothing_remote(shared_server) -> None:
    server = shared_server
    with browser_client(server) as (c, _):
        responses = [c.get("/"), c.get("/config"), c.get("/api/sessions"), c.get("/no-such-page"),
                     c.get("/gradio_api/info"), c.get("/download/nothing/script"), c.get("/login"),
                     c.get("/", headers={"Host": "evil.example"}), c.post("/api/chat", content=b"not json", headers={"Content-Type": "application/json"}),
                     c.post("/api/chat", json={"text": "x"}, headers={"Origin": "http://127.0.0.2:9"})]
        with client(server) as nobody:
            responses.append(nobody.post("/api/chat", json={"text": "x", "session_id": ""}))
    assert {200, 400, 403, 404, 421} <= {r.status_code for r in responses}
    for response in responses:
        directives = policy(response)
        where = (str(response.request.url), response.status_code)
        assert directives["img-src"] and set(directives["img-src"]) <= {"'self'", "data:", "blob:"}, where
        for name, sources in directives.items():
            assert set(sources) <= LOCAL_SOURCES, (where, name, sources)  # no *, http:, https: or host anywhere
        for name in ("default-src", "connect-src", "script-src", "style-src", "font-src"):
            assert name in directives, (where, name)
        assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"], where
        assert response.headers["x-content-type-options"] == "nosniff", where
        assert response.headers["referrer-policy"] == "same-origin", where


# --- (f) remote content never loads, whoever typed it -------------------------------------------------------

def test_a_remote_image_in_a_message_never_reaches_its_server(contexts, shared_server) -> None:
    server = shared_server
    with Site("127.0.0.2") as beacon:
        httpx.get(f"{beacon.url}control").raise_for_status()  # the beacon does record what reaches it
        assert beacon.seen == ["GET /control"]
        beacon.seen.clear()

        page = contexts().new_page()
        requested, answered, failed = [], [], []
        page.on("request", lambda r: requested.append(r.url))
        page.on("response", lambda r: answered.append(r.url))
        page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
        open_app(page, server.url)
        send(page, f"Look ![x]({beacon.url}beacon.png?who=victim) and "
                   f'<img src="{beacon.url}raw.png?who=victim"> — should I quit?')
        page.reload()
        open_app(page, server.url)
        expect(page.locator(USERS)).to_have_count(1)
        page.wait_for_timeout(2000)

        assert beacon.seen == []
        ours = f"127.0.0.1:{server.port}"
        assert [u for u in answered if urlsplit(u).netloc != ours] == []  # nothing from anywhere else came back
        elsewhere = [u for u in requested if urlsplit(u).netloc != ours]
        blocked = [u for u, why in failed if urlsplit(u).netloc != ours and why == "csp"]
        assert sorted(elsewhere) == sorted(blocked), (elsewhere, failed)  # tried only to be stopped by the CSP
        print(f"\n{len(blocked)} image requests to the beacon were blocked in the browser by the CSP")


# --- (g) the calendar file can't be injected into ----------------------------------------------------------

# A task the case reader takes as one (a payload alone reads as no answer and never reaches the case), with
# calendar lines after it.
INJECTED = "the feature store cleanup until March\nATTENDEE:mailto:evil@example.com\nEND:VEVENT; semi \\ back"


def rehearse_to_debrief(c: httpx.Client, defer: str) -> tuple[str, dict]:
    """A rehearsal through /api/chat with `defer` as the task to defer (the .ics describes it), to the debrief."""
    reply = say(c, "/rehearse")
    session_id = reply["session_id"]
    walked = []

    def stage() -> str | None:
        walked.append((reply["mode"], reply["state"].get("stage"), reply["text"][:120]))
        return reply["state"].get("stage")

    assert reply["mode"] == "rehearse" and stage() == "case", walked
    for text in ("62", "feature work", "Skip this one", "Skip this one", defer, "Skip the rest, show my script",
                 "Practise with a busy manager"):
        reply = say(c, text, session_id)
        stage()
    # The case reader keeps the answer's words but not its line breaks.
    assert walked[-1][1] == "roleplay" and "\n" not in reply["state"]["case"]["defer"], walked
    for _ in range(8):
        if walked[-1][1] == "debrief":
            break
        reply = say(c, "Use my script line", session_id)
        stage()
    if walked[-1][1] != "debrief" or not reply["state"].get("ics"):
        pytest.fail("precondition, not the .ics check: the rehearsal never reached its debrief through /api/chat "
                    f"(mode, stage, text) per turn: {walked}")
    return session_id, reply


def assert_one_clean_event(raw: str, *, kept: str = "ATTENDEE:mailto:evil@example.com") -> str:
    """The calendar has exactly one event, no ATTENDEE anywhere, and `kept` in its description, as text;
    returns the unfolded text."""
    from icalendar import Calendar

    unfolded = re.sub(r"\r?\n[ \t]", "", raw)
    lines = unfolded.splitlines()
    assert not [line for line in raw.splitlines() + lines if line.upper().startswith("ATTENDEE")]
    assert [line for line in lines if line.startswith(("BEGIN:", "END:"))] == [
        "BEGIN:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "END:VCALENDAR"]
    calendar = Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert all("ATTENDEE" not in component for component in calendar.walk())
    assert kept in str(events[0]["DESCRIPTION"])  # the text survives, as text
    return unfolded


def test_the_calendar_file_escapes_a_case_answer() -> None:
    """The .ics the debrief offers, made straight from a case (no server, no dialogue routing)."""
    from app import rehearse

    raw = assert_one_clean_event(rehearse.ics({"hours": "62", "defer": INJECTED, "delegate": "label QA; \\ x\r\nX-EVIL:1"}))
    assert "cleanup until March\\nATTENDEE:mailto:evil@example.com\\nEND:VEVENT\\; semi \\\\ back" in raw  # escaped, not lines


def test_a_case_answer_cannot_add_lines_to_the_calendar_file(shared_server) -> None:
    server = shared_server
    token = new_token()
    with client(server, token=token) as c:
        session_id, _ = rehearse_to_debrief(c, INJECTED)
        download = c.get(f"/download/{session_id}/ics")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/calendar")
        with client(server, token=new_token()) as other:
            assert other.get(f"/download/{session_id}/ics").status_code in (403, 404)
    # The case reader keeps the task and its date; whatever else the answer carried stays text or is left out.
    assert_one_clean_event(download.text, kept="the feature store cleanup until March")


# --- (h) sizes: the body, the message, the input box ----------------------------------------------------------

def test_a_60_mb_body_is_refused_and_a_long_message_is_kept_capped(contexts, shared_server) -> None:
    server = shared_server
    token = new_token()
    owner = browser_owner(token)
    with client(server, token=token) as c:
        huge = c.post("/api/chat", content=b"x" * (60 * MB), headers={"content-type": "application/json"})
        assert huge.status_code == 413
        reply = say(c, "a" * 100_000)
        note = texts("web")["stored_cut"].format(limit=MAX_STORED_CHARS)
        assert note in reply["notice"]
        assert stored(server, owner, reply["session_id"])[0] == "a" * MAX_STORED_CHARS
        assert reply["session_id"] in {s["session_id"] for s in c.get("/api/sessions").json()}

    page = contexts().new_page()
    open_app(page, server.url)
    assert page.get_attribute(INPUT, "maxlength") == str(MAX_STORED_CHARS) == "20000"


def test_a_60_mb_body_sent_in_chunks_is_refused_too(shared_server) -> None:
    """Without a Content-Length (chunked transfer encoding) the limit must hold as the body arrives.

    Fails today: the gate checks only the Content-Length header, so a chunked 60 MB body is read
    into memory whole and answered (and its message stored).
    """
    server = shared_server
    token = new_token()

    def body():
        yield b'{"session_id": "", "text": "'
        for _ in range(60):
            yield b"b" * MB
        yield b'"}'

    with client(server, token=token) as c:
        try:
            status = c.post("/api/chat", content=body(), headers={"content-type": "application/json"}).status_code
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            status = "closed mid-upload"
        assert c.get("/api/sessions").status_code == 200  # the server is still there
        assert status in (413, "closed mid-upload"), status
        assert stored_sessions(server, browser_owner(token)) == {}


# --- (i) Gradio's own file, upload and API routes are not served ----------------------------------------------

def raw_get(server: Server, path: str, cookie: str) -> tuple[int, bytes]:
    """A GET with the path exactly as given (no client tidies up its dot segments)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_gradio_file_upload_and_call_routes_are_not_found(shared_server) -> None:
    server = shared_server
    db = server.data_dir / "sessions.db"
    with browser_client(server) as (c, token):
        say(c, "Is GPU guilt a real thing?")
        for path in (f"/gradio_api/file={db}", f"/gradio_api/file={quote(str(db))}", f"/file={db}",
                     "/gradio_api/file=/etc/passwd", "/gradio_api/upload", "/upload",
                     "/gradio_api/call/chat", "/gradio_api/call/on_turn", "/gradio_api/api/predict",
                     "/gradio_api/run/predict", "/gradio_api/proxy=http://127.0.0.2:9/", "/gradio_api/upload_progress",
                     "/gradio_api/mcp/sse", "/docs", "/openapi.json", "/gradio_api/vibe"):
            assert c.get(path).status_code == 404, path
            assert c.post(path, json={"data": ["hi", ""]}).status_code == 404, path
        upload = c.post("/gradio_api/upload", files={"files": ("x.html", b"<script>alert(1)</script>", "text/html")})
        assert upload.status_code == 404
    for path in (f"/static/../gradio_api/file={db}", f"/assets/../gradio_api/file={db}",
                 f"/gradio_api/heartbeat/../file={db}", f"/api/../gradio_api/file={db}",
                 "/static/../../../../../../../etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"):
        status, data = raw_get(server, path, f"{OWNER_COOKIE}={token}")
        assert status != 200 and b"SQLite format" not in data and b"root:" not in data, (path, status)


# --- (j) writes from other origins ---------------------------------------------------------------------

def test_a_cross_origin_write_is_refused(shared_server) -> None:
    server = shared_server
    token = new_token()
    with client(server, token=token) as c:
        session_id = say(c, "Should I quit or transfer to another team?")["session_id"]
        before = stored(server, browser_owner(token), session_id)
        for origin in ("http://127.0.0.2:9", "http://evil.example", "null", "https://127.0.0.2"):
            refused = chat(c, "from another site", session_id, headers={"Origin": origin})
            assert refused.status_code == 403, origin
            assert c.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"},
                          headers={"Origin": origin}).status_code == 403, origin
        assert stored(server, browser_owner(token), session_id) == before
        same = chat(c, "from the page itself", session_id, headers={"Origin": server.url.rstrip("/")})
        assert same.status_code == 200


def test_a_page_on_another_local_port_is_another_origin(shared_server, auth_server) -> None:
    """http://127.0.0.1:OTHER is a different origin (any local dev server, notebook or tool serves one).

    Fails today: the gate compares only host names, so writes from another port pass; Gradio's CORS
    middleware answers such origins with Access-Control-Allow-Origin and credentials; and the
    sign-in form accepts a cross-origin post (a login CSRF: the victim gets signed in as the attacker).
    """
    server = shared_server
    other = "http://127.0.0.1:9"
    with browser_client(server) as (c, token):
        session_id = say(c, "Should I quit or transfer to another team?")["session_id"]
        before = stored(server, browser_owner(token), session_id)
        problems = []
        if chat(c, "from another port", session_id, headers={"Origin": other}).status_code != 403:
            problems.append("POST /api/chat from another port was accepted")
        for path in ("/config", "/gradio_api/user", "/gradio_api/info", "/"):
            allowed = c.get(path, headers={"Origin": other}).headers.get("access-control-allow-origin")
            if allowed:
                problems.append(f"GET {path} allows credentialed reads by {allowed}")
    with client(auth_server) as victim:
        signed = victim.post("/login", data={"username": "bob", "password": "pw-bob-22"}, headers={"Origin": other})
        if signed.status_code != 403:
            problems.append(f"POST /login from another port answered {signed.status_code}")
    assert stored(server, browser_owner(token), session_id)[:len(before)] == before
    assert problems == [], "\n".join(problems)


ATTACK = """<!doctype html><script>
window.done = (async () => {
  try {
    await fetch("%sapi/chat", {method: "POST", mode: "no-cors", credentials: "include",
                 body: JSON.stringify({text: "planted by a page on another port (csrf-64)", session_id: ""})});
  } catch (e) { /* the answer is unreadable; the request went anyway */ }
  return "sent";
})();
</script>"""


def test_a_page_on_another_local_port_cannot_write_as_the_browser(contexts, shared_server) -> None:
    """The browser version of the above: a page served by anything else on 127.0.0.1 plants a conversation.

    Fails today (see test_a_page_on_another_local_port_is_another_origin).
    """
    server = shared_server
    context = contexts()
    page = context.new_page()
    open_app(page, server.url)
    send(page, "How do I raise burnout with my manager? (victim-23)")
    with Site("127.0.0.1", page=ATTACK % server.url) as attacker:
        evil = context.new_page()
        evil.goto(attacker.url)
        assert evil.evaluate("window.done") == "sent"
    time.sleep(1)
    titles = list(stored_sessions(server, context_owner(context)).values())
    assert not [t for t in titles if "csrf-64" in t], titles


# --- (k) a trusted proxy's user header -------------------------------------------------------------------

def test_a_trusted_proxys_header_names_the_user(proxy_server) -> None:
    server = proxy_server
    with client(server, **{"X-Forwarded-User": "alice"}) as alice, client(server, **{"X-Forwarded-User": "bob"}) as bob:
        session_id = say(alice, "Should I quit or transfer to another team? (proxied-alice)")["session_id"]
        assert session_id in {s["session_id"] for s in alice.get("/api/sessions").json()}
        assert stored(server, user_owner("alice"), session_id)[0].endswith("(proxied-alice)")
        assert alice.get("/").status_code == 200 and OWNER_COOKIE not in alice.get("/").headers.get("set-cookie", "")
        assert bob.get("/api/sessions").json() == []
        assert bob.get(f"/api/sessions/{session_id}").status_code == 403
        assert chat(bob, "bob via the proxy", session_id).status_code == 403
    with client(server) as nobody:  # from the proxy's address but without the header: nobody
        assert nobody.get("/").status_code == 403
        assert nobody.get("/api/sessions").status_code == 403
        assert chat(nobody, "no header").status_code == 403
        assert nobody.get("/api/sessions", headers={"Authorization": f"Bearer {new_token()}"}).status_code == 403
    with client(server, address="127.0.0.2", **{"X-Forwarded-User": "alice"}) as untrusted:
        assert untrusted.get("/api/sessions").status_code == 403  # the header from anywhere else is ignored
        assert chat(untrusted, "pretending to be alice", session_id).status_code == 403
    assert len(stored(server, user_owner("alice"), session_id)) == 2


def test_a_request_the_proxy_forwards_keeps_its_user(proxy_server) -> None:
    """A real proxy also says who its client was (X-Forwarded-For); the user header still counts.

    Fails today: uvicorn's proxy-header handling (on by default, trusting 127.0.0.1) replaces the
    request's address with the X-Forwarded-For one before the gate sees it, so the gate no longer
    sees the trusted proxy and refuses every proxied request.
    """
    server = proxy_server
    headers = {"X-Forwarded-User": "alice", "X-Forwarded-For": "127.0.0.9", "X-Forwarded-Proto": "http"}
    with client(server, **headers) as alice:
        assert alice.get("/api/sessions").status_code == 200


def test_x_forwarded_for_cannot_make_a_request_look_like_the_trusted_proxy(distant_proxy_server) -> None:
    """Only a request really coming from the proxy's address may name a user.

    Fails today: from 127.0.0.1, `X-Forwarded-For: 127.0.0.2` makes uvicorn report the request as
    coming from 127.0.0.2, the trusted proxy, so any local program can act as any user.
    """
    server = distant_proxy_server
    with client(server, address="127.0.0.2", **{"X-Forwarded-User": "alice"}) as proxy:
        session_id = say(proxy, "Should I quit or transfer to another team? (via-proxy)")["session_id"]
    with client(server, **{"X-Forwarded-User": "alice"}) as local:
        assert local.get("/api/sessions").status_code == 403
    spoofed = {"X-Forwarded-User": "alice", "X-Forwarded-For": "127.0.0.2"}
    with client(server, **spoofed) as local:
        assert local.get(f"/api/sessions/{session_id}").status_code == 403, "a spoofed X-Forwarded-For is believed"
        assert local.get("/api/sessions").status_code == 403


async def _echo_owner(scope, receive, send) -> None:
    body = json.dumps({"owner": owner_of(scope)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def test_the_gate_believes_the_user_header_only_from_a_proxy_address() -> None:
    gate = Gate(_echo_owner, config=GateConfig(hosts=frozenset({"127.0.0.1"}), proxy_header="x-forwarded-user",
                                               proxy_addresses=frozenset({"127.0.0.1"})))

    async def ask(address: str, **headers: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=gate, client=(address, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.get("/api/sessions", headers=headers)

    async def run() -> list[httpx.Response]:
        return [await ask("127.0.0.1", **{"X-Forwarded-User": "alice"}),
                await ask("127.0.0.5", **{"X-Forwarded-User": "alice"}),
                await ask("127.0.0.1"),
                await ask("127.0.0.5", **{"X-Forwarded-User": "alice", "Authorization": f"Bearer {new_token()}"}),
                await ask("127.0.0.5", **{"X-Forwarded-User": "alice", "X-Forwarded-For": "127.0.0.1"})]

    results: list = []  # in a thread of its own: Playwright's sync API keeps an event loop in this one
    thread = threading.Thread(target=lambda: results.extend(asyncio.run(run())))
    thread.start()
    thread.join(60)
    trusted, untrusted, headerless, with_token, claimed = results
    assert trusted.status_code == 200 and trusted.json() == {"owner": "user:alice"}
    for refused in (untrusted, headerless, with_token, claimed):
        assert refused.status_code == 403 and "owner" not in refused.json()
    assert "content-security-policy" in untrusted.headers


# --- (l) file modes ---------------------------------------------------------------------------------------

def test_the_running_servers_files_are_private(shared_server, auth_server) -> None:
    for server in (shared_server, auth_server):
        data = server.data_dir
        for name in ("sessions.db", "sessions.db-wal", "sessions.db-shm"):
            assert mode(data / name) == 0o600, (server.data_dir, name, oct(mode(data / name)))
        assert mode(data / "web-cache") == 0o700
    for name in ("server-key", "users.json"):
        assert mode(auth_server.data_dir / name) == 0o600, name
    assert not (shared_server.data_dir / "server-key").exists()  # no sign-in, no key
    assert "pw-carol-333" not in (auth_server.data_dir / "users.json").read_text()


def test_steady_serve_makes_a_fresh_data_folder_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    env = {**os.environ, "STEADY_DATA_DIR": str(data_dir), "STEADY_LLM": "none"}
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(free_port())], cwd=REPO_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # It builds the index first (slow); the folder and its first contents appear within seconds.
        assert wait_until(lambda: data_dir.exists() and any(data_dir.iterdir()), timeout=60), "no data folder made"
        assert mode(tmp_path / "fresh") == 0o700 and mode(data_dir) == 0o700
        for path in data_dir.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                assert mode(path) & 0o077 == 0, path
            elif path.is_file():
                assert mode(path) & 0o077 == 0, path
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
