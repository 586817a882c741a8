"""Manufacturers and labels (issue 10, item 6): what the survey, the vulnerability data and
the bot sightings say per vendor, model and firmware, and how JC-STAR labelled products fare in
the field against unlabelled ones.

- :func:`load_devices`: one row per device (address and survey round) with identity, weak,
  vulnerable (CVEs, KEV) and infected, restricted to what the caller (a :class:`Principal`)
  may see; how infections are joined is in ``_frame``'s docstring.
- :func:`tally`, :func:`pareto`, :func:`cve_counts`: counts per vendor/model/firmware, the
  Pareto table of infections, the CVEs per firmware.
- :func:`vendor_report`, :func:`report_pdf`: one manufacturer's report (web and PDF, English
  and Japanese; ``iotscope makers report``).
- :func:`parse_registry`, :func:`import_registry`: the JC-STAR registry CSV (format in
  ``_jcstar``'s docstring; ``iotscope makers jcstar import``); :func:`outcomes`: labelled
  against unlabelled, with Wilson and Newcombe 95 % intervals.
- :func:`router`: ``GET /centre/api/makers/report.pdf`` (the same report over HTTP).
"""

from iotscope.makers._frame import CveRow, Cves, Devices, Round, load_devices, subset
from iotscope.makers._http import router
from iotscope.makers._jcstar import BadLine, Label, Parsed, parse_level, parse_registry
from iotscope.makers._names import model_key, vendor_key
from iotscope.makers._outcomes import Gap, Outcome, levels, outcomes
from iotscope.makers._registry import ImportReport, import_registry, load_labels, save_labels
from iotscope.makers._report import Firmware, VendorReport, pick_round, vendor_report
from iotscope.makers._tally import (
    CveCount,
    ParetoRow,
    Tally,
    cve_counts,
    outdated,
    pareto,
    tally,
    vital_few,
)

__all__ = [
    "BadLine",
    "CveCount",
    "CveRow",
    "Cves",
    "Devices",
    "Firmware",
    "Gap",
    "ImportReport",
    "Label",
    "Outcome",
    "ParetoRow",
    "Parsed",
    "Round",
    "Tally",
    "VendorReport",
    "cve_counts",
    "import_registry",
    "levels",
    "load_devices",
    "load_labels",
    "model_key",
    "outcomes",
    "outdated",
    "pareto",
    "parse_level",
    "parse_registry",
    "pick_round",
    "router",
    "save_labels",
    "subset",
    "tally",
    "vendor_key",
    "vendor_report",
    "vital_few",
]
