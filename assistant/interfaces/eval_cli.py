"""``advisor eval beir|golden|situations``: measure retrieval and answer quality.

Its own module so the main command stays one screen per job; mounted by assistant.interfaces.cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.interfaces.cli_common import emit_json, fail, friendly, settings
from assistant.interfaces.client_cli import eval_situations


eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval and answer quality.")
eval_app.command("situations")(eval_situations)


@eval_app.command("beir")
@friendly
def eval_beir(
    folder: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")],
    split: Annotated[str, typer.Option("--split")] = "test",
    mode: Annotated[Optional[list[str]], typer.Option("--mode", help="dense, bm25 or hybrid (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """nDCG@10, recall@100 and MRR@10 of our retrieval on a BEIR dataset, in a temporary collection."""
    from assistant.evaluation.beir import evaluate_beir

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
    which: Annotated[str, typer.Option("--set", help="v2 (default), v1, holdout, blind (written without sight of the system, documents only) blind2 (the same, with sections and key points), blind3 to blind9 (written after 2026-12-04's changes, from the documents' bodies alone), rates (questions on rates, fees and figures, answered or not), framed-holdout or framed-blind2 (those two worded as askers who say where they work): a file under KNOWLEDGE_DIR/eval/.")] = "v2",
    file: Annotated[Optional[Path], typer.Option("--file", help="Another golden file in the same format.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    via: Annotated[str, typer.Option("--via", help="composer (default): the answer composer alone; chat: the answer the "
                                     "chat and /ask give, where a message read as about a client gets the client reply.")] = "composer",
) -> None:
    """Section recall@5 and MRR@10, key-point coverage of the answer text, declines and answer length."""
    from assistant.answers.advisor import Advisor
    from assistant.evaluation.golden import evaluate_golden, golden_path

    if via not in ("composer", "chat"):
        fail(f"--via must be composer or chat, got {via}")
    s = settings()
    path = file or golden_path(s, which)
    advisor = Advisor.from_settings(s)
    advisor.ensure_ingested()
    client_turn = None
    if via == "chat":
        from assistant.clients.situation.advice import ClientAdvisor

        clients = ClientAdvisor(advisor)

        def client_turn(message: str):
            reply, _ = clients.respond(message, None)
            return reply.answer if reply.kind != "general" else None
    report = evaluate_golden(advisor, path, name=None if file else which, client_turn=client_turn)
    if as_json:
        emit_json(report)
        return
    typer.echo(f"golden {report.set} ({report.file}), {report.overall.questions} questions, {report.seconds:.0f} s"
               + (f"; via the chat: {report.client_turns} answered as about a client" if report.via == "chat" else ""))
    typer.echo(f"{'group':<22}{'n':>5}{'sec r@5':>9}{'MRR@10':>8}{'doc r@5':>9}{'key pts':>9}"
               f"{'ans decl':>9}{'unans decl':>11}{'decl prec':>10}{'words':>7}")
    rows = [("all", report.overall)] + [(f"lang {k}", v) for k, v in report.by_language.items()] + \
        [(f"voice {k}", v) for k, v in report.by_voice.items()] + [(f"kind {k}", v) for k, v in report.by_kind.items()]
    for name, b in rows:
        points = "-" if b.key_point_coverage is None else f"{b.key_point_coverage:.3f}"
        typer.echo(f"{name:<22}{b.questions:>5}{b.section_recall_at_5:>9.3f}{b.section_mrr_at_10:>8.3f}"
                   f"{b.doc_recall_at_5:>9.3f}{points:>9}{b.answerable_declined:>9.3f}{b.unanswerable_declined:>11.3f}"
                   f"{b.decline_precision:>10.3f}{b.median_words:>7.0f}")
    typer.echo(f"length: {report.length_unit}")
    o = report.overall
    typer.echo(f"answered with the caution that the base may not cover it: {o.answerable_cautioned:.1%} of answerable, "
               f"{o.unanswerable_cautioned:.1%} of unanswerable questions (declined or cautioned: "
               f"{o.unanswerable_declined + o.unanswerable_cautioned:.1%})")
    for r in report.questions:
        if r.answerable and (r.declined or (r.key_points is not None and r.key_points < 1.0)):
            what = "declined" if r.declined else f"missing {r.missing}"
            typer.echo(f"  {r.id}: {what}; section rank {r.section_rank}")
        elif not r.answerable and not r.declined:
            typer.echo(f"  {r.id}: answered a question it should decline" + (", with the caution" if r.cautioned else ""))


