"""Configuration: one TOML file validated into frozen models before any work starts.

Everything is checked up front — unknown keys, bad values, missing folders — and reported
with the file and the dotted key, so that a nightly job never fails at 3 a.m. on a typo.
Relative paths are taken relative to the configuration file, not to the working folder,
so the same file works from cron, systemd and a clerk's shell.

The room of configuration: this module (folders, OCR, inbox, run, CSV, scenario sections as
raw tables each scenario validates), :mod:`.evaluation` (``[evaluation]``), :mod:`.reference`
(``[reference]``: the resident register proposals come from) and
:mod:`.service` (``[[schedule]]``, ``[scheduler]``, ``[notify]``). Imports only the errors and
the registry of installed scenarios (to check names), so every other room may import it.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from robots.config.evaluation import EvaluationConfig
from robots.config.reference import ReferenceConfig
from robots.config.service import NotifyConfig, ScheduleEntry, SchedulerConfig
from robots.errors import ConfigError
from robots.registry import packaged_forms_dirs, scenario_names

__all__ = [
    "CONFIG_ENV",
    "Config",
    "CsvConfig",
    "ExportsConfig",
    "InboxConfig",
    "OcrConfig",
    "Paths",
    "ReferenceConfig",
    "RunConfig",
    "forms_dirs",
    "load_config",
]

log = logging.getLogger(__name__)

CONFIG_ENV = "MISATO_RPA_CONFIG"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Paths(_Model):
    """Folders. Per scenario: <inbox>/<scenario>/, <processing>/<scenario>/, and so on."""

    inbox: Path = Path("inbox")
    processing: Path = Path("processing")
    done: Path = Path("done")
    failed: Path = Path("failed")
    out: Path = Path("out")
    runlog: Path = Path("var/runlog.sqlite")
    # The key of the run log's value digests, kept out of var/ so that a copy of var/ (a
    # backup, a file sent for analysis) cannot be tried against every birth date or postal code.
    digest_key: Path = Path("keys/runlog.key")


class OcrConfig(_Model):
    """Recognisers and the thresholds of the flag decision."""

    engines: tuple[str, ...] = ("tesseract", "rapidocr")
    tesseract_model: Literal["fast", "standard"] = "fast"
    # Combined confidence below which a field is flagged, per field type ("default" for the rest).
    min_confidence: dict[str, float] = Field(
        default_factory=lambda: {"text": 0.80, "kana": 0.80, "default": 0.70})
    # Checkbox ink share: marked / empty; unset = the calibrated values (ocr/calibration.toml).
    mark_on: float | None = Field(default=None, gt=0, lt=1)
    mark_off: float | None = Field(default=None, ge=0, lt=1)
    denoise: Literal["auto", "always", "never"] = "never"
    # The calibrated thresholds of the flag decision (bench/calibrate.py); unset = shipped file.
    calibration: Path | None = None
    # Share of fields that may be wrong and unflagged: what bench/calibrate.py calibrates to.
    silent_error_target: float = Field(default=0.005, gt=0, lt=1)
    silent_error_target_handwritten: float = Field(default=0.01, gt=0, lt=1)
    # Field types staff key in without seeing the OCR value (ベリファイ); see README.
    double_entry: tuple[str, ...] = ()

    @field_validator("engines")
    @classmethod
    def _some_engine(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("name at least one OCR engine")
        return v

    @field_validator("double_entry")
    @classmethod
    def _keyed_types(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from ocr.templates import MARK_TYPES, FieldType

        keyed = sorted(t.value for t in FieldType if t not in MARK_TYPES)
        bad = [t for t in v if t not in keyed]
        if bad:
            raise ValueError(f"unknown or mark field type(s) {', '.join(bad)}; one of "
                             f"{', '.join(keyed)}")
        return v

    @model_validator(mode="after")
    def _mark_band(self) -> OcrConfig:
        if self.mark_on is not None and self.mark_off is not None and \
                not self.mark_off < self.mark_on:
            raise ValueError("mark_off must be below mark_on")
        return self


class InboxConfig(_Model):
    """When a dropped file counts as complete."""

    # A file is taken only when its size and mtime have not changed for this long.
    settle_seconds: float = Field(default=5.0, ge=0)
    # A file whose structure says it was cut short (no %%EOF, no IEND, ...) waits this long
    # for the rest of its copy before it is quarantined as truncated.
    incomplete_max_age_seconds: float = Field(default=3600.0, ge=0)
    extensions: tuple[str, ...] = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
    # Work one file may cost, checked before any page is decoded or scaled: a 3,000-page
    # TIFF or a page declared 5 m wide is quarantined with the limit named, not read for hours.
    max_pages_per_file: int = Field(default=500, ge=1)
    max_megapixels_per_page: float = Field(default=120.0, gt=0)


class RunConfig(_Model):
    """How a run uses the machine."""

    jobs: int = Field(default=0, ge=0, description="worker processes; 0 = one per core")
    isolate: bool = Field(
        default=True,
        description="read files in worker processes (also with jobs = 1), so that a file that "
                    "crashes, exhausts the memory of or hangs its worker costs only itself; "
                    "false = in this process (debugging, fast tests)")
    item_timeout_seconds: float = Field(
        default=900.0, gt=0,
        description="a file still being read after this long has its worker stopped; it is "
                    "tried again alone, then quarantined as too slow")
    dask_scheduler: str | None = Field(
        default=None,
        description="address of a Dask scheduler (tcp://10.0.0.5:8786, tls://...); when set, "
                    "the per-file OCR work runs on that cluster's workers instead of the local "
                    "process pool (see docs/operations.md); jobs is then not used")

    @field_validator("dask_scheduler")
    @classmethod
    def _scheduler_address(cls, v: str | None) -> str | None:
        """Catch a bare host name or a typo here, not as a connection failure at 2 a.m."""
        if v is None:
            return None
        v = v.strip()
        if "://" not in v or v.startswith("://") or v.endswith("://") or any(
                c.isspace() for c in v):
            raise ValueError("a Dask scheduler address such as tcp://10.0.0.5:8786 "
                             "(protocol://host:port)")
        return v


class CsvConfig(_Model):
    """CSV for the core systems: many still want CP932 with CRLF."""

    encoding: Literal["utf-8-sig", "cp932"] = "utf-8-sig"
    newline: Literal["crlf", "lf"] = "crlf"
    # "quote": a value a spreadsheet would run as a formula (=, +, -, @ first) gets a leading
    # ' (OWASP); "none": written raw, for a core system that must receive exactly the value
    formula_escape: Literal["quote", "none"] = "quote"


class ExportsConfig(_Model):
    """Hand-off to the core systems: where confirmed files go, the town's layouts and decisions."""

    # Confirmed files for the core systems, one folder per target system (handoff/<target>/).
    handoff_dir: Path = Path("handoff")
    # The town's own export layouts, besides exports/ of the installed scenarios.
    dirs: tuple[Path, ...] = ()
    # Substitution tables (外字 → code, 髙 → 高), each entry saying who decided it.
    substitutions: tuple[Path, ...] = ()
    # Layout ids not written (a layout shipped for a system the town does not have).
    disabled: tuple[str, ...] = ()
    # Target systems allowed to receive a 個人番号 field (番号法 第19条: only where the law
    # provides for it); a layout naming one for another target is a configuration error.
    mynumber_targets: tuple[str, ...] = ()


class Config(_Model):
    """The whole configuration. Scenario sections are validated by each scenario's model."""

    forms_dirs: tuple[Path, ...] = ()
    paths: Paths = Paths()
    ocr: OcrConfig = OcrConfig()
    inbox: InboxConfig = InboxConfig()
    run: RunConfig = RunConfig()
    csv: CsvConfig = CsvConfig()
    exports: ExportsConfig = ExportsConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    reference: ReferenceConfig = ReferenceConfig()  # [reference], robots.config.reference
    schedule: tuple[ScheduleEntry, ...] = ()  # [[schedule]] tables, see robots.config.service
    scheduler: SchedulerConfig = SchedulerConfig()
    notify: NotifyConfig = NotifyConfig()
    scenarios: dict[str, dict[str, Any]] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)

    def resolve(self, p: Path) -> Path:
        """``p`` relative to the configuration file's folder (or the working folder)."""
        base = self.source.parent if self.source else Path.cwd()
        return p if p.is_absolute() else (base / p)

    def relative(self, p: Path) -> str:
        """``p`` as the run log stores it: relative to the workspace when inside it.

        The workspace is the configuration's folder. A workspace moved or copied elsewhere
        then still finds its own files; a path outside it (``--out /elsewhere``) stays absolute.
        """
        base = (self.source.parent if self.source else Path.cwd()).resolve()
        q = self.resolve(p).resolve()
        try:
            return q.relative_to(base).as_posix()
        except ValueError:
            return str(q)

    @property
    def jobs(self) -> int:
        return self.run.jobs or (os.cpu_count() or 1)


def _format(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (misspelt, or not used by this version)"
        out.append(f"{key}: {msg}")
    return out


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the configuration; raise :class:`ConfigError` naming every problem.

    ``path`` None means $MISATO_RPA_CONFIG, else ./config.toml, else built-in defaults.
    """
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        path = Path(env) if env else Path("config.toml")
        if not path.exists() and not env:
            log.info("no config.toml here; using built-in defaults")
            return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        cfg = Config.model_validate({**data, "source": path.resolve()})
    except ValidationError as exc:
        raise ConfigError(path, _format(exc)) from None
    problems = [f"forms_dirs: folder {d} does not exist"
                for d in cfg.forms_dirs if not cfg.resolve(d).is_dir()]
    known = scenario_names()
    problems += [f"scenarios.{n}: unknown scenario (misspelt?); known scenarios: "
                 f"{', '.join(known) or 'none installed'}"
                 for n in cfg.scenarios if n not in known]
    problems += [f"exports.dirs: folder {d} does not exist"
                 for d in cfg.exports.dirs if not cfg.resolve(d).is_dir()]
    problems += [f"exports.substitutions: file {f} does not exist"
                 for f in cfg.exports.substitutions if not cfg.resolve(f).is_file()]
    if cfg.schedule:
        problems += [f"schedule.{i}.scenario: unknown scenario {e.scenario!r}; known "
                     f"scenarios: {', '.join(sorted(known)) or 'none installed'}"
                     for i, e in enumerate(cfg.schedule) if e.scenario not in known]
    if problems:
        raise ConfigError(path, problems)
    return cfg


def forms_dirs(config: Config) -> list[Path]:
    """Template folders: the packaged ones, then the town's own from ``forms_dirs``."""
    return [*packaged_forms_dirs(), *(config.resolve(d) for d in config.forms_dirs)]
