from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from generation.engines import EngineError

from . import services
from .devices import admin as devices_admin  # noqa: F401 (registers the frames and the orders' "make the frames" action)
from .models import Creation, ShareReport


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
