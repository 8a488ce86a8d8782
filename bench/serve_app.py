"""Serve an app factory exactly as `tierline serve` serves `tierline.app:create_app` (the bench's own apps).

    python bench/serve_app.py MODULE:FACTORY --port 8123 [--workers 2]

The same `uvicorn.run` call as `tierline.cli.serve` (factory, host, port, workers, the log level from
TIERLINE_LOG_LEVEL, no access log), so that a bare FastAPI route or Tierline with one extra route is measured
under the very server settings Tierline's own figures are. The bench puts bench/ and src/ on PYTHONPATH, which
the worker processes inherit.
"""

from __future__ import annotations

import argparse
import os

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="MODULE:FACTORY, e.g. bare_app:create_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(args.app, factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=os.environ.get("TIERLINE_LOG_LEVEL", "INFO").lower(), access_log=False)


if __name__ == "__main__":
    main()
