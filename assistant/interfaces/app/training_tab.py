"""The Training tab: curriculum, glossary search, quizzes with grading, and progress.

Rendering only: every decision (questions, grades, weak topics) comes from the training package, and so do
the curriculum, glossary hits and progress reports as Markdown (training.rendering), in the page's language.
"""

from __future__ import annotations

import gradio as gr
from pydantic import ValidationError

from assistant.answers.advisor import Advisor
from assistant.errors import AdvisorError
from assistant.training import rendering
from assistant.training.curriculum import build_curriculum
from assistant.training.glossary import search_glossary
from assistant.training.models import LETTERS, Quiz, QuizRequest
from assistant.training.progress import progress_report
from assistant.training.quizzes import grade, make_quiz, quiz_topics, record_result
from assistant.interfaces.app.common import user_message
from assistant.interfaces.app.wording import choices, page_language, say, tr

MAX_QUESTIONS = 10


def curriculum_markdown(advisor: Advisor, language: str = "en") -> str:
    """The curriculum in ``language`` (the page's): built and worded by the training package."""
    try:
        return rendering.curriculum_markdown(build_curriculum(advisor.settings, language), language)
    except (AdvisorError, ValidationError, ValueError) as exc:
        return "⚠️ " + say(language, "The curriculum cannot be built from this knowledge base: {detail}", detail=exc)


def glossary_markdown(advisor: Advisor, query: str, language: str = "en") -> str:
    """Glossary hits in ``language`` (the page's): on a Chinese page the Chinese term leads and each hit names
    the document's Chinese edition."""
    if not (query or "").strip():
        return tr("_Type an English or Chinese term, e.g. `share of wallet` or `普惠`._")
    try:
        found = search_glossary(advisor.settings, query, edition=language)
        return rendering.glossary_markdown(found, language, query)
    except (AdvisorError, ValidationError) as exc:
        return "⚠️ " + (user_message(exc, language) if language == "zh" else str(exc))


def progress_markdown(advisor: Advisor, trainee: str, language: str = "en") -> str:
    """A trainee's (or, with no name, the cohort's) progress in ``language`` (the page's); a name with no
    results is answered with the reason instead of failing the event."""
    try:
        return rendering.progress_markdown(progress_report(advisor.settings, trainee or None), language)
    except AdvisorError as exc:
        return "⚠️ " + user_message(exc, language)


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

    def curriculum(self, request: gr.Request = None) -> str:
        """The curriculum in the page's language, shown when the page loads."""
        return curriculum_markdown(self.advisor, page_language(request))

    def glossary(self, request: gr.Request, query: str | None) -> str:
        """``request`` comes first: Gradio fills in only positional ``gr.Request`` parameters."""
        return glossary_markdown(self.advisor, query or "", page_language(request))

    def progress(self, request: gr.Request, name: str | None) -> str:
        return progress_markdown(self.advisor, name or "", page_language(request))

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
            curriculum = gr.Markdown(curriculum_markdown(advisor), elem_id="curriculum")
            # Rebuilt in the page's language when a page loads (the value above is what a page shows first).
            gr.on(None, self.curriculum, None, curriculum, api_visibility="private", show_progress="hidden")
        with gr.Tab(tr("Glossary")):
            query = gr.Textbox(label=tr("Search the glossary (English or 中文)"), elem_id="glossary-query")
            hits = gr.Markdown(glossary_markdown(advisor, ""), elem_id="glossary-hits")
            query.change(self.glossary, query, hits, api_visibility="private")
        with gr.Tab(tr("Quiz")):
            self._quiz()
        with gr.Tab(tr("Progress")):
            who = gr.Textbox(label=tr("Trainee (blank for the whole cohort)"))
            show = gr.Button(tr("Show progress"))
            report = gr.Markdown()
            show.click(self.progress, who, report, api_visibility="private")

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
