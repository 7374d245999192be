"""What the rules need to know about a meter: its model, category and report interval, and
the device profile it speaks (devices.profiles). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["residential", "commercial", "industrial"]
# in the order of their codes in the safety engine's state (safety.codes.CATEGORY_CODE)
CATEGORIES: tuple[Category, ...] = ("residential", "commercial", "industrial")

DEFAULT_MODEL = "G2.5"
DEFAULT_CATEGORY: Category = "residential"
DEFAULT_REPORT_INTERVAL_S = 60
DEFAULT_DEVICE_PROFILE = "gasguard-json"  # what it speaks: devices.profiles


@dataclass(frozen=True, slots=True)
class MeterProfile:
    meter_id: str
    model: str = DEFAULT_MODEL
    category: Category = DEFAULT_CATEGORY
    report_interval_s: int = DEFAULT_REPORT_INTERVAL_S
    device_profile: str = DEFAULT_DEVICE_PROFILE
    # a meter that sleeps: the time between its uploads (its device profile's wake-ups);
    # 0 for one that sends each reading as it reads it
    upload_every_s: int = 0
