"""adref's Prefect deployments, its work pool, and ``adref up`` (a server and a worker)."""
