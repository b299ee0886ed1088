"""`steady retrieve` and `steady ingest` as a user runs them: real processes, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.config import REPO_ROOT


def test_gpu_guilt_question_finds_the_gpu_guilt_passage(steady, bundled_index):
    result = steady("retrieve", "I feel guilty every time I launch a training run", "--json", data_dir=bundled_index.data_dir)
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)
    first = passages[0]
    assert first["rank"] == 1 and first["doc_id"] == "ml-engineer-fatigue"
    assert first["section"].endswith("GPU Guilt") and first["title"] == "The Specific Irony of ML Engineering"
    assert first["text"].startswith("Every training run has a cost") and isinstance(first["score"], float)
    assert len(passages) == 5


def test_batch_mode_answers_one_json_line_per_query(steady, bundled_index):
    queries = "should I quit or transfer?\n\nhow do I stop checking papers every night\n"
    result = steady("retrieve", "-", "-k", "2", "--json", data_dir=bundled_index.data_dir, stdin=queries)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["should I quit or transfer?", "how do I stop checking papers every night"]
    assert all(len(line["passages"]) == 2 for line in lines)


def test_missing_index_is_built_on_first_use(steady, new_index):
    index = new_index()
    result = steady("retrieve", "what should I learn to stay relevant", data_dir=index.data_dir)
    assert result.returncode == 0, result.stderr
    assert "No index yet" in result.stderr and "Ingested 5 documents" in result.stderr
    assert "[1]" in result.stdout


def test_empty_query_gets_a_message_not_a_traceback(steady, bundled_index):
    result = steady("retrieve", "   ", data_dir=bundled_index.data_dir)
    assert result.returncode != 0
    assert "query is empty" in result.stderr and "Traceback" not in result.stderr


def test_ingest_twice_says_nothing_was_reembedded(steady, new_index):
    index = new_index()
    first = steady("ingest", data_dir=index.data_dir)
    second = steady("ingest", data_dir=index.data_dir)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "vectors:" in first.stdout and "added" in first.stdout
    assert "nothing changed, nothing re-embedded" in second.stdout


def test_index_from_another_model_names_the_fix(steady, new_index):
    index = new_index()
    assert steady("ingest", data_dir=index.data_dir).returncode == 0
    manifest = json.loads(index.manifest_path.read_text())
    index.manifest_path.write_text(json.dumps({**manifest, "model": "other/model"}))
    result = steady("retrieve", "am I burnt out", data_dir=index.data_dir)
    assert result.returncode != 0
    assert "steady ingest --rebuild" in result.stderr and "Traceback" not in result.stderr


def test_steady_writes_nothing_outside_its_data_folder(bundled_index, tmp_path):
    """No caches, usage queues or telemetry databases (onnxruntime, chromadb, Hugging Face) in the home folder."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "STEADY_DATA_DIR": str(bundled_index.data_dir), "STEADY_LLM": "none"}
    env.pop("XDG_CACHE_HOME", None)
    for args in (["retrieve", "hello", "-k", "1"], ["ask", "Should I quit or transfer?"]):
        done = subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-1500:]
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == []
