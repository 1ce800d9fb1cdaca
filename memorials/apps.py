from django.apps import AppConfig


class MemorialsConfig(AppConfig):
    name = "memorials"
    verbose_name = "Memorials"

    def ready(self):
        from generation.models import Job
        from generation.signals import job_finished

        from .services import memorial_living_video_attach

        def attach_the_video(sender, job_id, state, **kwargs):
            if state == Job.State.SUCCEEDED:
                memorial_living_video_attach(job_id=job_id)

        job_finished.connect(attach_the_video, dispatch_uid="memorials.attach_the_video", weak=False)
