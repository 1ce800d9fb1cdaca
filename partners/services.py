import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.selectors import email_is_verified_by
from core.links import link_is_unlocked, link_pin_hash, link_token_new, link_unlock
from core.mail import mail_send
from generation.limits import JobLimits
from generation.models import Job, JobOutput
from generation.photos import NormalizedPhoto, photo_normalize
from memorials.services import (
    memorial_animate,
    memorial_create,
    memorial_portrait_choose,
    memorial_sharing_set,
    memorial_unlock,
    memorial_update,
)
from shop import payments
from shop.models import Plan
from shop.money import from_minor_units, to_minor_units
from shop.selectors import plan_default
from studio.services import creation_create

from . import selectors
from .models import PRODUCT_ENGINES, Case, CasePhoto, CaseProduct, Delivery, Invitation, Invoice, Membership, Organisation

INVITATION_DAYS = 7
DELIVERY_UNLOCKED_SESSION_KEY = "partners_deliveries_unlocked"
# What each product a staff member makes from a case photo is made by.
PASTIME_ENGINE = "pastime-images"  # from one to three photos, on a GPU


# --- Organisations and their people ---------------------------------------------------------

def organisation_account_create(*, slug: str):
    """The account an organisation's cases are made under: inactive and without a password (see
    ``Organisation``), at an address of the reserved .invalid domain."""
    return get_user_model().objects.create_user(email=f"partner-{slug}@partners.invalid", is_active=False)


@transaction.atomic
def organisation_create(*, name: str, slug: str, price_plan=None) -> Organisation:
    organisation = Organisation(name=name, slug=slug, price_plan=price_plan, account=organisation_account_create(slug=slug))
    organisation.full_clean(exclude=["account"])
    organisation.save()
    return organisation


def organisation_logo_set(*, organisation: Organisation, photo: NormalizedPhoto) -> Organisation:
    old = organisation.logo.name
    organisation.logo.save(f"{secrets.token_hex(8)}.jpg", ContentFile(photo.jpeg), save=True)
    if old:
        organisation.logo.storage.delete(old)
    return organisation


def _invitation_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, organisation: Organisation, email: str, role: str, invited_by) -> Invitation:
    """Invite ``email`` to the organisation; the link, sent once this commits, holds the only
    copy of the token (the row keeps its hash) and works for a week."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation, email=get_user_model().objects.normalize_email(email), role=role, invited_by=invited_by,
        token_hash=_invitation_hash(token), expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    context = {"invitation": invitation, "token": token, "site_url": settings.SITE_URL}
    language = getattr(invited_by, "language", settings.LANGUAGE_CODE)
    transaction.on_commit(lambda: mail_send(template="partners/email/invitation", context=context, to=invitation.email, language=language))
    return invitation


class InvitationRefused(Exception):
    """``str()`` tells the person why."""


def invitation_find(*, token: str) -> Invitation:
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=_invitation_hash(token)).first()
    if invitation is None:
        raise InvitationRefused(gettext("This invitation link is not valid. Ask your manager for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    """Join the organisation as the invitation says. The person must be logged in with the
    invited address, verified; accepting twice is the same as once; an expired invitation, or
    one another account accepted, is refused."""
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_find(token=token).pk).select_related("organisation").get()
    if invitation.accepted_at is not None:
        if invitation.accepted_by_id == user.pk:
            return Membership.objects.get(user=user, organisation=invitation.organisation)
        raise InvitationRefused(gettext("This invitation has already been used."))
    if invitation.expired:
        raise InvitationRefused(gettext("This invitation has expired. Ask your manager for a new one."))
    if not email_is_verified_by(user=user, email=invitation.email):
        raise InvitationRefused(
            gettext("This invitation is for %(email)s. Log in with that address, and verify it, to accept it.") % {"email": invitation.email}
        )
    if Membership.objects.filter(user=user).exclude(organisation=invitation.organisation).exists():
        raise InvitationRefused(gettext("You already work for another organisation here."))
    membership, created = Membership.objects.get_or_create(user=user, defaults={"organisation": invitation.organisation, "role": invitation.role})
    if not created and membership.role != invitation.role:
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


# --- Cases -----------------------------------------------------------------------------------

def _job_plan(organisation: Organisation) -> Plan | None:
    return organisation.price_plan.job_plan if organisation.price_plan else None


def organisation_job_limits(*, organisation: Organisation) -> JobLimits:
    """What the organisation's jobs may do: its price plan's shop plan, else the default plan's."""
    return (_job_plan(organisation) or plan_default()).job_limits()


@transaction.atomic
def case_create(*, organisation: Organisation, created_by, name: str, notes: str = "", **dates) -> Case:
    """A case and the memorial page made for the family, owned by the organisation's account;
    the name and dates are the memorial's, validated as it validates them."""
    memorial = memorial_create(owner=organisation.account, name=name, **dates)
    case = Case(organisation=organisation, created_by=created_by, memorial=memorial, notes=notes)
    case.full_clean(exclude=["memorial"])
    case.save()
    return case


@transaction.atomic
def case_update(*, case: Case, name: str, notes: str = "", **dates) -> Case:
    memorial = case.memorial
    memorial_update(memorial=memorial, name=name, epitaph=memorial.epitaph, portrait=memorial.portrait, video=memorial.video, **dates)
    case.notes = notes
    case.full_clean(exclude=["memorial"])
    case.save(update_fields=["notes"])
    return case


def case_photo_add(*, case: Case, photo: NormalizedPhoto, uploaded_by) -> CasePhoto:
    """Keep a photo that the upload form checked and normalized (``studio.forms.photo_checked``)."""
    row = CasePhoto(case=case, uploaded_by=uploaded_by, width=photo.size[0], height=photo.size[1])
    row.file.save(f"{secrets.token_hex(8)}.jpg", ContentFile(photo.jpeg), save=False)
    try:
        row.save()
    except IntegrityError:
        row.file.storage.delete(row.file.name)
        raise
    return row


@transaction.atomic
def case_product_make(*, case: Case, photo: CasePhoto, engine: str, made_by, params: dict | None = None) -> CaseProduct:
    """Queue what ``engine`` (one of PRODUCT_ENGINES: a memorial portrait, on the CPU or with
    SDXL, or a restored photo) makes of ``photo``, for the organisation's account, with its
    plan's limits and no credit (the organisation is invoiced for it). Raises what
    ``creation_create`` raises."""
    if engine not in PRODUCT_ENGINES:
        raise ValueError(f"Not made from a photo: {engine}")
    with photo.file.open("rb") as handle:
        normalized = photo_normalize(handle)
    shape = "3:4" if photo.height > photo.width else "1:1"
    creation = creation_create(
        owner=case.organisation.account, photos=[normalized], title=case.memorial.name, aspect_ratio=shape,
        engine=engine, params=params, plan=_job_plan(case.organisation), reserve_credit=False,
    )
    return CaseProduct.objects.create(case=case, kind=PRODUCT_ENGINES[engine], creation=creation, made_by=made_by)


@transaction.atomic
def case_pastime_make(*, case: Case, photos: list[CasePhoto], pastime: str, made_by, params: dict | None = None) -> CaseProduct:
    """Queue pictures of the person doing what they loved (``pastime``, a slug of the catalogue)
    from one to three of the case's photos, on a GPU, with no credit; they join the memorial's
    pastimes when they are done. Raises what ``creation_create`` raises (EngineError...)."""
    normalized = []
    for photo in photos:
        with photo.file.open("rb") as handle:
            normalized.append(photo_normalize(handle))
    creation = creation_create(
        owner=case.organisation.account, photos=normalized, title=case.memorial.name, aspect_ratio="3:4",
        engine=PASTIME_ENGINE, params={**(params or {}), "pastime": pastime}, plan=_job_plan(case.organisation), reserve_credit=False,
    )
    return CaseProduct.objects.create(case=case, kind=CaseProduct.Kind.PASTIME, creation=creation, made_by=made_by)


def case_pastimes_attach(*, job_id: int) -> None:
    """When a case's pastime pictures are done, they are on the family's memorial page too."""
    product = CaseProduct.objects.filter(kind=CaseProduct.Kind.PASTIME, creation__job_id=job_id).select_related("case__memorial").first()
    if product is not None:
        images = JobOutput.objects.filter(job_id=job_id, job__state=Job.State.SUCCEEDED, kind=JobOutput.Kind.IMAGE)
        product.case.memorial.pastimes.add(*images)


def case_portrait_choose(*, case: Case, output: JobOutput) -> Case:
    """``output`` (a portrait made for this case) becomes the memorial's portrait."""
    memorial_portrait_choose(owner=case.organisation.account, output=output, memorial=case.memorial)
    return case


@transaction.atomic
def case_animate(*, case: Case, made_by, engine: str | None = None, params: dict | None = None) -> CaseProduct:
    """The living video, made from the memorial's chosen portrait by the memorial's own "bring
    it to life" (with ``engine``, the default one when None); it joins the memorial when it is
    done. Raises what ``memorial_animate`` raises."""
    creation = memorial_animate(
        memorial=case.memorial, engine=engine, params=params, plan=_job_plan(case.organisation), reserve_credit=False,
    )
    return CaseProduct.objects.create(case=case, kind=CaseProduct.Kind.VIDEO, creation=creation, made_by=made_by)


# --- Delivery to the family -----------------------------------------------------------------

@transaction.atomic
def delivery_set(*, case: Case, expires_at: datetime.datetime, pin: str | None, created_by) -> Delivery:
    """Open (or change) the family's link, and share the memorial page with the same expiry and
    PIN. ``pin``: a new PIN, "" for none, None to keep the one there is."""
    if expires_at <= timezone.now():
        raise ValidationError(gettext("Choose a time in the future."), code="past")
    delivery = Delivery.objects.filter(case=case).first() or Delivery(case=case, token=link_token_new(), created_by=created_by)
    delivery.expires_at = expires_at
    if pin is not None:
        delivery.pin_hash = link_pin_hash(pin)
    delivery.save()
    memorial_sharing_set(memorial=case.memorial, shared=True, expires_at=expires_at, pin=pin)
    return delivery


def _link(delivery: Delivery) -> dict:
    return {"scope": DELIVERY_UNLOCKED_SESSION_KEY, "key": str(delivery.pk), "token": delivery.token, "pin_hash": delivery.pin_hash}


def delivery_is_open(*, delivery: Delivery, session) -> bool:
    """Whether this visitor may see the delivery now: not expired, and unlocked if it has a PIN."""
    return not delivery.expired and link_is_unlocked(session=session, **_link(delivery))


def delivery_unlock(*, delivery: Delivery, pin: str, session) -> bool:
    """Check the PIN; if right, this visitor's session may open the delivery and the memorial
    page it links to (which has the same PIN) without typing it again."""
    if not link_unlock(session=session, pin=pin, **_link(delivery)):
        return False
    memorial_unlock(memorial=delivery.case.memorial, pin=pin, session=session)
    return True


# --- Monthly invoicing ------------------------------------------------------------------------

# The invoice item of each kind of usage, and the price-plan field that prices it.
INVOICED = {"cases": ("case_price", "cases"), "portraits": ("portrait_price", "memorial portraits"),
            "images": ("image_price", "restored photos"), "videos": ("video_price", "living videos"),
            "pastimes": ("pastime_price", "sets of pastime pictures")}


def organisation_customer_ensure(*, organisation: Organisation) -> str:
    """The organisation's Stripe customer, created the first time."""
    if not organisation.stripe_customer_id:
        customer = payments.customer_create(
            name=organisation.name, metadata={"organisation_id": str(organisation.pk)}, idempotency_key=f"partner-customer-{organisation.pk}",
        )
        organisation.stripe_customer_id = customer["id"]
        organisation.save(update_fields=["stripe_customer_id"])
    return organisation.stripe_customer_id


def organisation_invoice(*, organisation: Organisation, month: datetime.date) -> Invoice | None:
    """Invoice ``month``'s usage (its first day) at the organisation's prices: one invoice item
    per kind used, on its Stripe customer, gathered into an invoice that is finalized. None
    when there is nothing to pay. Safe to run again, whenever it stopped: an item already
    pending is not added twice, an invoice already made is finalized rather than made again,
    and a finalized month is left alone."""
    record = Invoice.objects.filter(organisation=organisation, month=month).first()
    if record is not None and record.finalized_at is not None:
        return record
    plan = organisation.price_plan
    if record is None:
        usage = next(iter(selectors.usage_by_month(organisation=organisation, month=month)), None)
        lines = [
            (kind, getattr(usage, kind), getattr(plan, price_field) * getattr(usage, kind), label)
            for kind, (price_field, label) in INVOICED.items() if usage and plan and getattr(usage, kind) and getattr(plan, price_field)
        ]
        if not lines:
            return None
        customer = organisation_customer_ensure(organisation=organisation)
        key = f"partner-{organisation.pk}-{month:%Y-%m}"
        pending = {item["metadata"].get("usage_key") for item in payments.invoice_items_pending(customer=customer)}
        for kind, count, amount, label in lines:
            if f"{key}-{kind}" not in pending:
                payments.invoice_item_create(
                    customer=customer, amount=to_minor_units(amount, plan.currency), currency=plan.currency,
                    description=f"{month:%Y-%m}: {count} {label}", metadata={"usage_key": f"{key}-{kind}"}, idempotency_key=f"{key}-{kind}",
                )
        draft = payments.invoice_create(customer=customer, metadata={"usage_key": key}, idempotency_key=f"{key}-invoice")
        record = Invoice.objects.create(organisation=organisation, month=month, stripe_invoice_id=draft["id"], currency=plan.currency)
    invoice = payments.invoice_retrieve(record.stripe_invoice_id)
    if invoice["status"] == "draft":
        invoice = payments.invoice_finalize(record.stripe_invoice_id)
    record.total = from_minor_units(invoice["total"], record.currency)
    record.finalized_at = timezone.now()
    record.save(update_fields=["total", "finalized_at"])
    return record
