"""`steady eval`: the real suite passes, a broken Steady fails it, and each check can fail."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from app.reply import Reply
from app.store_sqlite import SQLiteStore
from evals.dialogues import (
    DIALOGUES,
    Dialogue,
    DialogueError,
    RecordingRetriever,
    Turn,
    audit,
    check_expectations,
    corpus_passages,
    load_dialogue,
    load_suite,
    play,
    resolve,
    support_share,
)
from evals.runner import load_thresholds, rubric_consistency, run


@pytest.fixture(scope="module")
def corpus(bundled_index):
    return corpus_passages(bundled_index)


def test_steady_eval_passes_on_the_real_suite(steady, bundled_index, tmp_path):
    result = steady("eval", "--out", str(tmp_path), data_dir=bundled_index.data_dir, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] and report["engine"] == "embedded"
    assert report["figures"]["dialogues"] == len(list(DIALOGUES.glob("*.yaml")))
    assert report["figures"]["dialogues"] >= load_thresholds()["min"]["dialogues"]
    assert {"ask", "input"} <= report["journeys"].keys()
    assert [r["mode"] for r in report["retrieval"]] == ["hybrid", "dense", "bm25"]
    markdown = (tmp_path / "report.md").read_text()
    assert "| hybrid | 110 |" in markdown and "| bm25 | 110 |" in markdown
    assert "PASS" in result.stdout


@pytest.fixture(scope="module")
def broken_run(retriever, tmp_path_factory):
    """One eval run with two faults the eval exists to catch: retrieval returning random passages and a
    crisis check that never fires. Each leaves its own mark (the tests below), so one run serves both."""
    from app import safety

    everything = retriever.search("work", k=len(retriever))
    rng = random.Random(7)

    def random_search(query: str, *, k: int = 5, mode: str = "hybrid"):
        return [replace(p, rank=i) for i, p in enumerate(rng.sample(everything, k), 1)]

    out = tmp_path_factory.mktemp("broken-eval")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retriever, "search", random_search)
        patch.setattr(safety, "assess", lambda text, **_: safety.Assessment(False, False, "none", 0.0))
        report, passed = run(retriever=retriever, out=out, store=SQLiteStore(path=out / "sessions.db"))
    return report, passed, json.loads((out / "report.json").read_text())


def test_retrieval_returning_random_passages_fails_the_eval(broken_run):
    report, passed, result = broken_run
    assert not passed
    assert result["figures"]["retrieval_hit_at_5"] < 0.5 and result["figures"]["dialogue_pass_rate"] < 1.0
    assert result["journeys"]["ask"]["passed"] < result["journeys"]["ask"]["dialogues"]
    assert "| retrieval_hit_at_5 |" in report and "**MISS** |" in report and "FAIL" in report


def test_disabled_crisis_check_fails_the_eval(broken_run):
    report, passed, result = broken_run
    assert not passed and result["figures"]["crisis_recall"] == 0.0
    # The safety dialogues fail on their crisis replies, not on anything retrieval did.
    crisis_misses = [d for d in result["dialogues"] if d["journey"] == "safety" and not d["passed"]
                     and any("crisis" in failure for failure in d["failures"])]
    assert crisis_misses
    assert "crisis_recall" in report.split("## Result")[1]


def _citation(n: int, chunk_id: str, corpus: dict) -> dict:
    doc_id, text = corpus[chunk_id]
    return {"n": n, "doc_id": doc_id, "title": "T", "section": "Intro > GPU Guilt", "text": text, "chunk_id": chunk_id}


def test_each_kind_of_expectation_can_fail():
    reply = Reply(
        mode="checkin", text="Here is where you stand. [1]", choices=["Often", "Rarely"], notice="",
        citations=[{"n": 1, "doc_id": "ml-engineer-fatigue", "section": "Pressures > GPU Guilt"}],
        state={"verdict": "structural", "case": {"hours": "62"}, "top": ["gpu_guilt", "workload"],
               "levers": [{"id": "failure_log"}, {"id": "deep_reading"}], "grounded": True,
               "feedback": [{"line": "x", "scores": {"tone": 2, "data": 0}}]},
    )
    holds = {"mode": "checkin", "contains": ["WHERE YOU STAND"], "not_contains": ["traceback"],
             "cited_docs": ["ml-engineer-fatigue"], "cited_sections": ["gpu guilt"], "citations": {"min": 1},
             "choices_include": ["Often"], "grounded": True, "crisis": False,
             "state": {"verdict": "structural", "case.hours": "62", "top.0": "gpu_guilt",
                       "levers[].id": ["failure_log", "deep_reading"]},
             "state_includes": {"top": ["workload"], "levers[].id": ["failure_log"]},
             "scores": {"tone": [1, 2], "data": 0}}
    assert check_expectations(reply, holds) == []
    fails = {"mode": "ask", "contains": ["structural"], "not_contains": ["stand"], "notice_contains": ["model"],
             "cited_docs": ["should-ml-engineers-quit"], "cited_sections": ["Ethics"], "citations": "none",
             "choices_include": ["Sometimes"], "grounded": False, "crisis": True,
             "state": {"verdict": "situational", "case.hours": 62, "case.area": "x", "levers[].id": ["failure_log"]},
             "state_includes": {"top": ["keeping_up"], "levers[].id": ["ethics_review"], "nothing": ["a"]},
             "scores": {"tone": [0, 1], "data": [1, 2], "ask": [0, 2]}}
    problems = check_expectations(reply, fails)
    for key, count in [("mode", 1), ("text lacks", 1), ("text contains", 1), ("notice lacks", 1), ("not cited", 1),
                       ("no cited section", 1), ("citations, expected", 1), ("choices lack", 1), ("grounded is", 1),
                       ("crisis reply", 1), ("state.verdict", 1), ("state.case.hours", 1), ("state.case.area", 1),
                       ("state.levers[].id is", 1), ("state.top lacks", 1), ("state.levers[].id lacks", 1),
                       ("state.nothing", 1), ("score ", 3)]:
        assert sum(p.startswith(key) or key in p for p in problems) >= count, (key, problems)


def test_state_paths():
    state = {"case": {"hours": "62"}, "levers": [{"id": "a", "tags": ["x", "y"]}, {"id": "b", "tags": ["z"]}]}
    assert resolve(state, "case.hours") == "62"
    assert resolve(state, "levers[].id") == ["a", "b"]
    assert resolve(state, "levers[].tags[]") == ["x", "y", "z"]
    assert resolve(state, "levers.1.id") == "b"
    assert resolve(state, "levers.-1.id") == "b"
    missing = resolve(state, "case.area")
    assert resolve(state, "levers.5") is missing and resolve(state, "levers[].nope") is missing


def test_universal_checks_catch_bad_citations_and_invented_quotes(corpus):
    chunk_id = next(i for i, (doc, text) in corpus.items() if "Every training run has a cost." in text)
    other = next(i for i in corpus if i != chunk_id)
    good = Reply(mode="ask", text="Opener.\n\n“Every training run has a cost.” [1]",
                 citations=[_citation(1, chunk_id, corpus)], state={"grounded": True})
    ok = audit(good, retrieved={chunk_id}, corpus=corpus, generated=False)
    assert ok.problems == [] and (ok.citations, ok.valid_citations, ok.quoted_sentences, ok.verbatim_sentences) == (1, 1, 1, 1)

    not_retrieved = audit(good, retrieved={other}, corpus=corpus, generated=False)
    assert any("was not retrieved this turn" in p for p in not_retrieved.problems)
    forged = replace(good, citations=[_citation(1, chunk_id, corpus) | {"text": "Something else."}])
    assert any("does not match" in p for p in audit(forged, retrieved={chunk_id}, corpus=corpus, generated=False).problems)
    unknown = replace(good, citations=[_citation(1, chunk_id, corpus) | {"chunk_id": "nope"}])
    assert any("no passage of the corpus" in p for p in audit(unknown, retrieved={"nope"}, corpus=corpus, generated=False).problems)
    invented = replace(good, text="“Every training run has a cost. GPUs are free on weekends.” [1] See [2].")
    found = audit(invented, retrieved={chunk_id}, corpus=corpus, generated=False)
    assert found.quoted_sentences == 2 and found.verbatim_sentences == 1
    assert any("not verbatim" in p for p in found.problems) and any("[2]" in p for p in found.problems)
    crashed = Reply(mode="ask", text='Traceback (most recent call last):\n  File "app/x.py", line 3')
    assert any("traceback" in p for p in audit(crashed, retrieved=set(), corpus=corpus, generated=False).problems)
    for broken in [Reply(mode="chat", text="hi"), Reply(mode="ask", text="  "), Reply(mode="ask", text="hi", choices=[""]),
                   Reply(mode="ask", text="hi", citations=[{"n": 1}]), Reply(mode="ask", text="hi", state={"x": {1, 2}}),
                   "just a string"]:
        assert audit(broken, retrieved=set(), corpus=corpus, generated=False).problems, broken


def test_model_answers_are_measured_by_support(corpus, bundled_index):
    chunk_id = next(i for i, (doc, text) in corpus.items() if "Every training run has a cost." in text)
    cited = [_citation(1, chunk_id, corpus)]
    paraphrase = Reply(mode="ask", text="Every single training run costs money, sometimes hundreds of dollars [1].",
                       citations=cited, state={"generated": True})
    unrelated = Reply(mode="ask", text="Sourdough needs a mature starter and a long cold proof [1].",
                      citations=cited, state={"generated": True})
    assert support_share(paraphrase, embedder=bundled_index.embedder) == (1, 1)
    assert support_share(unrelated, embedder=bundled_index.embedder) == (0, 1)


def _write(folder: Path, name: str, data) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_loader_rejects_mistakes_with_the_file_and_turn(tmp_path):
    base = {"journey": "ask", "description": "d", "turns": [{"user": "hi", "expect": {"mode": "ask"}}]}
    assert load_dialogue(_write(tmp_path, "fine", base)).turns[0].expect == {"mode": "ask"}
    long = base | {"turns": [{"user": {"repeat": "ab", "times": 3}}]}
    assert load_dialogue(_write(tmp_path, "long", long)).turns[0].text == "ababab"
    for name, broken, message in [
        ("typo", base | {"turns": [{"user": "hi", "expect": {"contain": ["x"]}}]}, "expect.contain: not a known key"),
        ("both", base | {"turns": [{"user": "hi", "choice": "Often"}]}, "either user"),
        ("journey", base | {"journey": "chat"}, "journey: Input should be 'ask', 'checkin'"),
        ("doc", base | {"turns": [{"user": "hi", "expect": {"cited_docs": ["004"]}}]}, "'004', no document"),
        ("mode", base | {"turns": [{"user": "hi", "expect": {"mode": "chat"}}]}, "expect.mode: Input should be 'ask'"),
        ("count", base | {"turns": [{"user": "hi", "expect": {"citations": "some"}}]}, "expect.citations: must be none, a number"),
        ("scores", base | {"turns": [{"user": "hi", "expect": {"scores": {"tone": [1]}}}]}, "expect.scores.tone: must be a number or \\[low, high\\]"),
        ("empty", base | {"turns": []}, "turns: List should have at least 1 item"),
    ]:
        with pytest.raises(DialogueError, match=message) as caught:
            load_dialogue(_write(tmp_path, name, broken), doc_ids={"ml-engineer-fatigue"})
        assert f"{name}.yaml" in str(caught.value) and ("turn 1" in str(caught.value) or name in ("journey", "empty"))
    with pytest.raises(DialogueError, match="No dialogues"):
        load_suite(tmp_path / "empty-folder")


def test_the_shipped_dialogues_load_and_name_real_documents(corpus):
    dialogues = load_suite(doc_ids={doc for doc, _ in corpus.values()})
    assert len({d.id for d in dialogues}) == len(dialogues)


class _StubEngine:
    """Stands in for the engine to show what the runner does with a crash or a wobbly rubric."""

    def __init__(self, score) -> None:
        self.score = score
        self.retriever = None

    def new_session(self):
        return {"feedback": []}

    def welcome(self) -> Reply:
        return Reply(mode="ask", text="Hi", choices=["Rehearse the 1:1"])

    def send(self, session, text: str) -> Reply:
        if text == "crash":
            raise KeyError("beat")
        session["feedback"].append({"line": text, "beat": "open", "scores": {"tone": self.score()}})
        return Reply(mode="rehearse", text="Noted.", state={"feedback": list(session["feedback"])})


def test_a_crash_or_an_unoffered_choice_stops_the_dialogue_with_a_reason(corpus):
    engine = _StubEngine(lambda: 2)
    crash = Dialogue("crash", "rehearse", "", (Turn("line", None, {}), Turn("crash", None, {}), Turn("never", None, {})))
    result = play(engine, RecordingRetriever(object()), crash, corpus=corpus)
    assert not result.passed and len(result.turns) == 1
    assert result.failures() == ["turn 2: the engine raised KeyError: 'beat'"]
    unoffered = Dialogue("choice", "rehearse", "", (Turn(None, "Rehearse the 1:1", {}), Turn(None, "Often", {})))
    result = play(engine, RecordingRetriever(object()), unoffered, corpus=corpus)
    assert "choice 'Often' was not offered" in result.failures()[0]


def test_rubric_consistency_catches_a_line_scored_differently_twice(corpus):
    lines = Dialogue("lines", "rehearse", "", (Turn("I work 62 hours", None, {}), Turn("Can we defer X?", None, {})))
    steady_engine = _StubEngine(lambda: 1)
    recorder = RecordingRetriever(object())
    played = [play(steady_engine, recorder, lines, corpus=corpus)]
    assert rubric_consistency(steady_engine, recorder, played, corpus=corpus) == {"lines": 2, "identical": 2, "differing": []}
    scores = iter([0, 1, 2, 0])
    wobbly = _StubEngine(lambda: next(scores))
    played = [play(wobbly, recorder, lines, corpus=corpus)]
    found = rubric_consistency(wobbly, recorder, played, corpus=corpus)
    assert found["lines"] == 2 and found["identical"] == 0 and len(found["differing"]) == 2


def test_bench_marks_each_figure_against_its_budget():
    from app.bench import Figure, percentile, table

    assert percentile([0.5, 0.1, 0.3, 0.2], 0.5) == 0.2 and percentile(list(range(1, 21)), 0.95) == 19
    figures = [Figure("retrieval hybrid, p95", 31.0, "ms", 30), Figure("ingest", 9.0, "s", 15),
               Figure("tokens/s", 12.0, "tokens/s", 20, higher_is_better=True), Figure("server", None, "MB", 1200, note="n/a: no server")]
    assert [f.mark for f in figures] == ["MISS", "pass", "MISS", "-"]
    rows = table({"figures": [f.__dict__ | {"mark": f.mark} for f in figures]}).splitlines()
    assert rows[2] == "| retrieval hybrid, p95 | 31 ms | ≤ 30 ms | MISS |"
    assert rows[5] == "| server (n/a: no server) | n/a | ≤ 1200 MB | - |"


def test_bench_times_turns_by_mode_from_the_dialogues(retriever, tmp_path):
    from app.bench import measure_turns

    for name in ("ask-quit-or-transfer-then-junior", "ask-offtopic-recipe", "input-empty"):
        (tmp_path / f"{name}.yaml").write_text((DIALOGUES / f"{name}.yaml").read_text())
    figures = {f.name: f for f in measure_turns(retriever, repeat=2, suite=tmp_path)}
    p50, p95 = figures["turn, ask mode, p50"], figures["turn, ask mode, p95"]
    assert p95.budget == 60 and 0 < p50.value <= p95.value
    assert "8 turns" in p95.note  # 4 ask turns a pass, two passes; the bad-input dialogue is left out
