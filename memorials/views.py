from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.media import private_file_response
from generation.engines import EngineError
from generation.models import JobOutput
from shop.selectors import plan_for
from shop.services.credits import NoCreditsLeft
from studio.devices.selectors import frames_to_play_on
from studio.ratelimit import client_address, rate_limit_allow

from . import selectors, services
from .forms import AnimateForm, GuestbookForm, MemorialForm, PinForm, SharingForm

# --- The owner's pages ---------------------------------------------------------------------


@login_required
@require_GET
def memorial_list(request):
    return render(request, "memorials/list.html", {"memorials": selectors.memorial_list_for(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def memorial_new(request):
    return _memorial_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def memorial_edit(request, memorial_id):
    return _memorial_form(request, selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id))


def _memorial_form(request, memorial):
    form = MemorialForm(request.POST or None, instance=memorial, owner=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: value for name, value in form.cleaned_data.items()}
        fields["pastimes"] = list(fields["pastimes"])
        try:
            if memorial is None:
                memorial = services.memorial_create(owner=request.user, **fields)
            else:
                memorial = services.memorial_update(memorial=memorial, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("The memorial is saved."))
            return redirect(memorial)
    return render(request, "memorials/edit.html", {"form": form, "memorial": memorial}, status=400 if form.errors else 200)


@login_required
@require_GET
def memorial_detail(request, memorial_id):
    """The owner's view: the page as visitors see it, with sharing and the guestbook to moderate."""
    memorial = selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id)
    initial = {"shared": memorial.is_shared, "expires_at": memorial.share_expires_at}
    return render(request, "memorials/detail.html", {
        **_page_context(memorial, media_key=memorial.pk, owner=True),
        "sharing_form": SharingForm(initial=initial),
        "animate_form": AnimateForm(limits=plan_for(user=request.user).job_limits()),
        "video_creation": selectors.memorial_video_creation(memorial=memorial),
        "frames": frames_to_play_on(user=request.user),
        "guestbook": selectors.guestbook_for_owner(memorial=memorial),
    })


@login_required
@require_POST
def portrait_choose(request):
    """"Use as memorial portrait" on a memorial-portrait creation's page."""
    try:
        output = selectors.portrait_candidates(owner=request.user).get(pk=request.POST.get("output"))
    except (JobOutput.DoesNotExist, ValueError):
        raise Http404("No such picture.") from None
    memorial = None
    if request.POST.get("memorial"):
        memorial = selectors.memorial_get_owned(user=request.user, memorial_id=request.POST["memorial"])
    memorial = services.memorial_portrait_choose(owner=request.user, output=output, memorial=memorial)
    messages.success(request, gettext("This portrait is the memorial's now."))
    return redirect("memorials:edit", memorial.pk) if not memorial.name else redirect(memorial)


@login_required
@require_POST
def memorial_sharing(request, memorial_id):
    memorial = selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id)
    form = SharingForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(memorial)
    shared = form.cleaned_data["shared"]
    services.memorial_sharing_set(memorial=memorial, shared=shared, expires_at=form.cleaned_data["expires_at"], pin=form.pin_change())
    messages.success(request, gettext("The link is on.") if shared else gettext("The link is off; it no longer works."))
    return redirect(memorial)


@login_required
@require_POST
def memorial_share_rotate(request, memorial_id):
    memorial = selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id)
    try:
        services.memorial_share_rotate(memorial=memorial)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("The page has a new link; the old one no longer works."))
    return redirect(memorial)


@login_required
@require_POST
def memorial_animate(request, memorial_id):
    memorial = selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id)
    form = AnimateForm(request.POST, limits=plan_for(user=request.user).job_limits())
    if not form.is_valid():
        messages.error(request, gettext("Choose how to bring it to life."))
        return redirect(memorial)
    try:
        creation = services.memorial_animate(memorial=memorial, engine=form.cleaned_data["engine"] or None)
    except (ValueError, NoCreditsLeft) as error:
        messages.error(request, str(error))
        return redirect(memorial)
    except EngineError as error:
        messages.error(request, gettext("It cannot be brought to life right now: %(reason)s") % {"reason": error})
        return redirect(memorial)
    messages.success(request, gettext("The portrait is being brought to life; the video joins the memorial when it is ready."))
    return redirect(creation)


@login_required
@require_POST
def message_moderate(request, message_id, action):
    message = selectors.guestbook_message_owned(user=request.user, message_id=message_id)
    try:
        services.guestbook_message_moderate(message=message, action=action)
    except ValueError:
        raise Http404 from None
    return redirect(message.memorial)


@login_required
@require_GET
def memorial_media(request, memorial_id, part, position=0):
    memorial = selectors.memorial_get_owned(user=request.user, memorial_id=memorial_id)
    return private_file_response(request, selectors.memorial_media(memorial=memorial, part=part, position=position).file)


@login_required
@require_GET
def output_preview(request, output_id):
    """One of the owner's own pictures or videos, for the edit page's pickers."""
    return private_file_response(request, selectors.output_owned(owner=request.user, output_id=output_id).file)


# --- The page visitors see by its link ------------------------------------------------------


@require_GET
def public(request, token):
    memorial = selectors.memorial_get_shared(token=token)
    if memorial.share_expired:
        return _gone(request)
    if not services.memorial_is_unlocked(memorial=memorial, session=request.session):
        return render(request, "memorials/locked.html", {"memorial": memorial, "form": PinForm()})
    return _public_page(request, memorial, GuestbookForm())


@require_POST
def public_unlock(request, token):
    memorial = selectors.memorial_get_shared(token=token)
    if memorial.share_expired:
        return _gone(request)
    if not memorial.has_pin:  # nothing to unlock (the PIN was removed since the form was shown)
        return redirect("memorials:public", token=token)
    form = PinForm(request.POST)
    allowed = rate_limit_allow(
        scope=f"memorial-pin:{memorial.pk}", who=client_address(request), limit=settings.MEMORIAL_PIN_TRIES_PER_ADDRESS, seconds=900,
    )
    if not allowed:
        form.add_error(None, gettext("Too many tries. Please wait a quarter of an hour and try again."))
        response = render(request, "memorials/locked.html", {"memorial": memorial, "form": form}, status=429)
        response["Retry-After"] = "900"
        return response
    if form.is_valid() and services.memorial_unlock(memorial=memorial, pin=form.cleaned_data["pin"], session=request.session):
        return redirect("memorials:public", token=token)
    form.add_error(None, gettext("That PIN is not right."))
    return render(request, "memorials/locked.html", {"memorial": memorial, "form": form}, status=403)


@require_POST
def public_guestbook(request, token):
    memorial = _visitor_memorial(request, token)
    form = GuestbookForm(request.POST)
    if not form.is_valid():
        return _public_page(request, memorial, form, status=400)
    if form.is_bot():  # told it worked, and nothing is kept
        messages.success(request, gettext("Thank you. Your message will appear once the family has read it."))
        return redirect("memorials:public", token=token)
    who = client_address(request)
    by_address = rate_limit_allow(scope="memorial-message", who=who, limit=settings.MEMORIAL_MESSAGES_PER_ADDRESS_PER_HOUR, seconds=3600)
    to_page = by_address and rate_limit_allow(
        scope="memorial-message-page", who=str(memorial.pk), limit=settings.MEMORIAL_MESSAGES_PER_PAGE_PER_HOUR, seconds=3600,
    )
    if not to_page:
        form.add_error(None, gettext("Many messages have been left in the last hour. Please try again later."))
        return _public_page(request, memorial, form, status=429)
    services.guestbook_message_create(memorial=memorial, name=form.cleaned_data["name"], message=form.cleaned_data["message"])
    messages.success(request, gettext("Thank you. Your message will appear once the family has read it."))
    return redirect("memorials:public", token=token)


@require_GET
def public_media(request, token, part, position=0):
    memorial = _visitor_memorial(request, token)
    return private_file_response(request, selectors.memorial_media(memorial=memorial, part=part, position=position).file)


def _visitor_memorial(request, token):
    """The shared memorial, if this visitor may see it now; 404 otherwise (an expired link or
    a page not unlocked shows nothing of it here)."""
    memorial = selectors.memorial_get_shared(token=token)
    if memorial.share_expired or not services.memorial_is_unlocked(memorial=memorial, session=request.session):
        raise Http404("This page is not open to you.")
    return memorial


def _gone(request):
    # 410: the link was real and its owner let it end; say so plainly, and show nothing of it.
    return render(request, "memorials/gone.html", status=410)


def _public_page(request, memorial, form, *, status=200):
    context = {**_page_context(memorial, media_key=memorial.share_token, owner=False), "guestbook_form": form}
    return render(request, "memorials/public.html", context, status=status)


def _page_context(memorial, *, media_key, owner: bool) -> dict:
    return {
        "memorial": memorial,
        "pastimes": selectors.memorial_pastimes(memorial=memorial),
        "messages_shown": selectors.guestbook_approved(memorial=memorial),
        "media_url": "memorials:media" if owner else "memorials:public-media",
        "pastime_url": "memorials:pastime" if owner else "memorials:public-pastime",
        "media_key": media_key,
        "has_poster": selectors.memorial_poster(memorial=memorial) is not None,
    }
