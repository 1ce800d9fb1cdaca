from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self):
        from accounts.signals import account_deleting, account_exporting
        from generation.models import Job
        from generation.signals import job_finished

        from .selectors import account_studio_export
        from .services import account_studio_delete, creation_notify_ready

        def tell_the_owner(sender, job_id, state, **kwargs):
            if state == Job.State.SUCCEEDED:
                creation_notify_ready(job_id=job_id)

        job_finished.connect(tell_the_owner, dispatch_uid="studio.tell_the_owner", weak=False)
        account_deleting.connect(
            lambda sender, user, **kwargs: account_studio_delete(user=user), dispatch_uid="studio.account_delete", weak=False
        )
        account_exporting.connect(
            lambda sender, user, **kwargs: account_studio_export(user=user), dispatch_uid="studio.account_export", weak=False
        )
