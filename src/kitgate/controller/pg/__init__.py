"""PostgreSQL as the shared system of record: the same store contract as SQLite, races closed in SQL.

Why a package of its own: only a deployment with `KITGATE_DATABASE_URL=postgresql://…` imports it (and
psycopg); the embedded SQLite default never does.
"""
