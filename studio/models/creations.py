import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line
from generation.engines.base import ASPECT_RATIOS


class Creation(models.Model):
    """A pet owner's photo and what is made from it: a video, or restored photos."""

    AspectRatio = models.TextChoices("AspectRatio", [(key, key) for key in ASPECT_RATIOS])

    # A random id, so that private URLs cannot be guessed by counting.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations")
    title = models.CharField(max_length=80, blank=True, validators=[validate_single_line], help_text="The pet's name, or a caption.")
    photo = models.ImageField(upload_to="photos/%Y/%m/", max_length=255, help_text="Upright, EXIF-free JPEG.")
    photo_width = models.PositiveIntegerField(editable=False, default=0)
    photo_height = models.PositiveIntegerField(editable=False, default=0)
    aspect_ratio = models.CharField(max_length=5, choices=AspectRatio.choices, default="1:1")
    job = models.ForeignKey(
        "generation.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The latest run of the engine for this creation.",
    )
    is_shared = models.BooleanField(default=False)
    share_token = models.CharField(max_length=43, unique=True, null=True, blank=True, editable=False)
    share_views = models.PositiveIntegerField(default=0, editable=False, help_text="Visits to the public page by others than its owner.")
    taken_down_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Staff took the public page down after a report; it cannot be shared again."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_shared=False) | models.Q(share_token__isnull=False),
                name="creation_shared_has_token",
            )
        ]

    def __str__(self):
        """The name shown everywhere (pages, gallery, share page, emails, frames): the title, or
        for an untitled one the day it was made, as a person would say it ("Video of March 3",
        "3월 3일 영상"; "Photo of March 3" for one that makes photos), with the year once it is
        not this year's."""
        if self.title:
            return self.title
        made = timezone.localtime(self.created_at) if self.created_at else timezone.localtime()
        pattern = "MONTH_DAY_FORMAT" if made.year == timezone.localdate().year else "DATE_FORMAT"
        name = gettext("Video of %(date)s") if self.makes_video else gettext("Photo of %(date)s")
        return name % {"date": date_format(made, pattern)}

    @property
    def makes_video(self) -> bool:
        """Whether its pages and emails speak of a video or of photos (``Job.makes_video``); a
        creation without a job yet is a video, as the upload page's first style makes."""
        return self.job is None or self.job.makes_video

    def get_absolute_url(self):
        return reverse("studio:creation-detail", args=[self.id])

    def get_share_url(self):
        return reverse("studio:share", args=[self.share_token]) if self.is_shared else None


class ShareReport(models.Model):
    """Someone's report of a public page; staff decide in the admin's queue."""

    class Reason(models.TextChoices):
        NOT_A_PET = "not_a_pet", _("It is not a pet")
        OFFENSIVE = "offensive", _("Offensive or disturbing")
        PRIVACY = "privacy", _("It shows me or my home without my consent")
        COPYRIGHT = "copyright", _("It is my photo, used without permission")
        OTHER = "other", _("Something else")

    class Outcome(models.TextChoices):
        OPEN = "open", "Waiting for staff"
        TAKEN_DOWN = "taken_down", "Page taken down"
        DISMISSED = "dismissed", "Dismissed"

    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.TextField(blank=True, max_length=1000)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reporter_key = models.CharField(max_length=64, db_index=True, help_text="Who reported (account or session), hashed: one report each.")
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.OPEN, db_index=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["creation", "reporter_key"], name="one_report_per_reporter")]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.creation}"
