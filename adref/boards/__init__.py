"""Moodboards and a video's edits beyond the warehouse: auto boards, exports, downloads, deletion."""
