"""What visitors thought of their conversations, summed up for the project."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from frontdesk.models import closed


@closed
class RatingsPublic(TypedDict):
    count: Annotated[int, Field(description="Rated conversations")]
    average: Annotated[
        float | None, Field(description="Mean rating, 0 to 5, two decimals; null when none")
    ]
