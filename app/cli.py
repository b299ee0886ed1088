"""The `steady` command line. Thin: every command calls into ingest/ or the engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app import config


def _say(message: str) -> None:
    click.echo(message, err=True)


def _fail(message: str) -> None:
    """A clear message and a non-zero exit, never a traceback."""
    raise click.ClickException(message)


def _retriever():
    from app.index_ready import ready_index
    from app.retrieval import Retriever
    from ingest.index import IndexUnavailable

    try:
        return Retriever(index=ready_index(data_dir=config.data_dir(), say=_say))
    except IndexUnavailable as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="steady")
def cli() -> None:
    """Steady: coaching for machine-learning engineers who are worn down.

    Everything runs on this machine. The index lives in STEADY_DATA_DIR
    (default: .steady/ in the checkout).
    """


@cli.command("ingest")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of your own .md/.txt guidance to add (remembered for later ingests).")
@click.option("--rebuild", is_flag=True, help="Drop the index and embed everything again.")
def ingest_command(corpora: tuple[Path, ...], rebuild: bool) -> None:
    """Build or update the index; only changed passages are re-embedded."""
    from ingest.index import Index
    from ingest.pipeline import ingest

    for folder in corpora:
        if not folder.is_dir():
            _fail(f"--corpus {folder}: no such folder")
    index = Index(data_dir=config.data_dir(), progress=sys.stderr.isatty())
    try:
        summary = ingest(index=index, bundled=config.BUNDLED_CORPUS, extra=list(corpora), rebuild=rebuild)
    except OSError as exc:
        _fail(f"Could not write the index in {index.data_dir}: {exc.strerror or exc}")
    if summary.rebuilt:
        _say(f"Rebuilt the index from scratch: {summary.rebuilt}.")
    for problem in summary.problems:
        _say(f"Skipped {problem.path}: {problem.message}")
    click.echo(summary.line())


@cli.command("retrieve")
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (one line per query when QUERY is '-').")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
def retrieve_command(query: str, k: int, as_json: bool, mode: str) -> None:
    """Show the passages of the guidance that best match QUERY ('-' reads one query a line from stdin)."""
    retriever = _retriever()
    queries = (line.rstrip("\n") for line in sys.stdin) if query == "-" else iter([query])
    for text in queries:
        if not text.strip():
            if query != "-":
                _fail("The query is empty: type a few words about what's on your mind.")
            continue
        passages = retriever.search(text, k=k, mode=mode)
        if as_json:
            payload = [p.to_json() for p in passages]
            click.echo(json.dumps({"query": text, "passages": payload} if query == "-" else payload, ensure_ascii=False))
            continue
        for p in passages:
            click.echo(f"[{p.rank}] {p.title} — {p.section}  (score {p.score:.4f})")
            click.echo(f"    {p.text}\n")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the web app (not built yet: use the command line meanwhile)."""
    _retriever()  # builds or refreshes the index, so the first request is quick
    click.echo(f"The web app (http://{host}:{port}) is not built yet. The index is ready: try\n"
               '  .venv/bin/steady retrieve "I dread opening my laptop"')


@cli.command("eval")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval-report"),
              show_default=True, help="Where report.md and report.json are written.")
def eval_command(out: Path) -> None:
    """Run the eval suite; exits non-zero when a threshold is missed."""
    from evals.runner import run

    report, passed = run(retriever=_retriever(), out=out)
    click.echo(report)
    if not passed:
        sys.exit(1)


def main() -> None:
    cli(prog_name="steady")
