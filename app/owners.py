"""Who a request is: the owner every conversation belongs to, and sign-in for a shared machine.

Three kinds of owner, each a string the store keeps beside a session:
- a browser: a random token in an httpOnly, SameSite=Strict cookie, made on the first visit. The
  store keeps only a hash of it, so the database alone lets no one act as that browser.
- a signed-in user (`steady users add NAME`, argon2 hashes in the data folder's users file, or
  STEADY_AUTH=user:password,...): "user:NAME".
- a user named by an authenticating proxy (oauth2-proxy and the like) in a header, believed only
  when the request comes from one of the configured proxy addresses.
Nothing here knows HTTP frameworks; app/gate.py applies it to requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")  # an owner token: what the cookie (or an API caller) presents
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
SIGN_IN_DAYS = 14
# Failed sign-ins allowed per address (and per user name) in the window before attempts are refused.
LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 300.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


def browser_owner(token: str) -> str | None:
    """The owner a browser token stands for (a hash of it), or None for a malformed token."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return None
    return "browser:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def user_owner(name: str) -> str:
    return f"user:{name}"


def private_file(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically (a crash leaves the old one or the new one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def server_key(data_dir: Path) -> bytes:
    """The key that signs sign-in cookies; made once, kept in the data folder (0600), never sent anywhere."""
    path = data_dir / "server-key"
    if not path.exists():
        private_file(path, secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


class Users:
    """The users file (`users.json` in the data folder): name → argon2 hash. Plus STEADY_AUTH pairs."""

    def __init__(self, *, path: Path, extra: dict[str, str] | None = None) -> None:
        from argon2 import PasswordHasher

        self.path = path
        self._hasher = PasswordHasher()
        self._extra = {name: self._hasher.hash(password) for name, password in (extra or {}).items()}

    def _stored(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8")).get("users", {})
        except FileNotFoundError:
            return {}

    def names(self) -> list[str]:
        return sorted({*self._stored(), *self._extra})

    def add(self, name: str, password: str) -> None:
        if not USER_NAME.fullmatch(name):
            raise ValueError("A user name is letters, digits and . _ @ - (up to 64), starting with a letter or digit.")
        if len(password) < 8:
            raise ValueError("A password needs at least 8 characters.")
        users = {**self._stored(), name: self._hasher.hash(password)}
        private_file(self.path, json.dumps({"users": users}, indent=2) + "\n")

    def remove(self, name: str) -> bool:
        users = self._stored()
        if users.pop(name, None) is None:
            return False
        private_file(self.path, json.dumps({"users": users}, indent=2) + "\n")
        return True

    def check(self, name: str, password: str) -> bool:
        from argon2.exceptions import Argon2Error

        stored = self._stored().get(name) or self._extra.get(name)
        if stored is None:
            self._hasher.hash(password)  # the same cost as a real check: timing doesn't say who exists
            return False
        try:
            return self._hasher.verify(stored, password)
        except Argon2Error:
            return False

    def stamp(self, name: str) -> str | None:
        """A piece of the user's current hash, for sign-in cookies; None for a user who isn't there."""
        stored = self._stored().get(name) or self._extra.get(name)
        return stored[-16:] if stored else None

    def __bool__(self) -> bool:
        return bool(self.names())


def parse_auth_env(value: str) -> dict[str, str]:
    """STEADY_AUTH: `user:password`, several separated by commas. ValueError when malformed."""
    users = {}
    for pair in filter(None, (p.strip() for p in value.split(","))):
        name, _, password = pair.partition(":")
        if not name or not password or not USER_NAME.fullmatch(name):
            raise ValueError(pair)
        users[name] = password
    if not users:
        raise ValueError(value)
    return users


@dataclass(frozen=True)
class SignIns:
    """Signed sign-in cookies: `name.expiry.signature`, checked with the server key (no server-side table)."""

    key: bytes

    def issue(self, name: str, *, stamp: str | None = "", now: float | None = None) -> str:
        """`stamp` (Users.stamp) ties the cookie to the user's current password: a new one signs them out."""
        expiry = int((now or time.time()) + SIGN_IN_DAYS * 86400)
        payload = f"{name}.{expiry}"
        return f"{payload}.{self._sign(payload + '.' + (stamp or ''))}"

    def read(self, cookie: str, *, stamp_of=None, now: float | None = None) -> str | None:
        """The signed-in user name, or None (missing, tampered, expired, or the user removed or changed)."""
        name, _, rest = (cookie or "").rpartition(".")
        name, _, expiry = name.rpartition(".")
        stamp = stamp_of(name) if stamp_of else ""
        if stamp is None or not name or not expiry.isdigit() or \
                not hmac.compare_digest(self._sign(f"{name}.{expiry}.{stamp}"), rest):
            return None
        return name if int(expiry) > (now or time.time()) else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()


class LoginLimiter:
    """At most LOGIN_FAILURES failed sign-ins per address and per user name in a sliding window."""

    def __init__(self, *, failures: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW_SECONDS) -> None:
        self.failures = failures
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str, now: float | None = None) -> float:
        """Seconds until another attempt is allowed for these keys (0 when allowed now)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in keys:
                seen = self._seen.get(key)
                while seen and now - seen[0] > self.window:
                    seen.popleft()
                if seen and len(seen) >= self.failures:
                    wait = max(wait, self.window - (now - seen[0]))
        return wait

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._seen.setdefault(key, deque()).append(now)
