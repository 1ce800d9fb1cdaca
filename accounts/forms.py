from django import forms
from django.utils.translation import gettext_lazy as _


class AccountDeleteForm(forms.Form):
    """Deleting an account cannot be undone: the customer proves it is them, and that they mean it."""

    confirmation = forms.CharField(
        label=_("Your email address or your password"), strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirmation(self):
        value = self.cleaned_data["confirmation"]
        if value.lower() != self.user.email.lower() and not self.user.check_password(value):
            raise forms.ValidationError(_("That is neither your email address nor your password."))
        return value
