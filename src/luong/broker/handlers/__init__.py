"""One module per Kafka API; HANDLERS maps api keys to them."""

from luong.broker.handlers import (
    api_versions,
    create_topics,
    delete_topics,
    fetch,
    find_coordinator,
    init_producer_id,
    list_offsets,
    metadata,
    produce,
)
from luong.broker.handlers.base import ApiHandler, HandlerResult

__all__ = ["HANDLERS", "ApiHandler", "HandlerResult"]

HANDLERS: dict[int, ApiHandler] = {
    module.HANDLER.api_key: module.HANDLER
    for module in (
        api_versions,
        create_topics,
        delete_topics,
        fetch,
        find_coordinator,
        init_producer_id,
        list_offsets,
        metadata,
        produce,
    )
}
