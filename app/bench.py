"""`steady bench`: measure Steady on this machine against the budgets in the brief.

Everything runs in a fresh temporary data folder, so the user's index and sessions are never
touched and the cold figures are really cold. Latencies are taken after a warm-up, with the query
embedding cache emptied before every pass (a repeated query would otherwise skip the embedding).
Not a test: it reports, it never fails.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from app.config import BUNDLED_CORPUS, EVALS_DIR, REPO_ROOT
from app.prompts import texts

DIALOGUES = EVALS_DIR / "dialogues"
ASK_QUESTION = "Should I change roles or change companies?"
SERVER_TURNS = ["I dread opening my laptop", "should I quit or transfer?", "what about if I'm junior?", "/checkin",
                "I feel guilty every time I launch a training run"]
# The one-off export alone, in its own process (app.config first: it switches telemetry off).
EXPORT = ("import sys, pathlib, app.config; from ingest.embed import Embedder; "
          "Embedder(models_dir=pathlib.Path(sys.argv[1])).embed_query('warm up')")
LLM_QUESTIONS = ["Should I change roles or change companies?", "How do I stop feeling guilty about GPU costs?",
                 "How do I tell my manager I'm burning out?"]
MANAGER_LINES = ["I've been doing about 62 hours a week, mostly on the feature store.",
                 "Honestly it's just a lot lately.", "Recall@10 dropped three points since October."]


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None  # None: not measured here (the note says why)
    unit: str
    budget: float | None = None  # the brief's ceiling (or floor when higher_is_better)
    higher_is_better: bool = False
    note: str = ""

    @property
    def mark(self) -> str:
        if self.value is None or self.budget is None:
            return "-"
        ok = self.value >= self.budget if self.higher_is_better else self.value <= self.budget
        return "pass" if ok else "MISS"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(values: list[float]) -> tuple[float, float]:
    return round(percentile(values, 0.5) * 1000, 1), round(percentile(values, 0.95) * 1000, 1)


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "STEADY_DATA_DIR": str(data_dir), "STEADY_LLM": "none"}


def _timed_process(args: list[str], *, data_dir: Path, timeout: float = 600) -> float:
    """Wall time of `python ARGS` in its own process (imports included, as a user waits for them)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], env=_env(data_dir), cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - started


def measure_ingest(work: Path) -> tuple[Path, list[Figure]]:
    """The one-off model export, then `steady ingest` cold and unchanged, each a whole process."""
    from ingest.index import Index

    models = work / "models"
    export = _timed_process(["-c", EXPORT, str(models)], data_dir=work)
    data_dir = work / "data"
    data_dir.mkdir()
    (data_dir / "models").symlink_to(models, target_is_directory=True)
    cold = _timed_process(["-m", "app", "ingest"], data_dir=data_dir)
    again = _timed_process(["-m", "app", "ingest"], data_dir=data_dir)
    ids, _, metas = Index(data_dir=data_dir).all_chunks()
    passages = sum(m.get("kind") == "chunk" for m in metas)
    return data_dir, [
        Figure("embedding model export to ONNX (once per machine)", round(export, 1), "s",
               note="torch import and export; every later process loads the ONNX file"),
        Figure(f"ingest, cold: {passages} passages, {len(ids)} vectors", round(cold, 1), "s", 15,
               note="`steady ingest` into an empty data folder, model already exported"),
        Figure("ingest throughput, cold", round(passages / cold, 1), "passages/s"),
        Figure("ingest throughput, cold (passages + probes)", round(len(ids) / cold, 1), "vectors/s"),
        Figure("ingest, unchanged re-run", round(again, 1), "s", 3, note="`steady ingest` with nothing changed"),
    ]


def _clear_query_cache() -> None:
    from ingest.embed import Embedder

    Embedder._cached_query.cache_clear()  # so every measured search pays for its query embedding


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure_retrieval(retriever, *, repeat: int) -> list[Figure]:
    import yaml

    from app.retrieval import MODES
    from evals.retrieval_metrics import OFF_TOPIC, load_questions

    queries = [q["q"] for q in load_questions()]
    for q in yaml.safe_load(OFF_TOPIC.read_text(encoding="utf-8"))[:10]:  # warm-up: other queries
        for mode in MODES:
            retriever.search(q["q"], mode=mode)
    embed: list[float] = []
    by_mode: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:
            _clear_query_cache()
            by_mode[mode] += [_timed(lambda q=q, mode=mode: retriever.search(q, k=5, mode=mode)) for q in queries]
        _clear_query_cache()
        embed += [_timed(lambda q=q: retriever.index.embedder.embed_query(q)) for q in queries]
    figures = []
    for mode, times in by_mode.items():
        p50, p95 = _ms(times)
        figures += [Figure(f"retrieval {mode}, p50", p50, "ms"),
                    Figure(f"retrieval {mode}, p95", p95, "ms", 30, note=f"{len(times)} searches, in-process")]
    p50, p95 = _ms(embed)
    figures += [Figure("query embedding alone, p50", p50, "ms"),
                Figure("query embedding alone, p95", p95, "ms", note="for reference; the brief: ~15 ms")]
    return figures


def measure_turns(retriever, *, repeat: int, suite: Path = DIALOGUES) -> list[Figure]:
    """Replay the scripted dialogues (all but the bad-input ones) and time each turn by reply mode."""
    from app.engine import Engine
    from evals.dialogues import RecordingRetriever, corpus_passages, load_suite, play

    dialogues = [d for d in load_suite(suite) if d.journey != "input"]
    corpus = corpus_passages(retriever.index)
    recorder = RecordingRetriever(retriever)
    engine = Engine(retriever=recorder)
    for dialogue in dialogues:  # warm-up: the flows embed their banks once per process
        play(engine, recorder, dialogue, corpus=corpus)
    by_mode: dict[str, list[float]] = {}
    for _ in range(repeat):
        _clear_query_cache()
        for dialogue in dialogues:
            for turn in play(engine, recorder, dialogue, corpus=corpus).turns:
                if turn.reply is not None:
                    by_mode.setdefault(turn.reply.mode, []).append(turn.seconds)
    figures = []
    for mode, times in sorted(by_mode.items()):
        p50, p95 = _ms(times)
        figures += [Figure(f"turn, {mode} mode, p50", p50, "ms"),
                    Figure(f"turn, {mode} mode, p95", p95, "ms", 60, note=f"{len(times)} turns, embedded engine")]
    return figures


def measure_ask_process(data_dir: Path, *, repeat: int) -> Figure:
    times = [_timed_process(["-m", "app", "ask", ASK_QUESTION], data_dir=data_dir) for _ in range(max(repeat, 3))]
    return Figure("`steady ask` as a whole process, median", round(statistics.median(times), 2), "s", 3,
                  note=f"{len(times)} runs: {', '.join(f'{t:.2f}' for t in times)} s")


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in MB. Read from /proc: psutil gives no peak on Linux."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(round(int(fields[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM"))


def _chat(base: str, text: str, session_id: str, *, token: str) -> dict:
    """One turn through the web app's JSON API (POST /api/chat) as the owner `token`."""
    body = json.dumps({"text": text, "session_id": session_id}).encode()
    request = urllib.request.Request(f"{base}/api/chat", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def measure_server(data_dir: Path) -> Figure:
    import importlib.util

    if importlib.util.find_spec("app.web") is None:
        return Figure("web server memory (RSS)", None, "MB", 800, note="n/a: the web app is not built yet")
    from app.server import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], env=_env(data_dir),
                              cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(base, timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    return Figure("web server memory (RSS)", None, "MB", 800, note="n/a: the server did not start")
                time.sleep(0.5)
        session, token = "", secrets.token_urlsafe(32)
        try:
            for text in SERVER_TURNS:
                session = _chat(base, text, session, token=token).get("session_id", session)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            return Figure("web server memory (RSS)", None, "MB", 800,
                          note=f"n/a: driving a turn failed ({exc.__class__.__name__})")
        rss, peak = rss_mb(server.pid)
        return Figure("web server memory (RSS)", rss, "MB", 800,
                      note=f"after {len(SERVER_TURNS)} turns through the API; peak {peak} MB")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _streamed(items) -> tuple[list[float], object]:
    """When each streamed piece arrived (seconds from the start), and the final Reply."""
    started, stamps, reply = time.perf_counter(), [], None
    for item in items:
        if isinstance(item, str):
            stamps.append(time.perf_counter() - started)
        else:
            reply = item
    return stamps, reply


def _model_figures(what: str, first: list[float], rates: list[float], note: str) -> list[Figure]:
    return [
        Figure(f"{what}: time to first token, median", round(statistics.median(first), 2) if first else None, "s",
               note=note),
        Figure(f"{what}: tokens/s (streamed pieces), median", round(statistics.median(rates), 1) if rates else None,
               "tokens/s", higher_is_better=True, note=note),
    ]


def _rate(stamps: list[float]) -> list[float]:
    return [(len(stamps) - 1) / (stamps[-1] - stamps[0])] if len(stamps) > 1 and stamps[-1] > stamps[0] else []


def measure_llm(retriever, llm) -> list[Figure]:
    """Ask: time to the first streamed piece and pieces per second (one piece is about one token)."""
    from app.engine import Engine

    engine = Engine(retriever=retriever, llm=llm)
    first, rates, fallbacks = [], [], 0
    for question in LLM_QUESTIONS:
        stamps, reply = _streamed(engine.stream(engine.new_session(), question))
        fallbacks += bool(reply.notice)
        first += stamps[:1]
        rates += _rate(stamps)
    note = f"{llm.spec}, {len(LLM_QUESTIONS)} questions" + (f", {fallbacks} fell back to the embedded answer" if fallbacks else "")
    return _model_figures("model", first, rates, note)


def measure_manager(retriever, llm) -> list[Figure]:
    """Rehearse: the manager's line, timed from the person's line to its first token (the coach's note,
    which never waits for the model, is the turn's first piece and the next prompt its last)."""
    from app.engine import Engine

    engine = Engine(retriever=retriever, llm=llm)
    words = texts("rehearse")
    first, rates, fallbacks = [], [], 0
    for line in MANAGER_LINES:
        session = engine.new_session()
        for message in ("/rehearse", "62", words["skip_rest_choice"], "Practise with a skeptical manager"):
            engine.send(session, message)
        stamps, reply = _streamed(engine.stream(session, line))
        fallbacks += not reply.state["voice"].get("generated")
        spoken = stamps[1:-1]  # between the coach's note and the next prompt
        first += spoken[:1]
        rates += _rate(spoken)
    note = f"{llm.spec}, {len(MANAGER_LINES)} lines" + (f", {fallbacks} from the persona bank" if fallbacks else "")
    return _model_figures("manager (model)", first, rates, note)


def run(*, repeat: int, llm=None, say: Callable[[str], None]) -> dict:
    """Every measurement, in a temporary data folder removed afterwards."""
    from app.retrieval import Retriever
    from ingest.index import Index

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="steady-bench-") as folder:
        say("Exporting the embedding model and ingesting the guidance into a fresh folder ...")
        data_dir, ingest_figures = measure_ingest(Path(folder))
        figures += ingest_figures
        retriever = Retriever(index=Index(data_dir=data_dir))
        say("Timing retrieval and chat turns ...")
        figures += measure_retrieval(retriever, repeat=repeat)
        figures += measure_turns(retriever, repeat=repeat)
        say("Timing `steady ask` as a whole process ...")
        figures.append(measure_ask_process(data_dir, repeat=repeat))
        say("Starting the web server to read its memory ...")
        figures.append(measure_server(data_dir))
        if llm is not None:
            say(f"Timing the model {llm.spec} ...")
            figures += measure_llm(retriever, llm) + measure_manager(retriever, llm)
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "repeat": repeat, "corpus": str(BUNDLED_CORPUS),
        "figures": [asdict(f) | {"mark": f.mark} for f in figures],
    }


def table(result: dict) -> str:
    rows = ["| figure | measured | budget | |", "|---|---|---|---|"]
    for f in result["figures"]:
        value = "n/a" if f["value"] is None else f"{f['value']:g} {f['unit']}"
        budget = "" if f["budget"] is None else f"{'≥' if f['higher_is_better'] else '≤'} {f['budget']:g} {f['unit']}"
        note = f" ({f['note']})" if f["note"] else ""
        rows.append(f"| {f['name']}{note} | {value} | {budget} | {f['mark']} |")
    return "\n".join(rows)
