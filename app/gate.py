"""Every HTTP request passes through here before the page or the API sees it.

The gate answers only to the right Host names (a DNS-rebinding page can't read a local server),
refuses cross-origin writes, serves only the paths the page needs, puts a Content-Security-Policy
on every response (no remote request ever, whoever typed the markdown), and works out the
request's owner (app/owners.py): a browser's cookie, a signed-in user, or a trusted proxy's header.
The owner rides in the ASGI scope; the Gradio page reads it through `auth_dependency`, and the
plain routes here (sign-in, the JSON API, downloads) through `owner_of`.
"""

from __future__ import annotations

import html
import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from app.owners import LoginLimiter, SignIns, Users, browser_owner, new_token, user_owner
from app.prompts import texts

OWNER_COOKIE = "steady_owner"
SIGN_IN_COOKIE = "steady_signin"
SCOPE_KEY = "steady.owner"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY_BYTES = 512 * 1024  # the page's requests are small; a message is capped at 20,000 characters
CSP = "; ".join((
    "default-src 'self'",
    # Gradio's page carries its configuration inline, and its HTML component compiles templates with
    # Function(); neither can fetch anything (connect-src and img-src below say where requests may go).
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
))
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer made Chromium post the sign-in form with Origin: null
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
# What the page loads without an owner (code, styles), and the Gradio routes it uses. Everything
# else Gradio serves (file=, upload, proxy=, the run/call API, monitoring, vibe editing...) is 404.
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/favicon.ico", "/robots.txt", "/theme.css",
                   "/gradio_api/theme.css", "/login", "/logout")
PAGE_PATHS = ("/", "/config", "/gradio_api/info", "/gradio_api/queue/join", "/gradio_api/queue/data",
              "/gradio_api/startup-events", "/gradio_api/cancel", "/gradio_api/app_id", "/gradio_api/heartbeat/",
              "/gradio_api/user", "/gradio_api/login_check", "/manifest.json", "/api/", "/download/")


def hostname(value: str) -> str:
    """The host part of a Host header or URL authority, lowercased, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _allowed_path(path: str) -> bool:
    if path.startswith(PUBLIC_PREFIXES):
        return True
    return any(path == p or (p.endswith("/") and p != "/" and path.startswith(p)) for p in PAGE_PATHS)


@dataclass
class GateConfig:
    hosts: frozenset[str]  # Host names the server answers to
    users: Users | None = None  # sign-in required when set
    sign_ins: SignIns | None = None
    proxy_header: str = ""  # a trusted user header (lowercase), with proxy_addresses
    proxy_addresses: frozenset[str] = frozenset()
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def owner_of(scope: dict) -> str | None:
    return scope.get(SCOPE_KEY)


class Gate:
    """ASGI middleware: host and origin checks, path allow-list, owner, security headers, sign-in pages."""

    def __init__(self, app, *, config: GateConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "/")
        method = scope.get("method", "GET")
        words = texts("web")["gate"]
        if hostname(headers.get("host", "")) not in self.config.hosts:
            return await _plain(send, 421, words["wrong_host"])
        if not _allowed_path(path):
            return await _plain(send, 404, words["not_found"])
        origin = headers.get("origin")
        if method not in ("GET", "HEAD") and origin is not None and not _same_origin(origin, headers.get("host", "")):
            # Another site, or a page on another local port (cookies are shared across ports).
            return await _plain(send, 403, words["cross_origin"])
        if path.startswith("/api/") and method == "POST" and \
                not headers.get("content-type", "").startswith("application/json"):
            return await _plain(send, 415, words["json_only"])  # a form or text/plain post can't be forged into it
        if int(headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return await _plain(send, 413, words["too_large"])
        if method in ("POST", "PUT", "PATCH") and "content-length" not in headers:
            body = await _body(receive, limit=MAX_BODY_BYTES + 1)  # chunked: read it, bounded, before passing on
            if len(body) > MAX_BODY_BYTES:
                return await _plain(send, 413, words["too_large"])
            receive = _replay(body)

        cookies = _cookies(headers.get("cookie", ""))
        if self.config.users is not None and path == "/login":
            return await self._login(scope, receive, send, headers, cookies)
        if path == "/logout":
            return await _redirect(send, "/login" if self.config.users else "/",
                                   cookie=f"{SIGN_IN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
        if not cookies.get(OWNER_COOKIE) and headers.get("sec-fetch-site") == "cross-site" and method == "GET" \
                and not self.config.users and not self.config.proxy_header:
            # A link from another site arrives without the SameSite=Strict cookie; reloading from here brings it.
            # Issuing a new owner now would hide the person's conversations behind a cookie they no longer have.
            return await _html(send, 200, '<!doctype html><meta http-equiv="refresh" content="0">')
        owner, new_cookie = self._identify(scope, headers, cookies, method=method)
        if owner is None and not path.startswith(PUBLIC_PREFIXES):
            if self.config.users is not None and method == "GET" and path == "/":
                return await _redirect(send, "/login")
            return await _plain(send, 403, words["no_owner"])
        scope[SCOPE_KEY] = owner
        extra = [(b"set-cookie", new_cookie.encode())] if new_cookie else []
        if path == "/" or path.startswith("/api/") or path.startswith("/download/"):
            extra.append((b"cache-control", b"no-store"))
        await self.app(scope, receive, _with_headers(send, extra))

    def _identify(self, scope: dict, headers: dict, cookies: dict, *, method: str) -> tuple[str | None, str]:
        """(owner, a Set-Cookie value to send or ''). A proxy's word, then sign-in, then the browser token."""
        config = self.config
        if config.proxy_header:
            client = (scope.get("client") or ("", 0))[0]
            name = headers.get(config.proxy_header, "")
            if client in config.proxy_addresses and name:
                return user_owner(name), ""
            return None, ""
        if config.users is not None:
            # A removed user, or one whose password changed, is signed out: the cookie's signature covers
            # a piece of the current password hash.
            name = config.sign_ins.read(cookies.get(SIGN_IN_COOKIE, ""), stamp_of=config.users.stamp) \
                if config.sign_ins else None
            return (user_owner(name), "") if name else (None, "")
        token = cookies.get(OWNER_COOKIE) or _bearer(headers.get("authorization", ""))
        owner = browser_owner(token or "")
        if owner is not None:
            return owner, ""
        if method in ("GET", "HEAD") and not scope.get("path", "").startswith(("/api/", "/download/")):
            # A first visit: this browser becomes an owner. Its token never appears in a page or in storage.
            token = new_token()
            return browser_owner(token), (f"{OWNER_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; "
                                          "SameSite=Strict")
        return None, ""

    async def _login(self, scope, receive, send, headers: dict, cookies: dict) -> None:
        words = texts("web")["sign_in"]
        if scope["method"] != "POST":
            return await _html(send, 200, _login_page(words, ""))
        form = parse_qs((await _body(receive)).decode("utf-8", "replace"))
        name = (form.get("username") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        client = (scope.get("client") or ("?", 0))[0]
        keys = (f"addr:{client}", f"user:{name.lower()}")
        wait = self.config.limiter.retry_after(*keys)
        if wait > 0:
            return await _html(send, 429, _login_page(words, words["too_many"].format(minutes=max(1, round(wait / 60)))),
                               extra=[(b"retry-after", str(int(wait) + 1).encode())])
        if not (name and password and self.config.users.check(name, password)):
            self.config.limiter.failed(*keys)
            return await _html(send, 401, _login_page(words, words["wrong"]))
        signed = self.config.sign_ins.issue(name, stamp=self.config.users.stamp(name))
        cookie = f"{SIGN_IN_COOKIE}={signed}; Path=/; Max-Age=1209600; HttpOnly; SameSite=Strict"
        return await _redirect(send, "/", cookie=cookie)


def _same_origin(origin: str, host: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


def _bearer(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _cookies(header: str) -> dict[str, str]:
    """Cookies by name, leniently: another local app's odd cookie (JSON, spaces) must not hide ours."""
    found = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


def _with_headers(send, extra: list[tuple[bytes, bytes]]) -> Callable[[dict], Awaitable[None]]:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            # No cross-origin reads: Gradio's own CORS answers are dropped.
            kept = [(k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"access-control-")]
            present = {k.lower() for k, _ in kept}
            message["headers"] = [*kept, *extra, *((k, v) for k, v in SECURITY_HEADERS if k not in present)]
        await send(message)
    return wrapped


async def _body(receive, *, limit: int = MAX_BODY_BYTES) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size >= limit or not message.get("more_body"):
            return b"".join(chunks)[:limit]


def _replay(body: bytes):
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


async def _respond(send, status: int, body: bytes, content_type: bytes, extra: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *(extra or []), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


async def _plain(send, status: int, text: str) -> None:
    await _respond(send, status, json.dumps({"error": text}).encode(), b"application/json")


async def _html(send, status: int, page: str, extra: list | None = None) -> None:
    await _respond(send, status, page.encode(), b"text/html; charset=utf-8", extra)


async def _redirect(send, location: str, *, cookie: str = "") -> None:
    extra = [(b"location", location.encode())] + ([(b"set-cookie", cookie.encode())] if cookie else [])
    await _respond(send, 303, b"", b"text/plain", extra)


def _login_page(words: dict, message: str) -> str:
    """A self-contained sign-in form: no script, no remote anything (the CSP forbids both)."""
    note = f'<p role="alert" class="note">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(words['title'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:12vh auto;padding:0 1rem;color:#1f2937}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}
button{{margin-top:1rem;padding:.55rem 1.2rem;font-size:1rem;background:#0f766e;color:#fff;border:0;border-radius:6px}}
.note{{color:#991b1b}}</style></head><body><main><h1>{html.escape(words['title'])}</h1>
<p>{html.escape(words['intro'])}</p>{note}
<form method="post" action="/login"><label for="u">{html.escape(words['user'])}</label>
<input id="u" name="username" autocomplete="username" required>
<label for="p">{html.escape(words['password'])}</label>
<input id="p" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{html.escape(words['submit'])}</button></form></main></body></html>"""
