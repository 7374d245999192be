"""The meter data layer: registry (SQLAlchemy), telemetry stores, and the meter wire protocol."""
