"""The frames in the admin, and the orders' "make the frames" action. ``studio/admin.py`` imports
this module, so Django's admin autodiscovery registers them."""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shop.admin import OrderAdmin, ReadOnlyAdmin
from shop.models import Order

from ..models import Device, FrameMember, PlaylistItem
from .services import PairingError, devices_provision_for_order


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ["creation", "position", "added_by", "added_at"]

    def has_add_permission(self, request, obj=None):
        return False


class FrameMemberInline(admin.TabularInline):
    """Who the owner invited, read-only: inviting and removing members is the owner's doing, on
    the frame's page. The invitation's token is kept only as a hash, and not shown."""

    model = FrameMember
    extra = 0
    can_delete = False
    fields = readonly_fields = ["email", "user", "invited_by", "invited_at", "accepted_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    """Frames: who owns each, what it plays, when it last asked. No secret is shown: a token is
    kept only as a hash, and the pairing code on an unpaired frame's screen would let anyone who
    reads it here pair that frame (and a gift's preloaded videos) to themselves. Who owns a frame
    and what it plays change only by pairing and on the owner's page, never here, so that
    nobody can point a frame they hold at someone else's videos."""

    list_display = ["name", "id", "owner", "is_paired", "screen", "order", "last_seen_at", "registered_at"]
    list_filter = ["registered_at", "last_seen_at"]
    search_fields = ["=id", "name", "owner__email", "order__number"]
    list_select_related = ["owner", "order"]
    readonly_fields = ["id", "owner", "order", "paired_at", "registered_at", "last_seen_at"]
    exclude = ["token_hash", "pairing_code", "pairing_expires_at"]
    inlines = [PlaylistItemInline, FrameMemberInline]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True, description="Paired")
    def is_paired(self, device):
        return device.is_paired

    @admin.display(description="Screen")
    def screen(self, device):
        return f"{device.screen_width}×{device.screen_height}"


@admin.register(PlaylistItem)
class PlaylistItemAdmin(admin.ModelAdmin):
    list_display = ["creation", "device", "position", "added_at"]

    # Putting a video on a frame is its owner's choice (see DeviceAdmin).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FrameMember)
class FrameMemberAdmin(ReadOnlyAdmin):
    """Who was invited to send to which frame, and whether they accepted: read-only, as on the
    frame's page (see FrameMemberInline). No token is shown; only its hash is kept."""

    list_display = ["email", "device", "user", "invited_by", "invited_at", "accepted_at"]
    list_filter = ["invited_at", "accepted_at"]
    search_fields = ["email", "user__email", "invited_by__email", "=device__id"]
    list_select_related = ["device", "user", "invited_by"]
    # Read-only: inviting and removing members is the frame owner's doing, on the frame's page.
    fields = readonly_fields = ["device", "email", "user", "invited_by", "invited_at", "accepted_at"]


# --- A shop order's frames -----------------------------------------------------------------


class FramesForm(forms.Form):
    """The pairing codes the frames of one order show on their screens."""

    codes = forms.CharField(label=_("Codes on the frames' screens"), help_text=_("One code per frame, separated by spaces."))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, prefix=f"order-{order.pk}", **kwargs)
        self.order, self.frame_count = order, sum(item.quantity for item in order.items.all())


admin.site.unregister(Order)


@admin.register(Order)
class FrameOrderAdmin(OrderAdmin):
    """The shop's orders, with the studio's "make the frames" action: the shop sells frames and
    knows nothing of devices; the studio, above it, adds what turns an order into paired frames."""

    actions = [*OrderAdmin.actions, "make_frames"]

    # Whoever may make an order's frames sees the orders they act on.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self.has_provision_device_permission(request)

    def has_provision_device_permission(self, request):
        return request.user.has_perm("studio.provision_device")

    @admin.action(description="Make the frames: type the code each frame shows, and it joins the order with its videos…", permissions=["provision_device"])
    def make_frames(self, request, queryset):
        confirmed = "confirm" in request.POST
        frames_forms = [FramesForm(request.POST if confirmed else None, order=order) for order in queryset]
        if not (confirmed and all(form.is_valid() for form in frames_forms)):
            context = {**self.admin_site.each_context(request), "frames_forms": frames_forms, "opts": self.model._meta, "title": gettext("Make the frames")}
            return render(request, "admin/shop/order/make_frames.html", context)
        for form in frames_forms:
            try:
                devices_provision_for_order(order=form.order, pairing_codes=form.cleaned_data["codes"].split())
            except PairingError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            whom = (gettext("waiting for %(name)s to accept") % {"name": form.order.gift_recipient_name}) if form.order.is_gift else (
                gettext("paired to %(customer)s") % {"customer": form.order.customer})
            self.message_user(request, gettext("%(order)s: frames made, %(whom)s.") % {"order": form.order, "whom": whom}, messages.SUCCESS)
