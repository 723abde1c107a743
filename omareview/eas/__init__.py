"""EAS: contract artifacts, UIDs, deployment (and, later, encoding and the client)."""
