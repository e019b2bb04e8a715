"""Requests-per-minute and tokens-per-minute limits, shared by every task of a batch."""

from __future__ import annotations

from aiolimiter import AsyncLimiter


class RateLimiter:
    """Waits before each LLM call so that a batch stays under the provider's quotas."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._requests = AsyncLimiter(rpm, 60) if rpm else None
        self._tokens = AsyncLimiter(tpm, 60) if tpm else None

    async def acquire(self, tokens: int) -> None:
        """Take one request and ``tokens`` (estimated prompt + answer) from the budgets."""
        if self._requests is not None:
            await self._requests.acquire()
        if self._tokens is not None:
            await self._tokens.acquire(min(float(tokens), self._tokens.max_rate))
