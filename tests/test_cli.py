"""The ``advisor`` command as a user runs it: real store, real model; the ingest that builds the store
runs as a real process, the other commands through Typer's runner in this process."""

import json
import os
import subprocess
import sys
from typing import NamedTuple

import pytest

from .conftest import ROOT


class Done(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def advisor_cmd(settings, *args, stdin=None, process=False):
    """The command line, in this process through Typer's runner (each separate process spends ~20 s
    loading the models), or as a real process where the test is about the process (``process=True``;
    the fault tests fuzz real processes too)."""
    env = {"ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    if process:
        return subprocess.run([sys.executable, "-m", "assistant.interfaces.cli", *args], env={**os.environ, **env}, cwd=ROOT,
                              capture_output=True, text=True, timeout=300, input=stdin)
    from typer.testing import CliRunner

    from assistant.interfaces.cli import app

    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def cli_settings(tmp_path_factory):
    from assistant.config import Settings

    from .conftest import make_knowledge
    base = tmp_path_factory.mktemp("cli")
    settings = Settings(_env_file=None, knowledge_dir=make_knowledge(base / "knowledge"), data_dir=base / "data")
    done = advisor_cmd(settings, "ingest", process=True)  # the real command, in its own process
    assert done.returncode == 0, done.stderr
    assert "6 added" in done.stdout
    return settings


def test_ask_json_contract(cli_settings):
    done = advisor_cmd(cli_settings, "ask", "What does one client, one policy mean for coverage teams?", "--json", "--k", "4")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert {"question", "answer", "grounded", "citations"} <= set(answer)
    assert answer["grounded"] is True
    citation = answer["citations"][0]
    assert set(citation) >= {"n", "doc_id", "title", "section", "source", "text", "score"}
    assert citation["n"] == 1 and f"[{citation['n']}]" in answer["answer"]


def test_ask_batch_prints_one_object_per_question(cli_settings, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("What is RAROC?\n\nWhich lender failed in Baotou in 2019?\nbest lasagna recipe with ricotta\n", encoding="utf-8")
    done = advisor_cmd(cli_settings, "ask", "--batch", str(questions), "--json", "--filter", "audience=manager")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [a["question"] for a in answers] == ["What is RAROC?", "Which lender failed in Baotou in 2019?", "best lasagna recipe with ricotta"]
    assert [a["grounded"] for a in answers] == [True, True, False]


def test_readable_answer_lists_sources(cli_settings):
    done = advisor_cmd(cli_settings, "ask", "Why did Baoshang Bank fail?")
    assert done.returncode == 0
    assert "Sources:" in done.stdout and "[1]" in done.stdout and "baoshang-bank-failure" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "the question is empty"),
    (["ask", "RAROC?", "--filter", "segments"], "KEY=VALUE"),
    (["ask", "RAROC?", "--filter", "colour=red"], "unknown filter"),
    (["ask"], "either a QUESTION or --batch"),
    (["eval", "beir", "/nonexistent"], "not a BEIR folder"),
])
def test_user_errors_are_one_line_and_exit_2(cli_settings, args, message):
    done = advisor_cmd(cli_settings, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error:")


def test_bad_setting_is_reported_by_name(cli_settings):
    env = {**os.environ, "ADVISOR_TOP_K": "lots"}
    done = subprocess.run([sys.executable, "-m", "assistant.interfaces.cli", "stats"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ADVISOR_TOP_K" in done.stderr


NOODLES = ("Our client is a noodle restaurant with 6 employees and RMB 900,000 revenue that wants a small loan to renovate. "
           "What should we offer?")


def test_ask_reads_a_described_client_and_recommends(cli_settings):
    done = advisor_cmd(cli_settings, "ask", NOODLES, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["client_turn"] == "recommendation" and payload["client"]["industry"] == "catering"
    assert payload["client"]["employees"] == 6 and payload["client"]["operating_revenue_rmb"] == 900000
    assert payload["segment"]["id"] == "micro-business" and payload["recommendation"]["products"]
    assert "**Segment: Micro business.**" in payload["answer"] and payload["audit_id"]
    general = json.loads(advisor_cmd(cli_settings, "ask", "How is RAROC calculated?", "--json").stdout)
    assert general["client"] is None and general["segment"] is None and general["grounded"]
    text = advisor_cmd(cli_settings, "ask", NOODLES)
    assert text.returncode == 0 and "Full plan: advisor plan --describe" in text.stdout


def test_ask_for_an_explicit_client_and_plan_from_a_description(cli_settings):
    done = advisor_cmd(cli_settings, "ask", "what pricing?", "--client", "p01-micro-business", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["section"] == "Pricing and profitability notes" and payload["client"]["name"].startswith("Gao")
    bad = advisor_cmd(cli_settings, "ask", "what pricing?", "--client", "no-such-client")
    assert bad.returncode == 2 and "no file 'no-such-client'" in bad.stderr and "p01-micro-business" in bad.stderr
    plan = advisor_cmd(cli_settings, "plan", "--describe", NOODLES, "--format", "json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["segment"] == "micro-business" and "read as: catering" in plan.stderr
    missing = advisor_cmd(cli_settings, "plan", "--describe", "A construction company with revenue of RMB 50 million.")
    assert missing.returncode == 2 and "total assets" in missing.stderr


def test_eval_situations_reports_both_figures(cli_settings, tmp_path):
    from .conftest import KNOWLEDGE

    lines = (KNOWLEDGE / "eval" / "client_situations.jsonl").read_text(encoding="utf-8").splitlines()
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(l for l in lines if json.loads(l)["id"] in ("s02", "s31", "q04")), encoding="utf-8")
    done = advisor_cmd(cli_settings, "eval", "situations", "--file", str(cases), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["cases"] == 3 and report["field_accuracy"] >= 0.9 and report["answer_share"] == 1.0
    assert report["question_share"] == 1.0 and set(report["by_language"]) == {"en", "zh"}
