"""Input no one should send still gets one clear line from the command line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.config import REPO_ROOT
from app.store import StoreFull
from app.store_sqlite import SQLiteStore


def _index_copy(bundled_index, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(bundled_index.data_dir, data, symlinks=True)
    return data


def test_chat_jsonl_survives_json_nested_a_thousand_deep_and_carries_on(steady, bundled_index, tmp_path) -> None:
    deep = '{"text": ' * 1000 + '"x"' + "}" * 1000
    result = steady("chat", "--jsonl", data_dir=_index_copy(bundled_index, tmp_path),
                    stdin=f'{deep}\n{{"text": "should I quit or transfer?"}}\n')
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "Could not read that line" in first["error"]
    assert second["citations"]  # the next line is answered as usual


def test_retrieve_with_invalid_utf8_and_binary_stdin(bundled_index, tmp_path) -> None:
    env = {**os.environ, "STEADY_DATA_DIR": str(_index_copy(bundled_index, tmp_path))}
    argument = subprocess.run([sys.executable, "-m", "app", "retrieve", b"burnout \xff\xfe at work", "-k", "1"],
                              capture_output=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert argument.returncode == 0 and b"Traceback" not in argument.stderr, argument.stderr[-1500:]
    assert argument.stdout.startswith(b"[1]")
    binary = subprocess.run([sys.executable, "-m", "app", "retrieve", "-", "--json"], input=bytes(range(256)) * 4,
                            capture_output=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert binary.returncode == 0 and b"Traceback" not in binary.stderr, binary.stderr[-1500:]
    assert all("passages" in json.loads(line) for line in binary.stdout.splitlines())


def test_a_data_dir_that_is_a_file_gets_one_clear_line(steady, tmp_path) -> None:
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    result = steady("retrieve", "burnout", data_dir=afile)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is a file" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ingest_on_a_full_disk_says_so_once(steady, tmp_path, models_dir) -> None:
    """A filesystem with room for the model link but not the index: Chroma fails deep inside; one line."""
    data = tmp_path / "full"
    data.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(data)], capture_output=True).returncode:
        raise AssertionError("the test runs as root (CI does) to mount a small filesystem")
    try:
        (data / "models").symlink_to(models_dir, target_is_directory=True)
        result = steady("ingest", data_dir=data, timeout=300)
    finally:
        subprocess.run(["umount", "-l", str(data)])
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-1500:]
    assert "disk is full" in result.stderr or "No space left" in result.stderr


def test_a_full_disk_under_the_session_database_raises_store_full_and_keeps_earlier_messages(tmp_path) -> None:
    data = tmp_path / "db"
    data.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(data)], capture_output=True).returncode:
        raise AssertionError("the test runs as root (CI does) to mount a small filesystem")
    try:
        store = SQLiteStore(path=data / "sessions.db")
        owner = "browser:" + "3" * 40
        store.add_message(session_id="a" * 32, owner=owner, body={"role": "user", "text": "kept"})
        try:
            for i in range(10_000):
                store.add_message(session_id="a" * 32, owner=owner, body={"role": "user", "text": "x" * 4000 + str(i)})
            raise AssertionError("the disk never filled")
        except StoreFull as exc:
            assert "full" in str(exc)
        assert store.messages(session_id="a" * 32, owner=owner)[0].body["text"] == "kept"
        store.close()
    finally:
        subprocess.run(["umount", "-l", str(data)])


def test_steady_sh_help_prints_usage_without_installing(tmp_path) -> None:
    """A new user's `./steady.sh --help` ran the whole install; help needs only the script."""
    shutil.copy(REPO_ROOT / "steady.sh", tmp_path / "steady.sh")  # no scripts/, no .venv: nothing to install with
    result = subprocess.run(["bash", str(tmp_path / "steady.sh"), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ./steady.sh") and "--port" in result.stdout
    assert not (tmp_path / ".venv").exists()
