"""The numbered revisions, oldest first: ``vNNNN_<what>.py``."""
