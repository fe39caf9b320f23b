"""One module per Kafka API; HANDLERS maps api keys to them."""

from importlib import import_module

from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLERS", "ApiHandler", "HandlerResult"]

MODULES = (
    "add_offsets_to_txn", "add_partitions_to_txn", "alter_configs", "api_versions",
    "create_partitions", "create_topics", "delete_groups", "delete_records", "delete_topics",
    "describe_cluster", "describe_configs", "describe_groups", "describe_transactions",
    "end_txn", "fetch", "find_coordinator", "heartbeat", "incremental_alter_configs",
    "init_producer_id", "join_group", "leave_group", "list_groups", "list_offsets",
    "list_transactions", "metadata", "offset_commit", "offset_delete", "offset_fetch",
    "offset_for_leader_epoch", "produce", "sync_group", "txn_offset_commit",
)  # fmt: skip


def _load() -> dict[int, ApiHandler]:
    handlers: list[ApiHandler] = [import_module(f"{__name__}.{m}").HANDLER for m in MODULES]
    return {handler.api_key: handler for handler in handlers}


HANDLERS: dict[int, ApiHandler] = _load()
