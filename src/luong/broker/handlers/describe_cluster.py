"""DescribeCluster (key 60), versions 0-2: the cluster id and its brokers.

One node: it is the only broker and the controller. cluster_authorized_operations
is Kafka's "not asked" value (-2^31) unless include_cluster_authorized_operations;
then the operations the principal may perform (broker/authorizer.py). v1+
endpoint_type: 1 (brokers) is answered; 2 (controllers) is MISMATCHED_ENDPOINT_TYPE
(this is a broker endpoint), anything else UNSUPPORTED_ENDPOINT_TYPE. v2: the
broker is never fenced; include_fenced_brokers changes nothing.
"""

from __future__ import annotations

from typing import Any

from luong.broker.authorizer import cluster_operations
from luong.broker.context import RequestContext
from luong.broker.handlers.base import ApiHandler, HandlerResult, error_fields
from luong.errors import LuongError, MismatchedEndpointTypeError, UnsupportedEndpointTypeError

__all__ = ["HANDLER", "handle"]

BROKERS, CONTROLLERS = 1, 2


async def handle(ctx: RequestContext, request: Any) -> HandlerResult:
    endpoint_type = getattr(request, "endpoint_type", BROKERS)
    answer = {"throttle_time": 0, "endpoint_type": endpoint_type}
    try:
        _check_endpoint_type(endpoint_type)
    except LuongError as error:
        return {**answer, **error_fields(error), "cluster_id": "", "brokers": []}
    node = ctx.broker.identity
    asked = request.include_cluster_authorized_operations
    return {
        **answer,
        **error_fields(None),
        "cluster_id": node.cluster_id,
        "controller_id": node.node_id,
        "brokers": [
            {
                "broker_id": node.node_id,
                "host": node.host,
                "port": node.port,
                "rack": None,
                "is_fenced": False,
            }
        ],
        "cluster_authorized_operations": cluster_operations(asked),
    }


def _check_endpoint_type(endpoint_type: int) -> None:
    if endpoint_type == CONTROLLERS:
        raise MismatchedEndpointTypeError(
            "The request was sent to an endpoint of type BROKER, "
            "but we wanted an endpoint of type CONTROLLER"
        )
    if endpoint_type != BROKERS:
        raise UnsupportedEndpointTypeError(f"Unsupported endpoint type {endpoint_type}")


HANDLER = ApiHandler(60, "DescribeCluster", 0, 2, handle)
