"""Ingest: MQTT messages in, readings stored, the safety engine fed, its decisions carried out."""
