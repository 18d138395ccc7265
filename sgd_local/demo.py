"""The main job: start the local runtime and drive the product end to end over real HTTP and S3.

Ingest the example brand kit through the presigned upload flow, derive its canon, render designs in three
formats (sync, cached and async), critique them together with the kit's labelled example designs, download
everything, and write the pictures with an HTML report: a contact sheet, and each critiqued design beside its
annotated copy with its score and violations.
"""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sgd_local.ingest_client import request_within_throttle, wait_for_upload
from sgd_local.runtime import LocalRuntime, RuntimeOptions, project_root
from sgd_local.server import make_server

BRAND = "northwind-coffee"
ORG, PROJECT = "demo", "northwind"
RENDERS = (
    ("1080x1080", "create", 'Instagram post for our new single-origin Ethiopia roast: "Bright, floral, roasted '
                            'this morning" with a Shop now button'),
    ("1200x628", "create", 'Link ad for the autumn tasting event: "Taste the harvest" - register today'),
    ("1080x1920", "create", 'Story announcing the new cafe opening: "Our door is open"'),
)
# The gallery: each brand (its own project, canon derived from its own kit) on the standard sizes, two seeds each.
GALLERY_BRANDS = (("northwind-coffee", PROJECT), ("helio-energy", "helio"))
GALLERY_SIZES = ("1080x1080", "1200x628", "1080x1920", "300x250", "728x90", "160x600")
GALLERY_INSTRUCTION = 'Autumn campaign: headline "Made for the long run", subline "New season, same promise", ' \
                      'CTA: Shop now'
# Designs made elsewhere, from the kit's critique/ folder: uploaded as images and critiqued beside SGD's renders.
EXTERNAL_DESIGNS = ("on_brand_1080x1080.png", "off_palette_and_logo_edge_1080x1080.png",
                    "low_contrast_1200x628.png", "logo_edge_1200x628.png")


@dataclass
class Step:
    title: str
    request: str
    status: int
    took_ms: float
    summary: str
    body: Any = None


@dataclass
class Design:
    file: str
    dimensions: str
    instruction: str
    took_ms: float
    asset: dict[str, Any]
    audit: dict[str, Any]


@dataclass
class GalleryItem:
    brand: str
    dimensions: str
    seed: int
    file: str
    template: str
    personality: str | None


@dataclass
class Critiqued:
    original: str  # the design, relative to the report
    annotated: str  # its annotated copy, relative to the report
    origin: str  # "SGD render" or the external file's name
    critique: dict[str, Any]  # the asset's entry in the POST /critique response


@dataclass
class DemoRun:
    steps: list[Step] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    canon: dict[str, Any] | None = None
    designs: list[Design] = field(default_factory=list)
    critiqued: list[Critiqued] = field(default_factory=list)
    gallery: list[GalleryItem] = field(default_factory=list)

    def add(self, step: Step, *, expected_error: bool = False) -> Step:
        self.steps.append(step)
        marker = "ok " if step.status < 400 or expected_error else "!! "
        print(f"  {marker}{step.status}  {step.request:<40} {step.took_ms:7.1f} ms  {step.summary}", flush=True)
        return step

    @property
    def failed(self) -> list[Step]:
        return [step for step in self.steps if step.status >= 500]


class Api:
    """The demo's HTTP client: a bearer token, timings, and JSON bodies."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client, self.token = client, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """sgd_local.ingest_client's Api: status and JSON body."""
        response, _ = self.timed(method, path, body)
        return response.status_code, response.json()

    def timed(self, method: str, path: str, body: Any = None, *, authorized: bool = True,
             headers: dict[str, str] | None = None) -> tuple[httpx.Response, float]:
        all_headers = dict(headers or {})
        if authorized:
            all_headers["authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        response = request_within_throttle(self.client, method, path, json=body, headers=all_headers)
        return response, (time.perf_counter() - started) * 1000


def run_demo(out_dir: Path | None, data_dir: Path) -> int:
    root = project_root()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = out_dir or root / "out" / f"demo-{stamp}"
    (out_dir / "designs").mkdir(parents=True, exist_ok=True)
    kit = root / "examples" / "brands" / BRAND
    run = DemoRun()

    print(f"SGD demo: starting the local runtime (state in {data_dir})", flush=True)
    with LocalRuntime(RuntimeOptions(data_dir=data_dir), root=root) as runtime:
        server = make_server(runtime, port=0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        base = "http://{}:{}".format(*server.server_address[:2])
        print(f"  API {base}   embedded AWS {runtime.aws.endpoint}", flush=True)
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                _drive(Api(client, runtime.token(ORG, subject="demo-user")), kit, out_dir, run)
        finally:
            server.shutdown()
            server.server_close()
    report = out_dir / "report.html"
    report.write_text(render_report(run, BRAND), encoding="utf-8")
    (out_dir / "steps.json").write_text(json.dumps([step.__dict__ for step in run.steps], indent=2, default=str))
    print(f"\nDesigns: {out_dir / 'designs'}\nReport:  {report}")
    return 1 if run.failed else 0


def _drive(api: Api, kit: Path, out_dir: Path, run: DemoRun) -> None:
    response, took = api.timed("GET", "/healthz", authorized=False)
    run.add(Step("Health", "GET /healthz", response.status_code, took,
                 f"engine={response.json().get('model_engine')}", response.json()))
    response, took = api.timed("GET", f"/canon/{PROJECT}", authorized=False)
    run.add(Step("Rejected without a token", f"GET /canon/{PROJECT}", response.status_code, took,
                 "API Gateway's JWT authorizer answers before any function runs", response.json()),
            expected_error=True)

    _ingest(api, [(kit / "guidelines.pdf", "application/pdf"), (kit / "logo.png", "image/png")], run)
    _ingest_rejected_example(api, run)
    _derive_canon(api, run)
    for number, (dimensions, task, instruction) in enumerate(RENDERS, start=1):
        _render(api, out_dir, run, number, dimensions, task, instruction)
    _render_again_from_cache(api, run)
    _render_async(api, run)
    _gallery(api, project_root(), out_dir, run)

    response, took = api.timed("POST", "/render", {"project_id": PROJECT, "prompts": {
        "task": "create", "instruction": "Poster in #000000 and neon green"}, "constraints": {
        "palette_hex": ["#000000"]}})
    run.add(Step("A constraint the canon forbids", "POST /render (palette #000000)", response.status_code, took,
                 _error_summary(response), response.json()), expected_error=True)
    response, took = api.timed("GET", f"/usage?project_id={PROJECT}")
    budget = response.json().get("budget", {})
    run.add(Step("Model spend today", f"GET /usage?project_id={PROJECT}", response.status_code, took,
                 f"engine={response.json().get('model_engine')}: ${budget.get('spent_usd', 0):.2f} of the org's "
                 f"${budget.get('limit_usd', 0):.2f} daily budget", response.json()))
    _critique(api, kit, out_dir, run)


def _critique(api: Api, kit: Path, out_dir: Path, run: DemoRun) -> None:
    """The kit's labelled example designs go in as images; then one POST /critique over them and SGD's renders."""
    uploads_before = len(run.uploads)
    # Marked as examples: designs to critique, not brand imagery for the renders' picture areas.
    _ingest(api, [(kit / "critique" / name, "image/png") for name in EXTERNAL_DESIGNS], run, purpose="example")
    external = {upload["asset_id"]: upload["filename"] for upload in run.uploads[uploads_before:]
                if upload.get("asset_id") and upload.get("status") in ("indexed", "duplicate")}
    originals = {design.asset["id"]: f"designs/{design.file}" for design in run.designs}
    for asset_id, filename in external.items():
        (out_dir / "designs" / f"external-{filename}").write_bytes((kit / "critique" / filename).read_bytes())
        originals[asset_id] = f"designs/external-{filename}"
    response, took = api.timed("POST", "/critique", {"project_id": PROJECT, "asset_ids": list(originals)})
    body = response.json()
    if response.status_code != 200:
        run.add(Step("Critique", "POST /critique", response.status_code, took, _error_summary(response), body))
        return
    (out_dir / "critiques").mkdir(exist_ok=True)
    for asset in body["assets"]:
        annotated = f"critiques/{asset['asset_id']}.jpg"
        (out_dir / annotated).write_bytes(httpx.get(asset["annotated_url"]).content)
        run.critiqued.append(Critiqued(originals[asset["asset_id"]], annotated,
                                       external.get(asset["asset_id"], "SGD render"), asset))
    kinds = sorted({violation["kind"] for violation in body["violations"]})
    scores = ", ".join(f"{asset['score']:.2f}" for asset in body["assets"])
    run.add(Step("Critique (renders + the kit's example designs)", f"POST /critique ({len(originals)} assets)",
                 response.status_code, took,
                 f"scores {scores}; "
                 f"violations found: {', '.join(kinds) or 'none'} via {', '.join(body['audit']['model_route'])}",
                 body))


def _error_summary(response: httpx.Response) -> str:
    error = response.json().get("error") or {}
    return f"{error.get('code', 'ok')}: {error.get('message', '')}"[:160]


def _ingest(api: Api, files: list[tuple[Path, str]], run: DemoRun, project: str = PROJECT,
            purpose: str | None = None) -> None:
    """The presigned flow: POST /uploads, POST the file to S3, then follow GET /uploads/{id} to its result."""
    for path, content_type in files:
        data = path.read_bytes()
        ticket_request = {"project_id": project, "filename": path.name, "content_type": content_type,
                          "size_bytes": len(data)} | ({"purpose": purpose} if purpose else {})
        response, took = api.timed("POST", "/uploads", ticket_request)
        run.add(Step("Upload ticket", f"POST /uploads ({path.name})", response.status_code, took,
                     f"presigned POST to {response.json().get('key', '?')}", response.json()))
        if response.status_code != 200:
            continue
        ticket = response.json()
        started = time.perf_counter()
        posted = httpx.post(ticket["url"], data=ticket["fields"], files={"file": (path.name, data, content_type)})
        run.add(Step("File sent to S3", f"POST <presigned> ({path.name})", posted.status_code,
                     (time.perf_counter() - started) * 1000, f"{len(data):,} bytes"))
        status, took = _wait_for_upload(api, ticket["upload_id"], project=project)
        run.uploads.append(status | {"filename": path.name if project == PROJECT else f"{project}: {path.name}"})
        run.add(Step("Ingested (S3 event → IngestFunction)", f"GET /uploads/{ticket['upload_id'][:10]}…",
                     200 if status.get("status") in ("indexed", "duplicate") else 500, took,
                     f"{status.get('status')}: kind={status.get('kind')} evidence={status.get('evidence_id')}",
                     status))


def _ingest_rejected_example(api: Api, run: DemoRun) -> None:
    """An SVG with a script: admission rejects it and it stays in quarantine with the reason."""
    data = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response, _ = api.timed("POST", "/uploads", {"project_id": PROJECT, "filename": "badge.png",
                                                "content_type": "image/png", "size_bytes": len(data)})
    if response.status_code != 200:
        run.add(Step("Upload ticket", "POST /uploads (badge.png)", response.status_code, 0, _error_summary(response)))
        return
    ticket = response.json()
    httpx.post(ticket["url"], data=ticket["fields"], files={"file": ("badge.png", data, "image/png")})
    status, took = _wait_for_upload(api, ticket["upload_id"])
    run.uploads.append(status | {"filename": "badge.png (an SVG named .png)"})
    run.add(Step("Rejected upload stays in quarantine", "GET /uploads/… (badge.png)",
                 422 if status.get("status") == "rejected" else 500, took,
                 f"{status.get('status')}: {status.get('reason')}", status), expected_error=True)


def _wait_for_upload(api: Api, upload_id: str, timeout_s: float = 60,
                     project: str = PROJECT) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    status = wait_for_upload(api, project, upload_id, timeout_s=timeout_s, interval_s=0.1)
    return status, (time.perf_counter() - started) * 1000


def _derive_canon(api: Api, run: DemoRun, project: str = PROJECT) -> None:
    response, took = api.timed("POST", "/canon/derive", {"project_id": project, "evidence_ids": []})
    body = response.json()
    canon = body.get("canon", {})
    title = "Canon derived from the evidence" if project == PROJECT else f"Canon derived ({project})"
    run.add(Step(title, "POST /canon/derive", response.status_code, took,
                 f"v{body.get('version')}: palette {canon.get('palette_hex')}, fonts {canon.get('fonts')}, "
                 f"forbidden {canon.get('forbidden_hex')}", body))
    if project != PROJECT:
        return
    response, took = api.timed("GET", f"/canon/{PROJECT}")
    run.add(Step("Canon read back", f"GET /canon/{PROJECT}", response.status_code, took,
                 f"version {response.json().get('version')}, ETag {response.headers.get('etag')}", response.json()))
    run.canon = response.json() if response.status_code == 200 else None


def _gallery(api: Api, root: Path, out_dir: Path, run: DemoRun) -> None:
    """Each brand on the standard sizes, seeds 0 and 1 (one count-2 render per size): the layouts, type and
    graphics its personality and colour roles choose."""
    for brand, project in GALLERY_BRANDS:
        if project != PROJECT:
            kit = root / "examples" / "brands" / brand
            _ingest(api, [(kit / "guidelines.pdf", "application/pdf"), (kit / "logo.png", "image/png")], run,
                    project=project)
            _derive_canon(api, run, project=project)
        for dimensions in GALLERY_SIZES:
            response, took = api.timed("POST", "/render", {
                "project_id": project, "prompts": {"task": "create", "instruction": GALLERY_INSTRUCTION},
                "outputs": {"count": 2, "format": "png", "dimensions": dimensions}})
            body = response.json()
            run.add(Step("Gallery render", f"POST /render {dimensions} count 2 ({brand})", response.status_code, took,
                         ", ".join(asset["layout"]["template"] for asset in body.get("assets", [])) or
                         _error_summary(response), body))
            for seed, asset in enumerate(body.get("assets", [])):
                name = f"gallery-{brand}-{dimensions}-{seed}.{asset['format']}"
                (out_dir / "designs" / name).write_bytes(httpx.get(asset["url"]).content)
                layout = asset["layout"]
                run.gallery.append(GalleryItem(brand, dimensions, seed, name, str(layout.get("template")),
                                               layout.get("personality")))


def _render(api: Api, out_dir: Path, run: DemoRun, number: int, dimensions: str, task: str,
            instruction: str) -> None:
    response, took = api.timed("POST", "/render", {
        "project_id": PROJECT, "prompts": {"task": task, "instruction": instruction},
        "outputs": {"count": 1, "format": "png", "dimensions": dimensions}})
    body = response.json()
    if response.status_code != 200:
        run.add(Step("Render", f"POST /render {dimensions}", response.status_code, took, _error_summary(response),
                     body))
        return
    asset = body["assets"][0]
    picture = httpx.get(asset["url"])
    name = f"{number:02d}-{dimensions}.{asset['format']}"
    (out_dir / "designs" / name).write_bytes(picture.content)
    run.designs.append(Design(name, dimensions, instruction, took, asset, body["audit"]))
    run.add(Step("Render", f"POST /render {dimensions}", response.status_code, took,
                 f"{asset['layout'].get('text_boxes', [{}])[0].get('text', '')!r} via "
                 f"{', '.join(body['audit']['model_route'])}, cache {body['audit']['cache']}", body))


def _render_again_from_cache(api: Api, run: DemoRun) -> None:
    dimensions, task, instruction = RENDERS[0]
    response, took = api.timed("POST", "/render", {
        "project_id": PROJECT, "prompts": {"task": task, "instruction": instruction},
        "outputs": {"count": 1, "format": "png", "dimensions": dimensions}})
    audit = response.json().get("audit", {})
    run.add(Step("The same request again", f"POST /render {dimensions}", response.status_code, took,
                 f"cache {audit.get('cache')}, {len(audit.get('calls', []))} model calls", response.json()))


def _render_async(api: Api, run: DemoRun) -> None:
    response, took = api.timed("POST", "/render", {
        "project_id": PROJECT, "async": True, "prompts": {"task": "create", "instruction":
                                                          'Three takes on "Slow coffee, fast mornings"'},
        "outputs": {"count": 3, "format": "webp", "dimensions": "1080x1350"}})
    run.add(Step("Async render accepted", "POST /render (async, count 3)", response.status_code, took,
                 f"Location: {response.headers.get('location')}", response.json()))
    location = response.headers.get("location")
    if response.status_code != 202 or not location:
        return
    started, job = time.perf_counter(), {}
    while time.perf_counter() - started < 60:
        job = api.timed("GET", location)[0].json()
        if job.get("status") in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    run.add(Step("Async render finished", f"GET {location}", 200 if job.get("status") == "succeeded" else 500,
                 (time.perf_counter() - started) * 1000,
                 f"{job.get('status')}: {len((job.get('result') or {}).get('assets', []))} assets", job))


def _pretty(body: Any) -> str:
    return html.escape(json.dumps(body, indent=2, default=str)) if body is not None else ""


def _swatches(colors: list[str], *, crossed: bool = False) -> str:
    style = "text-decoration: line-through;" if crossed else ""
    return "".join(f"<span class='swatch' style='background:{html.escape(c)}'></span>"
                   f"<code style='{style}'>{html.escape(c)}</code> " for c in colors)


def _canon_section(document: dict[str, Any] | None) -> str:
    if not document:
        return "<p>No canon was derived.</p>"
    canon = document["canon"]
    voice = canon.get("voice", {})
    provenance = "".join(
        f"<tr><td>{html.escape(p['field'])}</td><td>{html.escape(str(p['value']))}</td>"
        f"<td>{html.escape(p['source'])}</td><td>{html.escape(', '.join(p.get('evidence_ids', []))[:80])}</td>"
        f"<td>{html.escape(p.get('note') or '')}</td></tr>" for p in document.get("provenance", []))
    return f"""
<table class="canon">
<tr><th>Version</th><td>{document['version']} ({html.escape(document['source'])})</td></tr>
<tr><th>Palette</th><td>{_swatches(canon.get('palette_hex', []))}</td></tr>
<tr><th>Forbidden</th><td>{_swatches(canon.get('forbidden_hex', []), crossed=True) or 'none'}</td></tr>
<tr><th>Fonts</th><td>{html.escape(', '.join(canon.get('fonts', [])))}</td></tr>
<tr><th>Tone</th><td>{html.escape(voice.get('tone', ''))}</td></tr>
<tr><th>Do</th><td>{'<br>'.join(html.escape(d) for d in voice.get('dos', []))}</td></tr>
<tr><th>Don't</th><td>{'<br>'.join(html.escape(d) for d in voice.get('donts', []))}</td></tr>
<tr><th>Logo clear space</th><td>{canon.get('logo_safe_zone_pct')}% of the shorter side</td></tr>
</table>
<details><summary>Provenance (which evidence supports each value)</summary>
<table><tr><th>Field</th><th>Value</th><th>Source</th><th>Evidence</th><th>Note</th></tr>{provenance}</table>
</details>"""


def _design_card(design: Design) -> str:
    layout, audit = design.asset.get("layout", {}), design.audit
    boxes = "".join(
        f"<li>{html.escape(box['role'])}: “{html.escape(box['text'])}” {html.escape(box['font'])} "
        f"{box['size_px']}px, {html.escape(box['color'])} on {html.escape(box['background'])} = "
        f"<b>{box['contrast_ratio']:.2f}:1</b></li>" for box in layout.get("text_boxes", []))
    substitutions = "".join(f"<li>{html.escape(s['requested'])} → {html.escape(s['used'])} "
                            f"({html.escape(s['reason'])})</li>" for s in audit.get("font_substitutions", []))
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in audit.get("notes", []))
    return f"""<div class="card"><img src="designs/{html.escape(design.file)}" alt="{html.escape(design.file)}">
<p><b>{html.escape(design.dimensions)}</b> · {design.took_ms:.0f} ms · {html.escape(', '.join(audit.get('model_route',
[])))} · cache {html.escape(str(audit.get('cache')))} · ${audit.get('cost_usd', 0):.4f}</p>
<p class="instruction">{html.escape(design.instruction)}</p>
<p>Template <b>{html.escape(str(layout.get('template', audit.get('plan', {}).get('layout', {}).get('template'))))}</b>,
colours {_swatches(layout.get('colors_used', []))}; logo box {layout.get('logo_box')}</p>
<ul>{boxes}</ul>{f'<p>Font substitutions</p><ul>{substitutions}</ul>' if substitutions else ''}
{f'<p>Notes</p><ul>{notes}</ul>' if notes else ''}</div>"""


def _critique_card(item: Critiqued) -> str:
    critique = item.critique
    violations = "".join(
        f"<li class='{html.escape(v['severity'])}'><b>{number}. {html.escape(v['kind'])}</b> "
        f"({html.escape(v['severity'])}, {html.escape(v['source'])}): {html.escape(v['message'])}</li>"
        for number, v in enumerate(critique["violations"], start=1))
    contrast = "".join(
        f"<li>{html.escape(str(box.get('text') or box['box']))}: {html.escape(box['color'])} on "
        f"{html.escape(box['background'])} = <b>{box['ratio']:.2f}:1</b> (needs {box['required']:g})</li>"
        for box in critique["checks"].get("contrast", {}).get("text_boxes", []))
    suggestions = "".join(f"<li>{html.escape(text)}</li>" for text in critique.get("repair_suggestions", []))
    verdict = "on canon" if not critique["violations"] else f"{len(critique['violations'])} violation(s)"
    return f"""<div class="pair"><div class="side"><img src="{html.escape(item.original)}" alt="design">
<p>{html.escape(item.origin)}</p></div>
<div class="side"><img src="{html.escape(item.annotated)}" alt="annotated"><p>annotated</p></div>
<div class="facts"><p class="score">Score <b>{critique['score']:.2f}</b> · {verdict}</p>
<ol>{violations}</ol>{f'<p>Contrast per text region</p><ul>{contrast}</ul>' if contrast else ''}
{f'<p>Repair suggestions</p><ul>{suggestions}</ul>' if suggestions else ''}</div></div>"""


def render_report(run: DemoRun, brand: str) -> str:
    rows = "\n".join(
        f"<tr class='{'bad' if s.status >= 500 else ''}'><td>{html.escape(s.title)}</td>"
        f"<td><code>{html.escape(s.request)}</code></td><td>{s.status}</td><td>{s.took_ms:.1f}</td>"
        f"<td>{html.escape(s.summary)}</td><td><details><summary>body</summary><pre>"
        f"{_pretty(s.body)}</pre></details></td></tr>"
        for s in run.steps)
    uploads = "\n".join(
        f"<tr><td>{html.escape(str(u.get('filename')))}</td><td>{html.escape(str(u.get('status')))}</td>"
        f"<td>{html.escape(str(u.get('kind') or ''))}</td><td>{html.escape(str(u.get('reason') or ''))}</td></tr>"
        for u in run.uploads)
    cards = "\n".join(_design_card(design) for design in run.designs)
    gallery = "\n".join(
        f"<figure><img src='designs/{html.escape(item.file)}' alt='{html.escape(item.file)}'><figcaption>"
        f"{html.escape(item.brand)} · {item.dimensions} · seed {item.seed} · <b>{html.escape(item.template)}</b>"
        f"{' · ' + html.escape(item.personality) if item.personality else ''}</figcaption></figure>"
        for item in run.gallery)
    critiqued = "\n".join(_critique_card(item) for item in run.critiqued) or "<p>No critique ran.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SGD demo: {html.escape(brand)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }} tr.bad td {{ background: #fde8e8; }} pre {{ max-width: 480px; overflow: auto; }}
.note {{ background: #f6f8fa; border-left: 4px solid #888; padding: .6rem 1rem; }}
.swatch {{ display: inline-block; width: 1.1em; height: 1.1em; border: 1px solid #999; vertical-align: middle;
  margin-right: .25em; }}
.sheet {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1.2rem; }}
.card {{ border: 1px solid #ddd; padding: .8rem; border-radius: 6px; }}
.card img {{ width: 100%; max-height: 420px; object-fit: contain; background: #eee; }}
.card ul {{ padding-left: 1.2rem; margin: .3rem 0; }} .instruction {{ color: #555; font-style: italic; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr 1.1fr; gap: 1rem; border-top: 1px solid #ddd;
  padding: 1rem 0; }}
.pair img {{ width: 100%; background: #eee; }} .side p {{ margin: .2rem 0; color: #555; }}
.gallery {{ display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; }}
.gallery figure {{ margin: 0; }}
.gallery img {{ max-width: 300px; max-height: 300px; background: #eee; display: block; }}
.gallery figcaption {{ font-size: .8rem; color: #555; max-width: 300px; }}
.facts ol, .facts ul {{ padding-left: 1.2rem; }} .score {{ font-size: 1.1rem; }} li.high {{ color: #b00020; }}
</style></head><body>
<h1>SGD demo — {html.escape(brand)}</h1>
<p class="note">Everything below ran on this machine through the same Lambda handlers that deploy to AWS:
API Gateway HTTP API (JWT authorizer emulated), Mangum, FastAPI, and a moto server on loopback speaking the
real S3, DynamoDB and SQS protocols, with Qdrant in embedded mode. Model engine: <b>local</b> when no provider key
is configured: every audit then says <code>local/…</code> and costs $0.</p>
<h2>1. Brand kit ingested (presigned upload → S3 event → IngestFunction)</h2>
<table><tr><th>File</th><th>Status</th><th>Kind</th><th>Reason</th></tr>
{uploads}
</table>
<h2>2. Brand canon derived from the evidence</h2>
{_canon_section(run.canon)}
<h2>3. Designs (contact sheet)</h2>
<div class="sheet">{cards}</div>
<h2>3b. Gallery: each brand, standard sizes, two seeds</h2>
<p>The same instruction for two brands. Each brand's personality (read from its voice) chooses the layout
families, graphic style and density, type weight and whitespace; its colour roles choose what goes where.</p>
<div class="gallery">{gallery}</div>
<h2>4. Critique: each design beside its annotated copy</h2>
<p>Measured on the pixels against the canon (CIEDE2000 palette clusters, WCAG contrast against the background
actually under the text, logo clear space). SGD's renders are read from their layout; the kit's example designs
are external images, so their text is detected and their logo found by matching the ingested logo.</p>
{critiqued}
<h2>Every step</h2>
<table><tr><th>Step</th><th>Request</th><th>Status</th><th>ms</th><th>Result</th><th></th></tr>
{rows}
</table>
<p>The first call to each function includes its cold start (a fresh worker process importing the handler).</p>
<p>Generated {datetime.now(UTC).isoformat(timespec="seconds")}</p>
</body></html>
"""
