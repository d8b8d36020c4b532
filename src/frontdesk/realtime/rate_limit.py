"""A token bucket per socket, so one client cannot flood the server with frames."""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; every frame takes one.

    A client may send ``burst`` frames at once, then ``rate`` a second for as long as it likes.
    ``refused`` counts the frames refused since the bucket was last full: a client that
    slows down long enough to refill starts again from zero, one that keeps flooding does not.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = now
        self.refused = 0

    def take(self, now: float) -> bool:
        """Take a token at time ``now`` (monotonic seconds); False when there is none."""
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= self._burst:
            self.refused = 0
        if self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        return True
