"""The owner's pages for their digital frames: pair, name, choose videos, invite family members,
unpair; and a family member's page for a frame they send to."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import Creation
from . import selectors
from . import services as devices
from .forms import FrameForm, InviteForm, PairForm, SendForm


@login_required
@require_GET
def frame_list(request):
    return render(request, "studio/frames/list.html", {
        "devices": selectors.frames_of(user=request.user), "memberships": selectors.memberships_of(user=request.user),
    })


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
    form = FrameForm(request.POST, device=device) if request.method == "POST" else _frame_form(device)
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
    return _detail(request, device, form)


def _detail(request, device, form, invite_form=None, status=200):
    members_items = selectors.members_items(device=device)
    context = {
        "device": device, "form": form, "invite_form": invite_form or InviteForm(),
        "gift_items": selectors.gift_items(device=device),
        "members": selectors.members_of(device=device), "members_items": members_items,
    }
    return render(request, "studio/frames/detail.html", context, status=400 if form.errors else status)


def _frame_form(device):
    initial = {
        "name": device.name, "screen_width": device.screen_width, "screen_height": device.screen_height, "loop": device.loop,
        "seconds_per_video": device.seconds_per_video,
        "creations": list(selectors.playlist_choices_for(device=device).filter(pk__in=device.playlist.values("creation_id")).values_list("pk", flat=True)),
    }
    return FrameForm(initial=initial, device=device)


@login_required
@require_POST
def frame_unpair(request, device_id):
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    devices.device_unpair(device=device)
    messages.success(request, gettext("%(frame)s is unpaired; it no longer receives your videos, and its family members are removed.") % {"frame": device.name})
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
    """"Play on <frame>" from a page that shows one of the person's videos (a creation's, a
    memorial's), on a frame they own or are a family member of: the video joins the end of the
    frame's playlist; back to that page."""
    device = selectors.device_to_play_on(user=request.user, device_id=device_id)
    try:
        creation = Creation.objects.select_related("job").get(pk=request.POST.get("creation"), owner=request.user)
    except (Creation.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such video.") from None
    try:
        added = devices.playlist_add(device=device, creation=creation, by=request.user)
    except devices.PlaylistRefused as refused:
        messages.error(request, str(refused))
    else:
        message = gettext("%(frame)s will play it; it picks this up within a minute.") if added else gettext("%(frame)s plays it already.")
        messages.success(request, message % {"frame": device.name})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(device) if device.owner_id == request.user.pk else redirect("studio:frame-member", device.pk)


# --- Family members --------------------------------------------------------------------------


@login_required
@require_POST
def frame_member_invite(request, device_id):
    """The owner invites someone by email to send to the frame."""
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    invite_form = InviteForm(request.POST)
    if invite_form.is_valid():
        try:
            member = devices.frame_member_invite(device=device, email=invite_form.cleaned_data["email"], invited_by=request.user)
        except devices.MemberRefused as refused:
            invite_form.add_error("email", str(refused))
        else:
            messages.success(request, gettext("An invitation is on its way to %(email)s.") % {"email": member.email})
            return redirect(device)
    return _detail(request, device, _frame_form(device), invite_form, status=400)


@login_required
@require_POST
def frame_member_remove(request, device_id, member_id):
    """The owner removes a member, or an invitation not yet accepted, with all the member sent."""
    device = selectors.device_get_owned(user=request.user, device_id=device_id)
    member = get_object_or_404(device.members, pk=member_id)
    devices.frame_member_remove(member=member)
    messages.success(request, gettext("%(email)s is removed from %(frame)s, with everything they sent to it.") % {"email": member.email, "frame": device.name})
    return redirect(device)


@login_required
@require_POST
def frame_item_remove(request, device_id, item_id):
    """Take an item off a frame: its owner, any item; a family member, what they sent."""
    owned = selectors.frames_of(user=request.user).filter(pk=device_id).first()
    if owned is not None:
        item = get_object_or_404(owned.playlist, pk=item_id)
    else:
        member = selectors.membership_get(user=request.user, device_id=device_id)
        item = get_object_or_404(selectors.items_sent_by(device=member.device, user=request.user), pk=item_id)
    devices.playlist_item_remove(item=item)
    messages.success(request, gettext("“%(item)s” is off the frame; it picks this up within a minute.") % {"item": item.creation})
    return redirect(owned) if owned is not None else redirect("studio:frame-member", device_id)


@login_required
@require_http_methods(["GET", "POST"])
def frame_member(request, device_id):
    """A family member's page for a frame: send their own videos and restored photos, see and
    remove what they sent (and nothing else on it), leave."""
    member = selectors.membership_get(user=request.user, device_id=device_id)
    device = member.device
    form = SendForm(request.POST if request.method == "POST" else None, device=device, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            devices.playlist_add(device=device, creation=form.cleaned_data["creation"], by=request.user)
        except devices.PlaylistRefused as refused:
            form.add_error("creation", str(refused))
        else:
            messages.success(request, gettext("%(frame)s will show it; it picks this up within a minute.") % {"frame": device.name})
            return redirect("studio:frame-member", device.pk)
    context = {"member": member, "device": device, "form": form, "items": selectors.items_sent_by(device=device, user=request.user)}
    return render(request, "studio/frames/member.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def frame_leave(request, device_id):
    member = selectors.membership_get(user=request.user, device_id=device_id)
    devices.frame_member_remove(member=member)
    messages.success(request, gettext("You left %(frame)s; what you sent to it is off it.") % {"frame": member.device.name})
    return redirect("studio:frame-list")


@login_required
@require_http_methods(["GET", "POST"])
def frame_join(request, token):
    """The emailed invitation: GET says who invites to which frame; only the POST joins."""
    try:
        if request.method == "POST":
            member = devices.frame_member_accept(token=token, user=request.user)
            messages.success(request, gettext("You can now send your videos and restored photos to %(frame)s.") % {"frame": member.device.name})
            return redirect("studio:frame-member", member.device_id)
        member = devices.frame_invitation_find(token=token)
    except devices.MemberRefused as refused:
        return render(request, "studio/frames/join.html", {"error": str(refused)}, status=410)
    return render(request, "studio/frames/join.html", {"member": member})
