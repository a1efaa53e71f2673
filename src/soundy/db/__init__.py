"""Database: tables (``models``), engine and sessions (``session``), migrations (``migrate``).

``soundy.db.migrate.run_migrations(database_url)`` applies the packaged Alembic migrations.
"""
