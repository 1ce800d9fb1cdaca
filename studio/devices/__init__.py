"""Digital frames ("devices"), all in one place: registering and pairing a frame with the code
on its screen, its bearer token (kept only as a hash) and the signed links it downloads from
(``services.py``); the frames' JSON API, register, playlist and media (``api.py``); a browser
that is a frame, the player under /frames/player/ (``player.py``); the owner's
pages under /frames/ (``views.py``, ``forms.py``, ``selectors.py``); gifts accepted by an
emailed link; and the admin's "make the frames" action on a paid order (``admin.py``). Their
URLs (``urls.py``) join the studio's, so their names stay ``studio:frame-…``.

The frames stay inside the studio app rather than being an app of their own: a playlist is a
list of creations, and their tables, ``Device`` and ``PlaylistItem``, stand with the studio's
other models (``studio/models/devices.py``, app label ``studio``), so no table, permission
(``studio.provision_device``) or migration moves, and the models stay the bottom layer of the
app. Frames build on the studio's creations; the creation pages know nothing of frames (see
``.importlinter``).
"""
