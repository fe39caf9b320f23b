"""Fraud: flag a card used in two countries within ten minutes.

Input `payments`: {"card": "4000-1234", "country": "VN", "amount": 12.5}, keyed by
card, timestamped when the payment happened. Output `fraud-alerts`: one alert per
payment that makes it two (or more) countries in the ten minutes up to it:
{"card", "countries", "payments", "from", "to"}.

A sliding window looks back ten minutes from every payment; event time decides, so a
payment that arrives late (up to a minute) still counts where it happened.

    luong topic create payments --partitions 3
    luong pipeline run examples/fraud.py
"""

from luong.pipelines import Count, DistinctCount, Pipeline, sliding

TEN_MINUTES = 10 * 60 * 1000

pipeline = Pipeline("fraud")
(
    pipeline.source("payments")
    .window(sliding(TEN_MINUTES), grace_ms=60_000, name="countries-per-card")
    .aggregate(countries=DistinctCount("country"), payments=Count(), emit="update")
    .filter(lambda w: w["value"]["countries"] >= 2)
    .map(
        lambda r: {
            "card": r.key,
            "countries": r.value["value"]["countries"],
            "payments": r.value["value"]["payments"],
            "from": r.value["start"],
            "to": r.value["end"] - 1,
        },
        record=True,
    )
    .to("fraud-alerts")
)
