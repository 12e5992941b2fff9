"""Schemathesis hooks for scripts/fuzz-apiserver: every 4xx the API server answers must be a Kubernetes Status."""
import json

import schemathesis


@schemathesis.check
def kubernetes_status(ctx, response, case):
    if 400 <= response.status_code < 500:
        try:
            body = json.loads(response.content)
        except ValueError:
            raise AssertionError(f"{response.status_code} answer is not JSON: {response.content[:200]!r}")
        if not isinstance(body, dict) or body.get("kind") != "Status" or body.get("code") != response.status_code:
            raise AssertionError(f"{response.status_code} answer is not a Status with that code: {body!r:.300}")
