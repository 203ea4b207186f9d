"""Generate reader fixtures: the bundled seed round in every supported input format.

Usage: ``python tests/support/make_fixtures.py [OUTDIR]`` (default ``tests/fixtures/generated``),
or ``make_all(outdir)`` from tests. Every fixture holds the seed's lines in the same order,
blank lines kept as empty paragraphs, so a reader's output can be compared line by line.

CP949 cannot encode some of the seed's characters (see :func:`cp949_lines`); its fixture
holds the seed lines that CP949 can encode and leaves the others out rather than altering
any text. The HWP 5.0 fixture needs the ``hwp-converter-ai`` package (it writes HWP 5.0
binaries from a real Hangul template); without it ``seed.hwp`` is not made.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
DEFAULT_OUTDIR = ROOT / "tests" / "fixtures" / "generated"

_HWPX_NS = (
    'xmlns:ha="http://www.hancom.co.kr/hwpml/2011/app" '
    'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" '
    'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
    'xmlns:hc="http://www.hancom.co.kr/hwpml/2011/core" '
    'xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head"'
)


def seed_lines(seed: Path = SEED) -> list[str]:
    """In: the seed round's path. Out: its lines (blank ones kept), without newline characters."""
    text = seed.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


#: How a CP949 export writes the seed's characters that CP949 lacks: agenda dingbats become
#: numbered items, dingbat circled digits the CP949 circled digits, half-width corner brackets
#: the full-width ones, the en dash a hyphen. The parser must read the result as the same units.
CP949_SUBSTITUTES = {
    **{chr(0x2776 + k): f"{k + 1}." for k in range(10)},  # ❶ … ❿
    **{chr(0x2780 + k): chr(0x2460 + k) for k in range(10)},  # ➀ … ➉ -> ① … ⑩
    "｢": "「",
    "｣": "」",
    "–": "-",
}


def cp949_lines(lines: list[str]) -> list[str]:
    """In: lines. Out: the same lines with ``CP949_SUBSTITUTES`` applied, so CP949 encodes them all."""
    table = str.maketrans(CP949_SUBSTITUTES)
    return [line.translate(table) for line in lines]


def cp949_unencodable(lines: list[str]) -> list[str]:
    """In: lines. Out: the distinct characters CP949 cannot encode, sorted."""
    bad = set()
    for char in set("".join(lines)):
        try:
            char.encode("cp949")
        except UnicodeEncodeError:
            bad.add(char)
    return sorted(bad)


def write_texts(lines: list[str], outdir: Path) -> dict[str, Path]:
    """Write the text-encoding fixtures.

    In: lines and a folder. Out: ``seed_utf8_bom.txt`` (LF), ``seed_utf16.txt`` (UTF-16LE
    with BOM and CRLF, as Windows Notepad saves), ``seed_utf16le_nobom.txt`` (LF) and
    ``seed_cp949.txt`` (CRLF, characters CP949 lacks substituted) by file name.
    """
    lf = "".join(line + "\n" for line in lines)
    crlf = "".join(line + "\r\n" for line in lines)
    cp949 = "".join(line + "\r\n" for line in cp949_lines(lines))
    files = {
        "seed_utf8_bom.txt": b"\xef\xbb\xbf" + lf.encode("utf-8"),
        "seed_utf16.txt": b"\xff\xfe" + crlf.encode("utf-16-le"),
        "seed_utf16le_nobom.txt": lf.encode("utf-16-le"),
        "seed_cp949.txt": cp949.encode("cp949"),
    }
    written = {}
    for name, data in files.items():
        path = outdir / name
        path.write_bytes(data)
        written[name] = path
    return written


def write_hwpx(lines: list[str], path: Path) -> Path:
    """Write an HWPX package with one ``<hp:p>`` per line.

    In: lines and the target path. Out: the path. The package follows Hangul's layout
    (``mimetype`` first and stored, ``version.xml``, ``META-INF`` container and manifest,
    ``Contents/content.hpf`` with its spine, ``header.xml`` and ``section0.xml``); the
    header, settings and section properties are python-hwpx's skeleton, which Hangul made.
    """
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    # The skeleton's first paragraph carries the section properties; it takes the first line.
    document.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        document.add_paragraph(line)
    document.save_to_path(path)
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError("python-hwpx wrote an HWPX whose mimetype entry is not first and stored")
    return path


def write_page_furniture_hwpx(path: Path, header: str, footer: str, lines: list[str] | None = None) -> Path:
    """Write an HWPX whose page header and footer hold ``header`` and ``footer`` (python-hwpx's page API, as
    Hangul's 머리말/꼬리말) and whose body holds ``lines`` (none: only the skeleton's empty paragraph).

    In: the target path, the two texts, the body lines. Out: the path.
    """
    from hwpx import HwpxDocument

    document = HwpxDocument.new()
    for k, line in enumerate(lines or []):
        if k == 0:
            document.paragraphs[0].text = line
        else:
            document.add_paragraph(line)
    document.page.set_header(text=header)
    document.page.set_footer(text=footer)
    document.save_to_path(path)
    return path


def write_docx(lines: list[str], path: Path) -> Path:
    """In: lines and the target path. Out: the path of a DOCX with one paragraph per line."""
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def _package_dir(name: str) -> Path:
    """In: an installed package's name. Out: its folder (found without importing it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def write_pdf(lines: list[str], path: Path) -> Path:
    """Write an A4 PDF with one text line per source line (no wrapping; blank lines kept as gaps).

    In: lines and the target path. Out: the path. Fonts come from pip packages: NanumGothic
    (koreanize-matplotlib) for Korean, DejaVu Sans for the dingbats, and Last Resort (both
    from matplotlib) for the few characters neither covers, so the text layer holds every
    character. The font shrinks until the longest line fits the page width.
    """
    from fpdf import FPDF

    # fontTools reports, for each font it subsets, the hinting tables it drops; that is
    # expected for embedded fonts and only buries real problems in noise.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    mpl_fonts = _package_dir("matplotlib") / "mpl-data" / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("nanum", fname=str(_package_dir("koreanize_matplotlib") / "fonts" / "NanumGothic.ttf"))
    pdf.add_font("dejavu", fname=str(mpl_fonts / "DejaVuSans.ttf"))
    pdf.add_font("lastresort", fname=str(mpl_fonts / "LastResortHE-Regular.ttf"))
    pdf.set_fallback_fonts(["dejavu", "lastresort"])
    pdf.add_page()
    size = 10.0
    pdf.set_font("nanum", size=size)
    while size > 4 and max(pdf.get_string_width(line) for line in lines) > pdf.epw:
        size -= 0.5
        pdf.set_font("nanum", size=size)
    for line in lines:
        pdf.cell(w=pdf.epw, h=size * 0.55, text=line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def write_hwp(lines: list[str], path: Path) -> Path:
    """Write an HWP 5.0 binary with one paragraph per line.

    In: lines and the target path. Out: the path. Uses hwp-converter-ai, which fills
    the BodyText of a real Hangul-made template (its own OLE writer keeps the compound
    file valid). Raises ImportError when that package is missing.
    """
    from hwp_converter_ai import BlockNode, BlockType, DocumentIR, HwpWriter, InlineNode, InlineType

    blocks = [
        BlockNode(type=BlockType.PARAGRAPH, children=[InlineNode(type=InlineType.TEXT, text=line)] if line else [])
        for line in lines
    ]
    HwpWriter().from_ir(DocumentIR(blocks=blocks), path)
    return path


def make_all(outdir: str | Path = DEFAULT_OUTDIR, seed: Path = SEED) -> dict[str, Path]:
    """Generate every fixture from the seed round.

    In: the output folder (created if missing) and the seed's path.
    Out: fixture file name -> path; ``seed.hwp`` only when hwp-converter-ai is installed.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    lines = seed_lines(seed)
    made = write_texts(lines, out)
    made["seed.hwpx"] = write_hwpx(lines, out / "seed.hwpx")
    made["seed.docx"] = write_docx(lines, out / "seed.docx")
    made["seed.pdf"] = write_pdf(lines, out / "seed.pdf")
    if importlib.util.find_spec("hwp_converter_ai") is not None:
        made["seed.hwp"] = write_hwp(lines, out / "seed.hwp")
    return made


def main(argv: list[str]) -> int:
    """Command line: ``make_fixtures.py [OUTDIR]``. Out: exit status 0; prints what it wrote."""
    outdir = Path(argv[0]) if argv else DEFAULT_OUTDIR
    for name, path in make_all(outdir).items():
        print(f"{name}\t{path.stat().st_size:>9,} bytes\t{path}")
    missing = cp949_unencodable(seed_lines())
    if missing:
        print(f"seed_cp949.txt substitutes the characters CP949 lacks: {' '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
