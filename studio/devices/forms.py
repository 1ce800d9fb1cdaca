from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line

from . import selectors


class PairForm(forms.Form):
    code = forms.CharField(label=_("The code on the frame's screen"), max_length=12)
    name = forms.CharField(label=_("Call it"), max_length=60, required=False, initial=_("Living room"), validators=[validate_single_line])


class FrameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, validators=[validate_single_line])
    screen_width = forms.IntegerField(label=_("Screen width"), min_value=64, max_value=8192)
    screen_height = forms.IntegerField(label=_("Screen height"), min_value=64, max_value=8192)
    loop = forms.BooleanField(required=False, label=_("Play the videos over and over"))
    seconds_per_video = forms.IntegerField(min_value=5, max_value=3600, label=_("Seconds each video stays on screen"))
    creations = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Videos it plays"))

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creations"].queryset = selectors.playlist_choices_for(device=device)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Their email address"), help_text=_("They get a link to join; it works for a week."))


class SendForm(forms.Form):
    """A family member's video or restored photo for the frame."""

    creation = forms.ModelChoiceField(queryset=None, label=_("Send"), empty_label=None)

    def __init__(self, *args, device, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creation"].queryset = selectors.send_choices_for(device=device, user=user)
