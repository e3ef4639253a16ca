"""Fake Jellyfin, Emby and Plex servers over real loopback HTTP (see ``server.py``)."""
