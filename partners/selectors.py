import datetime
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from generation.models import Job, JobOutput
from memorials.selectors import PORTRAIT_ENGINES

from .models import Case, CasePhoto, CaseProduct, Delivery, Invitation, Membership, Organisation


def membership_for(*, user) -> Membership:
    """The person's place in a partner organisation; 404 for anyone who has none."""
    try:
        return Membership.objects.select_related("organisation").get(user_id=user.pk)
    except Membership.DoesNotExist:
        raise Http404("Not a partner's staff member.") from None


def manager_membership_for(*, user) -> Membership:
    """As ``membership_for``, for the pages only managers see; 404 for staff too."""
    membership = membership_for(user=user)
    if not membership.is_manager:
        raise Http404("Only managers see this.")
    return membership


def case_list(*, organisation: Organisation) -> QuerySet[Case]:
    return Case.objects.filter(organisation=organisation).select_related("memorial", "delivery")


def case_get(*, user, case_id) -> Case:
    """The case if it is of ``user``'s organisation; 404 otherwise, never 403, so that nothing
    tells another organisation's staff that it exists."""
    membership = membership_for(user=user)
    try:
        return Case.objects.select_related("organisation", "memorial__portrait", "memorial__video").get(pk=case_id, organisation=membership.organisation)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def case_photo_get(*, case: Case, photo_id: int) -> CasePhoto:
    try:
        return case.photos.get(pk=photo_id)
    except CasePhoto.DoesNotExist:
        raise Http404("No such photo.") from None


def case_products(*, case: Case) -> QuerySet[CaseProduct]:
    return case.products.select_related("creation__job").prefetch_related("creation__job__outputs")


def case_outputs(*, case: Case, kinds=(JobOutput.Kind.IMAGE, JobOutput.Kind.VIDEO)) -> QuerySet[JobOutput]:
    """The finished pictures and videos made for ``case``, oldest first."""
    jobs = CaseProduct.objects.filter(case=case, creation__job__state=Job.State.SUCCEEDED).values("creation__job_id")
    return JobOutput.objects.filter(job_id__in=jobs, kind__in=kinds).select_related("job").order_by("job__created_at", "position")


def case_portraits(*, case: Case) -> QuerySet[JobOutput]:
    """The case's outputs that may be its memorial's portrait (as the memorial says)."""
    return case_outputs(case=case, kinds=[JobOutput.Kind.IMAGE]).filter(job__engine__in=PORTRAIT_ENGINES)


def case_output_get(*, case: Case, output_id: int, kinds=(JobOutput.Kind.IMAGE, JobOutput.Kind.VIDEO, JobOutput.Kind.POSTER)) -> JobOutput:
    try:
        return case_outputs(case=case, kinds=kinds).get(pk=output_id)
    except JobOutput.DoesNotExist:
        raise Http404("No such file.") from None


def delivery_get(*, token: str) -> Delivery:
    """The delivery of this link (expired or not: the page says which); 404 otherwise."""
    try:
        return Delivery.objects.select_related("case__organisation", "case__memorial").get(token=token)
    except Delivery.DoesNotExist:
        raise Http404("This link does not work.") from None


def invitation_members(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user")


def invitations_open(*, organisation: Organisation) -> QuerySet[Invitation]:
    return organisation.invitations.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


# --- Usage ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Usage:
    organisation: Organisation
    month: datetime.date  # its first day
    cases: int = 0
    portraits: int = 0
    images: int = 0
    videos: int = 0
    pastimes: int = 0  # sets of pastime pictures


USAGE_KINDS = ("cases", "portraits", "images", "videos", "pastimes")


def usage_by_month(*, organisation: Organisation | None = None, month: datetime.date | None = None) -> list[Usage]:
    """Per organisation and calendar month (the site's time zone): the cases opened and the
    products made whose job succeeded (a failed one is not billed), newest month first."""
    cases = Case.objects.all()
    products = CaseProduct.objects.filter(creation__job__state=Job.State.SUCCEEDED)
    if organisation is not None:
        cases, products = cases.filter(organisation=organisation), products.filter(case__organisation=organisation)
    counts: dict[tuple[int, datetime.date], dict[str, int]] = {}
    for row in cases.annotate(month=TruncMonth("created_at")).values("organisation_id", "month").annotate(n=Count("pk")):
        counts.setdefault((row["organisation_id"], _day(row["month"])), {})["cases"] = row["n"]
    plural = {"portrait": "portraits", "image": "images", "video": "videos", "pastime": "pastimes"}
    for row in products.annotate(month=TruncMonth("created_at")).values("case__organisation_id", "month", "kind").annotate(n=Count("pk")):
        counts.setdefault((row["case__organisation_id"], _day(row["month"])), {})[plural[row["kind"]]] = row["n"]
    if month is not None:
        counts = {key: value for key, value in counts.items() if key[1] == month}
    organisations = Organisation.objects.in_bulk({key[0] for key in counts})
    rows = [Usage(organisation=organisations[org_id], month=first_day, **numbers) for (org_id, first_day), numbers in counts.items()]
    return sorted(rows, key=lambda usage: (-usage.month.toordinal(), usage.organisation.name))


def _day(month) -> datetime.date:
    # TruncMonth gives the month's first moment in the current time zone (a date on some databases).
    return month.date() if isinstance(month, datetime.datetime) else month
