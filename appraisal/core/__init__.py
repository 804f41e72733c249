"""What every process of the product shares: settings, observability, signing and the
Temporal client."""
