"""Helpers for the browser tests: the server subprocess and the page's parts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import checkin
from app.bench import rss_mb
from app.config import REPO_ROOT
from app.gate import OWNER_COOKIE
from app.owners import browser_owner
from app.server import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
AXE = REPO_ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # scripts/setup.sh test
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


# Questions the guidance answers, for the load tests' people to ask.
QUESTIONS = [
    "Should I quit or transfer to another team?",
    "What should I learn so AI doesn't replace me?",
    "How do I raise burnout with my manager?",
    "Is GPU guilt a real thing?",
    "How do I keep up with new tools without burning out?",
]


class Server:
    """`python -m app serve` on a free loopback port, with its own data folder."""

    def __init__(self, *, data_dir: Path, env: dict[str, str] | None = None, name: str = "") -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "STEADY_DATA_DIR": str(data_dir), "STEADY_LLM": "none", **(env or {})}
        self.log = data_dir.parent / f"{name or data_dir.name}-server.log"  # workers sharing a folder: one each
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, *, env: dict[str, str] | None = None, timeout: float = 120) -> Server:
        seen = self.log.stat().st_size if self.log.exists() else 0  # a restart appends to the same log
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(self.port)], cwd=REPO_ROOT,
                env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            if b"Steady is ready at" in self.log.read_bytes()[seen:]:  # said once the server listens
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash or an out-of-memory kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def rss_mb(self) -> float:
        assert self.process is not None
        return rss_mb(self.process.pid)[0]


def page_owner(page) -> str:
    """The owner the server sees for this page's browser context (from its httpOnly owner cookie)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == OWNER_COOKIE)
    return browser_owner(token)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))  # what the person sees in the window
    return path


BOTS = '#steady-chat [data-testid="bot"]'
USERS = '#steady-chat [data-testid="user"]'
INPUT = "#steady-input textarea"


def open_app(page, url: str) -> None:
    """Load the page and wait until the session view is on it (the quick replies appear)."""
    page.goto(url)
    page.locator("#steady-quick button").first.wait_for(state="visible", timeout=30_000)


# How many messages the conversation has: the ones in the chat plus the earlier ones the page keeps folded
# away (their number is on the "Show the N earlier messages" button).
MESSAGES = f"""() => {{
  const earlier = document.querySelector('#steady-earlier');
  const folded = earlier && earlier.offsetParent !== null ? parseInt(earlier.innerText.match(/\\d+/)[0], 10) : 0;
  return folded + document.querySelectorAll('{BOTS}, {USERS}').length;
}}"""


def messages(page) -> int:
    return page.evaluate(MESSAGES)


def send(page, text: str, *, choices: bool = True, timeout: float = 30_000) -> str:
    """Type a message, press Enter, and return Steady's answer once it is complete on the page."""
    before = messages(page)
    page.fill(INPUT, text)
    page.press(INPUT, "Enter")
    return wait_for_answer(page, count=before + 2, choices=choices, timeout=timeout)


def click_choice(page, label: str, *, timeout: float = 30_000) -> str:
    before = messages(page)
    page.locator("#steady-quick button", has_text=label).first.click()
    return wait_for_answer(page, count=before + 2, timeout=timeout)


def wait_for_answer(page, *, count: int, choices: bool = True, timeout: float = 30_000) -> str:
    """Wait until the conversation has `count` messages, the last an answer with words in it; with
    `choices`, until its quick replies are shown too.

    A turn hides the quick replies when it starts and shows the new ones with the finished answer,
    so their return marks the end of a streamed answer (whose first words appear much earlier).
    """
    page.wait_for_function(
        f"""([bots, n, choices]) => {{
             const b = document.querySelectorAll(bots);
             if (({MESSAGES})() < n || b.length === 0 || b[b.length - 1].innerText.trim().length === 0) return false;
             return !choices || [...document.querySelectorAll('#steady-quick button')].some(e => e.offsetParent !== null);
           }}""",
        arg=[BOTS, count, choices], timeout=timeout,
    )
    return page.locator(BOTS).last.inner_text()


def open_tab(page, name: str) -> None:
    """Click a side tab by its id (sources, checkin, script, history)."""
    page.locator(f"#tab-{name}-button").click()


def axe(page) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, impact, help, nodes: [selector, ...]}]."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))""")


def sideways_scroll(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the window)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def check_in(page) -> None:
    """A whole check-in by quick replies (workload, structural, the kind of work): ends on the result."""
    click_choice(page, "Check in")
    click_choice(page, "Too many hours")
    for _ in range(checkin.MAX_PROBES):  # a follow-up or two, if asked, never more
        if page.locator("#steady-quick button", has_text="Often").count():
            asked = page.locator(BOTS).last.inner_text()
            click_choice(page, "Often" if "long hours" in asked else "Rarely")
    click_choice(page, "Yes, it would follow me")
    click_choice(page, "Longer than two quarters")
    click_choice(page, "The kind of work I do")


def rehearse_a_turn(page, line: str = "I've just got way too much on my plate and it isn't sustainable.") -> str:
    """A short case, the script, then one line to the skeptical manager; returns the reply."""
    click_choice(page, "Rehearse the 1:1")
    send(page, "about 62 hours")
    click_choice(page, "Skip the rest, show my script")
    click_choice(page, "Practise with a skeptical manager")
    return send(page, line)
