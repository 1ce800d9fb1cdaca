from django.db import models
from django.urls import reverse


class Frame(models.Model):
    """A digital photo frame we sell."""

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", "Landscape"
        PORTRAIT = "portrait", "Portrait"
        SQUARE = "square", "Square"

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    tagline = models.CharField(max_length=160, blank=True)
    description = models.TextField(blank=True)
    screen_inches = models.DecimalField(max_digits=4, decimal_places=1)
    resolution_width = models.PositiveIntegerField()
    resolution_height = models.PositiveIntegerField()
    orientation = models.CharField(max_length=10, choices=Orientation.choices, default=Orientation.LANDSCAPE)
    color = models.CharField(max_length=40, help_text="Finish, e.g. 'Walnut'.")
    price_krw = models.DecimalField("price (KRW)", max_digits=10, decimal_places=0)
    price_usd = models.DecimalField("price (USD)", max_digits=8, decimal_places=2)
    is_active = models.BooleanField(default=True, help_text="Shown in the catalog.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "screen_inches"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_krw__gt=0, price_usd__gt=0), name="frame_prices_positive"),
        ]

    def __str__(self):
        return f"{self.name} ({self.screen_inches}″, {self.color})"

    def get_absolute_url(self):
        return reverse("shop:frame-detail", args=[self.slug])

    @property
    def resolution(self) -> str:
        return f"{self.resolution_width}×{self.resolution_height}"
