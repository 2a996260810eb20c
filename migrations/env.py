"""Alembic environment: the engine comes from the Catalog that runs the upgrade."""
from alembic import context
from sqlalchemy import create_engine

from maskroom.catalog.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` command line, for writing new revisions
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER support
            compare_type=True,
            # SQLite runs DDL inside a transaction too: a migration (or a new
            # catalog's schema) interrupted half-way rolls back instead of leaving
            # some tables made ("table ... already exists" on the next try).
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
