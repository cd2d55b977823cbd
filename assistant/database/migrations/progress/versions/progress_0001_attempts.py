"""Training results, one row per answered question. Written with 'if not exists', so a file made
before migrations existed (release 0.1.0) is adopted as it is, rows and all."""

from alembic import op

revision = "progress_0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE = [
    """create table if not exists attempts (
        id integer primary key autoincrement, trainee text not null collate nocase, topic text not null,
        question_id text not null, kind text not null default '', correct integer not null check (correct in (0, 1)),
        answered_at text not null, quiz_id text not null default '')""",
    "create index if not exists attempts_by_trainee on attempts (trainee, topic)",
    "create index if not exists attempts_by_topic on attempts (topic)",
]
POSTGRESQL = [
    """create table if not exists attempts (
        id bigserial primary key, trainee text not null, topic text not null,
        question_id text not null, kind text not null default '', correct integer not null check (correct in (0, 1)),
        answered_at text not null, quiz_id text not null default '')""",
    "create index if not exists attempts_by_trainee on attempts (trainee, topic)",
    "create index if not exists attempts_by_topic on attempts (topic)",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_context().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("training results are kept: restore a backup to go back")
