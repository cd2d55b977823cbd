"""Votes on answers. Written with 'if not exists', so a file made before migrations existed (release
0.1.0) is adopted as it is, rows and all."""

from alembic import op

revision = "feedback_0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE = ["""create table if not exists feedback (
    id integer primary key autoincrement, created_at text not null, user text,
    rating integer not null check (rating in (-1, 1)), comment text, question text not null,
    answer text not null, citations text not null)"""]
POSTGRESQL = ["""create table if not exists feedback (
    id bigserial primary key, created_at text not null, "user" text,
    rating integer not null check (rating in (-1, 1)), comment text, question text not null,
    answer text not null, citations text not null)"""]


def upgrade() -> None:
    for statement in SQLITE if op.get_context().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("votes are kept: restore a backup to go back")
