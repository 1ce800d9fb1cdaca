from core.celery import app

from . import services
from .devices import services as devices


@app.task(name="studio.expire_unpaired_frames", ignore_result=True)
def expire_unpaired_frames() -> int:
    """Run by the beat process (CELERY_BEAT_SCHEDULE)."""
    return devices.devices_expire_unpaired()


@app.task(name="studio.flush_share_views", ignore_result=True)
def flush_share_views() -> int:
    """Run by the beat process every SHARE_VIEWS_FLUSH_SECONDS: the public pages' visits,
    counted in Redis, written to the creations."""
    return services.share_views_flush()
