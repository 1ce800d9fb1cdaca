# The frames' models live with the frames (studio/devices/models.py), under app label studio.
from ..devices.models import Device, PlaylistItem
from .creations import Creation, ShareReport

__all__ = ["Creation", "Device", "PlaylistItem", "ShareReport"]
