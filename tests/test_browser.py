"""The app in a real headless Chromium (Debian's package, driven by Playwright): ask, plan, download."""

import os
import re
import shutil
from pathlib import Path

import pytest

from .appserver import running_app
from .conftest import KNOWLEDGE, make_knowledge

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install.sh --browser)")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS = ["coverage-team-models", "client-profitability-raroc-eva", "retail-tier-scheme", "sme-size-classification",
        "supply-chain-finance", "compliance-basics-for-rms", "key-account-planning", "major-clients-and-their-needs"]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One app server and one Chromium for the module: (browser, url)."""
    from playwright.sync_api import expect, sync_playwright

    base = tmp_path_factory.mktemp("browser")
    # after the warm-up: on a slow day the first answers waited behind it past a minute (a follow-up about
    # the client's visit cadence timed out); how fast answers come is measured in bench/, not here
    with running_app(make_knowledge(base / "knowledge", DOCS), base / "data", warm=True) as (url, _, _):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            expect.set_options(timeout=60_000)
            yield browser, url
            browser.close()


def open_page(session, locale: str = "en-US"):
    browser, url = session
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale=locale)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture(scope="module")
def page(session):
    """An English browser, shared by the tests in order (a user's session goes on from test to test)."""
    page = open_page(session)
    yield page
    page.context.close()


def expected_chunks() -> int:
    """The chunks the app's store must hold, counted independently of the app (default chunking)."""
    from assistant.config import Settings
    from assistant.knowledge.chunking import chunk_document
    from assistant.knowledge.documents import load_documents

    s = Settings(_env_file=None)
    docs = load_documents(KNOWLEDGE / "docs").docs
    return sum(len(chunk_document(d, s.chunk_size, s.chunk_overlap)) for d in docs if d.meta.id in DOCS)


def shots() -> Path:
    folder = Path(os.environ.get("ADVISOR_SCREENSHOTS", "") or Path(__file__).parent / ".." / "data" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_ask_shows_an_answer_with_citations(page):
    page.fill("#question textarea", "What does one client, one policy mean for a major client?")
    page.click("#ask-button")
    page.wait_for_selector("#sources :text('[1]')")
    chat = page.inner_text("#chat")
    assert "[1]" in chat
    assert "coverage-team-models" in page.inner_text("#sources")
    page.click("#thumbs-up")
    page.wait_for_selector("#feedback-note :text('feedback saved')")
    page.screenshot(path=str(shots() / "ask.png"), full_page=False)


def test_follow_up_is_rewritten_and_answered(page):
    page.fill("#question textarea", "and for retail clients?")
    page.click("#ask-button")
    page.wait_for_selector("#sources :text('Searched as')")
    assert "retail clients" in page.inner_text("#sources")


def test_plan_from_an_example_profile_with_docx_download(page):
    page.get_by_role("tab", name="Plan").click()
    page.click("#example input")
    page.get_by_role("option", name="p05-large-soe").click()
    page.click("#load-example")
    page.wait_for_selector("#form-note :text('Loaded example')")
    page.click("#draft-plan")
    page.wait_for_selector("#plan-preview :text('Client service plan')")
    preview = page.inner_text("#plan-preview")
    for title in ("Recommended product bundle", "Risks and compliance checks", "Next steps (30/60/90 days)", "Sources"):
        assert title in preview
    assert "Major client" in page.inner_text("#segment")
    with page.expect_download() as info:
        page.click("#download-docx")
    target = shots().parent / "plan.docx"
    info.value.save_as(str(target))
    from docx import Document
    assert any(p.text == "Recommended product bundle" for p in Document(str(target)).paragraphs)
    page.screenshot(path=str(shots() / "plan.png"), full_page=False)


def test_plan_form_shows_validation_errors_next_to_the_form(page):
    page.get_by_role("tab", name="Plan").click()
    page.fill("#name input, #name textarea", "")
    page.click("#draft-plan")
    page.wait_for_selector("#plan-error :text('name')")


def test_training_and_knowledge_tabs_render(page):
    page.get_by_role("tab", name="Training").click()
    page.wait_for_selector("#curriculum")
    page.screenshot(path=str(shots() / "training.png"), full_page=False)
    page.get_by_role("tab", name="Knowledge").click()
    page.wait_for_selector("#stats :text('documents')")
    stats = page.inner_text("#stats")
    assert f"{len(DOCS)} documents · {expected_chunks()} chunks · knowledge version " in stats, stats
    page.screenshot(path=str(shots() / "knowledge.png"), full_page=False)


def test_client_typed_in_the_chat_edited_asked_about_and_planned(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Ask").click()
    page.get_by_role("button", name="New conversation").click()
    page.fill("#question textarea", "Our client is a noodle restaurant with 6 employees and RMB 900,000 revenue that wants a small "
                                    "loan to renovate. What should we offer?")
    page.click("#ask-button")
    page.wait_for_selector("#read-as :text('catering, 6 employees, revenue RMB 900,000')")
    page.wait_for_selector("#chat :text('Segment: Micro business')")
    assert "Merchant-flow credit loan" in page.inner_text("#chat") and "[1]" in page.inner_text("#sources")
    page.screenshot(path=str(shots() / "ask-client.png"), full_page=False)

    page.click("#edit-client")  # the relationship manager corrects what was read
    employees, revenue = page.locator("#client-panel-employees input"), page.locator("#client-panel-revenue input")
    expect(employees).to_have_value("6")  # the panel holds what was read before anyone types over it
    # ... and no event that writes the panel is still in flight (its status tracker hidden): under the full
    # suite's load the answer's event could still be finishing, and its last write landed over the typing
    page.wait_for_function("() => [...document.querySelectorAll('#client-panel-employees .wrap, #client-panel-revenue .wrap')]"
                           ".every(w => w.classList.contains('hide'))")
    employees.fill("150")
    employees.press("Tab")   # leave each field, so its value is committed before the button reads the panel
    revenue.fill("30000000")
    revenue.press("Tab")
    expect(employees).to_have_value("150")
    expect(revenue).to_have_value("30000000")
    page.click("#update-client")
    expect(page.locator("#chat")).to_contain_text("Edited the client")
    expect(page.locator("#read-as")).to_contain_text("150 employees")  # on failure, shows what was read instead
    page.wait_for_selector("#chat :text('Segment: Medium enterprise')")

    page.fill("#question textarea", "what pricing?")
    page.click("#ask-button")
    page.wait_for_selector("#chat :text('Pricing and profitability notes for this client, Medium enterprise')")
    page.fill("#question textarea", "how often should we visit?")
    page.click("#ask-button")
    page.wait_for_selector("#chat :text('Relationship cadence and CRM actions for this client')")
    assert "Edited the client" in page.inner_text("#chat")

    page.click("#draft-full-plan")
    page.wait_for_selector("#plan-preview :text('Client service plan')")
    assert "Medium enterprise" in page.inner_text("#segment")
    assert "Recommended product bundle" in page.inner_text("#plan-preview")

    page.click("#discuss-in-ask")  # and back: the Plan tab's client becomes the conversation's client
    page.wait_for_selector("#chat :text('sent from the Plan tab')")
    assert "150 employees" in page.inner_text("#read-as")


def test_the_client_panel_shows_the_fields_of_the_kind_of_client_set_by_a_callback_or_a_click(page):
    """The groups follow the type in the same output that sets it (a chained change event used to land after
    the answer and re-render a field the user was already typing into)."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Ask").click()
    page.get_by_role("button", name="New conversation").click()
    page.click("#edit-client")
    age, employees = page.locator("#client-panel-age input"), page.locator("#client-panel-employees input")
    expect(employees).to_be_visible()
    expect(age).to_be_hidden()
    page.click("#client-example input")
    page.get_by_role("option", name="p10-affluent-family").click()
    page.click("#use-example")
    expect(age).to_be_visible()
    expect(employees).to_be_hidden()
    page.locator("#client-panel-type").get_by_label("Enterprise").check()   # a person's click
    expect(employees).to_be_visible()
    expect(age).to_be_hidden()
    page.get_by_role("button", name="New conversation").click()
    page.locator("#client-panel-type").get_by_label("Individual").check()
    expect(age).to_be_visible()


def test_book_tab_segments_an_upload_with_mapping_progress_rejects_and_downloads(page, tmp_path):
    from .test_app import small_book

    bank = next((p / "shared" / "data" / "bank-marketing" / "bank.csv" for p in Path(__file__).resolve().parents
                 if (p / "shared" / "data" / "bank-marketing" / "bank.csv").exists()), None)
    book = tmp_path / "bank-with-bad-rows.csv"
    if bank is not None:  # the shared sample with two rows spoilt, so the rejects table has something to show
        lines = bank.read_text(encoding="utf-8").splitlines()
        lines[10] = lines[10].replace(lines[10].split(";")[0], "abc", 1)
        lines[20] = lines[20].replace(";" + lines[20].split(";")[5] + ";", ";lots;", 1)
        book.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        small_book(book)
    page.get_by_role("tab", name="Book").click()
    assert "1,000,000 rows" in page.inner_text("#book-limits")
    page.set_input_files("#book-file input[type=file]", str(book))
    page.wait_for_selector("#book-note :text('fields matched')")
    assert "balance" in page.input_value("#map-aum input")
    page.click("#segment-book")
    page.wait_for_selector("#book-segments :text('What sets it apart')", timeout=300_000)
    segments = page.inner_text("#book-segments")
    assert "⚠ Overdrawn" in segments and "Credit-risk and cash-flow review" in segments
    assert "stability ARI" in page.inner_text("#book-status")
    assert "could not be used" in page.inner_text("#book-rejected-note")
    assert "not a number" in page.inner_text("#book-rejects")
    with page.expect_download() as info:
        page.click("#download-book-report")
    target = tmp_path / "segment_report.docx"
    info.value.save_as(str(target))
    from docx import Document
    assert len(Document(str(target)).tables) == 2
    with page.expect_download() as info:
        page.click("#download-segmented")
    assert info.value.suggested_filename.endswith(".csv")
    page.locator("#book-segments").scroll_into_view_if_needed()
    page.screenshot(path=str(shots() / "book.png"), full_page=False)


def test_a_chinese_browser_gets_the_app_in_chinese_and_its_uploaded_chinese_files_answered(session, tmp_path):
    """The browser's language picks the app's words; a Chinese PDF and DOCX uploaded in the Knowledge tab
    answer Chinese questions in the same session."""
    from playwright.sync_api import expect

    from .pdf_fixture import cjk_font
    from .test_multilingual_ingest import write_bank_files

    page = open_page(session, locale="zh-CN")
    for tab in ("提问", "方案", "培训", "客户名单", "知识库"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    expect(page.get_by_role("button", name="新对话")).to_be_visible()
    expect(page.locator("#sources")).to_contain_text("提出问题后")
    expect(page.locator("#read-as")).to_contain_text("本次对话还没有客户")
    assert "Ask" not in page.get_by_role("tab", name="提问").inner_text()
    expect(page.locator("footer")).to_contain_text("设置")  # Settings, where the language can be switched

    page.fill("#question textarea", "大客户的综合金融服务应该由什么样的团队来覆盖？")
    page.click("#ask-button")
    expect(page.locator("#sources")).to_contain_text("[1]")
    page.screenshot(path=str(shots() / "ask-zh.png"), full_page=False)

    if cjk_font() is None:
        pytest.skip("no CJK font to write the Chinese PDF (apt-get install fonts-noto-cjk)")
    write_bank_files(tmp_path / "bank-files")
    page.get_by_role("tab", name="知识库").click()
    page.set_input_files("#upload-docs input[type=file]", [str(tmp_path / "bank-files" / "授信手册.pdf"),
                                                           str(tmp_path / "bank-files" / "分层营销指引.docx")])
    assert page.get_by_role("tab", name="知识库").count() == 1  # the tab after the Book tab's endpoint once showed twice
    page.get_by_role("button", name="添加到知识库").click()
    expect(page.locator("#upload-report")).to_contain_text("分层营销指引.docx")
    report = page.inner_text("#upload-report")
    assert "授信手册.pdf" in report and "rejected 授信手册" not in report, report

    page.get_by_role("tab", name="提问").click()
    page.get_by_role("button", name="新对话").click()
    page.fill("#question textarea", "贷款发放以后多少天内要完成首次贷后检查？")
    page.click("#ask-button")
    expect(page.locator("#sources")).to_contain_text("贷款发放后三十天内完成首次贷后检查")  # the PDF's passage, cited
    assert "三十天" in page.inner_text("#chat") and "· bank ·" in page.inner_text("#sources")
    page.fill("#question textarea", "月日均资产达到多少的客户纳入财富客户管理？")
    page.click("#ask-button")
    expect(page.locator("#sources")).to_contain_text("零售客户分层营销指引")  # the DOCX's title heading
    assert "五十万元" in page.inner_text("#chat")
    page.screenshot(path=str(shots() / "ask-zh-upload.png"), full_page=False)

    # The Plan tab drafts in the browser's language: the Chinese playbook, titles and disclaimer, and a Word file.
    page.get_by_role("tab", name="方案").click()
    expect(page.locator("#plan-language input[value=zh]")).to_be_checked()
    page.click("#example input")
    page.get_by_role("option", name="p05-large-soe").click()
    page.get_by_role("button", name="载入示例").click()
    page.wait_for_selector("#form-note :text('已载入示例')")   # a message built at run time, in the page's language
    page.get_by_role("button", name="起草方案").click()
    expect(page.locator("#plan-preview")).to_contain_text("客户服务方案")
    preview = page.inner_text("#plan-preview")
    assert "推荐产品组合" in preview and "内部使用的客户服务方案草稿" in preview and "Recommended product bundle" not in preview
    with page.expect_download() as info:
        page.click("#download-docx")
    from docx import Document
    info.value.save_as(str(tmp_path / "plan-zh.docx"))
    assert any(p.text == "推荐产品组合" for p in Document(str(tmp_path / "plan-zh.docx")).paragraphs)
    page.screenshot(path=str(shots() / "plan-zh.png"), full_page=False)

    # Quizzes start in the browser's language too: the same questions, worded in Chinese.
    page.get_by_role("tab", name="培训").click()
    page.get_by_role("tab", name="测验").click()
    expect(page.locator("#quiz-language input[value=zh]")).to_be_checked()
    page.click("#new-quiz")
    expect(page.locator("#quiz-q1")).to_contain_text("A.")
    first = page.inner_text("#quiz-q1")
    assert re.search(r"[\u4e00-\u9fff]{6}", first) and "Which" not in first, first
    page.get_by_role("tab", name="方案").click()

    page.locator("footer").get_by_text("设置").click()  # switched in Settings, whatever the browser says
    settings = page.get_by_role("dialog", name="设置")
    settings.get_by_role("combobox").first.click()
    page.get_by_role("option", name="English").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("tab", name="Ask", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Load example")).to_be_visible()
    tabs = page.get_by_role("tab").all_inner_texts()[:5]
    assert {"Ask", "Plan", "Knowledge"} <= set(tabs), tabs  # the tabs opened so far (see the README's known limits)
    page.reload()  # Gradio does not keep the choice: a new page follows the browser's language again
    page.wait_for_selector("#question textarea")
    assert page.get_by_role("tab").all_inner_texts()[:5] == ["提问", "方案", "培训", "客户名单", "知识库"]
    page.context.close()


def test_run_time_messages_and_drop_down_values_follow_the_browsers_language(session):
    """Messages built on the server and drop-down values read in the page's language, while the values
    stay the codes the form and the API read."""
    from playwright.sync_api import expect

    for locale, empty, loaded, ownership in (("zh-CN", "请先选择一个示例客户档案", "已载入示例", "国有企业"),
                                             ("en-US", "Pick an example profile first", "Loaded example", "State-owned")):
        page = open_page(session, locale=locale)
        page.get_by_role("tab", name="方案" if locale == "zh-CN" else "Plan").click()
        page.click("#load-example")
        expect(page.locator("#form-note")).to_contain_text(empty)
        page.click("#example input")
        page.get_by_role("option", name="p05-large-soe").click()
        page.click("#load-example")
        expect(page.locator("#form-note")).to_contain_text(loaded)
        expect(page.locator("#ownership input")).to_have_value(ownership)
        page.context.close()
