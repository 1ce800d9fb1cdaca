import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line

from .dates import PartialDate, life_span
from .rules import honoured_name

EPITAPH_MAX = 200
MESSAGE_MAX = 1000


def _year_field(label):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MinValueValidator(1800), MaxValueValidator(2200)])


def _month_field(label):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)])


def _day_field(label):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)])


class Memorial(models.Model):
    """A family's page for a person who has died: their name and dates, an epitaph, the chosen
    portrait, pictures of what they loved and a living video, all made by the owner's jobs.
    Private until the owner shares it by link, with an optional expiry and PIN."""

    # A random id, so that the owner's pages cannot be found by counting.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memorials")
    name = models.CharField(_("name"), max_length=80, validators=[validate_single_line])
    birth_year, birth_month, birth_day = _year_field(_("year of birth")), _month_field(_("month")), _day_field(_("day"))
    death_year, death_month, death_day = _year_field(_("year of death")), _month_field(_("month")), _day_field(_("day"))
    epitaph = models.CharField(_("epitaph"), max_length=EPITAPH_MAX, blank=True, validators=[validate_single_line])
    # The owner's own outputs only (services.memorial_update checks it); a file its job no
    # longer has leaves the place empty.
    portrait = models.ForeignKey("generation.JobOutput", verbose_name=_("portrait"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pastimes = models.ManyToManyField("generation.JobOutput", verbose_name=_("what they loved"), blank=True, related_name="+")
    video = models.ForeignKey("generation.JobOutput", verbose_name=_("living video"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # "Bring it to life": the creation animating the portrait, whose video is attached when done.
    living_creation = models.ForeignKey("studio.Creation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    is_shared = models.BooleanField(default=False)
    share_token = models.CharField(max_length=43, unique=True, null=True, blank=True, editable=False)
    share_expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the link shows that the page is no longer shared.")
    pin_hash = models.CharField(max_length=128, blank=True, editable=False, help_text="The PIN, hashed with the password hashers; empty for none.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(is_shared=False) | Q(share_token__isnull=False), name="memorial_shared_has_token"),
            *(
                models.CheckConstraint(condition=Q(**{f"{end}_month__isnull": True}) | Q(**{f"{end}_year__isnull": False}), name=f"memorial_{end}_month_has_year")
                for end in ("birth", "death")
            ),
            *(
                models.CheckConstraint(condition=Q(**{f"{end}_day__isnull": True}) | Q(**{f"{end}_month__isnull": False}), name=f"memorial_{end}_day_has_month")
                for end in ("birth", "death")
            ),
        ]

    def __str__(self):
        return self.name or str(_("Memorial"))

    @property
    def born(self) -> PartialDate | None:
        return PartialDate.of(self.birth_year, self.birth_month, self.birth_day)

    @property
    def died(self) -> PartialDate | None:
        return PartialDate.of(self.death_year, self.death_month, self.death_day)

    @property
    def honoured_name(self) -> str:
        return honoured_name(self.name)

    @property
    def life_span(self) -> str:
        return life_span(self.born, self.died)

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    @property
    def share_expired(self) -> bool:
        return self.share_expires_at is not None and self.share_expires_at <= timezone.now()

    def clean(self):
        errors = {}
        for end in ("birth", "death"):
            if getattr(self, f"{end}_month") and not getattr(self, f"{end}_year"):
                errors[f"{end}_year"] = _("Give the year of that month, or leave the month out.")
                continue
            date = PartialDate.of(getattr(self, f"{end}_year"), getattr(self, f"{end}_month"), getattr(self, f"{end}_day"))
            try:
                date and date.check()
            except ValidationError as error:
                errors[f"{end}_day"] = error
        if not errors and self.born and self.died and self.died.latest() < self.born.earliest():
            errors["death_year"] = _("The date of death is before the date of birth.")
        if errors:
            raise ValidationError(errors)

    def get_absolute_url(self):
        return reverse("memorials:detail", args=[self.id])

    def get_share_url(self):
        return reverse("memorials:public", args=[self.share_token]) if self.is_shared else None


class GuestbookMessage(models.Model):
    """A visitor's message on a memorial page, shown once the page's owner approves it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Shown")
        HIDDEN = "hidden", _("Hidden")

    memorial = models.ForeignKey(Memorial, on_delete=models.CASCADE, related_name="messages")
    name = models.CharField(_("your name"), max_length=80, validators=[validate_single_line])
    message = models.TextField(_("message"), max_length=MESSAGE_MAX, validators=[MaxLengthValidator(MESSAGE_MAX)])
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name}: {self.message[:40]}"
