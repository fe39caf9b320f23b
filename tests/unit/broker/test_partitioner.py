"""The default partitioner hashes keys exactly as Kafka's clients do."""

from __future__ import annotations

import random

from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from luong.broker.partitioner import RoundRobin, murmur2, partition_for_key


def test_murmur2_matches_kafkas_own_test_vectors() -> None:
    # org.apache.kafka.common.utils.UtilsTest.testMurmur2
    cases = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    assert {key: murmur2(key) for key in cases} == cases


def test_murmur2_matches_kafka_python_on_random_keys() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        key = rng.randbytes(rng.randrange(0, 40))
        assert murmur2(key) & 0xFFFFFFFF == kafka_python_murmur2(key), key  # it is unsigned


def test_keys_spread_over_every_partition_and_round_robin_cycles() -> None:
    assert {partition_for_key(str(i).encode(), 7) for i in range(200)} == set(range(7))
    turns = RoundRobin()
    assert [turns.next("t", 3) for _ in range(5)] == [0, 1, 2, 0, 1]
    assert turns.next("other", 3) == 0
