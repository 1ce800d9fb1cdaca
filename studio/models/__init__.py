from .creations import Creation, ShareReport
from .frames import Device, PlaylistItem

__all__ = ["Creation", "Device", "PlaylistItem", "ShareReport"]
