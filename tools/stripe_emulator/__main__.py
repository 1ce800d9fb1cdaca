"""``python -m tools.stripe_emulator --port N``: run the emulator server (see server.py)."""
from .server import main

main()
