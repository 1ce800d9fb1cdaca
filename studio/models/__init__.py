from .creations import Creation, ShareReport
from .devices import Device, PlaylistItem

__all__ = ["Creation", "Device", "PlaylistItem", "ShareReport"]
