"""The frames we sell: a product, its variants (screen and finish), and its photos."""
from decimal import Decimal

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..money import Currency


class Frame(models.Model):
    """A digital photo frame model, as shown in the catalog; what is bought is a variant."""

    class Orientation(models.TextChoices):
        LANDSCAPE = "landscape", _("Landscape")
        PORTRAIT = "portrait", _("Portrait")
        SQUARE = "square", _("Square")

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    tagline = models.CharField(max_length=160, blank=True)
    description = models.TextField(blank=True)
    orientation = models.CharField(max_length=10, choices=Orientation.choices, default=Orientation.LANDSCAPE)
    is_active = models.BooleanField(default=True, help_text="Shown in the catalog.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("shop:frame-detail", args=[self.slug])


class FrameVariant(models.Model):
    """One screen size and finish of a frame, with its own stock and prices."""

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=40, unique=True)
    screen_inches = models.DecimalField(max_digits=4, decimal_places=1)
    resolution_width = models.PositiveIntegerField()
    resolution_height = models.PositiveIntegerField()
    color = models.CharField(max_length=40, help_text="Finish, e.g. 'Walnut'.")
    price_krw = models.DecimalField("price (KRW)", max_digits=10, decimal_places=0)
    price_usd = models.DecimalField("price (USD)", max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0, help_text="Units on hand; paid orders take from it.")
    is_active = models.BooleanField(default=True, help_text="Can be bought.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["frame", "sort_order", "screen_inches", "color"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_krw__gt=0, price_usd__gt=0), name="frame_variant_prices_positive"),
        ]

    def __str__(self):
        return f"{self.frame.name} {self.screen_inches}″ {self.color}"

    @property
    def resolution(self) -> str:
        return f"{self.resolution_width}×{self.resolution_height}"

    def price(self, currency: str) -> Decimal:
        return {Currency.KRW: self.price_krw, Currency.USD: self.price_usd}[Currency(currency)]

    @property
    def is_available(self) -> bool:
        return self.is_active and self.frame.is_active and self.stock > 0


def _image_path(image, filename):
    return f"shop/frames/{image.frame_id}/{filename}"


class FrameImage(models.Model):
    """A product photo; public, unlike everything customers upload."""

    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=_image_path)
    alt = models.CharField(max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["frame", "sort_order", "pk"]

    def __str__(self):
        return self.alt or f"Photo of {self.frame}"

    def get_absolute_url(self):
        return reverse("shop:frame-image", args=[self.pk])
