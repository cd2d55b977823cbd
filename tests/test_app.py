"""The app as users and programs reach it: a real server on loopback, driven by gradio_client."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from assistant.governance.audit import AuditStore
from assistant.governance.auth import hash_password

from .appserver import running_app
from .conftest import KNOWLEDGE, make_knowledge

QUESTIONS = [
    ("What does one client, one policy mean?", "coverage-team-models"),
    ("How is RAROC calculated?", "client-profitability-raroc-eva"),
    ("Why did Baoshang Bank fail?", "baoshang-bank-failure"),
    ("Which measures decide the size class of a wholesale SME?", "sme-size-classification"),
    ("What are the retail value tiers by AUM?", "retail-tier-scheme"),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    base = tmp_path_factory.mktemp("app")
    with running_app(make_knowledge(base / "knowledge"), base / "data") as (url, proc, log):
        yield url, log


def profile(stem: str) -> dict:
    return json.loads((KNOWLEDGE / "profiles" / f"{stem}.json").read_text(encoding="utf-8"))


def test_first_start_ingests_the_empty_store_and_api_answers(app_url):
    url, _ = app_url
    client = Client(url, verbose=False)
    answer = client.predict("What does one client, one policy mean?", 3, None, api_name="/ask")
    assert answer["grounded"] and answer["citations"][0]["doc_id"] == "coverage-team-models"
    assert "[1]" in answer["answer"]
    filtered = client.predict("segmentation", 5, {"source": "thesis-b"}, api_name="/ask")
    assert all(c["source"] == "thesis-b" for c in filtered["citations"])


def test_programs_have_an_api_only_address_that_answers_alike(app_url):
    """/api/ serves the same endpoints without the app's components, so a program connecting there does
    not pay for the app's session state and config (README: "The API for programs")."""
    import urllib.request

    url, _ = app_url
    question = "How is RAROC calculated?"
    app, api = (Client(u, verbose=False).predict(question, 5, None, api_name="/ask") for u in (url, url + "api/"))
    assert api["answer"] == app["answer"] and api["citations"] == app["citations"] and api["audit_id"] != app["audit_id"]
    with urllib.request.urlopen(url + "api/gradio_api/info") as reply:
        assert set(json.load(reply)["named_endpoints"]) == {"/ask", "/classify", "/plan", "/segment"}
    counts = {}
    for u in (url, url + "api/"):
        with urllib.request.urlopen(u + "config") as reply:
            counts[u] = len(json.load(reply)["components"])
    assert counts[url + "api/"] * 10 < counts[url], counts   # gr.api adds a few placeholders per endpoint
    client = Client(url + "api/", verbose=False)
    assert client.predict(profile("p01-micro-business"), api_name="/classify")["segment"] == "micro-business"
    with pytest.raises(Exception) as info:
        client.predict("", 3, None, api_name="/ask")
    assert "the question is empty" in str(info.value)


def test_classify_and_plan_endpoints(app_url):
    client = Client(app_url[0], verbose=False)
    result = client.predict(profile("p01-micro-business"), api_name="/classify")
    assert result["segment"] == "micro-business" and result["size_class"] == "micro" and result["reasons"]
    plan = client.predict(profile("p10-affluent-family"), api_name="/plan")
    assert plan["plan"]["segment"] == "affluent" and len(plan["plan"]["sections"]) == 9
    assert plan["markdown"].startswith("# Client service plan")


def test_ask_endpoint_takes_an_optional_profile_and_reads_a_described_client(app_url):
    client = Client(app_url[0], verbose=False)
    pricing = client.predict("what pricing?", 5, None, profile("p01-micro-business"), api_name="/ask")
    assert pricing["client_turn"] == "follow-up" and pricing["section"] == "Pricing and profitability notes"
    assert pricing["client"]["name"].startswith("Gao") and pricing["segment"]["id"] == "micro-business"
    read = client.predict("客户是一家面馆，员工6人，年营业收入90万元，想贷款装修店面。", 5, None, None, api_name="/ask")
    assert read["client"]["industry"] == "catering" and read["segment"]["id"] == "micro-business"
    assert read["recommendation"]["products"] and "微型企业" in read["answer"]


@pytest.mark.parametrize("endpoint, args, fragment", [
    ("/ask", ("", 3, None), "the question is empty"),
    ("/ask", ("RAROC", 3, {"colour": "red"}), "unknown filter"),
    ("/classify", ({"client_type": "enterprise", "name": "X", "industry": "banking", "employees": 3, "operating_revenue_rmb": 1},), "industry"),
    ("/plan", ({"client_type": "individual", "name": "Y", "age": 12, "aum_rmb": 1},), "age"),
])
def test_bad_input_is_a_clear_error(app_url, endpoint, args, fragment):
    client = Client(app_url[0], verbose=False)
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name=endpoint)
    assert fragment in str(info.value)


def test_twenty_concurrent_users_all_get_correct_answers(app_url):
    url, _ = app_url

    def session(i: int) -> tuple[str, str]:
        question, expected = QUESTIONS[i % len(QUESTIONS)]
        # httpx's own 5 s for the page's config made this a timed test: 20 clients fetching the config of the
        # page's ~240 components at once on 2 busy cores took longer (a ReadTimeout, not a wrong answer); how
        # fast they are served is measured in bench/users.py
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})
        answer = client.predict(question, 3, None, api_name="/ask")
        return expected, answer["citations"][0]["doc_id"] if answer["grounded"] else "ungrounded"

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(session, range(20)))
    assert len(results) == 20
    assert all(expected == got for expected, got in results), results


def test_logs_hold_no_question_or_profile_text(app_url):
    url, log = app_url
    Client(url, verbose=False).predict("Confidential question about client Zhangsan Holdings", 3, None, api_name="/ask")
    Client(url, verbose=False).predict(profile("p12-private-banking-entrepreneur"), api_name="/classify")
    text = log.read_text()
    assert "Zhangsan" not in text and profile("p12-private-banking-entrepreneur")["name"] not in text


def test_login_is_required_for_ui_and_api_when_configured(tmp_path):
    """And once signed in, every API call is audited under the user; the app's download folder (plans
    name clients) is gone when the app stops."""
    users = tmp_path / "users.yaml"
    users.write_text(f"users:\n  - username: li\n    password_hash: '{hash_password('s3cret-pass')}'\n    role: manager\n")
    knowledge = make_knowledge(tmp_path / "knowledge", ["coverage-team-models"])
    temp = tmp_path / "tmp"
    temp.mkdir()
    with running_app(knowledge, tmp_path / "data", {"ADVISOR_AUTH_FILE": str(users), "TMPDIR": str(temp)}) as (url, _, _):
        import urllib.error
        import urllib.request
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("What is one client one policy?", 3, None, api_name="/ask")
        with pytest.raises(Exception):
            Client(url, auth=("li", "wrong"), verbose=False)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url + "gradio_api/info")
        assert info.value.code in (401, 403)
        with pytest.raises(Exception):
            Client(url + "api/", verbose=False).predict("What is one client one policy?", 3, None, api_name="/ask")
        via_api = Client(url + "api/", auth=("li", "s3cret-pass"), verbose=False).predict(
            "What is one client one policy?", 3, None, api_name="/ask")
        client = Client(url, auth=("li", "s3cret-pass"), verbose=False)
        answer = client.predict("What is one client one policy?", 3, None, api_name="/ask")
        assert answer["grounded"]
        client.predict(profile("p01-micro-business"), api_name="/classify")
        plan = client.predict(profile("p10-affluent-family"), api_name="/plan")
        assert len(list(temp.glob("advisor-downloads-*"))) == 1  # the app's download folder is under TMPDIR
    store = AuditStore(tmp_path / "data" / "audit.sqlite3")
    audited = store.recent(10)
    assert via_api["audit_id"] in {r.id for r in audited if r.user == "li"}
    records = {r.kind: r for r in audited if r.id != via_api["audit_id"]}
    assert set(records) == {"answer", "classify", "plan"}
    assert all(r.user == "li" and r.status == "completed" for r in records.values()), [(r.kind, r.user) for r in records.values()]
    assert records["answer"].id == answer["audit_id"] and records["plan"].id == plan["plan"]["audit_id"]
    assert not list(temp.glob("advisor-downloads-*")), "the download folder outlived the app"


def small_book(path) -> str:
    """A 200-client book in the UCI layout with a few overdrawn clients and two bad rows."""
    rows = ['"age";"job";"marital";"education";"default";"balance";"housing";"loan";"contact";"day";"month";"duration";'
            '"campaign";"pdays";"previous";"poutcome";"y"']
    for i in range(200):
        rows.append(f'{22 + (i * 7) % 60};"{("admin.", "management", "retired")[i % 3]}";"single";"tertiary";"no";'
                    f'{(i * 613) % 12000 - 1500};"{"yes" if i % 2 else "no"}";"no";"cellular";5;"may";100;{1 + (i * 5) % 9};'
                    f'{-1 if i % 5 else 40 + i};{0 if i % 5 else 1 + i % 3};"unknown";"{"yes" if i % 7 == 0 else "no"}"')
    rows.insert(50, 'old;"admin.";"single";"tertiary";"no";100;"no";"no";"cellular";5;"may";100;1;-1;0;"unknown";"no"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_segment_endpoint_takes_a_file_and_returns_cited_segments(app_url, tmp_path):
    from gradio_client import handle_file

    client = Client(app_url[0], verbose=False)
    report = client.predict(handle_file(small_book(tmp_path / "book.csv")), None, None, api_name="/segment")
    assert report["rows"] == 201 and report["rejected"] == 1 and report["segmented"] == 200
    labels = [s["label"] for s in report["segments"]]
    assert len(set(labels)) == len(labels) and report["segments"][0]["risk"]
    assert report["stability_ari"] > 0 and report["clustering"]["scores"]
    assert any(c for s in report["segments"] for c in s["service_model"]["citations"])
    assert report["files"]["report"] == "segment_report.docx" and "| # | Segment |" in report["markdown"]
    programs = Client(app_url[0] + "api/", verbose=False)   # the upload goes to the API app's own route
    fixed = programs.predict(handle_file(small_book(tmp_path / "again.csv")), None, 3, api_name="/segment")
    assert fixed["k"] == 3 and fixed["rows"] == 201
    (tmp_path / "notes.txt").write_text("name,city\nWang,Baotou\n", encoding="utf-8")
    with pytest.raises(Exception, match="must name at least the 'age' and 'aum'"):
        client.predict(handle_file(str(tmp_path / "notes.txt")), None, None, api_name="/segment")
