"""The app's run-time words follow the page's language in the Training tab's quiz feedback, the Book tab's
report and errors, and the errors for a malformed client or bad input: Chinese for a Chinese browser,
English otherwise. The tabs' functions are called directly, with a request as Gradio passes it; what comes
from the packages (quiz content, the segment report, an error's reason) is left as it is."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio import helpers
from starlette.datastructures import Headers

from assistant.answers.advisor import Advisor
from assistant.clients.book import segment_book
from assistant.clients.book_actions import load_actions
from assistant.clients.book_io import load_columns
from assistant.clients.book_report import headline
from assistant.clients.rules import rules_for
from assistant.clients.situation.panel import PANEL_FIELDS
from assistant.errors import AdvisorError
from assistant.interfaces.app.ask_tab import AskTab
from assistant.interfaces.app.book_tab import KEYS, NONE, BookTab
from assistant.interfaces.app.common import FORM_KEYS, AppContext, user_message
from assistant.interfaces.app.plan_tab import PlanTab
from assistant.interfaces.app.training_tab import TrainingTab
from assistant.training.models import QuizRequest
from assistant.training.quizzes import make_quiz

from .test_app import small_book

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def page(accept_language: str) -> SimpleNamespace:
    """What the tabs read from Gradio's request: the browser's languages and the signed-in user."""
    return SimpleNamespace(headers=Headers({"accept-language": accept_language}), username=None)


ZH, EN = page("zh-CN,zh;q=0.9,en;q=0.8"), page("en-US,en;q=0.9")


def NO_PROGRESS(fraction, desc=None):
    """Where Gradio passes the tracked progress bar."""


@pytest.fixture()
def ctx(make_settings):
    return AppContext(Advisor(make_settings()))


# ------------------------------------------------------------------ 1. the Training tab's quiz feedback
def test_quiz_feedback_reads_in_the_pages_language_and_the_quiz_stays_in_its_own(ctx):
    quiz = make_quiz(ctx.settings, QuizRequest(n=3, seed=5))   # an English quiz, whatever the page
    right, wrong = quiz.questions[0].answer, (quiz.questions[1].answer + 1) % 4
    tab = TrainingTab(ctx.advisor)
    chinese = tab.finish_quiz(ZH, quiz.model_dump(), "wang.fang", right, wrong, None)
    assert chinese.startswith("### 得分：答对 1/2 题（50%）"), chinese
    assert "✅ 回答正确 · 正确答案：" in chinese and "❌ 回答错误 · 正确答案：" in chinese and "➖ 未作答" in chinese
    assert "_已为 wang.fang 保存 2 道题的作答记录。_" in chinese
    assert not re.search(r"Score|Correct|Wrong|Skipped|Answer:|Saved", chinese), chinese
    assert quiz.questions[0].explanation in chinese   # the explanation itself is the quiz's, not translated

    english = tab.finish_quiz(EN, quiz.model_dump(), "wang.fang", right, wrong, None)
    assert english.startswith("### Score: 1/2 answered correctly (50%)")
    assert "✅ Correct · Answer: " in english and "❌ Wrong · Answer: " in english and "➖ Skipped · Answer: " in english
    assert "_Saved 2 answers for wang.fang._" in english
    assert not re.search(r"得分|回答正确|回答错误|未作答|正确答案|作答记录", english)

    assert tab.finish_quiz(ZH, None, "") == "⚠️ 请先开始测验。"
    assert tab.finish_quiz(EN, None, "") == "⚠️ Start a quiz first."
    assert tab.finish_quiz(None, None, "") == "⚠️ Start a quiz first."   # no request (a script): English


def test_a_refused_quiz_request_has_a_chinese_lead_and_keeps_the_reason(ctx):
    tab = TrainingTab(ctx.advisor)
    chinese = tab.start_quiz("no-such-topic", 3, 1, "en", ZH)[1]
    assert chinese.startswith("⚠️ 输入有误：unknown topic 'no-such-topic'"), chinese
    english = tab.start_quiz("no-such-topic", 3, 1, "en", EN)[1]
    assert english.startswith("⚠️ unknown topic 'no-such-topic'") and not CHINESE.search(english)


# ------------------------------------------------------------------ 2. the Book tab's report and errors
def mapped(book: BookTab, path: str) -> list:
    """The mapping widgets' values as the tab fills them from the header."""
    cols, _ = book.auto_columns(Path(path))
    values = []
    for key in KEYS:
        value = cols.columns.get(key)
        values.append((value if isinstance(value, list) else [value] if value else []) if key == "frequency" else value or NONE)
    return values


def test_the_book_tabs_report_reads_in_the_pages_language(ctx, tmp_path):
    book = BookTab(ctx)
    path = small_book(tmp_path / "book.csv")
    assert book.suggest(path, ZH)[-1] == "共 17 列，约 201 行，以分号分隔；已匹配 13 个字段。请核对列映射，然后开始分群。"
    assert book.suggest(path, EN)[-1] == "17 columns, about 201 rows, semicolon-separated; 13 fields matched. Check the mapping, then segment."

    error, status, _, _, _, rejected, *_ = book.run(ZH, path, "auto", 1.0, "auto", NO_PROGRESS, *mapped(book, path))
    assert error == ""
    assert status.startswith("**读取 201 行，分群 200 行，无法使用 1 行 · k = ") and " · 内存峰值 " in status, status
    assert "个风险复核客群" in status and "轮廓系数" in status and "- k 的选择依据：" in status
    assert not re.search(r"rows read|peak memory|k chosen by", status)
    assert rejected == "**1 行无法使用**（下方列出前 1 行，全部见 `rejected_rows.csv`）"

    report = segment_book(Path(path), rules_for(ctx.settings.rules_dir), load_columns(ctx.settings.rules_dir / "book_columns.yaml"),
                          tmp_path / "out", actions=load_actions(ctx.settings.rules_dir / "book_actions.yaml"))
    english = book._status(report, "en")
    assert english.startswith(f"**{headline(report)}** · peak memory ")   # the package's own headline, as before
    assert f"- k chosen by: {report.clustering.chosen_by}" in english and not CHINESE.search(english.split("\n")[0])
    assert book._views(report, "en")[3] == "**1 rows could not be used** (first 1 below; all in `rejected_rows.csv`)"
    assert book._views(report.model_copy(update={"rejected": 0}), "zh")[3] == "没有无法使用的行。"


def test_a_broken_book_upload_is_reported_in_the_pages_language_with_the_reason_kept(ctx, tmp_path):
    book = BookTab(ctx)
    broken = tmp_path / "book.xlsx"
    broken.write_bytes(b"not a workbook")
    reason = "book.xlsx: cannot read it as an Excel workbook"
    chinese = book.suggest(str(broken), ZH)[-1]
    assert chinese.startswith(f"⚠️ 上传的文件无法读取：{reason}"), chinese
    english = book.suggest(str(broken), EN)[-1]
    assert english.startswith(f"⚠️ {reason}") and not CHINESE.search(english)

    nothing = [NONE] * len(KEYS)
    assert book.run(ZH, str(broken), "auto", 1.0, "auto", NO_PROGRESS, *nothing)[0].startswith(f"⚠️ 无法完成分群：{reason}")
    assert book.run(EN, str(broken), "auto", 1.0, "auto", NO_PROGRESS, *nothing)[0].startswith(f"⚠️ {reason}")
    assert book.run(ZH, None, "auto", 1.0, "auto", NO_PROGRESS, *nothing)[0] == "⚠️ 请先上传客户名单。"
    assert book.run(EN, None, "auto", 1.0, "auto", NO_PROGRESS, *nothing)[0] == "⚠️ Upload a client book first."


# ------------------------------------------------------------------ 3. a malformed client or bad input
def test_a_malformed_client_in_the_plan_form_gets_a_chinese_lead_and_exact_field_names(ctx, tmp_path):
    form = dict.fromkeys(FORM_KEYS) | {"client_type": "enterprise", "name": "Acme", "industry": "retail", "employees": -3}
    plan = PlanTab(ctx)
    chinese = plan.draft(ZH, "en", *form.values())[0]
    assert chinese.startswith("⚠️ 输入有误：") and "employees: Input should be greater than or equal to 0" in chinese, chinese
    english = plan.draft(EN, "en", *form.values())[0]
    assert english.startswith("⚠️ ") and "employees: Input should be greater than or equal to 0" in english
    assert not CHINESE.search(english)

    broken = tmp_path / "client.json"
    broken.write_text('{"name": ', encoding="utf-8")
    assert plan.load_upload(str(broken), ZH)[-1].startswith("⚠️ 输入有误：client.json: not valid JSON")
    assert plan.load_upload(str(broken), EN)[-1].startswith("⚠️ client.json: not valid JSON")
    # a refused review step is not an input mistake: it reads 操作未完成
    assert plan.submit("no-such-plan", ZH) == "⚠️ 操作未完成：no plan with id 'no-such-plan'"
    assert plan.submit("no-such-plan", EN) == "⚠️ no plan with id 'no-such-plan'"


def test_a_malformed_client_in_the_ask_tabs_panel_gets_a_chinese_lead_and_exact_field_names(ctx):
    ask = AskTab(ctx)
    panel = dict.fromkeys(PANEL_FIELDS) | {"client_type": "enterprise", "employees": -3, "stated_needs": ""}
    chinese = ask.update_client(ZH, None, *panel.values(), [], [])[3]
    assert chinese == "⚠️ 输入有误：client panel: employees: Input should be greater than or equal to 0 (got -3)"
    english = ask.update_client(EN, None, *panel.values(), [], [])[3]
    assert english == "⚠️ client panel: employees: Input should be greater than or equal to 0 (got -3)"
    assert ask.load_file(None, [], [], None, ZH)[3] == "⚠️ 请先选择 JSON 或 YAML 格式的客户档案文件。"
    assert ask.load_file(None, [], [], None, EN)[3] == "⚠️ Choose a JSON or YAML profile file first."
    assert ask.use_example("no-such-example", [], [], None, ZH)[3] == "⚠️ 请先选择示例客户。"


def test_user_message_leads_in_chinese_only_for_a_chinese_page():
    from pydantic import BaseModel, Field, ValidationError

    class Form(BaseModel):
        employees: int = Field(ge=0)

    with pytest.raises(ValidationError) as caught:
        Form(employees=-1)
    assert user_message(caught.value) == "employees: Input should be greater than or equal to 0"
    assert user_message(caught.value, "zh") == "输入有误：employees: Input should be greater than or equal to 0"
    assert user_message(AdvisorError("the store is locked"), "zh") == "操作未完成：the store is locked"
    assert user_message(ValueError("bad k"), "zh", refused_input=False) == "操作未完成：bad k"
    assert user_message(AdvisorError("the store is locked"), "en") == "the store is locked"


def test_gradio_passes_the_request_to_every_callback_that_reads_the_pages_language(ctx):
    """A ``gr.Request`` parameter after ``*values`` is never filled in by Gradio: the message would then
    read in English on a Chinese page (and be recorded without its user)."""
    book, plan, ask, training = BookTab(ctx), PlanTab(ctx), AskTab(ctx), TrainingTab(ctx.advisor)
    callbacks = {book.suggest: 1, book.run: 4 + len(KEYS), plan.draft: 1 + len(FORM_KEYS), plan.load_upload: 1,
                 plan.submit: 1, ask.update_client: 1 + len(PANEL_FIELDS) + 2, ask.from_plan_tab: len(FORM_KEYS) + 3,
                 ask.load_file: 4, ask.use_example: 4, training.start_quiz: 4, training.finish_quiz: 2 + 10}
    marker = object()
    for callback, inputs in callbacks.items():
        filled, *_ = helpers.special_args(callback, list(range(inputs)), request=marker)
        assert marker in filled, callback.__qualname__


def test_gradio_tracks_the_book_tabs_progress_and_passes_the_mapping_after_it(ctx):
    """A ``gr.Progress`` default after ``*values`` is never tracked: the bar would stand still."""
    book = BookTab(ctx)
    inputs = ["book.csv", "auto", 1.0, "auto", *[f"col{i}" for i in range(len(KEYS))]]
    filled, progress_index, *_ = helpers.special_args(book.run, list(inputs), request="req")
    assert progress_index == 5
    assert filled[:5] == ["req", "book.csv", "auto", 1.0, "auto"] and filled[6:] == inputs[4:]



def test_an_upload_in_the_knowledge_tab_reports_in_the_pages_language(ctx, tmp_path):
    from assistant.interfaces.app.knowledge_tab import KnowledgeTab

    memo = tmp_path / "branch-memo.md"
    memo.write_text("# 网点备忘\n\n贷款发放以后三十天内要完成首次贷后检查。\n", encoding="utf-8")
    tab = KnowledgeTab(ctx)
    report, stats = tab.upload([str(memo)], ZH, NO_PROGRESS)
    assert "✅ 已添加：" in report, report
    assert re.search(r"文档：新增 \d+ 篇，更新 \d+ 篇，删除 \d+ 篇，未变 \d+ 篇；共 \d+ 个段落", report), report
    assert "documents:" not in report and CHINESE.search(stats)
    english, _ = tab.upload([str(memo)], EN, NO_PROGRESS)
    assert re.search(r"documents: \d+ added, \d+ updated, \d+ removed, \d+ unchanged;", english), english
    # the app's template is the ingest report's own wording, so the two cannot drift apart
    from assistant.interfaces.app.knowledge_tab import ingest_summary

    report = ctx.advisor.ingest()
    assert ingest_summary(report, "en") == report.summary()
