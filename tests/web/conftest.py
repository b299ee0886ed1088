"""The real web server as a subprocess on loopback, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from webpage import CHROMIUM, CHROMIUM_ARGS, Server


@pytest.fixture(scope="session")
def web_index(bundled_index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the bundled index, for servers' data folders to copy."""
    folder = tmp_path_factory.mktemp("web-index")
    shutil.copytree(bundled_index.chroma_dir, folder / "chroma")
    shutil.copy2(bundled_index.manifest_path, folder / "manifest.json")
    return folder


def _server(web_index: Path, models_dir: Path, data_dir: Path, env: dict[str, str] | None = None) -> Server:
    shutil.copytree(web_index, data_dir)
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    return Server(data_dir=data_dir, env=env)


@pytest.fixture
def server_factory(web_index: Path, models_dir: Path, tmp_path: Path):
    """Make servers over fresh data folders (index copied, model linked); all stopped afterwards."""
    made: list[Server] = []

    def make(name: str = "data", env: dict[str, str] | None = None) -> Server:
        made.append(_server(web_index, models_dir, tmp_path / name, env))
        return made[-1]

    yield make
    for server in made:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(web_index: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One running server for the tests of a module that don't restart or wipe it (each uses its own session)."""
    server = _server(web_index, models_dir, tmp_path_factory.mktemp("shared") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh test (it installs Debian's chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _close_pages(request):
    """Each test's pages are closed after it: a page left open keeps its connection to a server (and the
    2 cores) busy while the next test measures."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()
