from celery import shared_task

from apps.billing import retention


@shared_task(name="billing.purge_retention", ignore_result=True)
def purge_retention() -> int:
    """Daily: CDRs and call records past each tenant's retention, in batches."""
    return sum(p.cdrs + p.calls for p in retention.purge_all().values())
