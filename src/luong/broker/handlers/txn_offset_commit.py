"""TxnOffsetCommit (key 28), versions 0-3: offsets committed inside a transaction.

They are written to `__consumer_offsets` as the producer's transactional batch and
become visible to OffsetFetch only when the transaction commits. The producer must
be the transactional id's current instance with the offsets partition in its
transaction (AddOffsetsToTxn first: INVALID_TXN_STATE otherwise); from v3 a member
id and generation are checked like OffsetCommit's (KIP-447). A fenced producer gets
INVALID_PRODUCER_EPOCH at every version, as from Kafka (none knows PRODUCER_FENCED)."""

from __future__ import annotations

from typing import Any

from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, fenced_code
from luong.broker.handlers.commits import accepted, commit_answers, commit_requests
from luong.broker.offsets import OFFSETS_TP
from luong.errors import ErrorCode, LuongError

__all__ = ["HANDLER", "handle"]

NEVER = 2**15  # no version of TxnOffsetCommit answers PRODUCER_FENCED


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    wanted = commit_requests(ctx, request.group_id, request.topics)
    error = _check(ctx, request)
    proposals = accepted(wanted)
    try:
        codes = await ctx.broker.offsets.commit_in_transaction(
            proposals, request.producer_id, request.producer_epoch, error
        )
    except LuongError as failure:
        codes = [failure.error_code] * len(proposals)
    return commit_answers(wanted, [fenced_code(c, ctx.version, NEVER) for c in codes])


def _check(ctx: RequestContext, request: Any) -> int:
    """The error refusing the whole commit, or 0."""
    coordinator = ctx.broker.transactions.coordinator
    error = coordinator.check_member(
        request.transactional_id, request.producer_id, request.producer_epoch
    )
    if error:
        return error
    offsets_partition = (OFFSETS_TP.topic, OFFSETS_TP.partition)
    if not coordinator.in_transaction(
        request.producer_id, request.producer_epoch, offsets_partition
    ):
        return ErrorCode.INVALID_TXN_STATE
    generation = getattr(request, "generation_id", -1)
    member_id = getattr(request, "member_id", "")
    if ctx.version >= 3 and (generation >= 0 or member_id):
        return ctx.broker.groups.coordinator.check_commit(request.group_id, member_id, generation)
    return 0


HANDLER = ApiHandler(28, "TxnOffsetCommit", 0, 3, handle)
