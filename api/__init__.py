"""The HTTP API (``/api/v1``) and the control-room dashboard."""
