"""Codecs of the meters that exist: CJ/T 188, the platforms, DLMS, wM-Bus (issue 21)."""
