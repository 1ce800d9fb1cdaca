from core.celery import app

from . import exports


@app.task(name="accounts.build_data_export", ignore_result=True)
def build_data_export(export_id: str) -> None:
    exports.data_export_build(export_id=export_id)


@app.task(name="accounts.expire_data_exports", ignore_result=True)
def expire_data_exports() -> None:
    """Periodic (CELERY_BEAT_SCHEDULE)."""
    exports.data_exports_expire()

