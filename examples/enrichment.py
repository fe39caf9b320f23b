"""Enrichment: orders joined with customer profiles from a compacted topic.

Input `orders`: {"order": "o-1", "customer": "c-7", "amount": 30}; table
`customers` (compacted, keyed by customer id): {"name": "Lan", "tier": "gold"}.
Output `orders-enriched`: the order with "name" and "tier" of its customer as the
profile was when the order was placed (None for an unknown customer).

    luong topic create customers --partitions 1 --config cleanup.policy=compact
    luong topic create orders --partitions 3
    luong pipeline run examples/enrichment.py
"""

from luong.pipelines import Pipeline

pipeline = Pipeline("enrichment")
customers = pipeline.table("customers")
(
    pipeline.source("orders")
    .join(
        customers,
        on=lambda order: order["customer"],
        how="left",
        combine=lambda order, customer: {
            **order,
            "name": customer["name"] if customer else None,
            "tier": customer["tier"] if customer else None,
        },
    )
    .to("orders-enriched")
)
