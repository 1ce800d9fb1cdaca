from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line
from generation.engines import VIDEO, EngineError, EngineNotReady, InvalidSettings, RenderSettings, UnknownEngine, all_engines, get_engine
from generation.engines.memorial_portrait import BACKDROP_LABELS, SHAPE_LABELS, TONE_LABELS, MemorialPortraitSettings
from generation.engines.portrait_sdxl import ATTIRE_LABELS, PortraitSdxlSettings
from generation.limits import JobLimits
from generation.photos import ACCEPTED, NormalizedPhoto, PhotoRejected, PhotoTooLarge, photo_max_bytes, photo_normalize
from generation.selectors import pastimes_offered
from generation.services import engine_availability

from .models import Creation, ShareReport

LIMITS = RenderSettings.LIMITS
# The form field that sets each knob an engine may take (its settings class's FORM_KNOBS).
FIELD_FOR_KNOB = {
    "aspect": "aspect_ratio", "height": "height", "motion": "motion", "seconds": "seconds", "fps": "fps", "loop": "loop", "prompt": "prompt",
    "subject": "subject", "shape": "shape", "backdrop": "backdrop", "tone": "tone", "ribbon": "ribbon", "frame": "frame", "count": "count",
    "attire": "attire", "pastime": "pastime",
}


class SelectWithUnavailable(forms.Select):
    """A select whose options that cannot be chosen now are shown, greyed out, with the reason."""

    def __init__(self, *args, unavailable: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unavailable = unavailable or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.unavailable:
            option["attrs"]["disabled"] = True
            option["label"] = gettext("%(option)s — unavailable: %(reason)s") % {"option": label, "reason": self.unavailable[value]}
        return option


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """One or more photos, in the order chosen; cleaned to a list of uploads."""

    widget = MultiplePhotoInput

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, (list, tuple)) else [data]
        return [super(PhotosField, self).clean(upload, initial) for upload in uploads]


# Photos one creation may take at most, whatever the engine says: each is decoded and checked.
MAX_PHOTOS = 8


def photo_checked(upload) -> NormalizedPhoto:
    """One uploaded photo, checked and normalized, or the customer's reason why not."""
    if upload.size > photo_max_bytes():
        raise forms.ValidationError(str(PhotoTooLarge()))
    try:
        return photo_normalize(upload)
    except PhotoRejected as rejected:
        raise forms.ValidationError(str(rejected)) from None


def engine_field_offer(field: forms.ChoiceField, engines, limits: JobLimits) -> None:
    """Offer ``engines`` in ``field``: each listed, those the plan does not include or that are
    not ready shown but disabled with the reason, the default engine chosen where it can be."""
    unavailable = {}
    for engine in engines:
        readiness = engine_availability(engine)
        if engine.queue == "gpu" and not limits.gpu_engines:
            unavailable[engine.name] = gettext("for Premium")
        elif not readiness.ready:
            unavailable[engine.name] = readiness.reason
    field.choices = [(engine.name, engine.label) for engine in engines]
    available = [engine.name for engine in engines if engine.name not in unavailable]
    default = settings.GENERATION_DEFAULT_ENGINE
    field.initial = default if default in available else next(iter(available), None)
    field.widget = SelectWithUnavailable(choices=field.choices, unavailable=unavailable)


class CreationForm(forms.Form):
    photo = PhotosField(
        label=_("Photo"),
        widget=MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"}),
    )
    title = forms.CharField(max_length=80, required=False, validators=[validate_single_line], label=_("Pet's name or caption"))
    engine = forms.ChoiceField(label=_("Style"))
    aspect_ratio = forms.ChoiceField(
        choices=Creation.AspectRatio.choices, initial="16:9", label=_("Frame shape"),
        help_text=_("Match your digital frame: 16:9 landscape, 9:16 portrait, and so on."),
    )
    height = forms.TypedChoiceField(
        label=_("Resolution"), coerce=int, initial=720, required=False, empty_value=None,
        choices=[(480, "480p"), (720, "720p HD"), (1080, "1080p Full HD")],
    )
    motion = forms.IntegerField(
        label=_("Motion"), initial=127, required=False, min_value=int(LIMITS["motion"][0]), max_value=int(LIMITS["motion"][1]),
        widget=forms.NumberInput(attrs={"type": "range", "step": 1}), help_text=_("From calm to lively."),
    )
    seconds = forms.IntegerField(
        label=_("Length (seconds)"), initial=4, required=False, min_value=int(LIMITS["seconds"][0]), max_value=int(LIMITS["seconds"][1]),
    )
    fps = forms.TypedChoiceField(label=_("Smoothness"), coerce=int, initial=24, required=False, empty_value=None, choices=[(12, "12 fps"), (24, "24 fps"), (30, "30 fps")])
    loop = forms.BooleanField(label=_("Seamless loop"), initial=True, required=False, help_text=_("For frames that play it over and over."))
    prompt = forms.CharField(
        label=_("Describe the motion"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave empty for a gentle, natural default."),
    )

    # A memorial portrait's knobs.
    shape = forms.ChoiceField(label=_("Portrait shape"), choices=list(SHAPE_LABELS.items()), initial=MemorialPortraitSettings.shape, required=False)
    backdrop = forms.ChoiceField(label=_("Backdrop"), choices=list(BACKDROP_LABELS.items()), initial=MemorialPortraitSettings.backdrop, required=False)
    tone = forms.ChoiceField(label=_("Tone"), choices=list(TONE_LABELS.items()), initial=MemorialPortraitSettings.tone, required=False)
    count = forms.TypedChoiceField(
        label=_("Portraits to choose from"), coerce=int, initial=MemorialPortraitSettings.count, required=False, empty_value=None,
        choices=[(number, str(number)) for number in range(1, int(MemorialPortraitSettings.LIMITS["count"][1]) + 1)],
        help_text=_("The backdrop you chose first, then the others."),
    )
    # Pastime pictures: which pastime, from the catalogue (filled in when the form is made).
    pastime = forms.ChoiceField(label=_("Pastime"), required=False)
    attire = forms.ChoiceField(label=_("Attire"), choices=list(ATTIRE_LABELS.items()), initial=PortraitSdxlSettings.attire, required=False)
    ribbon = forms.BooleanField(label=_("Mourning ribbon"), required=False, help_text=_("A black ribbon across the top corners."))
    frame = forms.BooleanField(label=_("Frame line"), required=False, help_text=_("A thin dark line inside the border."))

    # The point a person picked in the photo ("x,y" as fractions of its width and height), set
    # by the page's face picker; empty lets the engine find the subject.
    subject = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, limits: JobLimits = JobLimits(), **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.fields["photo"].help_text = format_lazy(_("{formats}, up to {megabytes} MB."), formats=ACCEPTED, megabytes=photo_max_bytes() // (1024 * 1024))
        engines = all_engines()
        engine_field_offer(self.fields["engine"], engines, limits)
        self.fields["pastime"].choices = [("", "—")] + [(pastime.slug, gettext(pastime.name)) for pastime in pastimes_offered()]
        self.fields["height"].widget = SelectWithUnavailable(
            choices=self.fields["height"].choices, unavailable={value: gettext("for Premium") for value, _label in self.fields["height"].choices if value > limits.max_height}
        )
        self.engine_descriptions = {engine.name: engine.description for engine in engines}
        # The engines that make a video: the button says "Make my video" for those, else "photo".
        self.video_engines = [engine.name for engine in engines if VIDEO in engine.makes]
        # Which engines take each knob: the page shows a knob for those only.
        self.knob_engines = {
            field: " ".join(engine.name for engine in engines if knob in engine.settings_class.FORM_KNOBS)
            for knob, field in FIELD_FOR_KNOB.items()
        }

    def clean_photo(self):
        """The photos, each checked and normalized (the engine says how many it takes)."""
        uploads = self.cleaned_data["photo"]
        if len(uploads) > MAX_PHOTOS:
            raise forms.ValidationError(gettext("Choose at most %(count)d photos.") % {"count": MAX_PHOTOS})
        return [photo_checked(upload) for upload in uploads]

    def params(self) -> dict:
        """The knobs the chosen engine takes, from the cleaned form; the others are not sent, and
        knobs left empty take the engine's defaults. The engine's settings class validates them,
        once, when the job is made (generation.services.job_create)."""
        data = self.cleaned_data
        knobs = get_engine(data["engine"]).settings_class.FORM_KNOBS
        params = {knob: data.get(FIELD_FOR_KNOB[knob]) for knob in knobs}
        return {name: value for name, value in params.items() if value not in (None, "")}

    def add_engine_error(self, error: EngineError) -> None:
        """Show why the job could not be made: at the knob's field when the settings say which."""
        if isinstance(error, InvalidSettings):
            field = FIELD_FOR_KNOB.get(error.field, error.field)
            self.add_error(field if field in self.fields else None, str(error))
        elif isinstance(error, (EngineNotReady, UnknownEngine)):
            self.add_error("engine", str(error))
        else:  # the account's caps
            self.add_error(None, str(error))


class PhotoFacesForm(forms.Form):
    """One photo, checked as the upload form checks it, for the face picker to look at."""

    photo = forms.FileField(label=_("Photo"))

    def clean_photo(self) -> NormalizedPhoto:
        return photo_checked(self.cleaned_data["photo"])


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=ShareReport.Reason.choices, widget=forms.RadioSelect)
    details = forms.CharField(label=_("Details"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
