"""Simulated meters and fleets: a pure meter model, and a runner that puts it on MQTT."""
