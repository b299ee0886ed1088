"""The `steady` command line. Thin: every command calls into ingest/ or the engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app import config
from app.settings import settings


def _text(argument: str) -> str:
    """A command-line argument as printable text: bytes that weren't UTF-8 become U+FFFD."""
    return argument.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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
        return Retriever(index=ready_index(data_dir=settings().data_dir, server=settings().chroma_url, say=_say))
    except IndexUnavailable as exc:
        _fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="steady")
def cli() -> None:
    """Steady: coaching for machine-learning engineers who are worn down.

    Everything runs on this machine. The index lives in STEADY_DATA_DIR
    (default: .steady/ in the checkout).
    """


def _model(spec: str | None = None):
    """The model a spec (by default STEADY_LLM) names, or None for the embedded engine."""
    from app.llm import Generator, ModelSpecError

    try:
        return Generator.from_spec(settings().llm if spec is None else spec, timeout=settings().llm_timeout)
    except (ModelSpecError, ValueError) as exc:
        _fail(str(exc))


def _engine(llm: str | None = None):
    from app.engine import Engine

    return Engine(retriever=_retriever(), llm=_model(llm))


def _print_reply(reply, *, streamed: bool = False) -> None:
    if not streamed:
        click.echo(reply.text)
    if reply.citations:
        click.echo("\nSources:")
        for c in reply.citations:
            click.echo(f"  [{c['n']}] {c['title']} — {c['section']}")
    if reply.notice:
        click.echo(f"\n({reply.notice})")
    if reply.choices:
        click.echo("\nYou could say: " + " · ".join(reply.choices))


@cli.command("ingest")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder of your own .md/.txt guidance to add (remembered for later ingests).")
@click.option("--rebuild", is_flag=True, help="Drop the index and embed everything again.")
def ingest_command(corpora: tuple[Path, ...], rebuild: bool) -> None:
    """Build or update the index; only changed passages are re-embedded."""
    from ingest.index import Index, IndexUnavailable
    from ingest.pipeline import ingest

    for folder in corpora:
        if not folder.is_dir():
            _fail(f"--corpus {folder}: no such folder")
    index = Index(data_dir=settings().data_dir, server=settings().chroma_url, progress=sys.stderr.isatty())
    try:
        summary = ingest(index=index, bundled=config.BUNDLED_CORPUS, extra=list(corpora), rebuild=rebuild,
                         cards=config.CARDS, questions=config.ASK_QUESTIONS)
    except IndexUnavailable as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"Could not write the index in {index.data_dir}: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - Chroma reports a full disk as its own internal error
        import shutil

        full = shutil.disk_usage(index.data_dir).free < 50 * 2**20
        reason = "the disk is full" if full else f"{type(exc).__name__}: {exc}"
        _fail(f"Could not write the index in {index.data_dir} ({reason}). Free some space and run `steady ingest` again.")
    if summary.rebuilt:
        _say(f"Rebuilt the index from scratch: {summary.rebuilt}.")
    for problem in summary.problems:
        _say(f"{problem.path}: {problem.message}")
    click.echo(summary.line())


@cli.command("retrieve")
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (one line per query when QUERY is '-').")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
def retrieve_command(query: str, k: int, as_json: bool, mode: str) -> None:
    """Show the passages of the guidance that best match QUERY ('-' reads one query a line from stdin)."""
    retriever = _retriever()
    sys.stdin.reconfigure(errors="replace")  # binary input becomes U+FFFD instead of a traceback
    queries = (line.rstrip("\n") for line in sys.stdin) if query == "-" else iter([_text(query)])
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


@cli.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="answer, citations and grounded flag as JSON.")
def ask_command(question: str, as_json: bool) -> None:
    """Answer one QUESTION from the guidance, with citations."""
    engine = _engine()
    reply = engine.send(engine.new_session(), _text(question))
    if as_json:
        payload = {"answer": reply.text, "citations": reply.citations, "grounded": bool(reply.state.get("grounded")),
                   "mode": reply.mode, "notice": reply.notice}
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_reply(reply)


@cli.command("chat")
@click.option("--jsonl", is_flag=True, help='One JSON request a line ({"text": "..."}), one JSON reply a line.')
def chat_command(jsonl: bool) -> None:
    """Chat in the terminal (or, with --jsonl, drive Steady from another program)."""
    engine = _engine()
    session = engine.new_session()
    sys.stdin.reconfigure(errors="replace")  # odd bytes become U+FFFD instead of ending the chat
    if jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
                request = None
            text = request.get("text") if isinstance(request, dict) else None
            if not isinstance(text, str):
                reason = 'expected one JSON object a line, like {"text": "..."}'
                click.echo(json.dumps({"error": f"Could not read that line: {reason}.", "mode": session.mode,
                                       "text": "", "citations": [], "choices": [], "state": {}}))
                continue
            click.echo(json.dumps(engine.send(session, text).to_json(), ensure_ascii=False))
        return
    _print_reply(engine.welcome())
    while True:
        try:
            text = click.prompt("\nyou", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        click.echo("steady> ", nl=False)
        streamed = False
        for item in engine.stream(session, text):
            if isinstance(item, str):
                click.echo(item, nl=False)
                streamed = True
            else:
                if streamed:
                    click.echo()
                _print_reply(item, streamed=streamed)


def _access(*, host: str, no_auth: bool):
    """Who may use the server: the users file or STEADY_AUTH (sign-in), a trusted proxy header, or each
    browser on its own. Anything but loopback needs one of the first two, or --no-auth."""
    from app.gate import is_loopback
    from app.owners import Users, parse_auth_env
    from app.prompts import texts
    from app.server import Access

    words = texts("web")["serve"]
    configured = settings().auth
    try:
        extra = parse_auth_env(configured) if configured else {}
    except ValueError:
        _fail(words["bad_auth"])
    users = Users(path=settings().data_dir / "users.json", extra=extra)
    header = settings().trusted_user_header.strip()
    access = Access(users=users if users else None, proxy_header=header,
                    proxy_addresses=settings().listed(settings().trusted_proxies),
                    extra_hosts=settings().listed(settings().allowed_hosts))
    if not is_loopback(host) and not (access.users or header) and not no_auth:
        _fail(words["needs_auth"].format(host=host))
    return access


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-auth", is_flag=True, help="Allow a non-loopback --host without sign-in (each browser still sees only its own conversations).")
def serve_command(host: str, port: int, no_auth: bool) -> None:
    """Serve the web app on http://127.0.0.1:7860 (`steady users add NAME` turns on sign-in)."""
    from app.gate import is_loopback
    from app.prompts import texts
    from app.server import serve
    from app.store import StoreError

    access = _access(host=host, no_auth=no_auth)
    words = texts("web")["serve"]
    engine = _engine()  # builds or refreshes the index first, so the first request is quick

    def ready(url: str) -> None:
        key = "auth" if access.users else "proxy" if access.proxy_header else (
            "loopback" if is_loopback(host) else "no_auth")
        click.echo(words[key].format(url=url, port=port), err=True)

    try:
        serve(engine=engine, settings=settings(), host=host, port=port, access=access, ready=ready)
    except StoreError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(words["port_busy"].format(port=port, host=host) if exc.errno in (98, 13, 99) else str(exc))
    except KeyboardInterrupt:
        click.echo("", err=True)


@cli.group("users")
def users_group() -> None:
    """Sign-in users for a shared machine (argon2 hashes in the data folder's users.json)."""


def _users():
    from app.owners import Users

    return Users(path=settings().data_dir / "users.json")


@users_group.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_add(name: str, password_stdin: bool) -> None:
    """Add NAME (or change their password); the password is asked for twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        _users().add(name, password)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"{name} can sign in now (restart `steady serve` if it is running).")


@users_group.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove NAME: they can no longer sign in (their conversations stay until `steady forget`)."""
    if not _users().remove(name):
        _fail(f"There is no user {name}.")
    click.echo(f"{name} removed.")


@users_group.command("list")
def users_list() -> None:
    for name in _users().names():
        click.echo(name)


@cli.command("forget")
@click.option("--all", "everything", is_flag=True, help="Every conversation of every owner.")
@click.option("--user", "user", metavar="NAME", help="Every conversation of one signed-in user.")
def forget_command(everything: bool, user: str | None) -> None:
    """Delete stored conversations (the operator's tool; people delete their own on the History tab)."""
    from app.owners import user_owner
    from app.store import StoreError, open_store

    if everything == bool(user):
        _fail("Say what to forget: --all, or --user NAME.")
    try:
        store = open_store(data_dir=settings().data_dir, database_url=settings().database_url)
    except StoreError as exc:
        _fail(str(exc))
    if everything:
        store.delete_everything()
        click.echo("Deleted every conversation.")
    else:
        click.echo(f"Deleted {len(store.delete_owner(owner=user_owner(user)))} conversations of {user}.")
    store.close()


@cli.command("train")
@click.argument("decisions", nargs=-1)
def train_command(decisions: tuple[str, ...]) -> None:
    """Rebuild the learned decisions (intent, answer, pressures, domain, crisis, ...) from their labelled files.

    Fixed seed; each decision's C (and the crisis threshold) is chosen on its dev split; the data's hash
    is recorded beside the weights in app/trained/. The test splits are never read here. The crisis
    classifier fine-tunes the encoder itself (about ten minutes on two cores)."""
    from app import learned
    from app.index_ready import ready_index

    unknown = [d for d in decisions if d not in learned.SPECS]
    if unknown:
        _fail(f"Unknown decision {unknown[0]!r}; choose from {', '.join(learned.SPECS)}.")
    names = decisions or tuple(learned.SPECS)
    # The crisis encoder tokenizes for itself; the other decisions learn over the index's embedder.
    embedder = (ready_index(data_dir=settings().data_dir, server=settings().chroma_url, say=_say).embedder
                if set(names) - {"crisis"} else None)
    for name in names:
        if name == "crisis":
            from app import crisis_encoder

            crisis_encoder.train(say=click.echo)
        else:
            learned.train(name, embedder=embedder, say=click.echo)


@cli.command("eval")
@click.option("--suite", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=config.EVALS_DIR / "dialogues", show_default="evals/dialogues",
              help="A folder of dialogue YAML files.")
@click.option("--llm", default="none", show_default=True, metavar="SPEC",
              help="Evaluate with a model: openai:<model> or ollama:<model> (as STEADY_LLM).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("eval-report"),
              show_default=True, help="Where report.md and report.json are written.")
def eval_command(suite: Path, llm: str, out: Path) -> None:
    """Play the scripted dialogues and score retrieval; exits non-zero when a threshold is missed."""
    import tempfile

    from app.store import StoreError, open_store
    from evals.dialogues import DialogueError
    from evals.runner import run

    engine = _engine(llm)  # the suite runs with the model asked for, or none
    # Through the team's database when one is configured; else a scratch SQLite file, not the person's history.
    with tempfile.TemporaryDirectory(prefix="steady-eval-") as scratch:
        try:
            store = open_store(data_dir=Path(scratch), database_url=settings().database_url)
            report, passed = run(retriever=engine.retriever, llm=engine.llm, suite=suite, out=out, store=store)
            store.close()
        except (DialogueError, ValueError, StoreError) as exc:
            _fail(str(exc))
    click.echo(report)
    if not passed:
        sys.exit(1)


@cli.command("bench")
@click.option("--llm", default="none", show_default=True, metavar="SPEC",
              help="Also time a model: openai:<model> or ollama:<model> (as STEADY_LLM).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the figures as JSON, to compare two runs.")
@click.option("--repeat", default=3, show_default=True, type=click.IntRange(1, 50),
              help="Passes over the queries and dialogues (and runs of `steady ask`).")
def bench_command(llm: str, json_file: Path | None, repeat: int) -> None:
    """Measure speed and memory on this machine, beside the budgets (a report, never a failure)."""
    from app import bench

    result = bench.run(repeat=repeat, llm=_model(llm), say=_say)  # the bench builds its own index in a temporary folder
    click.echo(bench.table(result))
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=2), encoding="utf-8")
        _say(f"Wrote {json_file}")


def main() -> None:
    import logging
    import os

    os.umask(0o077)  # everything Steady writes (index, database, keys) is readable by its owner only

    # Operator log lines (e.g. a model that failed) go to stderr, never what the user typed.
    logging.basicConfig(level=logging.WARNING, format="steady: %(message)s")
    logging.getLogger("chromadb").setLevel(logging.ERROR)  # its internal chatter is not user news
    from pydantic import ValidationError

    try:
        folder = settings().data_dir
    except ValidationError as exc:
        problem = exc.errors()[0]
        click.echo(f"Error: STEADY_{str(problem['loc'][0]).upper()} is not valid: {problem['msg']}.", err=True)
        sys.exit(2)
    if folder.exists() and not folder.is_dir():
        click.echo(f"Error: STEADY_DATA_DIR={folder} is a file; point it at a folder (it is created if missing).",
                   err=True)
        sys.exit(2)
    cli(prog_name="steady")
