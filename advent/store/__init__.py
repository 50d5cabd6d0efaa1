"""The store: tables, the database engine and sessions, and the Alembic migrations."""
