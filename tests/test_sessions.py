"""What the app keeps per user and per session: downloads that name a client do not outlive their
hour (or the app), drafts carry their author, and quiz results go under the signed-in user."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.answers.advisor import Advisor
from assistant.clients.forms import profile_to_form
from assistant.clients.profiles import load_profiles
from assistant.governance.auth import Authenticator
from assistant.interfaces.app.common import FORM_KEYS, AppContext
from assistant.interfaces.app.plan_tab import PlanTab
from assistant.interfaces.app.training_tab import TrainingTab
from assistant.interfaces.downloads import Downloads
from assistant.training.models import QuizRequest
from assistant.training.progress import progress_report
from assistant.training.quizzes import make_quiz

from .conftest import KNOWLEDGE, ROOT


def test_download_folders_go_after_their_age_and_all_of_them_on_remove_all(tmp_path):
    downloads = Downloads(max_age=3600, root=tmp_path / "downloads")
    first = downloads.folder()
    (first / "plan-qilin-harbour.docx").write_bytes(b"docx")
    assert downloads.sweep(now=time.time() + 60) == 0 and first.exists()
    assert downloads.sweep(now=time.time() + 3601) == 1 and not first.exists()
    second = downloads.folder()
    (second / "plan-acme.md").write_text("plan", encoding="utf-8")
    downloads.remove_all()
    assert not downloads.root.exists()


@pytest.mark.slow
def test_downloads_are_removed_when_the_process_exits(tmp_path):
    root = tmp_path / "downloads"
    script = ("import sys; from pathlib import Path; from assistant.interfaces.downloads import Downloads; "
              "d = Downloads(root=Path(sys.argv[1])); (d.folder() / 'plan-client.docx').write_bytes(b'x'); "
              "print(len(list(Path(sys.argv[1]).rglob('*.docx'))))")
    done = subprocess.run([sys.executable, "-c", script, str(root)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr
    assert not root.exists()


def test_a_killed_apps_downloads_are_removed_by_the_next_start_and_a_live_ones_are_kept(tmp_path):
    script = ("import os, sys, time; from pathlib import Path; from assistant.interfaces.downloads import Downloads; "
              "d = Downloads(temp_dir=Path(sys.argv[1])); (d.folder() / 'plan-client.docx').write_bytes(b'x'); "
              "print(d.root, flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    killed_root = Path(proc.stdout.readline().strip())
    assert killed_root.is_dir() and list(killed_root.rglob("*.docx"))
    live = Downloads(temp_dir=tmp_path)  # the killed app is still running: its files stay
    assert killed_root.exists()
    proc.kill()
    proc.wait(timeout=30)
    assert killed_root.exists()  # SIGKILL: no exit hook ran
    Downloads(temp_dir=tmp_path)  # the next app to start
    assert not killed_root.exists() and live.root.exists()
    live.remove_all()


def test_a_drafted_plan_records_its_author_and_its_files_live_in_the_download_folder(advisor):
    ctx = AppContext(advisor)
    form = profile_to_form(load_profiles(KNOWLEDGE / "profiles" / "p08-mass-retail.json")[0])
    request = SimpleNamespace(username="zhang.min")
    error, summary, _, docx, markdown, plan_id = PlanTab(ctx).draft(request, "en", *[getattr(form, k) for k in FORM_KEYS])
    assert error == "" and plan_id
    stored = ctx.reviews.get(plan_id)
    assert stored.created_by == "zhang.min" and stored.plan.drafted_by == "zhang.min"
    assert ctx.governance.show(stored.plan.audit_id).user == "zhang.min"
    for update in (docx, markdown):
        assert Path(update["value"]).resolve().is_relative_to(ctx.downloads.root.resolve())
    ctx.downloads.remove_all()


def quiz_answers(settings, tab: TrainingTab, request, typed: str) -> str:
    quiz = make_quiz(settings, QuizRequest(n=3, seed=5))
    return tab.finish_quiz(request, quiz.model_dump(), typed, *[q.answer for q in quiz.questions])


def test_with_login_on_quiz_results_go_under_the_signed_in_user_not_a_typed_name(make_settings):
    settings = make_settings()
    advisor = Advisor(settings)
    signed_in = TrainingTab(advisor, auth=Authenticator({}))
    text = quiz_answers(settings, signed_in, SimpleNamespace(username="trainee.li"), "someone.else")
    assert "Saved 3 answers for trainee.li" in text
    assert progress_report(settings, "trainee.li").attempts == 3
    assert progress_report(settings).trainees and [t.trainee for t in progress_report(settings).trainees] == ["trainee.li"]

    open_app = TrainingTab(advisor)  # login off: the typed name is all there is
    assert "Saved 3 answers for wang.fang" in quiz_answers(settings, open_app, None, "wang.fang")
    assert progress_report(settings, "wang.fang").attempts == 3
    assert "Saved" not in quiz_answers(settings, signed_in, SimpleNamespace(username=None), "typed")
    assert sorted(t.trainee for t in progress_report(settings).trainees) == ["trainee.li", "wang.fang"]
