"""How often the sensors evaluate: `CHOKEPOINT_SENSOR_INTERVAL_SECONDS` (default 60)."""

import os


def sensor_interval() -> int:
    """Seconds between two ticks of one sensor (the daemon may tick later, never sooner)."""
    value = os.environ.get("CHOKEPOINT_SENSOR_INTERVAL_SECONDS", "")
    if not value:
        return 60
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"CHOKEPOINT_SENSOR_INTERVAL_SECONDS must be a whole number >= 1, not {value!r}"
        )
    return int(value)
