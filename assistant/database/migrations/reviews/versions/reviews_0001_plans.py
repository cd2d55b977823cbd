"""Plans under review and who did what to them. Written with 'if not exists', so a file made before
migrations existed (release 0.1.0) is adopted as it is, rows and all."""

from alembic import op

revision = "reviews_0001"
down_revision = None
branch_labels = None
depends_on = None

PLANS = """create table if not exists plans (
    plan_id text primary key, status text not null, plan text not null, created_by text,
    created_at text not null, updated_at text not null)"""
SQLITE = [PLANS, """create table if not exists plan_events (
    seq integer primary key autoincrement, plan_id text not null, at text not null, actor text,
    role text, action text not null, comment text)"""]
POSTGRESQL = [PLANS, """create table if not exists plan_events (
    seq bigserial primary key, plan_id text not null, at text not null, actor text,
    role text, action text not null, comment text)""",
              "create index if not exists plan_events_by_plan on plan_events (plan_id)"]


def upgrade() -> None:
    for statement in SQLITE if op.get_context().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("reviews are kept: restore a backup to go back")
