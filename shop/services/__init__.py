"""The shop's writes, one module per area: cart, orders (checkout and fulfilment),
subscriptions, credits, campaigns, and the Stripe webhook handlers."""
