from django.contrib import admin

from .models import Frame


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["name", "screen_inches", "resolution", "orientation", "color", "price_krw", "price_usd", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active", "orientation", "color"]
    search_fields = ["name", "slug", "tagline"]
    prepopulated_fields = {"slug": ["name", "color"]}
