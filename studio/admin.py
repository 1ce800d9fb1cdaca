from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.engines import EngineError
from shop.admin import OrderAdmin
from shop.models import Order

from . import services
from .devices import PairingError, devices_provision_for_order
from .models import Creation, Device, PlaylistItem, ShareReport


@admin.register(Creation)
class CreationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "aspect_ratio", "job_state", "is_shared", "created_at"]
    list_filter = ["is_shared", "aspect_ratio", "job__state", "created_at"]
    search_fields = ["=id", "title", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["owner", "job"]
    # Whose a video is, which job made it and whether it is public change only through its
    # owner's pages and the take-down action: otherwise changing a creation would hand a
    # private video to another account, or publish one its owner had unshared.
    readonly_fields = ["id", "owner", "aspect_ratio", "job", "is_shared", "photo", "photo_width", "photo_height", "share_token", "created_at", "preview", "links"]
    actions = ["make_again"]
    fields = ["id", "owner", "title", "aspect_ratio", "preview", "photo", "photo_width", "photo_height", "job", "is_shared", "share_token", "links", "created_at"]

    # Staff delete a video the way its owner would: its job canceled, its files gone after commit.
    def delete_model(self, request, obj):
        services.creation_delete(creation=obj)

    def delete_queryset(self, request, queryset):
        for creation in queryset:
            services.creation_delete(creation=creation)

    @admin.display(description="Job", ordering="job__state")
    def job_state(self, creation):
        return creation.job.get_state_display() if creation.job else "—"

    @admin.display(description="Preview")
    def preview(self, creation):
        kind = "poster" if creation.job and creation.job.poster else "photo"
        url = reverse("studio:creation-media", args=[creation.id, kind])
        return format_html('<img src="{}" alt="" style="max-width: 320px; border-radius: 8px">', url)

    @admin.display(description="Links")
    def links(self, creation):
        page = format_html('<a href="{}">Creation page</a>', creation.get_absolute_url())
        if creation.is_shared:
            return format_html('{} · <a href="{}">Public link</a>', page, creation.get_share_url())
        return page

    @admin.action(description="Make the selected failed or canceled videos again", permissions=["change"])
    def make_again(self, request, queryset):
        done = 0
        for creation in queryset.select_related("job"):
            try:
                services.creation_retry(creation=creation)
                done += 1
            except (ValueError, EngineError) as error:
                self.message_user(request, f"{creation}: {error}", messages.WARNING)
        self.message_user(request, f"Queued {done} video(s) again.", messages.SUCCESS)


@admin.register(ShareReport)
class ShareReportAdmin(admin.ModelAdmin):
    """The queue of reported public pages: take one down (the owner is told) or dismiss it."""

    list_display = ["creation", "reason", "outcome", "page", "created_at", "handled_by"]
    list_filter = ["outcome", "reason", "created_at"]
    search_fields = ["creation__title", "creation__owner__email", "details"]
    list_select_related = ["creation", "handled_by"]
    readonly_fields = ["creation", "reason", "details", "reporter", "outcome", "handled_by", "handled_at", "created_at", "page"]
    exclude = ["reporter_key"]
    actions = ["take_down", "dismiss"]

    def has_add_permission(self, request):
        return False

    # Taking a page down changes the creation, so it needs that right; whoever has it sees
    # the reports that ask for it.
    def has_change_creation_permission(self, request):
        return request.user.has_perm("studio.change_creation")

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self.has_change_creation_permission(request)

    @admin.display(description="Public page")
    def page(self, report):
        if report.creation.is_shared:
            return format_html('<a href="{}" target="_blank">Open</a>', report.creation.get_share_url())
        return "taken down" if report.creation.taken_down_at else "off"

    @admin.action(description="Take the reported pages down (their owners are emailed)", permissions=["change_creation"])
    def take_down(self, request, queryset):
        for report in queryset.select_related("creation"):
            services.share_take_down(report=report, staff=request.user)
        self.message_user(request, f"{queryset.count()} page(s) taken down.", messages.SUCCESS)

    @admin.action(description="Dismiss the selected reports", permissions=["change"])
    def dismiss(self, request, queryset):
        for report in queryset:
            services.share_report_dismiss(report=report, staff=request.user)
        self.message_user(request, "Dismissed.", messages.SUCCESS)


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ["creation", "position", "added_at"]

    def has_add_permission(self, request, obj=None):
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
    inlines = [PlaylistItemInline]

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
