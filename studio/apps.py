from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self):
        from generation.signals import job_finished

        from .services import creation_notify_ready

        def tell_the_owner(sender, job_id, state, **kwargs):
            if state == "succeeded":
                creation_notify_ready(job_id=job_id)

        job_finished.connect(tell_the_owner, dispatch_uid="studio.tell_the_owner", weak=False)
