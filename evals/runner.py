"""`steady eval`: run the suite and write report.md and report.json."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from app.retrieval import Retriever
from evals.retrieval_metrics import Scores, load_questions, score_all

THRESHOLDS = {"hit_at_5": 0.95, "mrr": 0.85}


def retrieval_table(scores: list[Scores]) -> str:
    rows = [f"| {s.mode} | {s.questions} | {s.hit_at_1:.3f} | {s.hit_at_5:.3f} | {s.mrr:.3f} |" for s in scores]
    return "\n".join(["| mode | questions | hit@1 | hit@5 | MRR@5 |", "|---|---|---|---|---|", *rows])


def run(*, retriever: Retriever, out: Path) -> tuple[str, bool]:
    """The report as Markdown, and whether every threshold was met."""
    scores = score_all(retriever, load_questions())
    hybrid = next(s for s in scores if s.mode == "hybrid")
    failures = [f"hybrid {name} {getattr(hybrid, name):.3f} < {limit}" for name, limit in THRESHOLDS.items()
                if getattr(hybrid, name) < limit]
    failures += [f"hybrid MRR does not beat {s.mode}" for s in scores if s.mode != "hybrid" and s.mrr >= hybrid.mrr]
    report = "\n\n".join([
        "# Steady eval report",
        "## Retrieval (evals/retrieval/questions.yaml)",
        retrieval_table(scores),
        "Misses (hybrid, not in top 5): " + (", ".join(hybrid.misses) or "none"),
        "## Result",
        "PASS" if not failures else "FAIL\n\n" + "\n".join(f"- {f}" for f in failures),
    ])
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    payload = {"retrieval": [asdict(s) for s in scores], "failures": failures}
    (out / "report.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return report, not failures
