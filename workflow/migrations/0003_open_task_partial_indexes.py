"""Partial indexes on viewflow's task table for the inbox (``workflow.selectors``).

Viewflow owns ``viewflow_task``, so the indexes are added here with SQL. Both cover
open tasks only (``OPEN_TASK_STATUSES``: NEW and ASSIGNED), a few per cent of the
table once calls have run: the inbox's owner branch reads ``task_open_owner``, its pool
branches ``task_open_pool`` (unowned open tasks by node, with their process). PostgreSQL
and SQLite both know partial indexes; other databases are left as they are.
"""

from django.db import migrations

OPEN = "status IN ('NEW', 'ASSIGNED')"
INDEXES = {
    "task_open_owner": f"(owner_id) WHERE {OPEN}",
    "task_open_pool": f"(flow_task, process_id) WHERE owner_id IS NULL AND {OPEN}",
}
VENDORS = {"postgresql", "sqlite"}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor not in VENDORS:
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON viewflow_task {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor not in VENDORS:
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0002_export_files"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
