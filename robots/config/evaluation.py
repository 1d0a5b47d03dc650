"""``[evaluation]``: what the proof-of-concept report measures against.

The go / no-go decision must rest on figures the town chose before it saw the results, so
the thresholds, the manual baseline from the town's time study and the annual volumes are
configuration, validated like everything else, not constants in the report code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["EvaluationConfig", "EvaluationThresholds"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvaluationThresholds(_Model):
    """``[evaluation.thresholds]``: a scenario passes a criterion at or beyond its threshold."""

    # share of reviewed fields whose OCR value was the final value
    min_field_accuracy: float = Field(default=0.95, ge=0, le=1)
    # share of reviewed fields corrected although they were not flagged
    max_silent_error_rate: float = Field(default=0.005, ge=0, le=1)
    # staff time saved against manual keying, as a share of the manual time
    min_time_saved: float = Field(default=0.50, ge=-1, le=1)
    # documents that entered the inbox and reached neither the outputs nor quarantine
    max_lost_documents: int = Field(default=0, ge=0)
    # fewer fully reviewed documents than this: the evidence is too thin for "go"
    min_reviewed_documents: int = Field(default=30, ge=1)


class EvaluationConfig(_Model):
    """Thresholds, manual baseline (minutes per document) and annual volume per form id."""

    thresholds: EvaluationThresholds = EvaluationThresholds()
    # minutes a clerk needs to key one document of this form by hand (the town's time study);
    # measured samples from `rpa baseline record` take precedence in the report
    baseline_minutes: dict[str, float] = Field(default_factory=dict)
    # documents of this form per year, to annualise the time saved
    annual_volume: dict[str, int] = Field(default_factory=dict)
    # review time estimate per flagged field when no review time at all was recorded
    review_seconds_per_flagged_field: float = Field(default=30.0, gt=0)

    @field_validator("baseline_minutes")
    @classmethod
    def _positive_minutes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, m in v.items() if not m > 0]
        if bad:
            raise ValueError(f"minutes must be more than 0 for: {', '.join(sorted(bad))}")
        return v

    @field_validator("annual_volume")
    @classmethod
    def _non_negative_volume(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, n in v.items() if n < 0]
        if bad:
            raise ValueError(f"annual volume must not be negative for: {', '.join(sorted(bad))}")
        return v
