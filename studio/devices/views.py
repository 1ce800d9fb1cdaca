"""The owner's pages for their digital frames: pair, name, choose videos, unpair."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import Creation, Device
from . import selectors
from . import services as devices
from .forms import FrameForm, PairForm


@login_required
@require_GET
def frame_list(request):
    return render(request, "studio/frames/list.html", {"devices": Device.objects.filter(owner=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def frame_pair(request):
    # ?code= is the link in the QR code a frame player shows: the code comes filled in.
    form = PairForm(request.POST if request.method == "POST" else None, initial={"code": request.GET.get("code", "")[:12]})
    if request.method == "POST" and form.is_valid():
        try:
            device = devices.device_pair(user=request.user, code=form.cleaned_data["code"], name=form.cleaned_data["name"])
        except devices.PairingError as error:
            form.add_error("code", str(error))
        else:
            messages.success(request, gettext("%(frame)s is paired. Choose what it plays.") % {"frame": device.name})
            return redirect(device)
    context = {"form": form, "player_url": request.build_absolute_uri(reverse("studio:frame-player"))}
    return render(request, "studio/frames/pair.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def frame_detail(request, device_id):
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    initial = {
        "name": device.name, "screen_width": device.screen_width, "screen_height": device.screen_height, "loop": device.loop,
        "seconds_per_video": device.seconds_per_video, "creations": [item.creation_id for item in device.playlist.all()],
    }
    form = FrameForm(request.POST if request.method == "POST" else None, initial=initial, device=device)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        devices.device_update(
            device=device, name=data["name"], screen_width=data["screen_width"], screen_height=data["screen_height"],
            loop=data["loop"], seconds_per_video=data["seconds_per_video"],
        )
        devices.playlist_set(device=device, creations=list(data["creations"]))
        count = len(data["creations"])
        messages.success(request, ngettext(
            "%(frame)s will play %(count)d video; it picks this up within a minute.",
            "%(frame)s will play %(count)d videos; it picks this up within a minute.",
            count,
        ) % {"frame": device.name, "count": count})
        return redirect(device)
    context = {"device": device, "form": form, "playlist": device.playlist.select_related("creation")}
    return render(request, "studio/frames/detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def frame_unpair(request, device_id):
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    devices.device_unpair(device=device)
    messages.success(request, gettext("%(frame)s is unpaired; it no longer receives your videos.") % {"frame": device.name})
    return redirect("studio:frame-list")


@login_required
@require_http_methods(["GET", "POST"])
def frame_accept(request, token):
    """The emailed gift link: GET shows what is offered and asks; only the POST pairs the frames."""
    try:
        if request.method == "GET":
            offered = devices.gift_devices_for_link(user=request.user, token=token)
            order = offered[0].order
            return render(request, "studio/frames/accept.html", {"order": order, "devices": offered, "preload": order.preload.all()})
        accepted = devices.devices_accept_gift(user=request.user, token=token)
    except devices.PairingError as error:
        messages.error(request, str(error))
        return redirect("studio:frame-list")
    messages.success(request, ngettext(
        "Your gift is yours: %(count)d frame paired, with the videos chosen for you.",
        "Your gift is yours: %(count)d frames paired, with the videos chosen for you.",
        len(accepted),
    ) % {"count": len(accepted)})
    return redirect("studio:frame-list")


@login_required
@require_POST
def frame_add(request, device_id):
    """"Play on <frame>" from a page that shows one of the owner's videos (a creation's, a
    memorial's): the video joins the end of the frame's playlist; back to that page."""
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    try:
        creation = Creation.objects.select_related("job").get(pk=request.POST.get("creation"), owner=request.user)
    except (Creation.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such video.") from None
    try:
        added = devices.playlist_add(device=device, creation=creation)
    except devices.PlaylistRefused as refused:
        messages.error(request, str(refused))
    else:
        message = gettext("%(frame)s will play it; it picks this up within a minute.") if added else gettext("%(frame)s plays it already.")
        messages.success(request, message % {"frame": device.name})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(device)
