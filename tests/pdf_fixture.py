"""A minimal valid one-page PDF with real text, written by hand so tests need no PDF writer."""


def minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def cjk_font() -> str | None:
    """The installed Noto Sans CJK font file (fonts-noto-cjk), or None when the machine has none."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if "NotoSansCJK-Regular" in path or "NotoSansCJKsc-Regular" in path:
            return path
    return None


def chinese_pdf(lines: list[str], wrap: int = 28) -> bytes:
    """A real A4 PDF with an embedded CJK font, as a word processor writes one: every line longer than
    ``wrap`` characters is broken across visual lines, so text extraction sees the wraps."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(fname=cjk_font())
    figure = Figure(figsize=(8.27, 11.69))
    y = 0.95
    for line in lines:
        for start in range(0, max(len(line), 1), wrap):
            figure.text(0.08, y, line[start:start + wrap], fontproperties=font, fontsize=11)
            y -= 0.025
        y -= 0.01
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()
