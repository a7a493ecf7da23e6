"""A board as a file a creative hands to a client: PNG, PDF, or one self-contained HTML page."""

from adref.boards.export.html import board_html
from adref.boards.export.pdf import board_pdf
from adref.boards.export.png import board_png

__all__ = ["board_html", "board_pdf", "board_png"]
