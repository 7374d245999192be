"""The meter network's transport: the only package that imports paho-mqtt. ``MqttSession``
owns a connection (reconnects, persistent sessions, manual acknowledgement); messages come
out as ``Incoming`` values, publishing goes in through ``MqttSession.publish`` (a refusal
is a ``PublishRefused``, never an ignored return code); the broker probes of ``gasguard
doctor`` and of ingest's start live in ``transport.probe``."""
