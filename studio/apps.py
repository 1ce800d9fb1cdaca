from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self):
        from accounts.signals import account_deleting, account_exporting
        from generation.models import Job
        from generation.signals import job_finished

        from .devices.services import playlist_forget
        from .models import Creation, Device, PlaylistItem
        from .selectors import account_studio_export
        from .services import account_studio_delete, creation_notify_ready, share_page_forget

        def tell_the_owner(sender, job_id, state, **kwargs):
            if state == Job.State.SUCCEEDED:
                creation_notify_ready(job_id=job_id)

        job_finished.connect(tell_the_owner, dispatch_uid="studio.tell_the_owner", weak=False)
        # A public page shows the creation and its job: any change to either renders it anew
        # (sharing off, take-down, a new title in the admin, the video done, a retry, deletion).
        job_finished.connect(
            lambda sender, job_id, **kwargs: share_page_forget(*Creation.objects.filter(job_id=job_id).values_list("share_token", flat=True)),
            dispatch_uid="studio.share_page_job", weak=False,
        )
        for signal in (post_save, post_delete):
            signal.connect(
                lambda sender, instance, **kwargs: share_page_forget(instance.share_token), sender=Creation,
                dispatch_uid=f"studio.share_page_{signal is post_save}", weak=False,
            )
        # A frame's playlist shows the frame, its items, their creations and jobs: any change to
        # them makes its next poll read it anew (studio.devices.answers).
        def forget_playlists(devices):
            playlist_forget(*devices.values_list("token_hash", flat=True))

        for signal in (post_save, post_delete):
            signal.connect(
                lambda sender, instance, **kwargs: playlist_forget(instance.token_hash), sender=Device,
                dispatch_uid=f"studio.playlist_device_{signal is post_save}", weak=False,
            )
            signal.connect(
                lambda sender, instance, **kwargs: forget_playlists(Device.objects.filter(pk=instance.device_id)), sender=PlaylistItem,
                dispatch_uid=f"studio.playlist_item_{signal is post_save}", weak=False,
            )
        post_save.connect(
            lambda sender, instance, **kwargs: forget_playlists(Device.objects.filter(playlist__creation=instance)), sender=Creation,
            dispatch_uid="studio.playlist_creation", weak=False,
        )
        job_finished.connect(
            lambda sender, job_id, **kwargs: forget_playlists(Device.objects.filter(playlist__creation__job_id=job_id)),
            dispatch_uid="studio.playlist_job", weak=False,
        )
        account_deleting.connect(
            lambda sender, user, **kwargs: account_studio_delete(user=user), dispatch_uid="studio.account_delete", weak=False
        )
        account_exporting.connect(
            lambda sender, user, **kwargs: account_studio_export(user=user), dispatch_uid="studio.account_export", weak=False
        )
