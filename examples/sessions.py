"""Sessions: user sessions with a 30-minute gap, and their length.

Input `page-views`: {"user": "u1", "page": "/"}, keyed by user. Output
`user-sessions`: {"user", "start", "end", "length_ms", "views"} once a session has
been quiet for 30 minutes (plus a minute of grace for late views).

    luong topic create page-views --partitions 3
    luong pipeline run examples/sessions.py
"""

from luong.pipelines import Count, Pipeline, session

THIRTY_MINUTES = 30 * 60 * 1000

pipeline = Pipeline("sessions")
(
    pipeline.source("page-views")
    .window(session(THIRTY_MINUTES), grace_ms=60_000, name="user-sessions")
    .aggregate(Count())
    .map(
        lambda r: {
            "user": r.key,
            "start": r.value["start"],
            "end": r.value["end"] - 1,
            "length_ms": r.value["end"] - 1 - r.value["start"],
            "views": r.value["value"],
        },
        record=True,
    )
    .to("user-sessions")
)
