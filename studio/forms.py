from django import forms

from generation.engines import all_engines, get_engine
from generation.photos import ACCEPTED, MAX_BYTES, PhotoRejected, photo_normalize

from .models import Creation


def engine_choices():
    choices = []
    for engine in all_engines():
        readiness = engine.readiness()
        label = engine.label if readiness.ready else f"{engine.label} — unavailable: {readiness.reason}"
        choices.append((engine.name, label))
    return choices


class CreationForm(forms.Form):
    photo = forms.FileField(
        help_text=f"{ACCEPTED}, up to {MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"}),
    )
    title = forms.CharField(max_length=80, required=False, label="Pet's name or caption")
    aspect_ratio = forms.ChoiceField(
        choices=Creation.AspectRatio.choices, initial="16:9", label="Frame shape",
        help_text="Match your digital frame: 16:9 landscape, 9:16 portrait, and so on.",
    )
    engine = forms.ChoiceField(choices=engine_choices, initial="living-photo")

    def clean_photo(self):
        upload = self.cleaned_data["photo"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB. Please upload a smaller one.")
        try:
            return photo_normalize(upload)
        except PhotoRejected as rejected:
            raise forms.ValidationError(str(rejected)) from None

    def clean_engine(self):
        engine = get_engine(self.cleaned_data["engine"])
        readiness = engine.readiness()
        if not readiness.ready:
            raise forms.ValidationError(f"{engine.label} is not available right now: {readiness.reason}")
        return engine.name
