"""Gateway layer: external entrypoints (Ingress, Gateway API, Kong, Services) and their authentication."""
