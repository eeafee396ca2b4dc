"""The HTML report in a real browser: headless Chromium renders it, we screenshot it and read the DOM.

Chromium comes from Debian's ``chromium`` package (``scripts/install-chromium.sh``; the Makefile
runs it before the tests). Without it the test is skipped on a workstation and FAILS in CI
(``CI=true``). The screenshot and the page are kept in ``test-artifacts/report-seed.{png,html}``
(gitignored).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import pytest

from hypertopo.report import write_report
from hypertopo.report.verify import verify

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
WIDTH, HEIGHT = 1600, 1200
# Exact fills the page uses: the IB badge, the Ethernet badge, the prefill and decode marks.
IB_BLUE = (0x1F, 0x5F, 0xBF)
ETH_BROWN = (0xB0, 0x65, 0x0A)
PREFILL_RED = (0xC6, 0x28, 0x28)
DECODE_NAVY = (0x1A, 0x23, 0x7E)


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = "Chromium is not installed: run scripts/install-chromium.sh (apt-get install chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def run_chromium(binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="hypertopo-chromium-") as profile:
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, colour = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    pixels: list[tuple[int, int, int]] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        pixels += [tuple(line[x : x + 3]) for x in range(0, stride, bpp)]
        prev = line
    return width, height, pixels


@pytest.fixture(scope="module")
def report_html(tmp_path_factory, seed_model) -> Path:
    from .conftest import make_predicted, pods_from

    predicted = make_predicted()
    result = verify(predicted, pods_from(predicted), seed_model)
    assert result["ok"]
    return write_report(tmp_path_factory.mktemp("report"), seed_model, predicted, result)["html"]


def test_chromium_screenshot_of_the_report(report_html):
    binary = chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-seed.png"
    shot.unlink(missing_ok=True)
    shutil.copyfile(report_html, ARTIFACTS / "report-seed.html")  # the page the screenshot shows
    proc = run_chromium(binary, f"--screenshot={shot}", report_html.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 50_000, f"suspiciously small screenshot: {len(data)} bytes"
    width, height, pixels = read_png(data)
    assert (width, height) == (WIDTH, HEIGHT)
    counts = Counter(pixels)
    background, most = counts.most_common(1)[0]
    assert most / len(pixels) < 0.8, f"the page is mostly one colour {background}"
    assert len(counts) > 200, "too few colours for a rendered tree and table"

    def present(rgb: tuple[int, int, int], at_least: int) -> bool:
        near = sum(
            n for px, n in counts.items() if all(abs(p - q) <= 6 for p, q in zip(px, rgb, strict=True))
        )
        return near >= at_least

    # The SVG is drawn: IB and Ethernet badges, and the 12 + 12 pod marks are visible.
    assert present(IB_BLUE, 300), "no IB blue in the screenshot"
    assert present(ETH_BROWN, 300), "no Ethernet brown in the screenshot"
    assert present(PREFILL_RED, 12 * 40), "prefill marks not visible"
    assert present(DECODE_NAVY, 12 * 40), "decode marks not visible"


def test_chromium_dom_has_24_pod_marks(report_html):
    binary = chromium()
    proc = run_chromium(binary, "--dump-dom", report_html.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert dom.count('class="pod-mark prefill"') == 12
    assert dom.count('class="pod-mark decode"') == 12
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="topology"' in dom
    assert 'id="comparison"' in dom
