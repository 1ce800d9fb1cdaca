from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from django.utils.text import slugify
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.media import private_file_response
from generation.engines import ANIMATION, POSTER, VIDEO, EngineError, UnknownEngine, get_engine
from generation.selectors import queue_position
from shop.selectors import credit_balance, launch_mode_active, launch_mode_banner, plan_for
from shop.services.campaigns import SESSION_REFERRAL
from shop.services.credits import NoCreditsLeft

from . import selectors, services, sharepages
from .extensions import deletion_notices_for, result_actions_for
from .forms import CreationForm, PhotoFacesForm, ReportForm
from .ratelimit import client_address, rate_limit_allow
from .uploads import photo_upload_limited

# The short addresses of a video's files: the first output of that kind (the creation's photo
# is "photo"). Every output, images included, is also at outputs/<position>/.
MEDIA_KINDS = {"video": VIDEO, "gif": ANIMATION, "poster": POSTER}


def home(request):
    return render(request, "home.html")


@login_required
@require_GET
def gallery(request):
    return render(request, "studio/gallery.html", {"creations": selectors.creation_list_for(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
@photo_upload_limited
def creation_new(request):
    plan = plan_for(user=request.user)
    form = CreationForm(request.POST or None, request.FILES or None, limits=plan.job_limits())
    if request.method == "POST" and form.is_valid():
        try:
            creation = services.creation_create(
                owner=request.user,
                photos=form.cleaned_data["photo"],
                title=form.cleaned_data["title"],
                aspect_ratio=form.cleaned_data["aspect_ratio"],
                engine=form.cleaned_data["engine"],
                params=form.params(),
                plan=plan,
            )
        except EngineError as error:
            form.add_engine_error(error)
        except NoCreditsLeft as error:
            form.add_error(None, str(error))
        else:
            return redirect(creation)
    context = {"form": form, "plan": plan, "credits": credit_balance(user=request.user, plan=plan), "launch_free": launch_mode_active()}
    return render(request, "studio/new.html", context, status=400 if form.errors else 200)


def _json_error(request, message: str, *, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@login_required
@require_POST
@photo_upload_limited(too_large=_json_error)
def photo_faces(request):
    """The faces in one photo, for the upload page's picker (JSON); nothing is stored."""
    if not rate_limit_allow(scope="photo-faces", who=str(request.user.pk), limit=settings.PHOTO_FACES_PER_ACCOUNT_PER_HOUR, seconds=3600):
        response = _json_error(request, gettext("You have looked for faces in many photos this hour. Please try again later."), status=429)
        response["Retry-After"] = "3600"
        return response
    form = PhotoFacesForm(request.POST, request.FILES)
    if not form.is_valid():
        return _json_error(request, form.errors["photo"][0])
    return JsonResponse(selectors.photo_faces(photo=form.cleaned_data["photo"]))


@require_GET
def creation_detail(request, creation_id):
    creation = selectors.creation_get_for(user=request.user, creation_id=creation_id)
    return render(request, "studio/detail.html", _status_context(request, creation))


@require_GET
def creation_status(request, creation_id):
    """The live part of the creation page, polled by htmx until the job finishes."""
    creation = selectors.creation_get_for(user=request.user, creation_id=creation_id)
    return render(request, "studio/partials/job_status.html", _status_context(request, creation))


@require_GET
def creation_media(request, creation_id, kind):
    creation = selectors.creation_get_for(user=request.user, creation_id=creation_id)
    if kind == "photo":
        return private_file_response(request, creation.photo)
    return _job_media(request, creation, kind)


@require_GET
def creation_output(request, creation_id, position):
    creation = selectors.creation_get_for(user=request.user, creation_id=creation_id)
    return _output_response(request, creation, selectors.output_at(job=creation.job, position=position), numbered=True)


@login_required
@require_POST
def creation_share(request, creation_id):
    creation = selectors.creation_get_owned(user=request.user, creation_id=creation_id)
    shared = request.POST.get("shared") == "on"
    try:
        services.creation_set_shared(creation=creation, shared=shared)
    except services.SharingRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("Your public link is on.") if shared else gettext("Your public link is off; it no longer works."))
    return redirect(creation)


@login_required
@require_POST
def creation_share_rotate(request, creation_id):
    creation = selectors.creation_get_owned(user=request.user, creation_id=creation_id)
    try:
        services.creation_rotate_share_link(creation=creation)
    except services.SharingRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("Your public link has a new address; the old one no longer works."))
    return redirect(creation)


@login_required
@require_POST
def creation_retry(request, creation_id):
    creation = selectors.creation_get_owned(user=request.user, creation_id=creation_id)
    try:
        services.creation_retry(creation=creation)
    except (ValueError, NoCreditsLeft) as error:
        messages.error(request, str(error))
    except EngineError as error:
        messages.error(request, gettext("It cannot be made again right now: %(reason)s") % {"reason": error})
    return redirect(creation)


@login_required
@require_POST
def creation_animate(request, creation_id):
    """"Bring it to life": a new creation that animates what this one made (a restored photo)."""
    creation = selectors.creation_get_owned(user=request.user, creation_id=creation_id)
    try:
        living = services.creation_animate(creation=creation)
    except (ValueError, NoCreditsLeft) as error:
        messages.error(request, str(error))
        return redirect(creation)
    except EngineError as error:
        messages.error(request, gettext("It cannot be brought to life right now: %(reason)s") % {"reason": error})
        return redirect(creation)
    return redirect(living)


@login_required
@require_http_methods(["GET", "POST"])
def creation_delete(request, creation_id):
    """Ask, then delete (a POST only)."""
    creation = selectors.creation_get_owned(user=request.user, creation_id=creation_id)
    if request.method == "POST":
        name, deleted = str(creation), gettext("“%(name)s” is deleted, with its photo, its video and its public link.")
        if not creation.makes_video:
            deleted = gettext("“%(name)s” is deleted, with its photo, the photos made from it and its public link.")
        services.creation_delete(creation=creation)
        messages.success(request, deleted % {"name": name})
        return redirect("studio:gallery")
    return render(request, "studio/delete.html", {"creation": creation, "notices": deletion_notices_for(creation=creation)})


@require_GET
def share(request, token):
    """The public page. A visitor without a session gets the page everyone speaking their
    language gets: kept rendered in the cache, and by browsers and a CDN for
    SHARE_PAGE_MAX_AGE seconds; the session is never opened and nothing is written to the
    database (the visit is counted in memory: studio.viewcounts). Someone with a session, perhaps the owner,
    gets a page of their own, not kept anywhere."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return _share_public(request, token)
    creation = selectors.creation_get_shared(token=token)
    services.share_view_record(creation_id=creation.pk, owner_id=creation.owner_id, viewer=request.user)
    response = render(request, "studio/share.html", {"creation": creation, "job": creation.job})
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _share_public(request, token):
    language, site = get_language(), f"{request.scheme}://{request.get_host()}"
    page = sharepages.page_get(token=token, language=language, site=site)
    if page is None:
        stamp = sharepages.page_stamp()
        creation = selectors.creation_get_shared(token=token)
        # Rendered without the request's context processors: no user, session, messages or CSRF token.
        context = {"creation": creation, "job": creation.job, "request": request, "launch_mode": launch_mode_banner()}
        page = sharepages.page_set(
            token=token, language=language, site=site, stamp=stamp, html=render_to_string("studio/share.html", context),
            creation_id=creation.pk, owner_id=creation.owner_id,
        )
    services.share_view_record(creation_id=page.creation_id, owner_id=page.owner_id)
    if page.etag in [tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(page.html)
    response["ETag"] = page.etag
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        # A language chosen by cookie, which the page does not vary on: the browser may keep it, a CDN not.
        patch_cache_control(response, private=True, max_age=settings.SHARE_PAGE_MAX_AGE)
    else:
        patch_cache_control(response, public=True, max_age=settings.SHARE_PAGE_MAX_AGE)
    return response


@never_cache
@require_GET
def share_signup(request, token):
    """"Make your own": sign-up, remembering the shared page the visitor came from (read by
    shop.services.campaigns.attribution_record). The session starts here, not on the page."""
    creation_id = selectors.creation_shared_id(token=token)
    if creation_id is not None:
        request.session.setdefault(SESSION_REFERRAL, {"source": "share", "creation": str(creation_id)})
    return redirect(f"{reverse('account_signup')}?from=share")


@never_cache
@require_http_methods(["GET", "POST"])
def share_report(request, token):
    """The report form, opened from the public page (which carries no CSRF token), and sent."""
    creation = selectors.creation_get_shared(token=token)
    context = {"creation": creation, "sent": "sent" in request.GET}
    if request.method == "GET":
        return render(request, "studio/share_report.html", {**context, "report_form": ReportForm()})
    form = ReportForm(request.POST)
    if not form.is_valid():
        return render(request, "studio/share_report.html", {**context, "report_form": form}, status=400)
    if not rate_limit_allow(scope="share-report", who=client_address(request), limit=settings.SHARE_REPORTS_PER_ADDRESS_PER_HOUR, seconds=3600):
        form.add_error(None, gettext("Too many reports have come from your network in the last hour. Please try again later."))
        return render(request, "studio/share_report.html", {**context, "report_form": form}, status=429)
    if not request.session.session_key:
        request.session.save()
    services.share_report_create(
        creation=creation, reason=form.cleaned_data["reason"], details=form.cleaned_data["details"],
        reporter=request.user, session_key=request.session.session_key,
    )
    return redirect(f"{reverse('studio:share-report', args=[token])}?sent")


@require_GET
def share_media(request, token, kind):
    return _job_media(request, selectors.creation_get_shared(token=token), kind)


@require_GET
def share_output(request, token, position):
    creation = selectors.creation_get_shared(token=token)
    return _output_response(request, creation, selectors.output_at(job=creation.job, position=position), numbered=True)


def _job_media(request, creation, kind):
    if kind not in MEDIA_KINDS or creation.job is None:
        raise Http404
    return _output_response(request, creation, selectors.output_first(job=creation.job, kind=MEDIA_KINDS[kind]))


def _output_response(request, creation, output, *, numbered: bool = False):
    """Serve one of a job's outputs, named after the creation when downloaded."""
    if output is None:
        raise Http404
    download_name = None
    if "download" in request.GET:
        stem = slugify(str(creation)) or "petmemories"
        download_name = f"{stem}-{output.position + 1}.{output.extension}" if numbered else f"{stem}.{output.extension}"
    return private_file_response(request, output.file, download_name=download_name)


def _status_context(request, creation):
    job = creation.job
    return {
        "creation": creation,
        "job": job,
        "queue_position": queue_position(job=job) if job else None,
        "is_owner": request.user.pk == creation.owner_id,
        # A restored or colorized photo is shown against the photo (a before/after slider).
        "compare": job is not None and _before_and_after(job.engine),
        # What other apps offer under the results (memorials: "use as memorial portrait").
        "result_actions": result_actions_for(engine=job.engine) if job is not None and request.user.pk == creation.owner_id else [],
    }


def _before_and_after(engine_name: str) -> bool:
    try:
        return get_engine(engine_name).before_and_after
    except UnknownEngine:  # an engine since removed
        return False
