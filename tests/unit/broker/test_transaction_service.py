"""TransactionService: finishing a transaction a second time changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from luong.broker.offsets import OffsetService
from luong.broker.transactions import TransactionService
from luong.clock import ManualClock
from luong.coordinator.transactions import TransactionCoordinator, TxnState
from luong.storage.log import LogStorage


def test_a_commit_finished_again_by_the_ticker_stays_a_commit(tmp_path: Path) -> None:
    """The ticker lists the transactions still preparing, then takes each one's lock:
    an EndTxn holding that lock may have finished it meanwhile. Finishing it again
    wrote CompleteAbort over a committed transaction (its markers said commit)."""

    async def scenario() -> TxnState:
        clock = ManualClock()
        storage = LogStorage(str(tmp_path / "data"), clock)
        await storage.create_topic("ledger", 1, {})
        offsets = OffsetService(storage, clock, retention_ms=10**9)
        await offsets.start()
        service = TransactionService(
            storage, offsets, TransactionCoordinator(), clock, check_interval_ms=10**9
        )
        await service.start()
        error, producer_id, epoch = await service.init_producer_id("t1", 60_000, None)
        assert error == 0
        assert await service.add_partitions("t1", producer_id, epoch, [("ledger", 0)]) == 0
        assert await service.end_transaction("t1", producer_id, epoch, commit=True) == 0
        async with service._locks["t1"]:
            await service._finish("t1")  # what a stale "preparing" list led the ticker to do
        state = service.coordinator.txns["t1"].state
        await service.stop()
        await storage.close()
        return state

    assert asyncio.run(scenario()) is TxnState.COMPLETE_COMMIT
