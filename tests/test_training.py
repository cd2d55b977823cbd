"""Training mode on the real knowledge base: curriculum, glossary, quizzes, grading and stored progress.

No embedding model and no vector store: quizzes are built from the rule tables, the glossary and the
example profiles, so the whole file runs in seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from assistant.config import Settings
from assistant.errors import InputError
from assistant.knowledge.chunking import chunk_document
from assistant.knowledge.documents import load_documents
from assistant.clients.profiles import example_profiles
from assistant.training.progress import Attempt, ProgressStore, ReportRequest, progress_report, progress_store
from assistant.clients.rules import rules_for
from assistant.clients.segmentation import classify
from assistant.training.models import QuizRequest
from assistant.training.curriculum import build_curriculum, validate_curriculum
from assistant.training.questions import glossary_option
from assistant.training.quizzes import grade, make_quiz, question_bank, quiz_topics, record_result
from assistant.training.glossary import search_glossary
from assistant.interfaces.training_cli import quiz_app, train_app

from .conftest import KNOWLEDGE, ROOT

RULES = rules_for(KNOWLEDGE / "data")
DOCS = {d.meta.id: d for d in load_documents(KNOWLEDGE / "docs").docs}
HEADING_LINE = re.compile(r"^#{2,6}\s+(.+?)\s*#*\s*$", re.M)


def headings(doc_id: str) -> set[str]:
    """Headings read straight from the markdown file, independently of the code under test."""
    return {h.strip() for h in HEADING_LINE.findall((KNOWLEDGE / "docs" / f"{doc_id}.md").read_text(encoding="utf-8"))}


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, knowledge_dir=KNOWLEDGE, data_dir=tmp_path / "data")


@pytest.fixture(scope="module")
def chunk_sections() -> set[tuple[str, str]]:
    return {(c.doc_id, c.section) for d in DOCS.values() for c in chunk_document(d)}


# ----------------------------------------------------------------------------------------- curriculum


def test_curriculum_references_real_docs_sections_and_topics(settings):
    assert validate_curriculum(settings) == []
    curriculum = build_curriculum(settings)
    spec = yaml.safe_load((KNOWLEDGE / "data" / "curriculum.yaml").read_text(encoding="utf-8"))
    assert [m.id for m in curriculum.modules] == [m["id"] for m in spec["modules"]]
    assert [p.label for p in curriculum.phases] == ["Days 1-30", "Days 31-60", "Days 61-90"]
    vocabulary = {t for d in DOCS.values() for t in d.meta.topics}
    for module, raw in zip(curriculum.modules, spec["modules"]):
        assert set(module.topics) <= vocabulary
        for reading, raw_reading in zip(module.readings, raw["readings"]):
            assert reading.doc_id in DOCS
            for section, ref in zip(reading.sections, raw_reading.get("sections", [])):
                assert ref in headings(reading.doc_id) or ref == section.path
                assert section.path.split(" > ")[-1] in headings(reading.doc_id)
        for related in module.related:
            meta = DOCS[related.doc_id].meta
            assert set(related.shared_topics) <= set(meta.topics) & set(module.topics)
            assert {"relationship-manager", "trainer"} & set(meta.audience)
            assert related.doc_id not in {r.doc_id for r in module.readings}
    firsts = [m.first_day for m in curriculum.modules]
    assert firsts == sorted(firsts) and curriculum.modules[-1].last_day <= 90
    assert "factoring" in next(m for m in curriculum.modules if m.id == "supply-chain-and-data-lending").glossary_terms


def test_curriculum_names_every_bad_reference(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    path = knowledge / "data" / "curriculum.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["modules"][0]["readings"].append({"doc": "no-such-doc"})
    spec["modules"][0]["readings"][0]["sections"].append("A heading nobody wrote")
    spec["modules"][0]["topics"].append("astrology")
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    s = Settings(_env_file=None, knowledge_dir=knowledge, data_dir=tmp_path / "data")
    problems = " | ".join(validate_curriculum(s))
    assert "no-such-doc" in problems and "A heading nobody wrote" in problems and "astrology" in problems
    with pytest.raises(InputError, match="no-such-doc"):
        build_curriculum(s)

    spec["modules"][0]["days"] = [10, 12]  # the next module now starts before it
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="teaching order"):
        build_curriculum(s)


# ----------------------------------------------------------------------------------------- glossary


def test_glossary_search_english_ranks_exact_then_prefix_then_substring_then_definition(settings):
    hits = search_glossary(settings, "FACTORING").hits
    assert hits[0].term == "factoring" and hits[0].match == "exact"
    assert [h.match for h in hits] == sorted((h.match for h in hits), key=["exact", "prefix", "term", "definition"].index)
    assert {"reverse factoring"} <= {h.term for h in hits if h.match == "term"}
    assert hits[0].doc in DOCS and hits[0].doc_title == DOCS[hits[0].doc].meta.title

    credit = search_glossary(settings, "credit").hits
    prefix = [h.term for h in credit if h.match == "prefix"]
    assert prefix == sorted(prefix, key=str.casefold) and {"credit factory", "credit scorecard"} <= set(prefix)
    assert any(h.match == "definition" for h in credit)

    assert search_glossary(settings, "zzqx-no-such-term").hits == []
    with pytest.raises(InputError, match="empty"):
        search_glossary(settings, "   ")


def test_glossary_search_chinese(settings):
    result = search_glossary(settings, "保理")
    assert result.language == "zh"
    assert [h.term for h in result.hits[:2]] == ["factoring", "reverse factoring"]
    assert [h.match for h in result.hits[:2]] == ["exact", "term"]
    assert {h.term for h in search_glossary(settings, "AB角").hits} == {"A/B-role arrangement"}


# ----------------------------------------------------------------------------------------- quizzes


def test_same_seed_same_quiz_different_seed_different_quiz(settings):
    first = make_quiz(settings, QuizRequest(n=12, seed=7))
    again = make_quiz(settings, QuizRequest(n=12, seed=7))
    other = make_quiz(settings, QuizRequest(n=12, seed=8))
    assert first.model_dump() == again.model_dump()
    assert [q.id for q in first.questions] != [q.id for q in other.questions]
    assert len(first.questions) == 12 and len({q.id for q in first.questions}) == 12
    assert {q.kind for q in first.questions} == {"definition", "fact", "scenario"}
    topical = make_quiz(settings, QuizRequest(topic="retail-banking", n=5, seed=7))
    assert topical == make_quiz(settings, QuizRequest(topic="retail-banking", n=5, seed=7))


def test_question_ids_are_stable_across_seeds(settings):
    ids = [{q.id: q.prompt for q in question_bank(settings, seed) if q.family != "tier-aum"} for seed in (1, 2)]
    assert ids[0] == ids[1]


def test_every_question_has_exactly_one_correct_option_over_50_seeds(settings):
    by_option = {glossary_option(e): e for e in RULES.glossary}
    by_term = {e.term: e for e in RULES.glossary}
    profiles = example_profiles(KNOWLEDGE / "profiles")
    labels = {p.id: p.label for p in RULES.playbook.segments}
    size_segment = {"micro": "micro-business", "small": "small-business", "medium": "medium-enterprise"}
    checked = 0
    for seed in range(50):
        for q in question_bank(settings, seed):
            checked += 1
            assert len(q.options) == 4 and 0 <= q.answer < 4
            assert len({o.strip().casefold() for o in q.options}) == 4, q
            answer, wrong = q.options[q.answer], [o for i, o in enumerate(q.options) if i != q.answer]
            if q.kind == "definition":
                lookup = by_option if q.family == "glossary-definition" else by_term
                right = lookup[answer]
                for other in (lookup[o] for o in wrong):
                    assert " ".join(other.definition.split()) != " ".join(right.definition.split())
                    assert other.zh != right.zh
                    assert right.zh in q.prompt or " ".join(right.definition.split()) in q.prompt
            elif q.family == "scenario-segment":
                name = next(n for n, p in profiles.items() if p.name in q.prompt)
                result = classify(profiles[name], RULES)
                assert answer == labels[result.segment]
                assert labels.get(size_segment.get(result.size_class or ""), "\0") not in wrong
            elif q.family == "scenario-size":
                name = next(n for n, p in profiles.items() if p.name in q.prompt)
                assert answer.lower().startswith(classify(profiles[name], RULES).size_class)
            elif q.family == "tier-aum":
                amount = float(re.search(r"RMB ([\d,]+)\.", q.prompt).group(1).replace(",", ""))
                assert answer.startswith(RULES.tiers.tier_for(amount).name + " ")
            elif q.family in ("sme-bound", "tier-threshold", "qualified-investor"):
                values = [float(re.search(r"[\d,]+", o).group(0).replace(",", "")) for o in q.options]
                assert values == sorted(values) and len(set(values)) == 4
    assert checked > 50 * 300


def test_rule_table_answers_match_the_tables(settings):
    questions = {(q.family, q.prompt): q for q in question_bank(settings, 3)}
    wholesale = next(q for (f, p), q in questions.items() if f == "sme-measures" and "“Wholesale”" in p)
    assert wholesale.options[wholesale.answer] == "employees and operating revenue"
    construction = next(q for (f, p), q in questions.items() if f == "sme-measures" and "“Construction”" in p)
    assert construction.options[construction.answer] == "operating revenue and total assets"
    ceiling = next(q for (f, p), q in questions.items()
                   if f == "sme-bound" and "“Wholesale”" in p and "below what number of employees" in p)
    assert ceiling.options[ceiling.answer] == "200 employees"
    affluent = next(q for (f, p), q in questions.items() if f == "tier-threshold" and "Affluent" in p)
    assert affluent.options[affluent.answer] == "RMB 50,000"


def test_explanations_cite_existing_docs_sections_and_chunks(settings, chunk_sections):
    for q in question_bank(settings, 11):
        assert q.sources
        for source in q.sources:
            assert source.doc_id in DOCS, source
            assert source.doc_id in q.explanation
            assert source.title == DOCS[source.doc_id].meta.title
            if source.section:
                assert source.section.split(" > ")[-1] in headings(source.doc_id), source
                assert (source.doc_id, source.section) in chunk_sections, source
                assert source.section in q.explanation
    rule_questions = [q for q in question_bank(settings, 11) if q.family in ("sme-bound", "tier-threshold", "qualified-investor")]
    assert all(q.sources[0].section for q in rule_questions)
    assert {q.sources[0].doc_id for q in rule_questions} == {RULES.sme.doc, RULES.tiers.tiers[0].doc,
                                                              RULES.tiers.qualified_investor.doc}


def test_topic_filter(settings):
    counts = {t.topic: t.questions for t in quiz_topics(settings)}
    for topic in ("sme-lending", "retail-banking", "segmentation-theory", "major-clients", "compliance"):
        assert counts[topic] >= 5, topic
        quiz = make_quiz(settings, QuizRequest(topic=topic, n=8, seed=1))
        assert len(quiz.questions) == 8
        assert all(q.topic == topic and topic in q.topics for q in quiz.questions)
    assert make_quiz(settings, QuizRequest(topic="  ANY ", n=3, seed=1)).topic is None
    with pytest.raises(InputError, match="unknown topic 'astrology'"):
        make_quiz(settings, QuizRequest(topic="astrology"))
    small = make_quiz(settings, QuizRequest(topic="regional-context", n=100, seed=1))
    assert len(small.questions) == counts["regional-context"] and small.note


def test_small_corpus_only_cites_loaded_documents(make_settings):
    settings = make_settings()  # six documents; glossary entries of the others must not be asked
    present = {p.stem for p in (settings.docs_dir).glob("*.md")}
    bank = question_bank(settings, 2)
    assert bank and all(s.doc_id in present for q in bank for s in q.sources)


# ----------------------------------------------------------------------------------------- grading and progress


def test_grade_marks_each_answer_and_explains(settings):
    quiz = make_quiz(settings, QuizRequest(n=6, seed=3))
    answers = [q.answer_letter.lower() for q in quiz.questions[:3]] + [(q.answer + 1) % 4 for q in quiz.questions[3:5]] + [None]
    result = grade(quiz, answers)
    assert [i.correct for i in result.items] == [True, True, True, False, False, False]
    assert (result.total, result.answered, result.correct) == (6, 5, 3) and result.score == pytest.approx(0.6)
    assert result.items[5].skipped and all(i.explanation and i.sources for i in result.items)
    assert sum(t.answered for t in result.by_topic) == 5
    with pytest.raises(InputError, match="6 questions but 2 answers"):
        grade(quiz, ["A", "B"])
    with pytest.raises(InputError, match="question 2: answer 'E'"):
        grade(quiz, ["A", "E", "A", "A", "A", "A"])


def test_results_are_stored_with_per_topic_scores(settings):
    quiz = make_quiz(settings, QuizRequest(topic="compliance", n=4, seed=5))
    result = grade(quiz, [q.answer for q in quiz.questions[:3]] + [(quiz.questions[3].answer + 1) % 4])
    assert record_result(settings, "  Wang   Fang ", result) == 4
    report = progress_report(settings, "wang fang", min_attempts=1, weak_below=0.8)
    assert report.trainee == "Wang Fang"
    assert [(t.topic, t.attempts, t.correct) for t in report.topics] == [("compliance", 4, 3)]
    assert report.weak_topics == ["compliance"]  # 75% < 80%
    assert (settings.data_dir / "progress.sqlite3").exists()
    with pytest.raises(InputError, match="no results recorded for trainee 'Nobody'.*Wang Fang"):
        progress_report(settings, "Nobody")


def test_weak_topics_for_a_trainee_and_the_cohort(settings):
    store = progress_store(settings)

    def answers(topic: str, right: int, wrong: int) -> list[Attempt]:
        return [Attempt(question_id=f"{topic}-{i}", topic=topic, correct=i < right) for i in range(right + wrong)]

    store.record("Ana", answers("compliance", 1, 3) + answers("sme-lending", 4, 0))
    store.record("Bo", answers("compliance", 3, 1) + answers("retail-banking", 0, 3) + answers("crm", 0, 2))
    ana = store.report(ReportRequest(trainee="Ana"))
    assert ana.weak_topics == ["compliance"] and ana.score == pytest.approx(5 / 8)
    bo = store.report(ReportRequest(trainee="Bo"))
    assert bo.weak_topics == ["retail-banking"]  # crm: two answers are too few to judge
    cohort = store.report()
    scores = {t.topic: (t.attempts, t.correct) for t in cohort.topics}
    assert scores == {"compliance": (8, 4), "sme-lending": (4, 4), "retail-banking": (3, 0), "crm": (2, 0)}
    assert cohort.weak_topics == ["retail-banking", "compliance"]
    assert [(s.trainee, s.attempts, s.weak_topics) for s in cohort.trainees] == [
        ("Ana", 8, ["compliance"]), ("Bo", 9, ["retail-banking"])]
    assert store.report(ReportRequest(min_attempts=1)).weak_topics == ["retail-banking", "crm", "compliance"]  # ties: more answers first


def test_twenty_threads_writing_at_once_lose_nothing(tmp_path):
    store = ProgressStore(tmp_path / "progress.sqlite3", busy_timeout=60)
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def work(n: int) -> None:
        try:
            start.wait()
            for batch in range(10):
                store.record(f"trainee {n}", [Attempt(question_id=f"q{batch}-{i}", topic=f"topic-{i % 3}", correct=i % 2 == 0)
                                              for i in range(5)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.count() == 20 * 10 * 5
    assert all(store.count(f"trainee {n}") == 50 for n in range(20))
    assert len(store.trainees()) == 20
    assert sum(t.attempts for t in store.report().topics) == 1000


def test_several_processes_writing_at_once_lose_nothing(tmp_path):
    db = tmp_path / "progress.sqlite3"
    code = ("import sys; from pathlib import Path; from assistant.training.progress import Attempt, ProgressStore; "
            "s = ProgressStore(Path(sys.argv[1])); "
            "[s.record(sys.argv[2], [Attempt(question_id=f'q{i}', topic='compliance', correct=True)]) for i in range(40)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), f"p{n}"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for n in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert ProgressStore(db).count() == 160


# ----------------------------------------------------------------------------------------- command line


def env_for(settings: Settings) -> dict[str, str]:
    return {"ADVISOR_KNOWLEDGE_DIR": str(settings.knowledge_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}


def test_quiz_command_json_text_and_errors(settings):
    runner = CliRunner()
    done = runner.invoke(quiz_app, ["--n", "5", "--seed", "42", "--json"], env=env_for(settings))
    assert done.exit_code == 0, done.output
    quiz = json.loads(done.stdout)
    assert quiz["seed"] == 42 and len(quiz["questions"]) == 5
    assert quiz == make_quiz(settings, QuizRequest(n=5, seed=42)).model_dump(mode="json")

    text = runner.invoke(quiz_app, ["--n", "3", "--seed", "42", "--topic", "compliance"], env=env_for(settings))
    assert text.exit_code == 0 and "Answer key" in text.stdout and "   A. " in text.stdout

    bad = runner.invoke(quiz_app, ["--topic", "astrology"], env=env_for(settings))
    assert bad.exit_code == 2 and "unknown topic 'astrology'" in bad.stderr
    lone = runner.invoke(quiz_app, ["--interactive"], env=env_for(settings))
    assert lone.exit_code == 2 and "--trainee" in lone.stderr


def test_training_commands(settings):
    runner = CliRunner()
    curriculum = runner.invoke(train_app, ["curriculum"], env=env_for(settings))
    assert curriculum.exit_code == 0, curriculum.output
    assert "Days 1-30" in curriculum.stdout and "Days 61-90" in curriculum.stdout
    assert "advisor quiz --topic compliance" in curriculum.stdout
    as_json = json.loads(runner.invoke(train_app, ["curriculum", "--json"], env=env_for(settings)).stdout)
    assert as_json["modules"][0]["readings"][0]["doc_id"] in DOCS

    glossary = runner.invoke(train_app, ["glossary", "保理", "--json"], env=env_for(settings))
    assert json.loads(glossary.stdout)["hits"][0]["term"] == "factoring"
    assert "factoring (保理)" in runner.invoke(train_app, ["glossary", "factoring"], env=env_for(settings)).stdout

    empty = runner.invoke(train_app, ["progress"], env=env_for(settings))
    assert empty.exit_code == 0 and "No quiz results" in empty.stdout
    unknown = runner.invoke(train_app, ["progress", "--trainee", "Nobody"], env=env_for(settings))
    assert unknown.exit_code == 2 and "no results recorded" in unknown.stderr


APP = """
import typer
from assistant.interfaces.training_cli import quiz_app, train_app
app = typer.Typer(add_completion=False)
@app.callback()
def main() -> None:
    pass
app.add_typer(quiz_app, name="quiz")
app.add_typer(train_app, name="training")
app()
"""


def test_interactive_quiz_with_piped_stdin_is_graded_and_kept(settings):
    """The way `advisor quiz --interactive` will run once mounted: a real process reading a pipe."""
    quiz = make_quiz(settings, QuizRequest(n=4, seed=9))
    keys = [q.answer_letter for q in quiz.questions]
    shift = dict(zip("ABCD", "BCDA"))  # a wrong letter for each right one
    typed = [keys[0].lower(), "maybe", keys[1], shift[keys[2]], shift[keys[3]]]
    env = {**os.environ, **env_for(settings)}
    done = subprocess.run([sys.executable, "-c", APP, "quiz", "--n", "4", "--seed", "9", "--interactive", "--trainee", "Li Wei"],
                          input="\n".join(typed) + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("Correct.") == 2 and out.count("Not quite") == 2
    assert "Please type A, B, C or D" in out
    assert "Score: 2/4 (50%)" in out and "Saved 4 answers for Li Wei." in out
    assert quiz.questions[0].explanation in out
    report = progress_report(settings, "Li Wei", min_attempts=1)
    assert report.attempts == 4 and report.correct == 2

    # input that ends early: the answered questions are graded and kept, the rest skipped
    short = subprocess.run([sys.executable, "-c", APP, "quiz", "--n", "4", "--seed", "9", "--interactive", "--trainee", "Li Wei"],
                           input=keys[0] + "\n", capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert short.returncode == 0, short.stderr
    assert "Score: 1/1 (100%), 3 skipped" in short.stdout
    assert progress_report(settings, "li wei").attempts == 5

    mounted = subprocess.run([sys.executable, "-c", APP, "training", "progress", "--trainee", "Li Wei", "--json"],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert mounted.returncode == 0 and json.loads(mounted.stdout)["attempts"] == 5


def test_short_english_queries_match_at_word_starts(settings):
    hits = search_glossary(settings, "NIM").hits
    assert hits and hits[0].term == "net interest margin"
    assert "live-animal collateral" not in {h.term for h in hits}
