import csv
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import payments
from .models import (
    Attribution,
    BillingCustomer,
    Campaign,
    Cart,
    CartItem,
    CreditEntry,
    CreditReservation,
    Frame,
    FrameImage,
    FrameVariant,
    LaunchMode,
    Order,
    OrderItem,
    Payment,
    Plan,
    PlanPrice,
    PremiumTrial,
    PromoCode,
    Redemption,
    StripeEvent,
    Subscription,
)
from .money import format_money
from .selectors import campaign_report
from .services.orders import OrderError, order_advance, order_cancel, order_refund

# --- Catalog ------------------------------------------------------------------------------


class FrameVariantInline(admin.TabularInline):
    model = FrameVariant
    extra = 0
    fields = ["sku", "screen_inches", "resolution_width", "resolution_height", "color", "price_krw", "price_usd", "stock", "is_active", "sort_order"]


class FrameImageInline(admin.TabularInline):
    model = FrameImage
    extra = 0
    fields = ["image", "alt", "sort_order"]


@admin.register(Frame)
class FrameAdmin(admin.ModelAdmin):
    list_display = ["name", "orientation", "variant_count", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active", "orientation"]
    search_fields = ["name", "slug", "tagline", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FrameVariantInline, FrameImageInline]

    @admin.display(description="Variants")
    def variant_count(self, frame):
        return frame.variants.count()


@admin.register(FrameVariant)
class FrameVariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "frame", "screen_inches", "color", "price_krw", "price_usd", "stock", "is_active"]
    list_editable = ["price_krw", "price_usd", "stock", "is_active"]
    list_filter = ["is_active", "frame", "color"]
    search_fields = ["sku", "frame__name", "color"]


# --- Orders -------------------------------------------------------------------------------


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ["description", "sku", "unit_price", "quantity"]

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = readonly_fields = ["kind", "amount", "currency", "stripe_id", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), decimal_places=2, required=False, help_text=_("Leave empty to refund everything not yet refunded.")
    )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total_display", "is_gift", "needs_attention", "paid_at", "created_at"]
    list_filter = ["status", "needs_attention", "is_gift", "currency", "created_at"]
    search_fields = ["number", "email", "customer__email", "ship_name", "tracking_number", "payment_intent_id", "checkout_session_id"]
    date_hierarchy = "created_at"
    list_select_related = ["customer"]
    inlines = [OrderItemInline, PaymentInline]
    # studio/devices/admin.py adds "make_frames": making an order's frames is the studio's business.
    actions = ["advance", "cancel", "refund", "packing_slips"]
    readonly_fields = [
        "number", "customer", "email", "status", "currency", "subtotal", "shipping_cost", "total", "checkout_session_id",
        "payment_intent_id", "amount_paid", "amount_refunded", "paid_at", "in_production_at", "shipped_at", "delivered_at",
        "canceled_at", "is_gift", "gift_recipient_name", "gift_recipient_email", "gift_message", "ship_name", "ship_line1",
        "ship_line2", "ship_city", "ship_state", "ship_postal_code", "ship_country", "preload", "created_at", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["number", "customer", "email", "status", "needs_attention", "attention_note"]}),
        ("Money", {"fields": ["currency", "subtotal", "shipping_cost", "total", "amount_paid", "amount_refunded", "checkout_session_id", "payment_intent_id"]}),
        ("Shipping", {"fields": ["ship_name", "ship_line1", "ship_line2", "ship_city", "ship_state", "ship_postal_code", "ship_country", "carrier", "tracking_number"]}),
        ("Gift", {"fields": ["is_gift", "gift_recipient_name", "gift_recipient_email", "gift_message", "preload"]}),
        ("Dates", {"fields": ["created_at", "paid_at", "in_production_at", "shipped_at", "delivered_at", "canceled_at", "updated_at"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Total", ordering="total")
    def total_display(self, order):
        return format_money(order.total, order.currency)

    # Whoever may refund an order sees the orders they act on.
    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self.has_refund_permission(request)

    def has_refund_permission(self, request):
        return request.user.has_perm("shop.refund_order")

    def _each(self, request, queryset, action, done):
        for order in queryset:
            try:
                action(order)
            except (OrderError, payments.PaymentError, payments.PaymentsNotConfigured) as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"{order}: {done}.", messages.SUCCESS)

    @admin.action(description="Move on: paid → in production → shipped (fill in carrier and tracking first) → delivered", permissions=["change"])
    def advance(self, request, queryset):
        self._each(request, queryset, lambda order: order_advance(order=order), "moved on")

    @admin.action(description="Cancel (not shipped; refund a paid order first)", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda order: order_cancel(order=order), "canceled")

    @admin.action(description="Refund through Stripe…", permissions=["refund"])
    def refund(self, request, queryset):
        form = RefundForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            amount = form.cleaned_data["amount"] or None
            self._each(request, queryset, lambda order: order_refund(order=order, amount=amount), "refunded")
            return None
        context = {**self.admin_site.each_context(request), "orders": queryset, "form": form, "opts": self.model._meta, "title": gettext("Refund orders")}
        return render(request, "admin/shop/order/refund.html", context)

    @admin.action(description="Print packing slips (a gift's shows no prices)", permissions=["change"])
    def packing_slips(self, request, queryset):
        orders = queryset.prefetch_related("items", "preload")
        return render(request, "admin/shop/order/packing_slips.html", {"orders": orders, "title": gettext("Packing slips")})


# --- Premium, credits, Stripe ---------------------------------------------------------------


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0
    fields = ["interval", "currency", "amount", "stripe_price_id", "is_active"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_default", "monthly_credits", "max_height", "watermark", "gpu_engines", "priority", "past_due_grace_days"]
    list_editable = ["monthly_credits", "max_height", "watermark", "gpu_engines", "priority", "past_due_grace_days"]
    inlines = [PlanPriceInline]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "status", "current_period_end", "cancel_at_period_end", "synced_at"]
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["user__email", "stripe_subscription_id", "stripe_customer_id"]
    readonly_fields = [field.name for field in Subscription._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(BillingCustomer)
class BillingCustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "stripe_customer_id"]
    search_fields = ["user__email", "stripe_customer_id"]
    readonly_fields = ["user", "stripe_customer_id"]


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    list_display = ["user", "signed_amount", "kind", "bucket", "job", "note", "created_at"]
    list_filter = ["kind", "bucket"]
    search_fields = ["user__email", "key", "note"]
    readonly_fields = ["user", "kind", "amount", "bucket", "key", "job", "note", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount", ordering="amount")
    def signed_amount(self, entry):
        return format_html("<strong>{}</strong>", f"{entry.amount:+d}")


@admin.register(CreditReservation)
class CreditReservationAdmin(admin.ModelAdmin):
    list_display = ["job", "user", "bucket", "state", "created_at", "settled_at"]
    list_filter = ["state"]
    readonly_fields = ["job", "user", "bucket", "state", "created_at", "settled_at"]

    def has_add_permission(self, request):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "object_id", "created", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id", "object_id"]
    readonly_fields = ["event_id", "type", "object_id", "created", "received_at"]

    def has_add_permission(self, request):
        return False


# --- Read-only views of the rows the pages above hold inline --------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    fields = readonly_fields = ["variant", "quantity", "unit_price", "currency", "added_at"]


@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "currency", "updated_at"]
    search_fields = ["owner__email"]
    inlines = [CartItemInline]


@admin.register(CartItem)
class CartItemAdmin(ReadOnlyAdmin):
    list_display = ["variant", "quantity", "cart", "added_at"]


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    list_display = ["description", "sku", "quantity", "unit_price", "order"]
    search_fields = ["order__number", "sku"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "amount", "currency", "stripe_id", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["order__number", "stripe_id"]


@admin.register(PlanPrice)
class PlanPriceAdmin(admin.ModelAdmin):
    list_display = ["plan", "interval", "currency", "amount", "stripe_price_id", "is_active"]
    list_filter = ["plan", "currency", "interval", "is_active"]


@admin.register(FrameImage)
class FrameImageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "frame", "sort_order"]
    list_filter = ["frame"]


# --- Campaigns and launch mode (the Marketing group's pages) --------------------------------


class PromoCodeInline(admin.TabularInline):
    model = PromoCode
    extra = 0
    fields = ["code", "is_active", "max_redemptions", "redemption_count"]
    readonly_fields = ["redemption_count"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(redemption_count=Count("redemptions"))

    @admin.display(description="Redeemed")
    def redemption_count(self, code):
        return getattr(code, "redemption_count", 0)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "landing_link", "is_active", "starts_at", "ends_at", "grants", "landings", "redemption_count", "report_link"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "codes__code"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["landing_link", "landings", "report_link", "created_by", "created_at"]
    inlines = [PromoCodeInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "landing_link", "description", "is_active", "starts_at", "ends_at", "landing_redirect"]}),
        ("What it gives", {"fields": ["grants_credits", "grants_premium_days", "trial_plan"]}),
        ("Limits", {"fields": ["max_redemptions", "max_redemptions_per_user"]}),
        ("Results", {"fields": ["landings", "report_link", "created_by", "created_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("trial_plan").annotate(redemption_count=Count("redemptions"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Landing link")
    def landing_link(self, campaign):
        return campaign.get_landing_url() if campaign.slug else "—"

    @admin.display(description="Gives")
    def grants(self, campaign):
        return campaign.grants_display()

    @admin.display(description="Redeemed", ordering="redemption_count")
    def redemption_count(self, campaign):
        return getattr(campaign, "redemption_count", 0)

    @admin.display(description="Report")
    def report_link(self, campaign):
        if campaign.pk is None:
            return "—"
        return format_html('<a href="{}">Report</a>', reverse("admin:shop_campaign_report", args=[campaign.pk]))

    def get_urls(self):
        return [
            path("<int:campaign_id>/report/", self.admin_site.admin_view(self.report_view), name="shop_campaign_report"),
            path("<int:campaign_id>/report.csv", self.admin_site.admin_view(self.report_csv_view), name="shop_campaign_report_csv"),
            *super().get_urls(),
        ]

    def _report(self, request, campaign_id) -> dict:
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return campaign_report(campaign=campaign)

    def report_view(self, request, campaign_id):
        report = self._report(request, campaign_id)
        top = max(stage["count"] for stage in report["funnel"]) or 1
        chart = [{**stage, "width": round(360 * stage["count"] / top), "y": 8 + 34 * index} for index, stage in enumerate(report["funnel"])]
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": report["campaign"],
            "title": gettext("Report: %(campaign)s") % {"campaign": report["campaign"]}, "report": report, "chart": chart, "chart_height": 16 + 34 * len(chart),
        }
        return render(request, "admin/shop/campaign/report.html", context)

    def report_csv_view(self, request, campaign_id):
        report = self._report(request, campaign_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="campaign-{report["campaign"].slug}-report.csv"'
        writer = csv.writer(response)
        writer.writerow(["stage", "people", "% of previous stage", "% of landed"])
        for stage in report["funnel"]:
            writer.writerow([stage["stage"], stage["count"], *("" if stage[key] is None else stage[key] for key in ("of_previous", "of_landed"))])
        writer.writerow([])
        writer.writerow(["currency", "paid frame orders", "paid", "refunded", "net"])
        for row in report["revenue"]:
            writer.writerow([row["currency"], row["orders"], row["paid"], row["refunded"], row["net"]])
        writer.writerow([])
        writer.writerow(["subscriptions", report["subscriptions"]])
        writer.writerow(["redemptions", report["redemptions"]])
        return response


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "campaign", "is_active", "max_redemptions", "redemption_count"]
    list_filter = ["is_active", "campaign"]
    search_fields = ["code", "campaign__name"]
    list_select_related = ["campaign"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(redemption_count=Count("redemptions"))

    @admin.display(description="Redeemed", ordering="redemption_count")
    def redemption_count(self, code):
        return code.redemption_count


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "user", "promo_code", "number", "created_at"]
    list_filter = ["campaign"]
    search_fields = ["campaign__name", "promo_code__code", "user__email"]
    list_select_related = ["campaign", "user", "promo_code"]


@admin.register(Attribution)
class AttributionAdmin(ReadOnlyAdmin):
    list_display = ["user", "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "landed_at", "signed_up_at"]
    list_filter = ["source", "campaign", "utm_source", "utm_medium"]
    search_fields = ["user__email", "campaign__name", "utm_source", "utm_campaign"]
    list_select_related = ["user", "campaign"]


@admin.register(PremiumTrial)
class PremiumTrialAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "starts_at", "ends_at", "campaign"]
    list_filter = ["plan", "campaign"]
    search_fields = ["user__email", "campaign__name"]
    list_select_related = ["user", "plan", "campaign"]
    raw_id_fields = ["user"]


@admin.register(LaunchMode)
class LaunchModeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_on", "starts_at", "ends_at", "message"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not LaunchMode.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
