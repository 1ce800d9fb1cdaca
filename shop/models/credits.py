"""Credits: a ledger of grants and spends, and one reservation per job.

The balance is the sum of the ledger. A job reserves a credit when it is submitted (an entry
of −1), and its reservation is settled exactly once: consumed when the video is made, or
released (an entry of +1) when it fails or is canceled. Every entry has a unique key, so a
task or a webhook that runs twice cannot write it twice.
"""
from django.conf import settings
from django.db import models

BONUS_BUCKET = "bonus"


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        ALLOWANCE = "allowance", "Monthly allowance"
        GRANT = "grant", "Grant"
        RESERVE = "reserve", "Reserved for a video"
        RELEASE = "release", "Given back"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.IntegerField()
    bucket = models.CharField(max_length=10, help_text="The month (YYYY-MM) of an allowance, or 'bonus' for credits that do not expire.")
    key = models.CharField(max_length=120, unique=True, help_text="Makes writing this entry twice impossible.")
    job = models.ForeignKey("generation.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "credit entries"
        indexes = [models.Index(fields=["user", "bucket"])]

    def __str__(self):
        return f"{self.amount:+d} {self.get_kind_display()} ({self.bucket})"


class CreditReservation(models.Model):
    class State(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        CONSUMED = "consumed", "Consumed"
        RELEASED = "released", "Released"

    job = models.OneToOneField("generation.Job", on_delete=models.CASCADE, related_name="credit_reservation")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=10)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RESERVED)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Credit for job {self.job_id}: {self.state}"
