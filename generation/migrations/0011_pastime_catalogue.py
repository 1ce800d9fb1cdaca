"""The pastimes pastime-images starts with. Staff edit them, add others or switch them off in the
admin; reversing removes only these, and only as long as their slugs are unchanged."""
from django.db import migrations
from django.utils.translation import gettext_noop

# What every pastime's pictures share: a true-to-life photograph, the face (from the photos, through
# IP-Adapter) seen well enough to be recognised. Each prompt is the scene first, then this: SDXL's
# text encoders read 77 tokens and drop the rest.
PHOTOGRAPH = (
    "candid realistic photograph, face clearly visible, natural skin texture with fine lines, 50mm lens, "
    "natural light, sharp focus, true colours"
)
NEGATIVE = (
    "cartoon, anime, painting, 3d render, plastic skin, young face, deformed face, asymmetric eyes, extra fingers, "
    "extra limbs, bad anatomy, blurry, lowres, text, watermark, nudity"
)

PASTIMES = [
    (
        "singing", gettext_noop("Singing on a stage"),
        "an older person singing into a vintage microphone on a small stage, warm spotlight, soft bokeh of stage lights, "
        "smartly dressed, joyful",
        "empty stage, laser lights, smoke",
    ),
    (
        "fishing", gettext_noop("Fishing at a lake"),
        "an older person fishing from a wooden jetty on a calm lake, holding a fishing rod, morning mist, wooded hills, "
        "outdoor vest and cap, peaceful",
        "storm, boat, dead fish",
    ),
    (
        "hiking", gettext_noop("Hiking"),
        "an older person hiking a mountain trail with walking poles, small backpack, outdoor jacket, green valley and "
        "peaks behind, golden sunlight, content",
        "climbing gear, cliff edge, snowstorm",
    ),
    (
        "golf", gettext_noop("Golf"),
        "an older person playing golf on a sunny fairway, finishing a graceful swing, polo shirt and golf cap, trees "
        "and blue sky behind, relaxed",
        "broken club, night, crowd",
    ),
    (
        "cooking", gettext_noop("Cooking"),
        "an older person cooking in a warm home kitchen, stirring a pot with a wooden spoon, apron, fresh vegetables, "
        "soft window light, steam, cheerful",
        "chef uniform, fire, mess",
    ),
    (
        "instrument", gettext_noop("Playing an instrument"),
        "an older person playing an acoustic guitar in a cosy living room, fingers on the strings, lamp and bookshelves "
        "behind, warm light, smiling",
        "broken strings, extra hands, stage show",
    ),
    (
        "gardening", gettext_noop("Gardening"),
        "an older person gardening in a sunny flower garden, kneeling by a flower bed in gloves, planting seedlings, "
        "straw hat, blooming flowers, happy",
        "dead plants, weeds, winter",
    ),
    (
        "dancing", gettext_noop("Dancing"),
        "an older person dancing in an elegant ballroom, mid-step in a graceful dance, evening clothes, warm chandelier "
        "light, blurred dancers behind, delighted",
        "nightclub, neon, motion blur on the face",
    ),
]


def catalogue_add(apps, schema_editor):
    Pastime = apps.get_model("generation", "Pastime")
    for position, (slug, name, scene, avoid) in enumerate(PASTIMES):
        Pastime.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "prompt": f"{scene}, {PHOTOGRAPH}", "negative_prompt": f"{NEGATIVE}, {avoid}", "position": position * 10},
        )


def catalogue_remove(apps, schema_editor):
    apps.get_model("generation", "Pastime").objects.filter(slug__in=[slug for slug, *_rest in PASTIMES]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0010_pastime"),
    ]

    operations = [
        migrations.RunPython(catalogue_add, catalogue_remove),
    ]
