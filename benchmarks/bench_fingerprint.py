"""identify() throughput against naive baselines, and nmap-service-probes load cost.

Run: ``.venv/bin/python -m benchmarks.bench_fingerprint [--small]``.

Banners: every ``<example>`` of Recog's real telnet_banners.xml (``../shared/data``, when
present) and of iotscope's shipped rules, plus as many non-matching banners (a survey sees
mostly unknown devices). Rules: the shipped rules plus telnet_banners.xml.

- ``iotscope``: ``identify()`` on a precompiled ``RuleSet`` (literal prefilter, first match).
- ``naive-script``: what a simple script does: compile every fingerprint's pattern once,
  then for each banner search them in order (no prefilter). (It used ``re.search`` on the
  pattern text; with more than 512 rules Python's regex cache thrashes, which measured the
  cache, not the script.)
- ``naive-xml``: parse the XML and compile each pattern for each banner (a per-call loader;
  ``re``'s cache still spares it most compiling).

All three must agree on which fingerprint matched each banner; the run stops if they do not.
Then: the time to load nmap's nmap-service-probes (Debian's nmap) whole and lazily (parsed at
load, each service compiled on first use), its rule count, how many regexes Python could not
compile, and identify() throughput for ssh/telnet banners on it (compiled beforehand).
Writes benchmarks/results/fingerprint.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from iotscope.fingerprint import RuleSet, identify, load_rules
from iotscope.fingerprint._engine import RULES_DIR
from iotscope.fingerprint._nmap import parse_nmap_probes
from iotscope.fingerprint._recog import FLAG_MAP, RecogDatabase, load_recog
from iotscope.fingerprint._regex import compile_pattern

ROOT = Path(__file__).resolve().parents[1]
TELNET_XML = ROOT.parent / "shared" / "data" / "recog" / "telnet_banners.xml"
NMAP_PROBES = Path("/usr/share/nmap/nmap-service-probes")
RESULTS = ROOT / "benchmarks" / "results" / "fingerprint.json"


def telnet_files() -> list[Path]:
    shipped = [p for p in sorted(RULES_DIR.glob("*.xml")) if _key(p) == "telnet"]
    return shipped + ([TELNET_XML] if TELNET_XML.is_file() else [])


def _key(path: Path) -> str | None:
    from iotscope.fingerprint import service_for_key

    return service_for_key(load_recog(path).match_key)


def banners(files: Sequence[Path]) -> list[str]:
    """Every example text of ``files`` plus as many unknown banners."""
    texts = [
        ex.text
        for path in files
        for fp in load_recog(path).fingerprints
        for ex in fp.examples
        if ex.text is not None
    ]
    misses = [f"Unknown device {i}\r\nlogin as {i % 7}: " for i in range(len(texts))]
    return texts + misses


def naive_script(dbs: list[RecogDatabase]) -> Callable[[str], str | None]:
    patterns = [
        (re.compile(fp.regex.pattern, fp.regex.flags), fp.label)
        for db in dbs
        for fp in db.fingerprints
        if fp.regex is not None
    ]

    def run(text: str) -> str | None:
        for regex, label in patterns:
            if regex.search(text):
                return label
        return None

    return run


def naive_xml(files: Sequence[Path]) -> Callable[[str], str | None]:
    def run(text: str) -> str | None:
        for path in files:
            for elem in ET.parse(path).getroot().findall("fingerprint"):
                flags = 0
                for name in filter(None, (elem.get("flags") or "").split(",")):
                    flags |= FLAG_MAP[name]
                if compile_pattern(elem.get("pattern") or "", "ruby", flags).search(text):
                    desc = elem.find("description")
                    label = " ".join("".join(desc.itertext()).split()) if desc is not None else ""
                    return label or (elem.get("pattern") or "")
        return None

    return run


def ours(rules: RuleSet) -> Callable[[str], str | None]:
    def run(text: str) -> str | None:
        match = identify("telnet", text, rules)
        return match.rule if match is not None else None

    return run


def rate(fn: Callable[[str], object], texts: list[str], min_seconds: float) -> float:
    """Calls per second over whole passes of ``texts`` lasting at least ``min_seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        for text in texts:
            fn(text)
        calls += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return calls / elapsed


def check_agreement(fns: dict[str, Callable[[str], str | None]], texts: list[str]) -> None:
    for text in texts:
        answers = {name: fn(text) for name, fn in fns.items()}
        if len(set(answers.values())) != 1:
            raise SystemExit(f"implementations disagree on {text!r}: {answers}")


def bench_identify(small: bool) -> dict[str, object]:
    files = telnet_files()
    texts = banners(files)
    rules = load_rules([TELNET_XML] if TELNET_XML.is_file() else [])
    dbs = [load_recog(p) for p in files]
    fns = {
        "iotscope": ours(rules),
        "naive-script": naive_script(dbs),
        "naive-xml": naive_xml(files),
    }
    check_agreement(fns, texts[:: 8 if small else 1])
    seconds = 0.5 if small else 3.0
    xml_texts = texts[:: 40 if small else 10]
    rates = {
        "iotscope": rate(fns["iotscope"], texts, seconds),
        "naive-script": rate(fns["naive-script"], texts, seconds),
        "naive-xml": rate(fns["naive-xml"], xml_texts, seconds),
    }
    return {
        "banners": len(texts),
        "fingerprints": sum(len(db.fingerprints) for db in dbs),
        "files": [p.name for p in files],
        "identify_per_s": rates,
        "ratio_vs_naive_script": rates["iotscope"] / rates["naive-script"],
        "ratio_vs_naive_xml": rates["iotscope"] / rates["naive-xml"],
    }


def bench_nmap(small: bool) -> dict[str, object] | None:
    if not NMAP_PROBES.is_file():
        return None
    start = time.perf_counter()
    probes = parse_nmap_probes(NMAP_PROBES.read_bytes().decode("latin-1"), str(NMAP_PROBES))
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    rules = load_rules([NMAP_PROBES])
    lazy_load_s = time.perf_counter() - start
    start = time.perf_counter()
    rules.warm(["ssh", "telnet"])
    warm_s = time.perf_counter() - start
    sample = ["SSH-2.0-dropbear_2019.78\r\n", "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1\r\n"]
    sample += ["\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f", "BusyBox on (none) login: "]
    services = ["ssh", "ssh", "telnet", "telnet"]

    def run(i: int) -> None:
        identify(services[i], sample[i], rules)

    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < (0.5 if small else 2.0):
        for i in range(len(sample)):
            run(i)
        calls += len(sample)
    return {
        "load_seconds": load_s,
        "lazy_load_seconds": lazy_load_s,
        "compile_ssh_telnet_seconds": warm_s,
        "match_lines": len(probes.rules) + len(probes.errors),
        "compiled": len(probes.rules),
        "skipped": len(probes.errors),
        "identify_per_s": calls / (time.perf_counter() - t0),
    }


def report(result: dict[str, object], console: Console) -> None:
    ident = result["identify"]
    assert isinstance(ident, dict)
    table = Table(
        title=f"identify(): {ident['banners']} telnet banners, {ident['fingerprints']} rules"
    )
    for col in ("implementation", "identify/s", "iotscope is x faster"):
        table.add_column(col)
    rates = ident["identify_per_s"]
    for name, value in rates.items():
        table.add_row(name, f"{value:,.0f}", f"{rates['iotscope'] / value:,.1f}")
    console.print(table)
    nmap = result["nmap"]
    if isinstance(nmap, dict):
        console.print(
            f"nmap-service-probes: {nmap['match_lines']} match lines, {nmap['skipped']} regexes "
            f"Python cannot compile, parsed+compiled in {nmap['load_seconds']:.2f} s "
            f"(lazily: loaded in {nmap['lazy_load_seconds']:.2f} s, ssh+telnet compiled in "
            f"{nmap['compile_ssh_telnet_seconds']:.2f} s); "
            f"identify() on it: {nmap['identify_per_s']:,.0f}/s"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", action="store_true", help="short run (< 60 s)")
    args = parser.parse_args(argv)
    result = {
        "benchmark": "fingerprint",
        "small": args.small,
        "python": platform.python_version(),
        "identify": bench_identify(args.small),
        "nmap": bench_nmap(args.small),
    }
    report(result, Console())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
