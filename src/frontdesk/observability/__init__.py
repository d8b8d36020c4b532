"""What an operator watches: request logs, readiness and metrics.

``access`` is the one ASGI layer that gives every request an id, logs one line for it and
counts it; ``logs`` formats every log line (text or JSON); ``readiness`` asks the database and
Redis whether they answer; ``metrics`` holds this process's Prometheus metrics; ``proxies``
says whether the direct peer is a proxy the operator trusts.
"""
