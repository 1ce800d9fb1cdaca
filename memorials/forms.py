from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.engines import VideoEngine, all_engines
from generation.limits import JobLimits
from studio.forms import engine_field_offer

from .models import EPITAPH_MAX, MESSAGE_MAX, GuestbookMessage, Memorial
from .rules import contains_link
from .selectors import image_candidates, portrait_candidates, video_candidates


class MemorialForm(forms.ModelForm):
    """The owner's words and choices. The pictures offered are the owner's own outputs; the
    service checks that again, whatever is posted."""

    epitaph = forms.CharField(label=_("Epitaph"), max_length=EPITAPH_MAX, required=False, help_text=_("A short line under the name."))

    class Meta:
        model = Memorial
        fields = [
            "name", "birth_year", "birth_month", "birth_day", "death_year", "death_month", "death_day", "epitaph", "portrait", "pastimes", "video",
        ]
        widgets = {"pastimes": forms.CheckboxSelectMultiple}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.owner = owner
        self.fields["portrait"].queryset = portrait_candidates(owner=owner)
        self.fields["portrait"].widget = forms.RadioSelect(choices=self.fields["portrait"].choices)
        self.fields["pastimes"].queryset = image_candidates(owner=owner)
        self.fields["video"].queryset = video_candidates(owner=owner)
        for name in ("portrait", "pastimes", "video"):
            self.fields[name].label_from_instance = str


class SharingForm(forms.Form):
    shared = forms.BooleanField(label=_("Share this page with anyone who has the link"), required=False)
    expires_at = forms.DateTimeField(
        label=_("Stop sharing on (optional)"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    pin = forms.RegexField(
        label=_("New PIN (optional, 4 to 8 digits)"), regex=r"^[0-9]{4,8}$", required=False, strip=True,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
        error_messages={"invalid": _("A PIN is 4 to 8 digits.")},
    )
    remove_pin = forms.BooleanField(label=_("Remove the PIN"), required=False)

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(gettext("Choose a time in the future, or leave it empty."), code="past")
        return expires_at

    def pin_change(self) -> str | None:
        """For the service: a new PIN, "" to remove it, None to keep it."""
        if self.cleaned_data["remove_pin"]:
            return ""
        return self.cleaned_data["pin"] or None


class PinForm(forms.Form):
    pin = forms.CharField(label=_("PIN"), max_length=8, widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


class GuestbookForm(forms.ModelForm):
    """A visitor's message. ``website`` is a honeypot: hidden from people, filled in by bots."""

    website = forms.CharField(required=False, label=_("Leave this empty"), widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    class Meta:
        model = GuestbookMessage
        fields = ["name", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX})}

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def _no_link(self, field: str) -> str:
        value = self.cleaned_data[field]
        if contains_link(value):
            raise forms.ValidationError(
                gettext("Please leave out web addresses, site names and email addresses: the guestbook takes no links."), code="link"
            )
        return value

    def clean_name(self):
        return self._no_link("name")

    def clean_message(self):
        return self._no_link("message")


class AnimateForm(forms.Form):
    """"Bring it to life": which engine makes the living video, among those that make one
    (empty: the default engine)."""

    engine = forms.ChoiceField(label=_("Made by"), required=False)

    def __init__(self, *args, limits: JobLimits, **kwargs):
        super().__init__(*args, **kwargs)
        engine_field_offer(self.fields["engine"], [engine for engine in all_engines() if isinstance(engine, VideoEngine)], limits)
