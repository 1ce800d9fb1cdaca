import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from . import selectors, services
from .models import Case, CaseProduct, Delivery, Invitation, Invoice, Membership, Organisation, PricePlan


@admin.register(PricePlan)
class PricePlanAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "case_price", "portrait_price", "image_price", "video_price", "job_plan"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    extra = 0


def usage_csv(rows: list[selectors.Usage], *, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["organisation", "slug", "month", *selectors.USAGE_KINDS])
    for row in rows:
        writer.writerow([row.organisation.name, row.organisation.slug, row.month.strftime("%Y-%m"), *(getattr(row, kind) for kind in selectors.USAGE_KINDS)])
    return response


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    """Staff add organisations (each gets its own account, see ``Organisation``) and their first
    manager; managers invite the rest. Usage per month is its own page, for those who hold
    "Can see and export partners' usage"."""

    list_display = ["name", "slug", "price_plan", "stripe_customer_id", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["account", "logo", "created_at"]
    inlines = [MembershipInline]
    actions = ["export_usage"]
    change_list_template = "admin/partners/organisation/change_list.html"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.account = services.organisation_account_create(slug=obj.slug)
        super().save_model(request, obj, form, change)

    def has_view_usage_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("partners.view_usage")

    def has_view_permission(self, request, obj=None):
        # Who may export the usage sees the list the export is run from (not change it).
        return super().has_view_permission(request, obj) or self.has_view_usage_permission(request)

    @admin.action(description="Export their usage per month as CSV", permissions=["view_usage"])
    def export_usage(self, request, queryset):
        chosen = set(queryset.values_list("pk", flat=True))
        return usage_csv([row for row in selectors.usage_by_month() if row.organisation.pk in chosen], filename="partner-usage.csv")

    def get_urls(self):
        return [path("usage/", self.admin_site.admin_view(self.usage_view), name="partners_organisation_usage"), *super().get_urls()]

    def usage_view(self, request):
        """Every organisation's usage per month; ?format=csv downloads it."""
        if not self.has_view_usage_permission(request):
            raise PermissionDenied
        rows = selectors.usage_by_month()
        if request.GET.get("format") == "csv":
            return usage_csv(rows, filename="partner-usage.csv")
        context = {**self.admin_site.each_context(request), "title": gettext("Partners' usage per month"), "rows": rows, "opts": self.model._meta}
        return TemplateResponse(request, "admin/partners/usage.html", context)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "expires_at", "accepted_at"]
    list_filter = ["organisation"]
    fields = ["organisation", "email", "role", "invited_by", "expires_at", "accepted_at", "accepted_by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # invitations are sent from the team page, where the token is made and mailed


class CaseProductInline(admin.TabularInline):
    model = CaseProduct
    fields = ["kind", "creation", "made_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organisation", "created_by", "created_at"]
    list_filter = ["organisation"]
    list_select_related = ["memorial", "organisation", "created_by"]
    fields = ["id", "organisation", "memorial", "created_by", "notes", "created_at"]
    readonly_fields = ["id", "organisation", "memorial", "created_by", "created_at"]
    inlines = [CaseProductInline]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["case", "expires_at", "has_pin", "created_at"]
    fields = ["case", "expires_at", "has_pin", "created_by", "created_at"]
    readonly_fields = ["case", "has_pin", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Written by `manage.py partners_invoice`; Stripe holds the invoice itself."""

    list_display = ["organisation", "month", "total", "currency", "stripe_invoice_id", "finalized_at"]
    list_filter = ["organisation", "month"]
    readonly_fields = ["organisation", "month", "stripe_invoice_id", "currency", "total", "created_at", "finalized_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
