"""The client side of the ``advisor`` command: ``--client`` specs, ``plan --describe`` and ``eval situations``.

Its own module so the main command stays small; like the rest of the CLI it only calls the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.interfaces.cli_common import emit_json, fail, friendly, settings


def client_state(governance, spec: str):
    """``--client``: a JSON/YAML profile file, or the name of a shipped example (p01-micro-business)."""
    from assistant.clients.profiles import example_profiles, load_profiles
    from assistant.clients.situation.state import ClientState

    path = Path(spec)
    if path.exists():
        return ClientState.from_profile(load_profiles(path)[0], "file", governance.clients.rules)
    examples = example_profiles(governance.settings.profiles_dir)
    if spec in examples:
        return ClientState.from_profile(examples[spec], "example", governance.clients.rules)
    fail(f"--client: no file '{spec}' and no example of that name; give a JSON/YAML profile or one of {', '.join(examples)}")


def described_profile(governance, text: str):
    """The profile the chat would read from ``text``; a missing deciding fact ends the command with its question."""
    from assistant.clients.profiles import validate_profile

    settled, read_as = governance.clients.profile_from_text(text)
    if settled.profile is None:
        fail(f"read as: {read_as}. {settled.question}")
    typer.echo(f"read as: {read_as}", err=True)
    for assumption in settled.assumptions:
        typer.echo(f"assumed: {assumption}", err=True)
    return validate_profile(settled.profile)


@friendly
def eval_situations(
    file: Annotated[Optional[Path], typer.Option("--file", help="Default: KNOWLEDGE_DIR/eval/client_situations.jsonl.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Client situations in the chat: field accuracy of what was read, answers naming the segment and a product."""
    from assistant.answers.advisor import Advisor
    from assistant.clients.situation.advice import ClientAdvisor
    from assistant.clients.situation.evaluate import evaluate_situations

    s = settings()
    advisor = Advisor.from_settings(s)
    advisor.ensure_ingested()
    report = evaluate_situations(ClientAdvisor(advisor), file or s.knowledge_dir / "eval" / "client_situations.jsonl")
    if as_json:
        emit_json(report)
        return
    asked = f"  right question {report.question_share:.3f}" if report.question_share is not None else ""
    typer.echo(f"cases {report.cases}  field accuracy {report.field_accuracy:.3f}  answers naming segment and product "
               f"{report.answer_share:.3f}{asked}")
    typer.echo("by language: " + ", ".join(f"{k} fields {v['field_accuracy']:.3f} answers {v['answer_share']:.3f}"
                                           for k, v in report.by_language.items()))
    for miss in report.misses:
        problems = miss.wrong + [p for p, bad in (("segment not named", miss.segment_named is False),
                                                  ("no fitting product named", miss.product_named is False),
                                                  ("did not ask the right question", miss.asked_right is False)) if bad]
        typer.echo(f"  miss {miss.id}: " + "; ".join(problems))
