"""Plan review and approval: draft -> submitted -> approved | returned -> submitted ...

Only a manager approves or returns, and never a plan they drafted, edited or submitted themselves
(four eyes); an approved plan is frozen (no edits, no further transitions) and its export carries the
drafter, the submitter, the approver, the date, the knowledge version and the audit id. A transition
runs in one write transaction that locks the plan first (SQLite's write lock, PostgreSQL's row
lock), so two reviewers clicking at once, on one machine or two, cannot both win.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Connection, select

from assistant.clients.plans import Plan
from assistant.database.engine import Database
from assistant.database.migrate import open_store
from assistant.database.tables import plan_events, plans
from assistant.errors import InputError
from assistant.governance.auth import Role as UserRole

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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ReviewStore:
    """Plans from draft to submitted to approved (or returned), with who did what kept as events.

    >>> reviews = review_store(settings)          # or ReviewStore(Path("data/reviews.sqlite3")), or a URL
    >>> stored = reviews.create(plan, actor="li.wei", role="relationship-manager")
    >>> reviews.transition(stored.plan_id, "submit", "li.wei", "relationship-manager").status
    'submitted'
    """

    def __init__(self, target: Database | Path | str) -> None:
        self.db = open_store(target, "reviews")

    def create(self, plan: Plan, actor: str | None, role: Role = None) -> StoredPlan:
        plan_id = uuid.uuid4().hex[:12]
        plan = plan.model_copy(update={"plan_id": plan_id, "status": "draft", "drafted_by": actor, "submitted_by": None,
                                       "approved_by": None, "approved_at": None})
        with self.db.write() as conn:
            conn.execute(plans.insert().values(plan_id=plan_id, status="draft", plan=plan.model_dump_json(), created_by=actor,
                                               created_at=_now(), updated_at=_now()))
            self._event(conn, plan_id, actor, role, "create", None)
        return self.get(plan_id)

    def get(self, plan_id: str) -> StoredPlan:
        with self.db.read() as conn:
            row = conn.execute(select(plans.c.status, plans.c.plan, plans.c.created_by).where(plans.c.plan_id == plan_id)).first()
            if row is None:
                raise ReviewError(f"no plan with id '{plan_id}'")
            events = conn.execute(select(plan_events.c.at, plan_events.c.actor, plan_events.c.role, plan_events.c.action,
                                         plan_events.c.comment).where(plan_events.c.plan_id == plan_id)
                                  .order_by(plan_events.c.seq)).all()
        return StoredPlan(plan_id=plan_id, status=row[0], plan=Plan.model_validate_json(row[1]), created_by=row[2],
                          events=[ReviewEvent(at=e[0], actor=e[1], role=e[2], action=e[3], comment=e[4]) for e in events])

    def list(self, status: Status | None = None) -> list[StoredPlan]:
        query = select(plans.c.plan_id).order_by(plans.c.updated_at.desc())
        with self.db.read() as conn:
            ids = list(conn.execute(query.where(plans.c.status == status) if status else query).scalars())
        return [self.get(i) for i in ids]

    def edit(self, plan_id: str, plan: Plan, actor: str | None, role: Role = None) -> StoredPlan:
        with self.db.write() as conn:
            status, _ = self._locked(conn, plan_id)
            if status not in EDITABLE:
                raise ReviewError(f"plan {plan_id} is {status}; only draft or returned plans can be edited")
            plan = plan.model_copy(update={"plan_id": plan_id, "status": status})
            conn.execute(plans.update().where(plans.c.plan_id == plan_id).values(plan=plan.model_dump_json(), updated_at=_now()))
            self._event(conn, plan_id, actor, role, "edit", None)
        return self.get(plan_id)

    def transition(self, plan_id: str, action: Action, actor: str | None, role: Role, comment: str | None = None) -> StoredPlan:
        if action not in TRANSITIONS:
            raise ReviewError(f"unknown review action '{action}'; use submit, approve or return")
        allowed_from, target, manager_only = TRANSITIONS[action]
        if manager_only and role != "manager":
            raise ReviewError(f"only a manager can {action} a plan (you are signed in as {role or 'no role'})")
        if action == "return" and not (comment or "").strip():
            raise ReviewError("returning a plan needs a comment that says what to change")
        with self.db.write() as conn:   # a ReviewError inside rolls the transaction back
            status, stored = self._locked(conn, plan_id)
            if status not in allowed_from:
                raise ReviewError(f"plan {plan_id} is {status}; '{action}' needs a plan that is {' or '.join(sorted(allowed_from))}")
            if action == "approve":
                self._four_eyes(conn, plan_id, actor)
            update: dict = {"status": target}
            if action == "submit":
                update["submitted_by"] = actor
            if action == "approve":
                update |= {"approved_by": actor, "approved_at": _now()}
            plan = Plan.model_validate_json(stored).model_copy(update=update)
            conn.execute(plans.update().where(plans.c.plan_id == plan_id)
                         .values(status=target, plan=plan.model_dump_json(), updated_at=_now()))
            self._event(conn, plan_id, actor, role, action, comment)
        return self.get(plan_id)

    @staticmethod
    def _four_eyes(conn: Connection, plan_id: str, actor: str | None) -> None:
        """The approver must be a named person other than everyone who drafted, edited or submitted it."""
        if not actor:
            raise ReviewError("an approval needs a signed-in approver (turn login on with ADVISOR_AUTH_FILE)")
        authors = {r[0]: r[1] for r in conn.execute(
            select(plan_events.c.actor, plan_events.c.action)
            .where(plan_events.c.plan_id == plan_id, plan_events.c.action.in_(("create", "edit", "submit")),
                   plan_events.c.actor.is_not(None)).order_by(plan_events.c.seq))}
        if actor in authors:
            did = {"create": "drafted", "edit": "edited", "submit": "submitted"}[authors[actor]]
            raise ReviewError(f"you {did} plan {plan_id}, so you cannot approve it: four eyes means another manager "
                              "approves (drafter and submitter may not approve their own plan)")

    @staticmethod
    def _locked(conn: Connection, plan_id: str) -> tuple[str, str]:
        """The plan's status and text, locked until the transaction ends (FOR UPDATE on PostgreSQL;
        SQLite's write transaction already holds the whole file)."""
        row = conn.execute(select(plans.c.status, plans.c.plan).where(plans.c.plan_id == plan_id).with_for_update()).first()
        if row is None:
            raise ReviewError(f"no plan with id '{plan_id}'")
        return row[0], row[1]

    @staticmethod
    def _event(conn: Connection, plan_id, actor, role, action, comment) -> None:
        conn.execute(plan_events.insert().values(plan_id=plan_id, at=_now(), actor=actor, role=role, action=action,
                                                 comment=comment))


def review_store(settings) -> ReviewStore:
    return ReviewStore(settings.store_url("reviews"))


def comments_text(stored: StoredPlan) -> str:
    return json.dumps([e.model_dump() for e in stored.events if e.comment], ensure_ascii=False)
