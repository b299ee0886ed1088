"""Shared fixtures: one ONNX export and one real index of the bundled corpus per test run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import app.config  # noqa: F401 - applies the privacy environment before chromadb loads
from app.config import ASK_QUESTIONS, BUNDLED_CORPUS, CARDS, REPO_ROOT
from ingest.embed import Embedder
from ingest.index import Index
from ingest.pipeline import ingest


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedding model exported once; every test index links to it."""
    folder = tmp_path_factory.mktemp("models")
    Embedder(models_dir=folder).embed_query("warm up")
    return folder


@pytest.fixture
def new_index(tmp_path: Path, models_dir: Path):
    """A factory for empty indexes in fresh data folders."""

    def make(name: str = "data") -> Index:
        data_dir = tmp_path / name
        data_dir.mkdir()
        (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
        return Index(data_dir=data_dir)

    return make


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Index:
    data_dir = tmp_path_factory.mktemp("bundled")
    (data_dir / "models").symlink_to(models_dir, target_is_directory=True)
    index = Index(data_dir=data_dir)
    ingest(index=index, bundled=BUNDLED_CORPUS, cards=CARDS, questions=ASK_QUESTIONS)
    return index


@pytest.fixture(scope="module")
def chat(bundled_index, tmp_path_factory):
    """Play conversations through one `steady chat --jsonl` process; each starts after /reset."""
    data = tmp_path_factory.mktemp("understand") / "data"
    shutil.copytree(bundled_index.data_dir, data, symlinks=True)

    def play(*conversations: list[str]) -> list[list[dict]]:
        lines, ends = [], []
        for turns in conversations:
            lines += ["/reset", *turns]
            ends.append(len(lines))
        done = subprocess.run([sys.executable, "-m", "app", "chat", "--jsonl"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "STEADY_DATA_DIR": str(data)},
                              input="".join(json.dumps({"text": t}) + "\n" for t in lines))
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        replies = [json.loads(line) for line in done.stdout.splitlines()]
        out, start = [], 0
        for end in ends:
            out.append(replies[start + 1:end])  # without the /reset reply
            start = end
        return out

    return play


@pytest.fixture(scope="session")
def retriever(bundled_index: Index):
    from app.retrieval import Retriever

    return Retriever(index=bundled_index)


@pytest.fixture(scope="session")
def engine(retriever):
    """The embedded engine (no model) over the bundled index, shared by the flow tests."""
    from app.engine import Engine

    return Engine(retriever=retriever)


# Three of the corpus's documents, with their search hints: what the ingest tests need, embedded in
# seconds rather than the whole corpus's half minute.
TINY_CORPUS = ("avoiding-burnout-forum", "manager-conversation", "should-ml-engineers-quit")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    (folder / "search-hints").mkdir(parents=True)
    for name in TINY_CORPUS:
        shutil.copy(BUNDLED_CORPUS / f"{name}.md", folder)
        shutil.copy(BUNDLED_CORPUS / "search-hints" / f"{name}.yaml", folder / "search-hints")
    return folder


@pytest.fixture
def steady():
    """Run the real `steady` command in a subprocess with a given data folder."""

    def run(*args: str, data_dir: Path, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "STEADY_DATA_DIR": str(data_dir)}
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            input=stdin, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL cluster on loopback for the run (tests/team_parts.py); each test takes its own database."""
    from team_parts import Postgres

    cluster = Postgres()
    yield cluster
    cluster.stop()


# Modules whose tests start servers, browsers, a model server or whole `steady` processes, or ingest the
# corpus cold more than once: `pytest -m "not slow"` leaves them out for a fast loop while working.
SLOW_MODULES = {"test_eval", "test_llm", "test_robustness", "test_ingest", "test_cli_faults", "test_cli_retrieve"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.path.stem
        if module in SLOW_MODULES or item.path.parent.name == "web" or item.get_closest_marker("deploy"):
            item.add_marker(pytest.mark.slow)
