"""``advisor quiz`` and ``advisor training curriculum|glossary|progress``: the trainer's commands.

Two Typer apps the main ``advisor`` app mounts (``app.add_typer(quiz_app, name="quiz")`` and
``app.add_typer(train_app, name="training")``). Both share ``friendly`` errors, ``settings()`` and
``emit_json`` from assistant.interfaces.cli_common.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from assistant.errors import InputError
from assistant.interfaces.cli_common import emit_json, fail, friendly, settings
from assistant.training.models import (
    LETTERS,
    Curriculum,
    GlossarySearch,
    Quiz,
    QuizRequest,
    QuizResult,
)

if TYPE_CHECKING:  # pragma: no cover
    from assistant.training.progress import ProgressReport

# The training package's builders are imported by the command that runs them: every `advisor` command
# (a one-shot `advisor ask` too) imports this module to mount the subcommands, and should not pay for them.

quiz_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, subcommand_metavar="",
                       help="Multiple-choice quizzes from the knowledge base, graded with explanations.")
train_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                        help="Onboarding curriculum, bilingual glossary and trainee progress.")


# ----------------------------------------------------------------------------------------- quiz


@quiz_app.callback(invoke_without_command=True)
@friendly
def quiz(
    topic: Annotated[Optional[str], typer.Option("--topic", help="Only questions on this topic, e.g. sme-lending, compliance.")] = None,
    n: Annotated[int, typer.Option("--n", min=1, max=100, help="Number of questions.")] = 10,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Same seed, same quiz; default: a new one (printed).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the quiz, answers and explanations as one JSON object.")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", help="Ask in the terminal (A-D), explain each answer, keep the score.")] = False,
    trainee: Annotated[Optional[str], typer.Option("--trainee", help="Whose results to keep (with --interactive).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="en or zh: the quiz's language (the same questions and answers, "
                                                      "worded in Chinese and cited from the Chinese editions).")] = "en",
) -> None:
    """Build a quiz from the glossary, the rule tables and the example profiles."""
    from assistant.training.progress import clean_trainee
    from assistant.training.quizzes import make_quiz, record_result

    if lang not in ("en", "zh"):
        fail(f"--lang must be en or zh, got '{lang}'")
    if interactive and as_json:
        fail("--json and --interactive cannot be combined; use --json to print a quiz, --interactive to take it")
    if trainee is not None and not interactive:
        fail("--trainee only applies with --interactive")
    if interactive and trainee is None:
        fail("--interactive needs --trainee NAME so the results can be kept for the trainer")
    name = clean_trainee(trainee) if interactive else None
    config = settings()
    built = make_quiz(config, QuizRequest(topic=topic, n=n, seed=seed, language=lang))
    if interactive:
        result = take_quiz(built, read_line=sys.stdin.readline, write=typer.echo, echo_input=not sys.stdin.isatty())
        stored = record_result(config, name, result) if result.answered else 0
        typer.echo(render_score(result) + (f"\nSaved {stored} answers for {name}." if stored else "\nNothing answered, nothing saved."))
    elif as_json:
        emit_json(built)
    else:
        typer.echo(render_quiz(built))


def render_question(number: int, total: int, question) -> str:
    lines = [f"{number}/{total}. [{question.topic} · {question.kind}] {question.prompt}"]
    lines += [f"   {LETTERS[i]}. {option}" for i, option in enumerate(question.options)]
    return "\n".join(lines)


def render_quiz(quiz: Quiz) -> str:
    """A printable quiz with the answer key at the end, for a paper session."""
    total = len(quiz.questions)
    head = f"Quiz {quiz.id} · seed {quiz.seed} · topic {quiz.topic or 'any'} · {total} questions"
    parts = [head + (f" ({quiz.note})" if quiz.note else ""), ""]
    parts += [render_question(i, total, q) + "\n" for i, q in enumerate(quiz.questions, start=1)]
    parts.append("Answer key")
    parts += [f"{i}. {q.answer_letter}: {q.options[q.answer]}. {q.explanation}" for i, q in enumerate(quiz.questions, start=1)]
    parts.append(f"\nSame quiz again: --seed {quiz.seed}. Take it: --interactive --trainee NAME.")
    return "\n".join(parts)


def take_quiz(quiz: Quiz, read_line: Callable[[], str], write: Callable[..., None], echo_input: bool = False) -> QuizResult:
    """Ask each question, read A-D (q stops), show the explanation, then grade; end of input stops too,
    so a piped stdin with fewer lines than questions is graded on what was answered. ``echo_input``
    repeats piped answers so a transcript reads like a terminal session."""
    answers: list[int | None] = [None] * len(quiz.questions)
    total = len(quiz.questions)
    for index, question in enumerate(quiz.questions):
        write("\n" + render_question(index + 1, total, question))
        chosen = _read_choice(read_line, write, echo_input)
        if isinstance(chosen, str):
            write(("No more input" if chosen == "eof" else "Stopped") + "; the remaining questions are skipped.")
            break
        answers[index] = chosen
        if chosen == question.answer:
            write("Correct.")
        else:
            write(f"Not quite: the answer is {question.answer_letter}. {question.options[question.answer]}")
        write(question.explanation)
    from assistant.training.quizzes import grade

    return grade(quiz, answers)


def _read_choice(read_line: Callable[[], str], write: Callable[..., None], echo_input: bool) -> int | str:
    """An option index, or "stop" (q) / "eof" (input ended); anything else is asked again."""
    from assistant.training.quizzes import parse_answer

    while True:
        write("Your answer (A-D, q to stop): ", nl=False)
        line = read_line()
        if not line:
            write("")
            return "eof"
        text = line.strip()
        if echo_input:
            write(text)
        if text.lower() in ("q", "quit", "exit"):
            return "stop"
        try:
            chosen = parse_answer(text)
        except InputError:
            chosen = None
        if chosen is not None:
            return chosen
        write("Please type A, B, C or D (or q to stop).")


def render_score(result: QuizResult) -> str:
    skipped = result.total - result.answered
    lines = [f"\nScore: {result.correct}/{result.answered} ({result.score:.0%})"
             + (f", {skipped} skipped" if skipped else "")]
    lines += [f"  {t.topic}: {t.correct}/{t.answered} ({t.score:.0%})" for t in result.by_topic]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- training


@train_app.command("curriculum")
@friendly
def curriculum_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the curriculum as one JSON object.")] = False,
) -> None:
    """The onboarding path: modules by 30/60/90-day phase, readings, related documents and terms."""
    from assistant.training.curriculum import build_curriculum

    result = build_curriculum(settings())
    if as_json:
        emit_json(result)
    else:
        typer.echo(render_curriculum(result))


def render_curriculum(curriculum: Curriculum) -> str:
    lines = [f"{curriculum.title} (for {', '.join(curriculum.audience)})"]
    modules = {m.id: m for m in curriculum.modules}
    for phase in curriculum.phases:
        lines += ["", phase.label]
        for module in (modules[i] for i in phase.modules):
            lines.append(f"  {module.order}. {module.title} (days {module.first_day}-{module.last_day}) [{module.id}]")
            lines += [f"     - {o}" for o in module.objectives]
            lines.append("     Read:")
            for reading in module.readings:
                lines.append(f"       {reading.doc_id}: {reading.title}")
                lines += [f"         > {s.path}" for s in reading.sections]
            if module.related:
                lines.append("     Related: " + ", ".join(r.doc_id for r in module.related))
            if module.glossary_terms:
                lines.append("     Terms: " + "; ".join(module.glossary_terms))
            lines += [f"     Do: {a}" for a in module.activities]
            lines.append("     Practise: " + "; ".join(f"advisor quiz --topic {t}" for t in module.topics))
    if curriculum.unassigned_docs:
        lines += ["", "Documents no module covers yet: " + ", ".join(d.doc_id for d in curriculum.unassigned_docs)]
    return "\n".join(lines)


@train_app.command("glossary")
@friendly
def glossary_cmd(
    query: Annotated[str, typer.Argument(help="An English or Chinese term (or part of one), e.g. factoring or 保理.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as one JSON object.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Most hits to show.")] = 20,
) -> None:
    """Search the bilingual glossary: exact term first, then prefixes, then mentions in definitions."""
    from assistant.training.glossary import search_glossary

    result = search_glossary(settings(), query, limit)
    if as_json:
        emit_json(result)
    else:
        typer.echo(render_glossary(result))


def render_glossary(result: GlossarySearch) -> str:
    if not result.hits:
        return f"No glossary term matches '{result.query}'."
    lines = [f"{e.term} ({e.zh}): {' '.join(e.definition.split())}" + (f" / {e.definition_zh}" if e.definition_zh else "")
             + f" [{e.doc}]" for e in result.hits]
    if result.total > len(result.hits):
        lines.append(f"... {result.total - len(result.hits)} more; raise --limit to see them")
    return "\n".join(lines)


@train_app.command("progress")
@friendly
def progress_cmd(
    trainee: Annotated[Optional[str], typer.Option("--trainee", help="One trainee; default: the whole cohort.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    weak_below: Annotated[float, typer.Option("--weak-below", min=0.01, max=1.0, help="A topic scoring below this is weak.")] = 0.7,
    min_attempts: Annotated[int, typer.Option("--min-attempts", min=1, help="Answers needed before a topic can be called weak.")] = 3,
) -> None:
    """Per-topic scores and weak topics for a trainee or the cohort."""
    from assistant.training.progress import progress_report

    report = progress_report(settings(), trainee, weak_below, min_attempts)
    if as_json:
        emit_json(report)
    else:
        typer.echo(render_progress(report))


def render_progress(report: ProgressReport) -> str:
    if report.attempts == 0:
        return "No quiz results recorded yet; trainees add them with: advisor quiz --interactive --trainee NAME"
    who = report.trainee or f"Cohort of {len(report.trainees)} trainee(s)"
    lines = [f"{who}: {report.correct}/{report.attempts} correct ({report.score:.0%})", "",
             f"  {'topic':<26}{'answers':>8}{'score':>7}"]
    lines += [f"  {t.topic:<26}{t.attempts:>8}{t.score:>7.0%}{'  weak' if t.weak else ''}" for t in report.topics]
    lines += ["", "Weak topics: " + (", ".join(report.weak_topics) or f"none (all at {report.weak_below:.0%} or better, "
                                                                      f"or fewer than {report.min_attempts} answers)")]
    if report.trainees:
        lines += ["", "By trainee:"]
        lines += [f"  {s.trainee}: {s.correct}/{s.attempts} ({s.score:.0%}); weak: {', '.join(s.weak_topics) or 'none'}; "
                  f"last {s.last_answered_at}" for s in report.trainees]
    return "\n".join(lines)
