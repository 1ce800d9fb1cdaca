"""The shop's forms: a cart line's quantity, checkout (a gift, the videos to preload), a promo code."""
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line

from .selectors import preload_choices_for
from .services.orders import Gift


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=99)


class CheckoutForm(forms.Form):
    is_gift = forms.BooleanField(label=_("This is a gift (ship it to someone else; no prices on the packing slip)"), required=False)
    gift_recipient_name = forms.CharField(label=_("Recipient's name"), max_length=200, required=False, validators=[validate_single_line])
    gift_recipient_email = forms.EmailField(label=_("Recipient's email (optional)"), required=False)
    gift_message = forms.CharField(label=_("Gift message"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    preload = forms.ModelMultipleChoiceField(label=_("Videos to put on the frame"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preload"].queryset = preload_choices_for(user=user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_gift") and not cleaned.get("gift_recipient_name"):
            self.add_error("gift_recipient_name", gettext("Whom is it for? The name goes on the parcel."))
        return cleaned

    def gift(self) -> Gift | None:
        data = self.cleaned_data
        if not data["is_gift"]:
            return None
        return Gift(recipient_name=data["gift_recipient_name"], recipient_email=data["gift_recipient_email"], message=data["gift_message"])


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Promo code"), max_length=40)
