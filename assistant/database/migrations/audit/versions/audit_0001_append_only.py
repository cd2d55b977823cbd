"""The append-only audit trail: records and their completing rows, with triggers that refuse every
UPDATE and DELETE on both engines. Written with 'if not exists' (and PostgreSQL's triggers replaced),
so a trail made before migrations existed (release 0.1.0, SQLite or PostgreSQL) is adopted as it is."""

from alembic import op

revision = "audit_0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE = [
    """create table if not exists audit (
        seq integer primary key autoincrement, id text unique not null, created_at text not null,
        kind text not null, user text, record text not null)""",
    """create trigger if not exists audit_no_update before update on audit
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create trigger if not exists audit_no_delete before delete on audit
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create table if not exists audit_completion (
        seq integer primary key autoincrement, id text unique not null, completed_at text not null,
        status text not null, record text not null)""",
    """create trigger if not exists audit_completion_no_update before update on audit_completion
       begin select raise(abort, 'the audit trail is append-only'); end""",
    """create trigger if not exists audit_completion_no_delete before delete on audit_completion
       begin select raise(abort, 'the audit trail is append-only'); end""",
]
POSTGRESQL = [
    """create table if not exists audit (
        seq bigserial primary key, id text unique not null, created_at text not null, kind text not null,
        "user" text, record text not null)""",
    """create or replace function audit_append_only() returns trigger language plpgsql as $$
       begin raise exception 'the audit trail is append-only'; end $$""",
    "drop trigger if exists audit_no_change on audit",
    """create trigger audit_no_change before update or delete on audit
       for each row execute function audit_append_only()""",
    # TRUNCATE skips row triggers; a statement trigger refuses it too
    "drop trigger if exists audit_no_truncate on audit",
    """create trigger audit_no_truncate before truncate on audit
       for each statement execute function audit_append_only()""",
    """create table if not exists audit_completion (
        seq bigserial primary key, id text unique not null, completed_at text not null, status text not null,
        record text not null)""",
    "drop trigger if exists audit_completion_no_change on audit_completion",
    """create trigger audit_completion_no_change before update or delete on audit_completion
       for each row execute function audit_append_only()""",
    "drop trigger if exists audit_completion_no_truncate on audit_completion",
    """create trigger audit_completion_no_truncate before truncate on audit_completion
       for each statement execute function audit_append_only()""",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_context().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the audit trail is append-only: it has no way back")
