"""Alembic environment: runs on the engine the product hands over (see bot.store.database)."""

from alembic import context

from bot.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: build from the configured URL
    from bot.config import Settings
    from bot.store.database import make_engine

    engine = make_engine(Settings.load().database_url)


def include_object(obj, name, type_, reflected, compare_to):
    # APScheduler owns its job tables (one per platform); they are not part of our schema.
    return not (type_ == "table" and str(name).startswith("apscheduler_jobs"))


# Processes of a fleet start together: on PostgreSQL one migrates while the others wait for it
# (a transaction-level advisory lock, released at commit), then find nothing left to do.
MIGRATION_LOCK = 0x6272_6B62_6F74  # "brkbot"

with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, include_object=include_object, render_as_batch=True
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()
