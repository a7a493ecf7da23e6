"""A stand-in OpenAI endpoint on loopback that answers every chat completion after a fixed
latency: model time the bench controls, so what it measures is adref and Prefect, not a vendor."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adref.analysis import AnalysisContent, Features, GroupAnalysis


def _answer(groups: int = 64) -> str:
    # More groups than any video has: the ones not asked about are dropped by adref.
    content = AnalysisContent(
        genre="tvc",
        genre_reason="A product spot with an end card.",
        genre_confidence=0.8,
        expression_format="live_action",
        features=Features(
            colour="warm", editing="fast cuts", camera="static", mood="upbeat", message="easy"
        ),
        mood=["upbeat"],
        tone="playful",
        target_audience="everyone",
        hook="A close-up in the first second.",
        call_to_action="Buy now",
        brand_cues=["logo end card"],
        visual_style="studio",
        summary="A short product spot.",
        model_tags=[f"tag{i}" for i in range(12)],
        ad_language="en",
        groups=[
            GroupAnalysis(
                group_index=i,
                description=f"scene {i}",
                shot_type="close_up",
                camera_movement="static",
            )
            for i in range(groups)
        ],
    )
    return json.dumps(content.model_dump(mode="json"))


class FakeModelServer:
    """``with FakeModelServer(latency_s=5) as fake: fake.base_url`` (an OpenAI base URL)."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.calls = 0
        answer = _answer()
        bench = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                time.sleep(bench.latency_s)
                bench.calls += 1
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-bench{bench.calls}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "gpt-4o-mini"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": answer},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 1000,
                            "completion_tokens": 500,
                            "total_tokens": 1500,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
