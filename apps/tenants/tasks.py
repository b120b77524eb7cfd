from celery import shared_task

from apps.tenants import schemas


@shared_task(name="tenants.fill_schema_pool", ignore_result=True)
def fill_schema_pool() -> int:
    """Keep TENANT_SCHEMA_POOL_SIZE spare schemas cloned from the template."""
    from django.db import connection

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        # One filler at a time across workers; others just return.
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('thirdlane.fill_schema_pool'))")
        if not cursor.fetchone()[0]:
            return 0
        try:
            return schemas.fill_pool()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext('thirdlane.fill_schema_pool'))")


@shared_task(name="tenants.report_schema", ignore_result=True)
def report_schema(key: str) -> str:
    """Diagnostics: write the schema this task ran in to Redis under ``key``."""
    from django.db import connection

    from thirdlane.redis import get_redis

    get_redis().set(key, connection.schema_name, ex=300)
    return connection.schema_name
