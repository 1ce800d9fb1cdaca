from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.engines import get_engine
from generation.limits import JobLimits
from generation.selectors import pastimes_offered
from memorials.forms import SharingForm
from memorials.models import Memorial
from studio.forms import engine_field_offer, photo_checked

from .models import PRODUCT_ENGINES, CasePhoto, Membership

MAX_PASTIME_PHOTOS = 3
PHOTO_ACCEPT = {"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"}


class CaseForm(forms.ModelForm):
    """The deceased's name and dates (the memorial's fields, checked as the memorial checks
    them) and the staff's notes."""

    notes = forms.CharField(label=_("Notes (only your organisation sees them)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Memorial
        fields = ["name", "birth_year", "birth_month", "birth_day", "death_year", "death_month", "death_day"]
        labels = {"name": _("Name of the deceased")}


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("Photo"), widget=forms.ClearableFileInput(attrs=PHOTO_ACCEPT))

    def clean_photo(self):
        return photo_checked(self.cleaned_data["photo"])


class ProductForm(forms.Form):
    photo = forms.ModelChoiceField(label=_("From the photo"), queryset=CasePhoto.objects.none())
    engine = forms.ChoiceField(label=_("Make"))

    def __init__(self, *args, case, limits: JobLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].queryset = case.photos.all()
        # One the plan does not include, or that no worker can run now, is shown greyed out
        # with the reason.
        engine_field_offer(self.fields["engine"], [get_engine(name) for name in PRODUCT_ENGINES], limits)


class PastimeForm(forms.Form):
    """Pictures of the person doing what they loved, from one to three of the case's photos
    (three from different sides hold the likeness best)."""

    photos = forms.ModelMultipleChoiceField(
        label=_("From the photos (one to three)"), queryset=CasePhoto.objects.none(), widget=forms.CheckboxSelectMultiple,
    )
    pastime = forms.ChoiceField(label=_("Pastime"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].queryset = case.photos.all()
        self.fields["pastime"].choices = [(pastime.slug, gettext(pastime.name)) for pastime in pastimes_offered()]

    def clean_photos(self):
        photos = list(self.cleaned_data["photos"])
        if len(photos) > MAX_PASTIME_PHOTOS:
            raise forms.ValidationError(gettext("Choose at most %(count)d photos.") % {"count": MAX_PASTIME_PHOTOS})
        return photos


class DeliveryForm(SharingForm):
    """The family's link: until when, and an optional PIN (the memorial page's sharing form,
    with the expiry required)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["shared"]
        self.fields["expires_at"].required = True
        self.fields["expires_at"].label = _("The link works until")


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.STAFF)
