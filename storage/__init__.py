"""Storage: typed SQLAlchemy models, sessions, repositories and Alembic migrations."""
