from django.contrib import admin

from .models import GuestbookMessage, Memorial


class GuestbookMessageInline(admin.TabularInline):
    model = GuestbookMessage
    fields = ["name", "message", "state", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Memorial)
class MemorialAdmin(admin.ModelAdmin):
    """Staff see and, with the change permission, correct a memorial's words; whose it is, its
    pictures and its link change only through the owner's pages, so that no change here hands
    one family's pictures to another's page or publishes a private one."""

    list_display = ["name", "owner", "is_shared", "share_expires_at", "created_at"]
    list_filter = ["is_shared", "created_at"]
    search_fields = ["=id", "name", "owner__email"]
    list_select_related = ["owner"]
    fields = [
        "id", "owner", "name", "birth_year", "birth_month", "birth_day", "death_year", "death_month", "death_day", "epitaph",
        "portrait", "pastimes", "video", "living_creation", "is_shared", "share_token", "share_expires_at", "has_pin", "created_at",
    ]
    readonly_fields = ["id", "owner", "portrait", "pastimes", "video", "living_creation", "is_shared", "share_token", "share_expires_at", "has_pin", "created_at"]
    inlines = [GuestbookMessageInline]

    def has_add_permission(self, request):
        return False  # a memorial is its owner's: made on their pages, from their pictures

    @admin.display(boolean=True, description="PIN")
    def has_pin(self, memorial):
        return memorial.has_pin


@admin.register(GuestbookMessage)
class GuestbookMessageAdmin(admin.ModelAdmin):
    list_display = ["name", "memorial", "state", "created_at"]
    list_filter = ["state", "created_at"]
    search_fields = ["name", "message", "memorial__name"]
    list_select_related = ["memorial"]
    readonly_fields = ["memorial", "created_at"]
