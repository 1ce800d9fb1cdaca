"""Every photo is checked and cleaned before anything keeps it."""
import io

import pytest
from PIL import Image

from generation.photos import PhotoRejected, photo_max_bytes, photo_normalize
from tests.conftest import image_bytes


def normalize(data: bytes):
    return photo_normalize(io.BytesIO(data))


def exif_with(orientation=None, gps=False) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 40.0)}
    exif[0x010F] = "PhoneMaker"
    return exif.tobytes()


def test_a_jpeg_is_rotated_upright_by_its_exif_orientation():
    # Stored sideways (landscape pixels) with "rotate 90° clockwise to view" (orientation 6).
    data = image_bytes("JPEG", size=(640, 480), exif=exif_with(orientation=6))
    photo = normalize(data)
    assert photo.size == (480, 640)


def test_exif_including_gps_is_stripped_from_what_is_stored():
    data = image_bytes("JPEG", size=(640, 480), exif=exif_with(gps=True))
    assert Image.open(io.BytesIO(data)).getexif()  # the upload does carry EXIF and GPS
    stored = Image.open(io.BytesIO(normalize(data).jpeg))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "exif" not in stored.info


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_png_webp_and_heic_are_accepted_and_stored_as_jpeg(fmt):
    if fmt == "HEIF":
        import pillow_heif  # noqa: F401  (registered by generation.photos)
    photo = normalize(image_bytes(fmt, size=(800, 600)))
    assert photo.size == (800, 600)
    assert Image.open(io.BytesIO(photo.jpeg)).format == "JPEG"


def test_transparency_is_flattened_onto_white():
    out = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(out, "PNG")
    photo = normalize(out.getvalue())
    assert photo.image.getpixel((150, 150)) == (255, 255, 255)


def test_a_huge_photo_is_scaled_down_for_storage():
    photo = normalize(image_bytes("JPEG", size=(6000, 4000)))
    assert max(photo.size) == 4096


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"hello, this is not a photo", "isn't a photo we can read"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>", "SVG"),
        (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "PDF"),
    ],
    ids=["empty", "text", "svg-xml", "svg", "pdf"],
)
def test_files_that_are_not_photos_are_refused(data, message):
    with pytest.raises(PhotoRejected, match=message):
        normalize(data)


def test_a_truncated_jpeg_is_refused():
    data = image_bytes("JPEG", size=(1200, 900), quality=95)
    with pytest.raises(PhotoRejected, match="cut off or damaged"):
        normalize(data[: len(data) // 2])


def test_an_animated_gif_is_refused():
    frames = [Image.new("RGB", (300, 300), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(PhotoRejected, match="Animated"):
        normalize(out.getvalue())


def test_an_animated_webp_is_refused():
    frames = [Image.new("RGB", (300, 300), color) for color in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(PhotoRejected, match="Animated"):
        normalize(out.getvalue())


def test_a_still_gif_is_refused_with_the_accepted_formats():
    with pytest.raises(PhotoRejected, match="JPEG, PNG, WebP or HEIC"):
        normalize(image_bytes("GIF", size=(300, 300)))


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    # 12000×12000 of one colour compresses to a few hundred kilobytes but would need 432 MB.
    out = io.BytesIO()
    Image.new("L", (12000, 12000)).save(out, "PNG")
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(PhotoRejected, match="too many pixels|megapixels"):
        normalize(out.getvalue())


def test_a_photo_over_25_mb_is_refused_without_reading_it_all():
    with pytest.raises(PhotoRejected, match="larger than 25 MB"):
        normalize(b"\xff\xd8" + b"\0" * photo_max_bytes())


def test_a_tiny_image_is_refused_with_its_size():
    with pytest.raises(PhotoRejected, match="100×80"):
        normalize(image_bytes("PNG", size=(100, 80)))
