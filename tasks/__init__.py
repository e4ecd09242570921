"""Tasks: the task store (source of truth), the runner and the service layer."""
