"""Pricing rules shared by the cart flows (called by code processors)."""

from . import FunctionalError

BULK_DISCOUNT_THRESHOLD = 10
BULK_DISCOUNT = 0.1


def price_items(flow):
    """Computes the subtotal of the items being added, with a bulk discount."""
    for item in flow.items:
        if item.quantity < 1:
            raise FunctionalError(f"Item {item.sku}: the quantity must be at least 1, got {item.quantity}")
    subtotal = sum(item.quantity * item.unitPrice for item in flow.items)
    quantity = sum(item.quantity for item in flow.items)
    if quantity >= BULK_DISCOUNT_THRESHOLD:
        subtotal = subtotal * (1 - BULK_DISCOUNT)
    flow.subtotal = round(subtotal, 2)
