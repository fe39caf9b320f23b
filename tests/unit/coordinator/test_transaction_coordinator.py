"""The transaction coordinator as a state machine over records: transitions, Kafka's
error codes, timeouts, producer id blocks, and replay rebuilding the same state."""

from __future__ import annotations

from dataclasses import replace

from luong.coordinator.transactions import (
    BLOCK_SIZE,
    MAX_EPOCH,
    TransactionCoordinator,
    TxnState,
)
from luong.coordinator.txn_records import (
    TxnLogValue,
    decode_txn_key,
    decode_txn_value,
    encode_txn_key,
    encode_txn_value,
)
from luong.protocol.records import Record

PARTITIONS = [("orders", 0), ("orders", 1)]


class Log:
    """A coordinator and every record it wrote (applied as the service does)."""

    def __init__(self) -> None:
        self.coordinator = TransactionCoordinator(max_timeout_ms=60_000, id_expiration_ms=100_000)
        self.records: list[Record] = []

    def write(self, records: list[Record]) -> None:
        self.records += records
        self.coordinator.apply(records)

    def new_id(self, now: int = 0) -> int:
        if self.coordinator.ids_left() == 0:
            self.write(self.coordinator.reserve_block(now))
        return self.coordinator.take_producer_id()

    def init(self, transactional_id: str = "app", now: int = 0, timeout: int = 10_000) -> int:
        assert self.coordinator.check_init(transactional_id, timeout, None) == 0
        new = self.new_id() if self.coordinator.needs_producer_id(transactional_id) else None
        txn, records = self.coordinator.init(now, transactional_id, timeout, new)
        self.write(records)
        return txn.producer_id

    def replayed(self) -> TransactionCoordinator:
        again = TransactionCoordinator()
        again.apply(self.records)
        return again


def test_value_layout_round_trips_and_matches_kafkas() -> None:
    value = TxnLogValue(7, 2, 60_000, 1, (("orders", (0, 1)),), 123, 100)
    data = encode_txn_value(value)
    assert data[:2] == b"\x00\x00"  # version 0
    assert data[2:10] == (7).to_bytes(8, "big") and data[10:12] == b"\x00\x02"
    assert decode_txn_value(data) == value
    assert decode_txn_key(encode_txn_key("app")) == (0, "app")


def test_a_transaction_commits_through_prepare_and_complete() -> None:
    log = Log()
    pid = log.init()
    c = log.coordinator
    error, records = c.add_partitions(5, "app", pid, 0, PARTITIONS)
    assert error == 0
    log.write(records)
    assert c.txns["app"].state is TxnState.ONGOING and c.txns["app"].start_ms == 5
    assert c.in_transaction(pid, 0, ("orders", 1)) and not c.in_transaction(pid, 1, ("orders", 1))
    error, records = c.end(9, "app", pid, 0, commit=True)
    log.write(records)
    assert c.preparing() == ["app"] and c.txns["app"].state is TxnState.PREPARE_COMMIT
    log.write(c.complete(10, "app"))
    txn = c.txns["app"]
    assert (txn.state, txn.partitions) == (TxnState.COMPLETE_COMMIT, frozenset())
    assert c.end(11, "app", pid, 0, commit=True) == (0, [])  # a retried EndTxn
    assert c.end(11, "app", pid, 0, commit=False)[0] == 48  # INVALID_TXN_STATE


def test_kafkas_error_codes() -> None:
    log = Log()
    pid = log.init()
    c = log.coordinator
    assert c.check_init("app", 60_001, None) == 50  # INVALID_TRANSACTION_TIMEOUT
    assert c.add_partitions(0, "nobody", pid, 0, PARTITIONS)[0] == 49  # INVALID_PRODUCER_ID_MAPPING
    assert c.add_partitions(0, "app", pid + 1, 0, PARTITIONS)[0] == 49
    assert c.add_partitions(0, "app", pid, 3, PARTITIONS)[0] == 90  # PRODUCER_FENCED
    assert c.end(0, "app", pid, 0, commit=True)[0] == 48  # nothing to end
    log.write(c.add_partitions(0, "app", pid, 0, PARTITIONS)[1])
    log.write(c.end(0, "app", pid, 0, commit=False)[1])
    assert c.add_partitions(0, "app", pid, 0, PARTITIONS)[0] == 51  # CONCURRENT_TRANSACTIONS
    assert c.end(0, "app", pid, 0, commit=False)[0] == 51
    assert c.check_init("app", 1000, (pid, 7)) == 90  # KIP-360: not the current instance


def test_a_new_instance_bumps_the_epoch_and_keeps_the_producer_id() -> None:
    log = Log()
    pid = log.init()
    assert log.init() == pid
    assert log.coordinator.txns["app"].epoch == 1
    log.write(log.coordinator.add_partitions(0, "app", pid, 0, PARTITIONS)[1] or [])
    assert log.coordinator.txns["app"].state is TxnState.EMPTY  # epoch 0 was fenced


def test_an_exhausted_epoch_gets_a_new_producer_id() -> None:
    log = Log()
    pid = log.init()
    c = log.coordinator
    txn = c.txns["app"]
    log.write([c.record_of(replace(txn, epoch=MAX_EPOCH), 0)])
    assert log.init() != pid and c.txns["app"].epoch == 0


def test_timeouts_abort_with_a_bumped_epoch() -> None:
    log = Log()
    pid = log.init(timeout=1_000)
    c = log.coordinator
    log.write(c.add_partitions(100, "app", pid, 0, PARTITIONS)[1])
    assert c.timed_out(1_100) == []
    assert c.timed_out(1_101) == ["app"]
    log.write(c.abort(1_101, "app"))
    txn = c.txns["app"]
    assert (txn.state, txn.epoch) == (TxnState.PREPARE_ABORT, 1)
    assert c.end(1_102, "app", pid, 0, commit=True)[0] == 90  # the old epoch is fenced


def test_producer_ids_are_never_handed_out_twice() -> None:
    log = Log()
    first = [log.new_id() for _ in range(BLOCK_SIZE + 5)]
    assert len(set(first)) == len(first) and len(log.records) == 2  # two blocks reserved
    restarted = log.replayed()  # the rest of the current block is skipped after a restart
    restarted.apply(restarted.reserve_block(0))
    assert restarted.take_producer_id() >= max(first) + 1
    assert restarted.was_allocated(max(first)) and not TransactionCoordinator().was_allocated(0)


def test_replay_rebuilds_every_transaction_and_expiry_forgets_idle_ids() -> None:
    log = Log()
    pid = log.init("a")
    log.init("b", now=50)
    log.write(log.coordinator.add_partitions(10, "a", pid, 0, PARTITIONS)[1])
    assert log.replayed().txns == log.coordinator.txns
    log.write(log.coordinator.expire(100_051))  # "b" idle since 50; "a" is ongoing
    assert set(log.coordinator.txns) == {"a"} and set(log.replayed().txns) == {"a"}
