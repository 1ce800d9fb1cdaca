from django.apps import AppConfig


class MemorialsConfig(AppConfig):
    name = "memorials"
    verbose_name = "Memorials"

    def ready(self):
        from accounts.signals import account_exporting
        from generation.models import Job
        from generation.signals import job_finished
        from studio.extensions import deletion_notice_register, result_action_register

        from .selectors import PORTRAIT_ENGINES, account_memorials_export, creation_deletion_notices
        from .services import memorial_living_video_attach

        def attach_the_video(sender, job_id, state, **kwargs):
            if state == Job.State.SUCCEEDED:
                memorial_living_video_attach(job_id=job_id)

        job_finished.connect(attach_the_video, dispatch_uid="memorials.attach_the_video", weak=False)
        # Under the images a portrait may be made of, on a creation's page: "use as memorial portrait".
        result_action_register(template="memorials/partials/use_as_portrait.html", engines=PORTRAIT_ENGINES)
        # Deleting a creation takes its pictures off the memorials that show them: say so first.
        deletion_notice_register(creation_deletion_notices)
        account_exporting.connect(
            lambda sender, user, **kwargs: account_memorials_export(user=user), dispatch_uid="memorials.account_export", weak=False
        )
