"""Trainee names are looked up without regard to case on every engine: queries compare lower(trainee)
(SQLite's 'collate nocase' does not exist in PostgreSQL), so that is what gets an index."""

from alembic import op

revision = "progress_0002"
down_revision = "progress_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("create index if not exists attempts_by_trainee_key on attempts (lower(trainee), topic)")


def downgrade() -> None:
    op.execute("drop index if exists attempts_by_trainee_key")
