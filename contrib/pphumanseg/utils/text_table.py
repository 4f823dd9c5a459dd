"""Plain-text tables for command output: left-aligned columns under a dashed header rule."""


def text_table(header, rows):
    """``header`` and ``rows`` (sequences of strings) as aligned lines joined by newlines."""
    lines = [tuple(header)] + [tuple(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)
