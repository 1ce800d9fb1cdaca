from django.core.management.base import BaseCommand, CommandError

from shop import payments
from shop.models import Plan, PlanPrice
from shop.money import to_minor_units


class Command(BaseCommand):
    help = (
        "Create in Stripe a product for each paid plan and a recurring price for each of its active prices "
        "that has none yet, and remember their ids. Safe to run again; run it after adding a price in the admin."
    )

    def handle(self, *args, **options):
        try:
            for plan in Plan.objects.filter(is_default=False):
                prices = PlanPrice.objects.filter(plan=plan, is_active=True, stripe_price_id="")
                if not prices.exists():
                    continue
                if not plan.stripe_product_id:
                    plan.stripe_product_id = payments.product_create(name=f"PetMemories {plan.name}", idempotency_key=f"product-{plan.code}-{plan.pk}")["id"]
                    plan.save(update_fields=["stripe_product_id"])
                    self.stdout.write(f"Product {plan.stripe_product_id} for {plan.name}")
                for price in prices:
                    created = payments.plan_create(
                        product=plan.stripe_product_id, amount=to_minor_units(price.amount, price.currency), currency=price.currency,
                        interval=price.interval, nickname=f"{plan.name} {price.get_interval_display().lower()} {price.currency}",
                        idempotency_key=f"price-{price.pk}-{price.amount}-{price.currency}-{price.interval}",
                    )
                    price.stripe_price_id = created["id"]
                    price.save(update_fields=["stripe_price_id"])
                    self.stdout.write(f"Price {price.stripe_price_id}: {price}")
        except (payments.PaymentError, payments.PaymentsNotConfigured) as error:
            raise CommandError(str(error)) from None
        self.stdout.write("Stripe has every active price.")
