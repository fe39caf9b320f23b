"""IoT: alert when a room's one-minute mean temperature exceeds a threshold.

Input `readings`: {"room": "lab-2", "celsius": 23.4}, keyed by sensor, timestamped
when measured. Output `temperature-alerts`: {"room", "minute", "mean", "readings"}
for every minute whose mean passed 25 °C. Readings up to 30 s late still count; later
ones go to `readings-late` instead of being lost.

    luong topic create readings --partitions 3
    luong pipeline run examples/iot.py
"""

from luong.pipelines import Count, Mean, Pipeline, tumbling

THRESHOLD_C = 25.0

pipeline = Pipeline("iot-alerts")
per_minute = (
    pipeline.source("readings")
    .key_by(lambda reading: reading["room"])
    .window(tumbling(60_000), grace_ms=30_000, name="room-minutes")
    .aggregate(mean=Mean("celsius"), readings=Count())
)
(
    per_minute.filter(lambda w: w["value"]["mean"] > THRESHOLD_C)
    .map(
        lambda r: {
            "room": r.key,
            "minute": r.value["start"],
            "mean": round(r.value["value"]["mean"], 2),
            "readings": r.value["value"]["readings"],
        },
        record=True,
    )
    .to("temperature-alerts")
)
per_minute.late().to("readings-late")
