"""Helpers tests share: a local HTTP server and small media files made with ffmpeg."""
