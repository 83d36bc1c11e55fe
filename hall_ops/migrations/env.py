"""Alembic environment of the hall: the schema is ``hall_ops.tables.metadata``.

``hall_ops.schema`` runs it with the start-up connection (``config.attributes
["connection"]``), already inside the transaction that holds the start-up lock. From
a shell, ``alembic -x url=sqlite:///instance/hall.db revision --autogenerate -m …``
(the repository's ``alembic.ini``) compares a database with the models.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from hall_ops.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic -x url=<SQLAlchemy URL> …")
    with create_engine(url).connect() as conn:
        _migrate(conn)
        conn.commit()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite rebuilds tables to alter
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported; run against a database")
run()
