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
    # a scanned form carrying more than this share of a scenario's scanned documents decides
    # its verdict as the whole would (a failing one can make it no-go); a smaller one that
    # fails is named among the conditions and keeps the verdict from go
    min_form_share: float = Field(default=0.10, ge=0, le=1)
    # results of a scenario's own work found wrong later (a deposit link undone): more is no-go
    max_work_errors: int = Field(default=0, ge=0)


class EvaluationConfig(_Model):
    """Thresholds, manual baselines and annual volumes (per form id or task name)."""

    thresholds: EvaluationThresholds = EvaluationThresholds()
    # minutes a clerk needs to key one document of this form by hand, or to do one unit of a
    # scenario's task (deposit_reply_check, ...), from the town's time study: an assumption
    # until measured; samples from `rpa baseline record` take precedence in the report
    baseline_minutes: dict[str, float] = Field(default_factory=dict)
    # documents of this form (units of this task) per year, to annualise the time saved
    annual_volume: dict[str, int] = Field(default_factory=dict)
    # review seconds per field the reviewer works on, by kind: assumptions used only when
    # too few runs have a recorded review time to measure them (their proportions are kept
    # and scaled to the recorded total when there is some)
    review_seconds_per_flagged_field: float = Field(default=30.0, gt=0)
    review_seconds_per_proposed_field: float = Field(default=15.0, gt=0)
    review_seconds_per_keyed_field: float = Field(default=45.0, gt=0)

    @property
    def review_seconds(self) -> dict[str, float]:
        """The assumed review seconds per field, by kind of work (flagged, proposed, keyed)."""
        return {"flagged": self.review_seconds_per_flagged_field,
                "proposed": self.review_seconds_per_proposed_field,
                "keyed": self.review_seconds_per_keyed_field}

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
