"""The few styles the pages share (Panel renders each pane in its own shadow root, so each
pane that needs them gets them as a stylesheet)."""

from __future__ import annotations

SHELL_CSS = """
.adref-nav { display: flex; gap: 1.2em; align-items: baseline; padding: 0.4em 0;
  border-bottom: 1px solid #ddd; font-family: system-ui, sans-serif; }
.adref-nav .brand { font-size: 1.2em; }
.adref-nav a.nav { color: #345; text-decoration: none; }
.adref-nav a.current { font-weight: bold; text-decoration: underline; }
.adref-nav .user { margin-left: auto; color: #666; }
"""

CARD_CSS = """
:host { font-family: system-ui, sans-serif; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.card { border: 1px solid #ddd; border-radius: 6px; overflow: hidden; background: #fff; }
.card img { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; display: block;
  background: #222; }
.card .body { padding: 6px 8px; font-size: 13px; }
.card .title { font-weight: 600; color: #123; text-decoration: none; display: block;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card .meta { color: #666; }
.tag { display: inline-block; background: #eef2f6; border-radius: 3px; padding: 0 4px;
  margin: 2px 2px 0 0; font-size: 12px; }
.more { font-size: 11px; white-space: nowrap; }
.strip { display: flex; gap: 8px; overflow-x: auto; padding: 6px 0; }
.strip > div { display: flex; flex-direction: column; align-items: center; gap: 2px; }
.shot { border: 2px solid transparent; background: none; padding: 0; cursor: pointer;
  text-align: center; font-size: 11px; color: #444; }
.shot:hover, .shot.at { border-color: #2a6df4; }
.shot img { width: 120px; height: 68px; object-fit: cover; display: block; }
.lines { width: 120px; font-size: 11px; color: #333; background: #fffbe6; border-radius: 3px;
  padding: 1px 3px; overflow-wrap: anywhere; }
.lines.said { background: #eaf3ff; }
.lines b { display: block; font-size: 10px; font-weight: 600; color: #777; }
.lines span { display: block; }
.card .quote { color: #333; margin: 2px 0; display: -webkit-box; -webkit-line-clamp: 3;
  -webkit-box-orient: vertical; overflow: hidden; }
.card .quote b { font-size: 11px; font-weight: 600; color: #777; margin-right: 4px; }
.swatches { display: flex; height: 36px; border-radius: 4px; overflow: hidden; }
.swatches div { color: #fff; font-size: 11px; display: flex; align-items: flex-end;
  padding: 2px; text-shadow: 0 0 2px #000; }
table.fields { border-collapse: collapse; font-size: 13px; }
table.fields th { text-align: left; vertical-align: top; padding: 2px 8px 2px 0; color: #555;
  white-space: nowrap; }
table.fields td { padding: 2px 8px 2px 0; vertical-align: top; }
table.groups img { width: 96px; }
video { max-width: 100%; max-height: 60vh; background: #000; }
"""
