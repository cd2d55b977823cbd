"""The ``advisor`` command: parse arguments, call one function of the package, print its model.

Errors the user can fix end the command with one clear line on stderr and exit code 2; nothing the
user typed produces a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.interfaces.db_cli import db_app
from assistant.interfaces.eval_cli import eval_app
from assistant.interfaces.cli_common import emit_json, fail, friendly, settings
from assistant.interfaces.client_cli import client_state, described_profile
from assistant.interfaces.training_cli import quiz_app, train_app
from assistant.text import label

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Strategy Advisor: grounded answers, client plans and training for commercial banks.")
audit_app = typer.Typer(no_args_is_help=True, help="Show and replay audit records of answers and plans.")
knowledge_app = typer.Typer(no_args_is_help=True, help="Knowledge versions and documents due for review.")
app.add_typer(eval_app, name="eval")
app.add_typer(audit_app, name="audit")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(quiz_app, name="quiz")
app.add_typer(train_app, name="training")
app.add_typer(db_app, name="db")


def parse_filters(values: list[str] | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--filter takes KEY=VALUE (e.g. segments=major-client), got '{item}'")
        filters[key.strip()] = value.strip()
    return filters


@app.command()
@friendly
def ingest(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the store and embed everything again.")] = False,
    source: Annotated[Optional[list[Path]], typer.Option("--source", help="A folder of the bank's own md/txt/pdf/docx files (repeatable; remembered).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Allow removing more than ADVISOR_MAX_REMOVAL_SHARE of a source's documents (or all), and forget remembered folders that are gone.")] = False,
) -> None:
    """Bring the store in line with knowledge/ (and added folders): only changes are embedded.

    A missing folder stops the ingest, and so does removing a large share of a source's documents
    (ADVISOR_MAX_REMOVAL_SHARE, default 20%) unless --prune is given; removals are listed first."""
    from assistant.answers.advisor import Advisor
    from assistant.search.ingest import IngestRequest

    advisor = Advisor.from_settings(settings())
    report = advisor.ingest(IngestRequest(rebuild=rebuild, sources=source or [], prune=prune),
                            notice=lambda line: typer.echo(line, err=True))
    for error in report.errors:
        typer.echo(f"rejected {error.path}: {error.message}", err=True)
    typer.echo(report.summary())
    advisor.keyword_index()   # built and saved once here, so app processes and one-shot asks load it


def cli_user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def render_answer(answer) -> str:
    lines = [answer.answer, ""]
    for warning in answer.warnings:
        lines.append(f"warning: {warning}")
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            where = label(c.title, c.section)
            lines.append(f"  [{c.n}] {where} ({c.doc_id}, {c.source})")
    if answer.audit_id:
        lines.append(f"audit id: {answer.audit_id}")
    if answer.disclaimer:
        lines.append(answer.disclaimer)
    return "\n".join(lines).rstrip()


ANSWER_KEYS = {"question", "answer", "grounded", "citations", "warnings", "suggestions", "composer", "audit_id", "disclaimer"}


@app.command()
@friendly
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question, in English or Chinese.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per answer.")] = False,
    k: Annotated[Optional[int], typer.Option("--k", min=1, max=50, help="Passages to retrieve.")] = None,
    filter_: Annotated[Optional[list[str]], typer.Option("--filter", help="KEY=VALUE on source, topics, audience, segments.")] = None,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="A file with one question per line.")] = None,
    client: Annotated[Optional[str], typer.Option("--client", help="Answer for this client: a profile file or an example name.")] = None,
) -> None:
    """Answer a question from the knowledge base, with citations; a described client gets a recommendation."""
    from assistant.answers.advisor import Advisor, AskRequest
    from assistant.clients.situation.state import general_payload
    from assistant.governance.service import Governance

    if (question is None) == (batch is None):
        fail("give either a QUESTION or --batch FILE")
    filters = parse_filters(filter_)
    governance = Governance(Advisor.from_settings(settings()))
    state = client_state(governance, client) if client else None
    questions = [question] if batch is None else [l for l in batch.read_text(encoding="utf-8").splitlines() if l.strip()]
    for text in questions:
        turn = governance.advise(text, state, user=cli_user())
        if turn.kind == "general":
            answer, extra = governance.ask(AskRequest(question=text, k=k, filters=filters), user=cli_user()), general_payload()
        else:
            answer, extra = turn.answer, turn.payload()
        if as_json:
            emit_json({**answer.model_dump(mode="json", include=ANSWER_KEYS), **extra})
            continue
        shown = render_answer(answer)
        if turn.recommendation is not None:
            shown += "\n" + (f"Full plan: advisor plan {client}" if client else f"Full plan: advisor plan --describe {json.dumps(text, ensure_ascii=False)}")
        typer.echo(shown + ("\n" if batch else ""))


@app.command()
@friendly
def classify(
    profile: Annotated[Path, typer.Argument(help="A JSON or YAML file with one profile or a list of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per profile, one per line.")] = False,
) -> None:
    """Size class, value tier and segment of a client, with the rules and numbers that decided them."""
    from assistant.answers.advisor import Advisor
    from assistant.clients.profiles import load_profiles
    from assistant.governance.service import Governance

    governance = Governance(Advisor.from_settings(settings()))
    for item in load_profiles(profile):
        result = governance.classify(item, user=cli_user())
        if as_json:
            emit_json(result.model_dump(include={"client_type", "name", "size_class", "value_tier", "life_stage",
                                                 "segment", "segment_label", "reasons", "readings"}))
        else:
            typer.echo(f"{result.name}: {result.segment_label} [{result.segment}]")
            for reading in result.readings:
                typer.echo(f"  - read: {reading}")
            for reason in result.reasons:
                typer.echo(f"  - {reason}")


@app.command()
@friendly
def plan(
    profile: Annotated[Optional[Path], typer.Argument(help="A JSON or YAML profile file (the first profile is used).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or docx.")] = "md",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of standard output.")] = None,
    describe: Annotated[Optional[str], typer.Option("--describe", help="Describe the client in words instead (as in the chat).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="en or zh: the plan's language (Chinese: Chinese playbook, titles, "
                                                      "disclaimer and the Chinese editions of the cited passages).")] = "en",
) -> None:
    """Draft a client service plan with every recommendation cited."""
    from assistant.answers.advisor import Advisor
    from assistant.clients.exports import to_docx, to_json, to_markdown
    from assistant.clients.profiles import load_profiles

    if fmt not in ("md", "json", "docx"):
        fail(f"--format must be md, json or docx, got '{fmt}'")
    if fmt == "docx" and out is None:
        fail("--format docx needs --out FILE.docx")
    if lang not in ("en", "zh"):
        fail(f"--lang must be en or zh, got '{lang}'")
    from assistant.governance.service import Governance

    if (profile is None) == (describe is None):
        fail("give either a PROFILE file or --describe \"the client in words\"")
    advisor = Advisor.from_settings(settings())
    advisor.ensure_ingested()
    governance = Governance(advisor)
    chosen = load_profiles(profile)[0] if profile else described_profile(governance, describe)
    drafted = governance.plan(chosen, user=cli_user(), language=lang)
    if fmt == "docx":
        out.write_bytes(to_docx(drafted))
        typer.echo(f"wrote {out}")
        return
    text = to_json(drafted) if fmt == "json" else to_markdown(drafted)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + ("\n" if fmt == "json" else ""), encoding="utf-8")
        typer.echo(f"wrote {out}")


@app.command()
@friendly
def segment(
    csv: Annotated[Path, typer.Argument(help="A book of retail clients, CSV or Excel (e.g. the UCI Bank Marketing bank.csv).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the segmented file, summaries, charts and the report.")] = Path("segments"),
    columns: Annotated[Optional[Path], typer.Option("--columns", help="Column mapping YAML; default KNOWLEDGE_DIR/data/book_columns.yaml.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    k: Annotated[Optional[int], typer.Option("--k", min=2, max=15, help="Fix the number of behavioural segments (default: chosen by silhouette and stability).")] = None,
    cite: Annotated[bool, typer.Option("--cite/--no-cite", help="Cite each recommendation from the knowledge base (needs the store).")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Segments that differ and say why, cited actions per segment, RFM and the value-potential matrix for a book."""
    from assistant.clients.book import segment_book
    from assistant.clients.book_actions import BookCiter, load_actions
    from assistant.clients.book_io import load_columns
    from assistant.clients.rules import rules_for

    s = settings()
    cols = load_columns(columns or s.rules_dir / "book_columns.yaml")
    citer = None
    if cite:
        from assistant.answers.advisor import Advisor

        advisor = Advisor.from_settings(s)
        advisor.ensure_ingested()
        citer = BookCiter(advisor)
    report = segment_book(csv, rules_for(s.rules_dir), cols, out, seed, actions=load_actions(s.rules_dir / "book_actions.yaml"),
                          citer=citer, k=k)
    if as_json:
        emit_json(report)
        return
    c = report.clustering
    typer.echo(f"{report.segmented:,} clients segmented, {report.rejected:,} rejected (see {report.files['rejects']}); "
               f"k={report.k} (silhouette {report.silhouette:.3f}, stability ARI {report.stability_ari:.2f}; {c.chosen_by})"
               f"{f' + risk review of {c.risk_rows:,}' if c.risk_rows else ''}; {report.seconds:.1f} s, peak memory {report.peak_memory_mb:,.0f} MB")
    for seg in report.segments:
        flag = " [RISK]" if seg.risk else ""
        typer.echo(f"  {seg.segment}. {seg.label}{flag}: {seg.clients:,} ({seg.share:.1%}) -> {seg.headline}; "
                   f"bundle: {', '.join(b.text for b in seg.bundle)}")
    for q in report.rfm.quadrants:
        typer.echo(f"  {q.quadrant:<14} {q.clients:>9,} ({q.share:5.1%})  {q.strategy}")
    typer.echo(f"files in {out}: {', '.join(Path(p).name for p in report.files.values())}")


@app.command()
@friendly
def stats() -> None:
    """Documents, chunks and the last ingest of the store."""
    from assistant.answers.advisor import Advisor

    emit_json(Advisor.from_settings(settings()).stats())


@audit_app.command("show")
@friendly
def audit_show(audit_id: Annotated[str, typer.Argument(help="The audit_id of an answer or plan.")],
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print an audit record: inputs, chunks with hashes, knowledge version, composer, user, time."""
    from assistant.answers.advisor import Advisor
    from assistant.governance.service import Governance, require_audit_id

    record = Governance(Advisor.from_settings(settings())).show(require_audit_id(audit_id))
    if as_json:
        emit_json(record)
        return
    done = f", {record.status} at {record.completed_at}" if record.completed_at else f", {record.status}"
    typer.echo(f"{record.kind} {record.id} at {record.created_at} by {record.user or 'unknown'}{done}")
    typer.echo(f"knowledge version {record.knowledge_version}; composer {record.composer}")
    typer.echo("inputs: " + json.dumps(record.inputs, ensure_ascii=False))
    for ref in record.chunks:
        typer.echo(f"  {'cited' if ref.cited else 'seen '} {ref.chunk_id} ({ref.content_hash})")
    typer.echo("output: " + record.output_summary)


@audit_app.command("replay")
@friendly
def audit_replay(audit_id: Annotated[str, typer.Argument()], as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-run a recorded answer or plan and say whether the result is the same, and if not, why."""
    from assistant.answers.advisor import Advisor
    from assistant.governance.service import Governance, require_audit_id

    report = Governance(Advisor.from_settings(settings())).replay(require_audit_id(audit_id))
    emit_json(report) if as_json else typer.echo(report.summary())


@audit_app.command("list")
@friendly
def audit_list(limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20) -> None:
    """The most recent audit records."""
    from assistant.answers.advisor import Advisor
    from assistant.governance.service import Governance

    for record in Governance(Advisor.from_settings(settings())).audit.recent(limit):
        typer.echo(f"{record.id}  {record.created_at}  {record.kind:<6}  {record.status:<11}  {record.user or '-':<12}  "
                   f"{record.output_summary[:70]}")


@knowledge_app.command("status")
@friendly
def knowledge_status_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The knowledge version and the documents overdue or due for review, superseded or not yet in force."""
    from assistant.answers.advisor import Advisor
    from assistant.governance.service import knowledge_status

    status = knowledge_status(Advisor.from_settings(settings()))
    if as_json:
        emit_json(status)
        return
    typer.echo(f"knowledge version {status.label}")
    if not status.attention:
        typer.echo("no document is due for review")
    for doc in status.attention:
        typer.echo(f"  {doc.doc_id}: {doc.status}")


@knowledge_app.command("stamp-editions")
@friendly
def stamp_editions_cmd(
    ids: Annotated[Optional[list[str]], typer.Argument(help="Editions to mark as matching their English document "
                                                       "now (e.g. retail-tier-scheme-zh); none: only those with no hash yet.")] = None,
) -> None:
    """Record in each translated edition the English text it was made from (edition_hash)."""
    from assistant.knowledge.editions import stamp_editions

    stamped = stamp_editions(settings().docs_dir, ids or None)
    for state in stamped:
        typer.echo(f"stamped {state.doc_id}: matches {state.edition_of} ({state.expected_hash})")
    if not stamped:
        typer.echo("no edition without a hash; name an edition to stamp it after updating it")


@app.command("hash-password")
def hash_password_cmd() -> None:
    """Print a bcrypt hash for the login file (the password is read without echo)."""
    import getpass

    from assistant.governance.auth import hash_password

    typer.echo(hash_password(getpass.getpass("password: ")))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


def ingest_main() -> None:
    """``python ingest.py`` is ``advisor ingest``."""
    sys.argv = [sys.argv[0], "ingest", *sys.argv[1:]]
    main()


if __name__ == "__main__":
    main()
