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

from assistant.interfaces.cli_common import emit_json, fail, friendly, settings
from assistant.interfaces.training_cli import quiz_app, train_app
from assistant.text import label

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Strategy Advisor: grounded answers, client plans and training for commercial banks.")
eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval quality.")
audit_app = typer.Typer(no_args_is_help=True, help="Show and replay audit records of answers and plans.")
knowledge_app = typer.Typer(no_args_is_help=True, help="Knowledge versions and documents due for review.")
app.add_typer(eval_app, name="eval")
app.add_typer(audit_app, name="audit")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(quiz_app, name="quiz")
app.add_typer(train_app, name="training")


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
) -> None:
    """Bring the store in line with knowledge/ (and added folders): only changes are embedded."""
    from assistant.answers.advisor import Advisor
    from assistant.search.ingest import IngestRequest

    advisor = Advisor.from_settings(settings())
    report = advisor.ingest(IngestRequest(rebuild=rebuild, sources=source or []))
    for error in report.errors:
        typer.echo(f"rejected {error.path}: {error.message}", err=True)
    typer.echo(report.summary())


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


@app.command()
@friendly
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question, in English or Chinese.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per answer.")] = False,
    k: Annotated[Optional[int], typer.Option("--k", min=1, max=50, help="Passages to retrieve.")] = None,
    filter_: Annotated[Optional[list[str]], typer.Option("--filter", help="KEY=VALUE on source, topics, audience, segments.")] = None,
    batch: Annotated[Optional[Path], typer.Option("--batch", help="A file with one question per line.")] = None,
) -> None:
    """Answer a question from the knowledge base, with citations."""
    from assistant.answers.advisor import Advisor, AskRequest
    from assistant.governance.service import Governance

    if (question is None) == (batch is None):
        fail("give either a QUESTION or --batch FILE")
    filters = parse_filters(filter_)
    governance = Governance(Advisor.from_settings(settings()))
    questions = [question] if batch is None else [l for l in batch.read_text(encoding="utf-8").splitlines() if l.strip()]
    for text in questions:
        answer = governance.ask(AskRequest(question=text, k=k, filters=filters), user=cli_user())
        if as_json:
            emit_json(answer.model_dump(include={"question", "answer", "grounded", "citations", "warnings", "suggestions",
                                                 "composer", "audit_id", "disclaimer"}))
        else:
            typer.echo(render_answer(answer) + ("\n" if batch else ""))


@app.command()
@friendly
def classify(
    profile: Annotated[Path, typer.Argument(help="A JSON or YAML file with one profile or a list of them.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per profile, one per line.")] = False,
) -> None:
    """Size class, value tier and segment of a client, with the rules and numbers that decided them."""
    from assistant.clients.profiles import load_profiles
    from assistant.clients.rules import rules_for
    from assistant.clients.segmentation import classify as run_classify

    s = settings()
    rules = rules_for(s.rules_dir)
    for item in load_profiles(profile):
        result = run_classify(item, rules)
        if as_json:
            emit_json(result.model_dump(include={"client_type", "name", "size_class", "value_tier", "life_stage",
                                                 "segment", "segment_label", "reasons"}))
        else:
            typer.echo(f"{result.name}: {result.segment_label} [{result.segment}]")
            for reason in result.reasons:
                typer.echo(f"  - {reason}")


@app.command()
@friendly
def plan(
    profile: Annotated[Path, typer.Argument(help="A JSON or YAML profile file (the first profile is used).")],
    fmt: Annotated[str, typer.Option("--format", help="md, json or docx.")] = "md",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write to this file instead of standard output.")] = None,
) -> None:
    """Draft a client service plan with every recommendation cited."""
    from assistant.answers.advisor import Advisor
    from assistant.clients.exports import to_docx, to_json, to_markdown
    from assistant.clients.profiles import load_profiles

    if fmt not in ("md", "json", "docx"):
        fail(f"--format must be md, json or docx, got '{fmt}'")
    if fmt == "docx" and out is None:
        fail("--format docx needs --out FILE.docx")
    from assistant.governance.service import Governance

    profiles = load_profiles(profile)
    advisor = Advisor.from_settings(settings())
    advisor.ensure_ingested()
    drafted = Governance(advisor).plan(profiles[0], user=cli_user())
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
    csv: Annotated[Path, typer.Argument(help="A file of retail clients (e.g. the UCI Bank Marketing bank.csv).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the segmented CSV, summaries and chart.")] = Path("segments"),
    columns: Annotated[Optional[Path], typer.Option("--columns", help="Column mapping YAML; default KNOWLEDGE_DIR/data/book_columns.yaml.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Value tiers and behavioural clusters (k-means, k by silhouette) for a whole book of clients."""
    from assistant.clients.book import load_columns, segment_book
    from assistant.clients.rules import rules_for

    s = settings()
    report = segment_book(csv, rules_for(s.rules_dir), load_columns(columns or s.rules_dir / "book_columns.yaml"), out, seed)
    if as_json:
        emit_json(report)
        return
    typer.echo(f"{report.segmented} clients segmented, {report.rejected} rejected (see {report.files['rejects']}); "
               f"k={report.k} clusters (silhouette {report.silhouette:.3f}); {report.seconds:.1f} s")
    for t in report.tiers:
        typer.echo(f"  tier {t.tier:<16} {t.clients:>7} ({t.share:6.1%})  median AUM RMB {t.median_aum_rmb:,.0f}")
    for c in report.clusters:
        typer.echo(f"  cluster {c.cluster}: {c.clients:>7} ({c.share:6.1%})  {c.label}; bundle: {', '.join(c.suggested_bundle)}")
    typer.echo(f"files in {out}")


@app.command()
@friendly
def stats() -> None:
    """Documents, chunks and the last ingest of the store."""
    from assistant.answers.advisor import Advisor

    emit_json(Advisor.from_settings(settings()).stats())


@eval_app.command("beir")
@friendly
def eval_beir(
    folder: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")],
    split: Annotated[str, typer.Option("--split")] = "test",
    mode: Annotated[Optional[list[str]], typer.Option("--mode", help="dense, bm25 or hybrid (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """nDCG@10, recall@100 and MRR@10 of our retrieval on a BEIR dataset, in a temporary collection."""
    from assistant.evaluation.measures import evaluate_beir

    modes = mode or ["hybrid"]
    bad = [m for m in modes if m not in ("dense", "bm25", "hybrid")]
    if bad:
        fail(f"--mode must be dense, bm25 or hybrid, got {bad}")
    results = evaluate_beir(settings(), folder, split, modes, progress=not as_json)
    for r in results:
        if as_json:
            emit_json(r)
        else:
            typer.echo(f"{r.dataset} {r.split} {r.mode:>6}: nDCG@10 {r.ndcg_at_10:.4f}  recall@100 {r.recall_at_100:.4f}  "
                       f"MRR@10 {r.mrr_at_10:.4f}  queries {r.queries}  search {r.search_seconds:.1f}s  index {r.index_seconds:.1f}s")


@eval_app.command("golden")
@friendly
def eval_golden(
    file: Annotated[Optional[Path], typer.Option("--file", help="Default: KNOWLEDGE_DIR/eval/golden.jsonl.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """recall@5, MRR@10 and grounded share over the golden questions."""
    from assistant.answers.advisor import Advisor
    from assistant.evaluation.measures import evaluate_golden

    s = settings()
    advisor = Advisor.from_settings(s)
    advisor.ensure_ingested()
    result = evaluate_golden(advisor, file or s.knowledge_dir / "eval" / "golden.jsonl")
    if as_json:
        emit_json(result)
        return
    typer.echo(f"questions {result.questions}  recall@5 {result.recall_at_5:.3f}  MRR@10 {result.mrr_at_10:.3f}  "
               f"grounded {result.grounded_share:.3f}")
    typer.echo("recall@5 by voice: " + ", ".join(f"{k} {v:.3f}" for k, v in result.by_voice.items()))
    typer.echo("recall@5 by language: " + ", ".join(f"{k} {v:.3f}" for k, v in result.by_language.items()))
    for miss in result.misses:
        typer.echo(f"  miss {miss.id}: expected {miss.expected}, got {miss.got}")


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
    typer.echo(f"{record.kind} {record.id} at {record.created_at} by {record.user or 'unknown'}")
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
        typer.echo(f"{record.id}  {record.created_at}  {record.kind:<6}  {record.user or '-':<12}  {record.output_summary[:70]}")


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
