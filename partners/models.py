import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line
from shop.money import Currency


class PricePlan(models.Model):
    """What an organisation pays for what it makes: a price per case opened and per product
    made, in one currency, invoiced monthly; and what its jobs may do (a shop plan's limits)."""

    name = models.CharField(max_length=60)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.KRW)
    case_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    portrait_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    image_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    video_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    pastime_price = models.DecimalField(max_digits=10, decimal_places=2, default=0, help_text="Per set of pastime pictures.")
    job_plan = models.ForeignKey(
        "shop.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Height, watermark, engines and priority of the organisation's jobs; empty: the default plan's.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(case_price__gte=0, portrait_price__gte=0, image_price__gte=0, video_price__gte=0, pastime_price__gte=0),
                name="partner_prices_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class Organisation(models.Model):
    """A funeral-service company. Its ``account`` owns every job, creation and memorial made
    for its cases, so that the studio's and the memorials' owner checks hold unchanged; nobody
    logs in to it (inactive, no password): its staff reach them through their membership."""

    name = models.CharField(_("name"), max_length=100, validators=[validate_single_line])
    slug = models.SlugField(max_length=50, unique=True)
    logo = models.ImageField(_("logo"), upload_to="partners/logos/", max_length=255, blank=True, help_text="Upright, EXIF-free JPEG.")
    price_plan = models.ForeignKey(PricePlan, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations")
    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_organisation", editable=False)
    stripe_customer_id = models.CharField(max_length=255, blank=True, help_text="Filled in when it is first invoiced.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("view_usage", "Can see and export partners' usage")]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    # A person works for one organisation: their pages are that organisation's.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "user"]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Invitation(models.Model):
    """A manager's invitation to an email address; the link carries a token of which only the
    hash is kept."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.STAFF)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Case(models.Model):
    """A family's case: the deceased's name and dates are those of the memorial made for them
    (one place for them, validated as the memorial validates them), plus the staff's notes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cases")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    memorial = models.OneToOneField("memorials.Memorial", on_delete=models.PROTECT, related_name="partner_case")
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return str(self.memorial)

    def get_absolute_url(self):
        return reverse("partners:case", args=[self.id])


class CasePhoto(models.Model):
    """A photo staff uploaded for a case, checked and normalized as the studio's uploads are."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    file = models.ImageField(upload_to="partners/photos/%Y/%m/", max_length=255, help_text="Upright, EXIF-free JPEG.")
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


class CaseProduct(models.Model):
    """Something made for a case: a creation of the organisation's account, whose job's
    outputs are the files delivered. Billed once its job has succeeded."""

    class Kind(models.TextChoices):
        PORTRAIT = "portrait", _("Memorial portrait")
        IMAGE = "image", _("Restored photo")
        VIDEO = "video", _("Living video")
        PASTIME = "pastime", _("Pastime pictures")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="products")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    creation = models.OneToOneField("studio.Creation", on_delete=models.CASCADE, related_name="partner_product")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


# What a staff member can make from one case photo, by engine, and what each is billed as.
PRODUCT_ENGINES = {
    "memorial-portrait": CaseProduct.Kind.PORTRAIT,
    "memorial-portrait-sdxl": CaseProduct.Kind.PORTRAIT,  # on a GPU, where the plan includes it
    "restore": CaseProduct.Kind.IMAGE,
}


class Delivery(models.Model):
    """The family's private link to what was made for them: the case's files to download and
    the memorial page, until ``expires_at``, behind an optional PIN."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="delivery")
    token = models.CharField(max_length=43, unique=True, editable=False)
    expires_at = models.DateTimeField()
    pin_hash = models.CharField(max_length=128, blank=True, editable=False, help_text="The PIN, hashed with the password hashers; empty for none.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"Delivery of {self.case}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    def get_absolute_url(self):
        return reverse("partners:delivery", args=[self.token])


class Invoice(models.Model):
    """One month's usage invoiced through Stripe: invoice items on the organisation's customer,
    gathered into an invoice that is finalized. One per organisation and month, so that running
    the monthly invoicing again adds nothing."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="invoices")
    month = models.DateField(help_text="The month's first day.")
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, help_text="As Stripe finalized it.")
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "organisation"]
        constraints = [models.UniqueConstraint(fields=["organisation", "month"], name="one_partner_invoice_a_month")]

    def __str__(self):
        return f"{self.organisation}, {self.month:%Y-%m}"
