from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from generation.engines import EngineError

from . import services
from .models import Creation


@admin.register(Creation)
class CreationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "aspect_ratio", "job_state", "is_shared", "created_at"]
    list_filter = ["is_shared", "aspect_ratio", "job__state", "created_at"]
    search_fields = ["=id", "title", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["owner", "job"]
    raw_id_fields = ["owner", "job"]
    readonly_fields = ["id", "photo", "photo_width", "photo_height", "share_token", "created_at", "preview", "links"]
    actions = ["make_again"]
    fields = ["id", "owner", "title", "aspect_ratio", "preview", "photo", "photo_width", "photo_height", "job", "is_shared", "share_token", "links", "created_at"]

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

    @admin.action(description="Make the selected failed or canceled videos again")
    def make_again(self, request, queryset):
        done = 0
        for creation in queryset.select_related("job"):
            try:
                services.creation_retry(creation=creation)
                done += 1
            except (ValueError, EngineError) as error:
                self.message_user(request, f"{creation}: {error}", messages.WARNING)
        self.message_user(request, f"Queued {done} video(s) again.", messages.SUCCESS)
