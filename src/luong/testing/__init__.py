"""luong's public test kit: a manual clock, record helpers and the storage conformance suite."""

from luong.clock import ManualClock
from luong.testing.records import make_batch

__all__ = ["ManualClock", "make_batch"]
