"""The Training tab: curriculum, glossary search, quizzes with grading, and progress.

Rendering only: every decision (questions, grades, weak topics) comes from training.py and
progress.py.
"""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError

from assistant.answers.advisor import Advisor
from assistant.errors import AdvisorError
from assistant.training.curriculum import build_curriculum
from assistant.training.glossary import search_glossary
from assistant.training.models import LETTERS, Quiz, QuizRequest
from assistant.training.progress import progress_report
from assistant.training.quizzes import grade, make_quiz, quiz_topics, record_result
from assistant.interfaces.app.common import user_message
from assistant.interfaces.app.wording import choices, page_language, say, tr

MAX_QUESTIONS = 10


def curriculum_markdown(advisor: Advisor) -> str:
    try:
        cur = build_curriculum(advisor.settings)
    except (AdvisorError, ValidationError, ValueError) as exc:
        return f"⚠️ The curriculum cannot be built from this knowledge base: {exc}"
    lines = [f"## {cur.title}"]
    for phase in cur.phases:
        lines.append(f"### {phase.label}")
        for module in (m for m in cur.modules if m.id in phase.modules):
            lines.append(f"**{module.order}. {module.title}** (days {module.first_day}-{module.last_day})")
            lines += [f"- Objective: {o}" for o in module.objectives]
            for reading in module.readings:
                sections = "; ".join(s.heading for s in reading.sections)
                lines.append(f"- Read: *{reading.title}* (`{reading.doc_id}`)" + (f": {sections}" if sections else ""))
            lines += [f"- Activity: {a}" for a in module.activities]
            lines.append("")
    return "\n".join(lines)


def glossary_markdown(advisor: Advisor, query: str) -> str:
    if not (query or "").strip():
        return tr("_Type an English or Chinese term, e.g. `share of wallet` or `普惠`._")
    try:
        found = search_glossary(advisor.settings, query)
    except (AdvisorError, ValidationError) as exc:
        return f"⚠️ {exc}"
    if not found.hits:
        return f"No glossary term matches '{query}'."
    return "\n\n".join(f"**{h.term}** · {h.zh}  \n{h.definition}" + (f"  \n{h.definition_zh}" if h.definition_zh else "")
                       + f"  \n_Explained in:_ {h.doc_title or h.doc} (`{h.doc}`)" for h in found.hits)


def progress_markdown(advisor: Advisor, trainee: str) -> str:
    report = progress_report(advisor.settings, trainee or None)
    who = report.trainee or "the cohort"
    if not report.attempts:
        return f"No quiz answers recorded for {who} yet."
    lines = [f"### Progress of {who}: {report.correct}/{report.attempts} correct ({report.score:.0%})",
             "| topic | answered | correct | score | weak |", "|---|---|---|---|---|"]
    lines += [f"| {t.topic} | {t.attempts} | {t.correct} | {t.score:.0%} | {'⚠️' if t.weak else ''} |" for t in report.topics]
    lines.append("\n**Weak topics:** " + (", ".join(report.weak_topics) if report.weak_topics else "none"))
    if report.trainees:
        lines += ["", "| trainee | answered | score | weak topics |", "|---|---|---|---|"]
        lines += [f"| {t.trainee} | {t.attempts} | {t.score:.0%} | {', '.join(t.weak_topics)} |" for t in report.trainees]
    return "\n".join(lines)


class TrainingTab:
    """Callbacks of the Training tab (curriculum, glossary, quizzes, progress); rendering only.

    >>> with gr.Blocks():
    ...     TrainingTab(advisor).build()
    """

    def __init__(self, advisor: Advisor, auth=None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.auth = auth
        self.language: gr.Radio | None = None

    def trainee(self, request: gr.Request | None, typed: str | None) -> str | None:
        """Whose results these are: with login on, the signed-in user (a typed name would let anyone
        file results under anyone); without login, the name typed in."""
        if self.auth is not None:
            return getattr(request, "username", None) or None
        return (typed or "").strip() or None

    def start_quiz(self, topic_value, n, seed_value, language="en", request: gr.Request = None):
        """``language`` is the quiz's (the radio); the app's own words follow the page's."""
        try:
            quiz = make_quiz(self.settings, QuizRequest(topic=topic_value, n=int(n), seed=int(seed_value or 0),
                                                        language=language or "en"))
        except (AdvisorError, ValidationError, ValueError) as exc:
            message = user_message(exc, page_language(request))
            return [None, f"⚠️ {message}"] + [gr.update(visible=False) for _ in range(MAX_QUESTIONS)]
        updates = []
        for i in range(MAX_QUESTIONS):
            if i < len(quiz.questions):
                q = quiz.questions[i]
                updates.append(gr.update(label=f"{i + 1}. {q.prompt}", visible=True, value=None,
                                         choices=[(f"{LETTERS[j]}. {o}", j) for j, o in enumerate(q.options)]))
            else:
                updates.append(gr.update(visible=False, value=None))
        note = f"_{quiz.note}_" if quiz.note else ""
        return [quiz.model_dump(), note] + updates

    def finish_quiz(self, request: gr.Request, quiz_data, name, *answers):
        """``request`` comes first: Gradio fills in only positional ``gr.Request`` parameters. The feedback's own
        words follow the page's language; the questions, options and explanations stay in the quiz's."""
        lang = page_language(request)
        if not quiz_data:
            return "⚠️ " + say(lang, "Start a quiz first.")
        quiz = Quiz.model_validate(quiz_data)
        graded = grade(quiz, list(answers[: len(quiz.questions)]))
        name = self.trainee(request, name)
        saved = record_result(self.settings, name, graded) if name else 0
        lines = ["### " + say(lang, "Score: {correct}/{answered} answered correctly ({score})", correct=graded.correct,
                              answered=graded.answered, score=f"{graded.score:.0%}")]
        right, wrong, skipped = "✅ " + say(lang, "Correct"), "❌ " + say(lang, "Wrong"), "➖ " + say(lang, "Skipped")
        for item in graded.items:
            mark = right if item.correct else (skipped if item.skipped else wrong)
            answer = say(lang, "Answer: {letter}. {option}", letter=LETTERS[item.answer], option=item.options[item.answer])
            lines.append(f"**{item.number}.** {mark} · {answer}  \n{item.explanation}")
        if saved:
            lines.append(say(lang, "_Saved {count} answers for {name}._", count=saved, name=name))
        return "\n\n".join(lines)

    def build(self) -> None:
        advisor = self.advisor
        with gr.Tab(tr("Curriculum")):
            gr.Markdown(curriculum_markdown(advisor), elem_id="curriculum")
        with gr.Tab(tr("Glossary")):
            query = gr.Textbox(label=tr("Search the glossary (English or 中文)"), elem_id="glossary-query")
            hits = gr.Markdown(glossary_markdown(advisor, ""), elem_id="glossary-hits")
            query.change(lambda q: glossary_markdown(advisor, q), query, hits, api_visibility="private")
        with gr.Tab(tr("Quiz")):
            self._quiz()
        with gr.Tab(tr("Progress")):
            who = gr.Textbox(label=tr("Trainee (blank for the whole cohort)"))
            show = gr.Button(tr("Show progress"))
            report = gr.Markdown()
            show.click(lambda name: progress_markdown(advisor, name), who, report, api_visibility="private")

    def _quiz(self) -> None:
        quiz_state = gr.State(None)
        with gr.Row():
            try:
                known = [t.topic for t in quiz_topics(self.settings)]
            except (AdvisorError, ValidationError, ValueError):
                known = []
            topic = gr.Dropdown(choices(["any"] + known), value="any", label=tr("Topic"))
            count = gr.Slider(1, MAX_QUESTIONS, value=5, step=1, label=tr("Questions"))
            seed = gr.Number(label=tr("Seed (same seed, same quiz)"), value=1, precision=0)
            trainee = gr.Textbox(label=tr("Trainee name (to keep results)"), visible=self.auth is None)
            self.language = gr.Radio([("English", "en"), ("中文", "zh")], value="en", label=tr("Quiz language"),
                                     elem_id="quiz-language")
        if self.auth is not None:
            gr.Markdown(tr("_Results are kept under the name you signed in with._"))
        new = gr.Button(tr("New quiz"), variant="primary", elem_id="new-quiz")
        radios = [gr.Radio([], label=f"Question {i + 1}", visible=False, elem_id=f"quiz-q{i + 1}") for i in range(MAX_QUESTIONS)]
        submit = gr.Button(tr("Submit answers"), elem_id="submit-quiz")
        result = gr.Markdown(elem_id="quiz-result")
        new.click(self.start_quiz, [topic, count, seed, self.language], [quiz_state, result] + radios, api_visibility="private")
        submit.click(self.finish_quiz, [quiz_state, trainee] + radios, result, api_visibility="private")


def build_training_tab(advisor: Advisor, auth=None) -> TrainingTab:
    """The tab builder the server passes to ``build_app``; returns the tab (its ``language`` follows the browser)."""
    tab = TrainingTab(advisor, auth)
    tab.build()
    return tab
