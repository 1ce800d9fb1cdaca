from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"

    def ready(self):
        from generation.models import Job
        from generation.signals import job_finished

        from .services import case_pastimes_attach

        def show_the_pastimes(sender, job_id, state, **kwargs):
            if state == Job.State.SUCCEEDED:
                case_pastimes_attach(job_id=job_id)

        job_finished.connect(show_the_pastimes, dispatch_uid="partners.show_the_pastimes", weak=False)
