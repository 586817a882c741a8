"""Identification beyond the lab: vendor accuracy on real banners held out from rule writing.

Run: ``.venv/bin/python -m benchmarks.bench_identify_real [--small]``.

Banners: the ``<example>`` texts of Recog's real ``telnet_banners.xml`` (``../shared/data``),
labelled with the vendor Recog's own fingerprint names (``fingerprint._eval``), split by a
fixed hash into a tuning half (looked at while writing iotscope's rules) and a held-out half
(its texts never read; its misses were listed once by vendor and Recog description only, see
``HELD_OUT_USE``). Four identifiers on the same banners, vendor scored the same way:

- ``lab-rules-only``: the shipped rules without the ``*_world.xml`` files (what the lab
  catalog's rules alone name; the starting point of issue 7);
- ``shipped``: iotscope's shipped rules alone (lab and world rules);
- ``shipped+nmap``: the default set, shipped rules then Debian's nmap-service-probes;
- ``nmap``: nmap-service-probes alone (the peer), through the same engine.

Also the cost of nmap by default: parsing at load, compiling per service on first use, and
identify() throughput on held-out plus as many unknown banners. Recog's SSH, HTTP ``Server``
and HTML title examples are scored the same way where they are in the shared data. Writes
benchmarks/results/identify_real.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.bench_fingerprint import rate
from iotscope.fingerprint import RuleSet, identify, load_rules
from iotscope.fingerprint._engine import DEBIAN_NMAP_PROBES, NMAP_BANNER_SERVICES
from iotscope.fingerprint._eval import (
    SPLITS,
    Labelled,
    by_split,
    labelled_examples,
    rules_namer,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
RECOG_DATA = ROOT.parent / "shared" / "data" / "recog"
TELNET_XML = RECOG_DATA / "telnet_banners.xml"
OTHER_FILES = {
    # Recog file -> (iotscope service, text put before each example: Recog's SSH examples
    # are the software part of the identification line only)
    "ssh_banners.xml": ("ssh", "SSH-2.0-"),
    "http_servers.xml": ("http", ""),
    "html_title.xml": ("http_title", ""),
}
RESULTS = ROOT / "benchmarks" / "results" / "identify_real.json"
HELD_OUT_USE = (
    "held-out banner texts never read; once, their misses were listed by vendor and Recog "
    "description only, and rules were then written from public product facts (not from the texts)"
)


def rule_sets(nmap: Path | None) -> dict[str, RuleSet]:
    """The three identifiers; nmap attached as the survey attaches it (telnet and ssh)."""
    sets = {"lab-rules-only": only(load_rules(), lambda src: not src.endswith("_world.xml"))}
    sets["shipped"] = load_rules()
    if nmap is not None:
        sets["shipped+nmap"] = load_rules([nmap], nmap_services=NMAP_BANNER_SERVICES)
        nmap_only = load_rules([nmap], nmap_services=NMAP_BANNER_SERVICES)
        sets["nmap"] = only(nmap_only, lambda src: src == str(nmap))
    return sets


def only(rules: RuleSet, keep: Callable[[str], bool]) -> RuleSet:
    """``rules`` keeping the databases whose source ``keep`` accepts (the same engine)."""
    for service in list(rules.by_service):
        rules.by_service[service] = [db for db in rules.by_service[service] if keep(db.source)]
    return rules


def accuracy(
    examples: list[Labelled], sets: dict[str, RuleSet], service: str = "telnet", prefix: str = ""
) -> dict[str, object]:
    out: dict[str, object] = {}
    for split in SPLITS:
        part = [replace(ex, text=prefix + ex.text) for ex in by_split(examples, split)]
        out[split] = {name: score(part, rules_namer(service, rules)).summary()
                      for name, rules in sets.items()}  # fmt: skip
    return out


def other_services(sets: dict[str, RuleSet]) -> dict[str, object]:
    """The same scoring on Recog's SSH, HTTP Server and HTML title examples where present."""
    out: dict[str, object] = {}
    for name, (service, prefix) in OTHER_FILES.items():
        path = RECOG_DATA / name
        if not path.is_file():
            out[name] = f"absent: no {name} in the shared Recog data"
            continue
        out[name] = accuracy(labelled_examples(path), sets, service, prefix)
    return out


def nmap_cost(nmap: Path) -> dict[str, float]:
    """Seconds: load with nmap parsed (not compiled), then compiling each banner service."""
    start = time.perf_counter()
    rules = load_rules([nmap], nmap_services=NMAP_BANNER_SERVICES)
    cost = {"load_with_nmap_parsed_s": time.perf_counter() - start}
    start = time.perf_counter()
    load_rules()
    cost["load_shipped_only_s"] = time.perf_counter() - start
    for service in NMAP_BANNER_SERVICES:
        start = time.perf_counter()
        rules.warm([service])
        cost[f"compile_{service}_s"] = time.perf_counter() - start
    everything = load_rules([nmap])
    start = time.perf_counter()
    everything.warm(everything.services)
    cost["compile_all_nmap_services_s"] = time.perf_counter() - start
    return cost


def throughput(texts: list[str], sets: dict[str, RuleSet], seconds: float) -> dict[str, float]:
    out = {}
    for name, rules in sets.items():
        rules.warm(["telnet"])
        out[name] = rate(_identifier(rules), texts, seconds)
    return out


def _identifier(rules: RuleSet) -> Callable[[str], object]:
    def run(text: str) -> object:
        return identify("telnet", text, rules)

    return run


def report(result: dict[str, object], console: Console) -> None:
    console.print(accuracy_table("telnet_banners.xml", result["accuracy"]))
    others = result["accuracy_other_services"]
    assert isinstance(others, dict)
    for name, acc in others.items():
        console.print(acc if isinstance(acc, str) else accuracy_table(name, acc))
    console.print(f"identify/s (telnet, held-out + unknown banners): {result['identify_per_s']}")
    console.print(f"nmap cost (s): {result['nmap_cost']}")


def accuracy_table(name: str, acc: object) -> Table:
    assert isinstance(acc, dict)
    table = Table(title=f"right vendor on real banners (Recog's {name} examples)")
    for col in ("split", "identifier", "examples", "right", "wrong", "none", "accuracy"):
        table.add_column(col)
    for split, by_name in acc.items():
        for ident, s in by_name.items():
            table.add_row(split, ident, *(str(s[k]) for k in ("examples", "right_vendor",
                          "wrong_vendor", "no_vendor")), f"{s['accuracy']:.3f}")  # fmt: skip
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", action="store_true", help="short run")
    args = parser.parse_args(argv)
    if not TELNET_XML.is_file():
        raise SystemExit(f"reference data not present at {TELNET_XML}")
    nmap = DEBIAN_NMAP_PROBES if DEBIAN_NMAP_PROBES.is_file() else None
    examples = labelled_examples(TELNET_XML)
    sets = rule_sets(nmap)
    held = [ex.text for ex in by_split(examples, "held-out")]
    texts = held + [f"Unknown device {i}\r\nlogin as {i % 7}: " for i in range(len(held))]
    result = {
        "benchmark": "identify_real",
        "small": args.small,
        "python": platform.python_version(),
        "data": str(TELNET_XML.relative_to(ROOT.parent)),
        "split": "held-out when the first byte of SHA-256(example text) is odd",
        "held_out_use": HELD_OUT_USE,
        "machine": "shared: 2 cores, other helpers' load; the timings are indicative only",
        "nmap_probes": str(nmap) if nmap else None,
        "accuracy": accuracy(examples, sets),
        "accuracy_other_services": other_services(sets),
        "identify_per_s": throughput(texts, sets, 0.5 if args.small else 3.0),
        "nmap_cost": nmap_cost(nmap) if nmap else None,
    }
    report(result, Console())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
