from core.celery import app

from .devices import services as devices


@app.task(name="studio.expire_unpaired_frames", ignore_result=True)
def expire_unpaired_frames() -> int:
    """Run by the beat process (CELERY_BEAT_SCHEDULE)."""
    return devices.devices_expire_unpaired()
