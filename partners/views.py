from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.media import private_file_response
from generation.engines import EngineError
from generation.models import JobOutput
from memorials.forms import AnimateForm, PinForm
from memorials.services import NothingToAnimate, NotYours
from studio.ratelimit import client_address, rate_limit_allow
from studio.uploads import photo_upload_limited

from . import selectors, services
from .forms import CaseForm, DeliveryForm, InvitationForm, PastimeForm, PhotoForm, ProductForm

# --- Staff pages: a case ---------------------------------------------------------------------


@login_required
@require_GET
def case_list(request):
    membership = selectors.membership_for(user=request.user)
    return render(request, "partners/case_list.html", {
        "membership": membership, "cases": selectors.case_list(organisation=membership.organisation),
    })


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    membership = selectors.membership_for(user=request.user)
    return _case_form(request, membership, None)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    return _case_form(request, selectors.membership_for(user=request.user), case)


def _case_form(request, membership, case):
    initial = {"notes": case.notes} if case else None
    form = CaseForm(request.POST or None, instance=case.memorial if case else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            if case is None:
                case = services.case_create(organisation=membership.organisation, created_by=request.user, **fields)
            else:
                case = services.case_update(case=case, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("The case is saved."))
            return redirect(case)
    return render(request, "partners/case_edit.html", {"form": form, "case": case, "membership": membership}, status=400 if form.errors else 200)


@login_required
@require_GET
def case_detail(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    return render(request, "partners/case_detail.html", _case_context(case))


def _case_context(case, **forms) -> dict:
    delivery = getattr(case, "delivery", None)
    limits = services.organisation_job_limits(organisation=case.organisation)
    return {
        "case": case,
        "memorial": case.memorial,
        "photos": case.photos.all(),
        "products": selectors.case_products(case=case),
        "portraits": selectors.case_portraits(case=case),
        "delivery": delivery,
        "photo_form": forms.get("photo_form") or PhotoForm(),
        "product_form": forms.get("product_form") or ProductForm(case=case, limits=limits),
        "pastime_form": forms.get("pastime_form") or PastimeForm(case=case),
        "animate_form": forms.get("animate_form") or AnimateForm(limits=limits),
        "delivery_form": forms.get("delivery_form") or DeliveryForm(initial={"expires_at": delivery.expires_at if delivery else None}),
    }


def _too_large(request, message: str):
    messages.error(request, message)
    return redirect("partners:case", request.resolver_match.kwargs["case_id"])


@login_required
@require_POST
@photo_upload_limited(too_large=_too_large)
def case_photo_upload(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "partners/case_detail.html", _case_context(case, photo_form=form), status=400)
    services.case_photo_add(case=case, photo=form.cleaned_data["photo"], uploaded_by=request.user)
    messages.success(request, gettext("The photo is added."))
    return redirect(case)


@login_required
@require_GET
def case_photo(request, case_id, photo_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    return private_file_response(request, selectors.case_photo_get(case=case, photo_id=photo_id).file)


@login_required
@require_POST
def case_product_make(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = ProductForm(request.POST, case=case, limits=services.organisation_job_limits(organisation=case.organisation))
    if not form.is_valid():
        return render(request, "partners/case_detail.html", _case_context(case, product_form=form), status=400)
    return _start(
        request, case, lambda: services.case_product_make(case=case, made_by=request.user, **form.cleaned_data),
        started=gettext("It is being made; this page shows it when it is ready."), refused=gettext("It cannot be made right now: %(reason)s"),
    )


@login_required
@require_POST
def case_pastime_make(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = PastimeForm(request.POST, case=case)
    if not form.is_valid():
        return render(request, "partners/case_detail.html", _case_context(case, pastime_form=form), status=400)
    return _start(
        request, case, lambda: services.case_pastime_make(case=case, made_by=request.user, **form.cleaned_data),
        started=gettext("The pastime pictures are being made; they join the memorial when they are ready."),
        refused=gettext("They cannot be made right now: %(reason)s"),
    )


@login_required
@require_POST
def case_portrait_choose(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    try:
        output = selectors.case_portraits(case=case).get(pk=int(request.POST.get("output", "")))
        services.case_portrait_choose(case=case, output=output)
    except (ValueError, JobOutput.DoesNotExist, NotYours):
        raise Http404("No such portrait.") from None
    messages.success(request, gettext("This portrait is the memorial's now."))
    return redirect(case)


@login_required
@require_POST
def case_animate(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = AnimateForm(request.POST, limits=services.organisation_job_limits(organisation=case.organisation))
    if not form.is_valid():
        return render(request, "partners/case_detail.html", _case_context(case, animate_form=form), status=400)
    return _start(
        request, case, lambda: services.case_animate(case=case, made_by=request.user, engine=form.cleaned_data["engine"] or None),
        started=gettext("The portrait is being brought to life; the video joins the memorial when it is ready."),
        refused=gettext("It cannot be brought to life right now: %(reason)s"),
    )


def _start(request, case, make, *, started: str, refused: str):
    """Queue a job with ``make``; tell the staff member that it started, or why not."""
    try:
        make()
    except NothingToAnimate as error:
        messages.error(request, str(error))
    except EngineError as error:
        messages.error(request, refused % {"reason": error})
    else:
        messages.success(request, started)
    return redirect(case)


@login_required
@require_GET
def case_output(request, case_id, output_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    return _output_response(request, case, selectors.case_output_get(case=case, output_id=output_id))


@login_required
@require_POST
def case_delivery(request, case_id):
    case = selectors.case_get(user=request.user, case_id=case_id)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            services.delivery_set(case=case, expires_at=form.cleaned_data["expires_at"], pin=form.pin_change(), created_by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        return render(request, "partners/case_detail.html", _case_context(case, delivery_form=form), status=400)
    messages.success(request, gettext("The family's link is ready."))
    return redirect(case)


def _output_response(request, case, output):
    """Shown in the page, or with ?download a full-size file named after the deceased."""
    if "download" not in request.GET:
        return private_file_response(request, output.file)
    suffix = PurePosixPath(output.file.name).suffix
    name = f"{slugify(case.memorial.name) or 'memorial'}-{output.pk}{suffix}"
    return private_file_response(request, output.file, download_name=name)


# --- Staff pages: the organisation -----------------------------------------------------------


@login_required
@require_GET
def logo(request):
    organisation = selectors.membership_for(user=request.user).organisation
    if not organisation.logo:
        raise Http404
    return private_file_response(request, organisation.logo)


@login_required
@require_http_methods(["GET", "POST"])
@photo_upload_limited
def team(request):
    """Managers only: the members, the open invitations, a new invitation and the logo."""
    membership = selectors.manager_membership_for(user=request.user)
    organisation = membership.organisation
    form, logo_form = InvitationForm(), PhotoForm()
    if request.method == "POST" and "photo" in request.FILES:
        logo_form = PhotoForm(request.POST, request.FILES)
        if logo_form.is_valid():
            services.organisation_logo_set(organisation=organisation, photo=logo_form.cleaned_data["photo"])
            messages.success(request, gettext("The logo is saved."))
            return redirect("partners:team")
    elif request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            invitation = services.invitation_create(organisation=organisation, invited_by=request.user, **form.cleaned_data)
            messages.success(request, gettext("An invitation is on its way to %(email)s.") % {"email": invitation.email})
            return redirect("partners:team")
    return render(request, "partners/team.html", {
        "membership": membership, "organisation": organisation, "form": form, "logo_form": logo_form,
        "members": selectors.invitation_members(organisation=organisation), "invitations": selectors.invitations_open(organisation=organisation),
    }, status=400 if form.errors or logo_form.errors else 200)


@login_required
@require_GET
def billing(request):
    """Managers only: the price plan and the usage of each month."""
    membership = selectors.manager_membership_for(user=request.user)
    organisation = membership.organisation
    return render(request, "partners/billing.html", {
        "membership": membership, "organisation": organisation, "plan": organisation.price_plan,
        "usage": selectors.usage_by_month(organisation=organisation),
    })


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_find(token=token)
        if request.method == "POST":
            services.invitation_accept(token=token, user=request.user)
            messages.success(request, gettext("Welcome to %(organisation)s.") % {"organisation": invitation.organisation})
            return redirect("partners:cases")
    except services.InvitationRefused as refused:
        return render(request, "partners/invitation.html", {"error": str(refused)}, status=410)
    return render(request, "partners/invitation.html", {"invitation": invitation})


# --- The family's link -----------------------------------------------------------------------


@require_GET
def delivery(request, token):
    found = selectors.delivery_get(token=token)
    if found.expired:
        return render(request, "partners/delivery_gone.html", {"delivery": found}, status=410)
    if not services.delivery_is_open(delivery=found, session=request.session):
        return render(request, "partners/delivery_locked.html", {"delivery": found, "form": PinForm()})
    case = found.case
    return render(request, "partners/delivery.html", {
        "delivery": found, "case": case, "memorial": case.memorial, "organisation": case.organisation,
        "files": selectors.case_outputs(case=case),
    })


@require_POST
def delivery_unlock(request, token):
    found = selectors.delivery_get(token=token)
    if found.expired:
        return render(request, "partners/delivery_gone.html", {"delivery": found}, status=410)
    form = PinForm(request.POST)
    who = client_address(request)
    if not rate_limit_allow(scope=f"delivery-pin:{found.pk}", who=who, limit=settings.MEMORIAL_PIN_TRIES_PER_ADDRESS, seconds=900):
        form.add_error(None, gettext("Too many tries. Please wait a quarter of an hour and try again."))
        response = render(request, "partners/delivery_locked.html", {"delivery": found, "form": form}, status=429)
        response["Retry-After"] = "900"
        return response
    if form.is_valid() and services.delivery_unlock(delivery=found, pin=form.cleaned_data["pin"], session=request.session):
        return redirect(found)
    form.add_error(None, gettext("That PIN is not right."))
    return render(request, "partners/delivery_locked.html", {"delivery": found, "form": form}, status=403)


def _open_delivery(request, token):
    """The delivery, if this visitor may see it now; 404 otherwise (expired, or not unlocked)."""
    found = selectors.delivery_get(token=token)
    if not services.delivery_is_open(delivery=found, session=request.session):
        raise Http404("This delivery is not open to you.")
    return found


@require_GET
def delivery_file(request, token, output_id):
    case = _open_delivery(request, token).case
    return _output_response(request, case, selectors.case_output_get(case=case, output_id=output_id))


@require_GET
def delivery_logo(request, token):
    organisation = _open_delivery(request, token).case.organisation
    if not organisation.logo:
        raise Http404
    return private_file_response(request, organisation.logo)
