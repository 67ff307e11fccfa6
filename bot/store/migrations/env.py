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


with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, include_object=include_object, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()
