from .creations import Creation, ShareReport
from .devices import Device, FrameMember, PlaylistItem

__all__ = ["Creation", "Device", "FrameMember", "PlaylistItem", "ShareReport"]
