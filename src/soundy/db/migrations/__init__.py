"""Alembic environment and revisions for Soundy's database (see ``soundy.db.migrate``)."""
