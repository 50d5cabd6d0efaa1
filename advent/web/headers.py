"""Security headers on every response: what a browser may load, frame, sniff and tell others.

The pages need nothing from elsewhere (no CDN, no inline script), so the policy is "this site
only". The one exception is the Stats page: pygal's inline SVG carries a `<style>` element
(its per-chart ids make the text differ each render, so no fixed hash fits) and a
`style="opacity: 0"` attribute, which only 'unsafe-inline' allows. That page alone asks for it
(`allow_inline_styles`); scripts stay 'self' everywhere, so an injected style can restyle a
chart but never run code.
"""

from __future__ import annotations

from flask import Flask, Response, g

from advent.config import Settings

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
# A year, the figure browsers' preload lists ask for; only sent when the site is on https.
HSTS = "max-age=31536000; includeSubDomains"


def allow_inline_styles() -> None:
    """Let this response's page use inline styles (pygal's charts); scripts stay 'self'."""
    g.csp_inline_styles = True


def content_security_policy(*, inline_styles: bool = False) -> str:
    policy = dict(POLICY)
    if inline_styles:
        policy["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def init_headers(app: Flask, settings: Settings) -> None:
    over_https = settings.public_base_url.startswith("https://")

    @app.after_request
    def _secure(response: Response) -> Response:
        inline = bool(g.get("csp_inline_styles"))
        response.headers.setdefault("Content-Security-Policy", content_security_policy(inline_styles=inline))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Links out of the dashboard must not carry its paths (a friend's page, a day) elsewhere.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if over_https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
