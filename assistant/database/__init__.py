"""The advisor's own state (votes, training results, plan reviews, the audit trail) in SQL databases.

One layer for every store: SQLAlchemy Core for the queries, Alembic for the schema, SQLite files
beside the other state by default and PostgreSQL by one setting (``ADVISOR_DATABASE_URL``), so app
processes on several machines share one set of rows. Each store has its own schema version
(``<store>_schema_version``) and is brought up to date when it is opened, under a lock.

May import: sqlalchemy, alembic, and the floor-0 modules (config, errors). Imported by the stores in
governance and training, and by the command line.
"""
