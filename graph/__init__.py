"""Identity graph: identifiers, the store contract and its adapters, resolution."""
