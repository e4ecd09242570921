"""What computes queued tasks: the Runner protocol (base.py), the supervision policy both runners share,
the local runner of the embedded mode, and the Celery runner and worker of the scaled-out mode."""
