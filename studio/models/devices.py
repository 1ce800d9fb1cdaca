"""Digital frames paired to an account, and what each one plays.

A frame registers itself and gets a secret token (kept here only as a hash) and a short code
to show on screen; its owner types the code on the site to pair it. Unpairing forgets the
token's hash, so the token stops working at once.

The owner may invite family members by email (``FrameMember``); a member sends their own finished
videos and restored photos to the frame, and each playlist item remembers who put it there.
"""
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.validators import validate_single_line

from .creations import Creation


class Device(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="The device id the frame knows itself by.")
    name = models.CharField(max_length=60, default="My frame", validators=[validate_single_line])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False, help_text="SHA-256 of the frame's token.")
    pairing_code = models.CharField(max_length=8, unique=True, null=True, blank=True, editable=False)
    pairing_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    paired_at = models.DateTimeField(null=True, blank=True)
    screen_width = models.PositiveIntegerField(default=1920)
    screen_height = models.PositiveIntegerField(default=1080)
    loop = models.BooleanField(default=True, help_text="Play the playlist over and over.")
    seconds_per_video = models.PositiveSmallIntegerField(default=30, help_text="How long each video stays on screen (it loops meanwhile).")
    order = models.ForeignKey(
        "shop.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="devices",
        help_text="The order it was made for, when it came from our shop.",
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at"]
        # Attaching frames to a paid order (and so to its buyer and videos) is fulfilment's job,
        # not that of whoever may add or edit a device row.
        permissions = [("provision_device", "Can make the frames of a paid order")]
        constraints = [
            models.CheckConstraint(condition=models.Q(screen_width__gte=64, screen_height__gte=64), name="device_screen_sensible"),
        ]

    def __str__(self):
        return f"{self.name} ({str(self.id)[:8]})"

    def get_absolute_url(self):
        return reverse("studio:frame-detail", args=[self.id])

    @property
    def is_paired(self) -> bool:
        return self.owner_id is not None


class PlaylistItem(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="playlist")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The owner or the family member who put it on the frame; empty for a gift's preloaded videos.",
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["device", "creation"], name="creation_once_per_device")]

    def __str__(self):
        return f"{self.creation} on {self.device}"


class FrameMember(models.Model):
    """A family member the owner invited by email to send to a frame. The emailed link carries a
    token of which only the hash is kept; ``user`` is whoever accepted it, signed in with that
    address verified."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="members")
    email = models.EmailField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="frame_memberships")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the invitation link's token.")
    invited_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["device", "email"], name="frame_member_once_per_email"),
            models.UniqueConstraint(fields=["device", "user"], name="frame_member_once_per_user"),
        ]

    def __str__(self):
        return f"{self.email} on {self.device}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None
