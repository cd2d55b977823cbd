"""Plan review and approval: draft -> submitted -> approved | returned -> submitted ...

Only a manager approves or returns, and never a plan they drafted, edited or submitted themselves
(four eyes); an approved plan is frozen (no edits, no further transitions) and its export carries the
drafter, the submitter, the approver, the date, the knowledge version and the audit id. Transitions
run in one immediate transaction, so two reviewers clicking at once cannot both win.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from assistant.clients.plans import Plan
from assistant.errors import InputError
from assistant.governance.auth import Role as UserRole
from assistant.sqlite import connect, initialise

Status = Literal["draft", "submitted", "approved", "returned"]
Action = Literal["create", "edit", "submit", "approve", "return"]
Role = UserRole | None

TRANSITIONS: dict[Action, tuple[set[str], Status, bool]] = {
    # action: (allowed from, to, manager only)
    "submit": ({"draft", "returned"}, "submitted", False),
    "approve": ({"submitted"}, "approved", True),
    "return": ({"submitted"}, "returned", True),
}
EDITABLE = {"draft", "returned"}


class ReviewError(InputError):
    """A review action that the plan's state or the user's role does not allow."""


class ReviewEvent(BaseModel):
    at: str
    actor: str | None
    role: str | None
    action: str
    comment: str | None = None


class StoredPlan(BaseModel):
    plan_id: str
    status: Status
    plan: Plan
    created_by: str | None
    events: list[ReviewEvent]


SCHEMA = [
    """create table if not exists plans (
        plan_id text primary key, status text not null, plan text not null, created_by text,
        created_at text not null, updated_at text not null)""",
    """create table if not exists plan_events (
        seq integer primary key autoincrement, plan_id text not null, at text not null, actor text,
        role text, action text not null, comment text)""",
]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ReviewStore:
    """Plans from draft to submitted to approved (or returned), with who did what kept as events.

    >>> reviews = ReviewStore(settings.data_dir / "reviews.sqlite3")
    >>> stored = reviews.create(plan, actor="li.wei", role="relationship-manager")
    >>> reviews.transition(stored.plan_id, "submit", "li.wei", "relationship-manager").status
    'submitted'
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        initialise(path, SCHEMA)

    def create(self, plan: Plan, actor: str | None, role: Role = None) -> StoredPlan:
        plan_id = uuid.uuid4().hex[:12]
        plan = plan.model_copy(update={"plan_id": plan_id, "status": "draft", "drafted_by": actor, "submitted_by": None,
                                       "approved_by": None, "approved_at": None})
        with closing(connect(self.path)) as conn:
            conn.execute("begin immediate")
            conn.execute("insert into plans values (?,?,?,?,?,?)", (plan_id, "draft", plan.model_dump_json(), actor, _now(), _now()))
            self._event(conn, plan_id, actor, role, "create", None)
            conn.execute("commit")
        return self.get(plan_id)

    def get(self, plan_id: str) -> StoredPlan:
        with closing(connect(self.path)) as conn:
            row = conn.execute("select status, plan, created_by from plans where plan_id = ?", (plan_id,)).fetchone()
            if row is None:
                raise ReviewError(f"no plan with id '{plan_id}'")
            events = conn.execute("select at, actor, role, action, comment from plan_events where plan_id = ? order by seq",
                                  (plan_id,)).fetchall()
        return StoredPlan(plan_id=plan_id, status=row[0], plan=Plan.model_validate_json(row[1]), created_by=row[2],
                          events=[ReviewEvent(at=e[0], actor=e[1], role=e[2], action=e[3], comment=e[4]) for e in events])

    def list(self, status: Status | None = None) -> list[StoredPlan]:
        with closing(connect(self.path)) as conn:
            query = "select plan_id from plans" + (" where status = ?" if status else "") + " order by updated_at desc"
            ids = [r[0] for r in conn.execute(query, (status,) if status else ()).fetchall()]
        return [self.get(i) for i in ids]

    def edit(self, plan_id: str, plan: Plan, actor: str | None, role: Role = None) -> StoredPlan:
        with closing(connect(self.path)) as conn:
            conn.execute("begin immediate")
            status = self._status(conn, plan_id)
            if status not in EDITABLE:
                conn.execute("rollback")
                raise ReviewError(f"plan {plan_id} is {status}; only draft or returned plans can be edited")
            plan = plan.model_copy(update={"plan_id": plan_id, "status": status})
            conn.execute("update plans set plan = ?, updated_at = ? where plan_id = ?", (plan.model_dump_json(), _now(), plan_id))
            self._event(conn, plan_id, actor, role, "edit", None)
            conn.execute("commit")
        return self.get(plan_id)

    def transition(self, plan_id: str, action: Action, actor: str | None, role: Role, comment: str | None = None) -> StoredPlan:
        if action not in TRANSITIONS:
            raise ReviewError(f"unknown review action '{action}'; use submit, approve or return")
        allowed_from, target, manager_only = TRANSITIONS[action]
        if manager_only and role != "manager":
            raise ReviewError(f"only a manager can {action} a plan (you are signed in as {role or 'no role'})")
        if action == "return" and not (comment or "").strip():
            raise ReviewError("returning a plan needs a comment that says what to change")
        with closing(connect(self.path)) as conn:
            conn.execute("begin immediate")
            status = self._status(conn, plan_id)
            if status not in allowed_from:
                conn.execute("rollback")
                raise ReviewError(f"plan {plan_id} is {status}; '{action}' needs a plan that is {' or '.join(sorted(allowed_from))}")
            if action == "approve":
                self._four_eyes(conn, plan_id, actor)
            plan = Plan.model_validate_json(conn.execute("select plan from plans where plan_id = ?", (plan_id,)).fetchone()[0])
            update: dict = {"status": target}
            if action == "submit":
                update["submitted_by"] = actor
            if action == "approve":
                update |= {"approved_by": actor, "approved_at": _now()}
            plan = plan.model_copy(update=update)
            conn.execute("update plans set status = ?, plan = ?, updated_at = ? where plan_id = ?",
                         (target, plan.model_dump_json(), _now(), plan_id))
            self._event(conn, plan_id, actor, role, action, comment)
            conn.execute("commit")
        return self.get(plan_id)

    @staticmethod
    def _four_eyes(conn: sqlite3.Connection, plan_id: str, actor: str | None) -> None:
        """The approver must be a named person other than everyone who drafted, edited or submitted it."""
        if not actor:
            conn.execute("rollback")
            raise ReviewError("an approval needs a signed-in approver (turn login on with ADVISOR_AUTH_FILE)")
        authors = {r[0]: r[1] for r in conn.execute(
            "select actor, action from plan_events where plan_id = ? and action in ('create', 'edit', 'submit') "
            "and actor is not null order by seq", (plan_id,))}
        if actor in authors:
            conn.execute("rollback")
            did = {"create": "drafted", "edit": "edited", "submit": "submitted"}[authors[actor]]
            raise ReviewError(f"you {did} plan {plan_id}, so you cannot approve it: four eyes means another manager "
                              "approves (drafter and submitter may not approve their own plan)")

    @staticmethod
    def _status(conn: sqlite3.Connection, plan_id: str) -> str:
        row = conn.execute("select status from plans where plan_id = ?", (plan_id,)).fetchone()
        if row is None:
            conn.execute("rollback")
            raise ReviewError(f"no plan with id '{plan_id}'")
        return row[0]

    @staticmethod
    def _event(conn, plan_id, actor, role, action, comment) -> None:
        conn.execute("insert into plan_events (plan_id, at, actor, role, action, comment) values (?,?,?,?,?,?)",
                     (plan_id, _now(), actor, role, action, comment))


def review_store(settings) -> ReviewStore:
    return ReviewStore(settings.data_dir / "reviews.sqlite3")


def comments_text(stored: StoredPlan) -> str:
    return json.dumps([e.model_dump() for e in stored.events if e.comment], ensure_ascii=False)
