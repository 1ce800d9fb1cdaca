import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from partners.models import Organisation
from partners.services import organisation_invoice
from shop import payments


def _month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month is YYYY-MM, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Invoice each partner organisation for a month's usage through Stripe (invoice items on its customer, gathered "
        "into an invoice that is finalized). Safe to run again: a month already invoiced is left alone. Run it monthly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; by default the month before this one")

    def handle(self, *args, month=None, **options):
        first_day = _month(month) if month else (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        failed = []
        for organisation in Organisation.objects.filter(price_plan__isnull=False):
            try:
                invoice = organisation_invoice(organisation=organisation, month=first_day)
            except (payments.PaymentError, payments.PaymentsNotConfigured) as error:
                failed.append(organisation)
                self.stderr.write(f"{organisation}: {error}")
                continue
            if invoice is None:
                self.stdout.write(f"{organisation}: nothing to invoice for {first_day:%Y-%m}")
            else:
                self.stdout.write(f"{organisation}: {invoice.stripe_invoice_id}, {invoice.total} {invoice.currency}")
        if failed:
            raise CommandError(f"Not invoiced: {', '.join(map(str, failed))}; run it again to finish.")
