"""relayarr: a durable relay from Radarr/Sonarr webhooks to media players."""

__version__ = "0.1.0"
