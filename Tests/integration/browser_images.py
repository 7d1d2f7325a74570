"""Test pictures drawn by the browser page itself: a deterministic, photo-like RGB image (smooth
shapes plus fine texture, seeded) put on a canvas and encoded by Chromium as PNG or JPEG, at
full size or resized by the canvas (`scale`), returned as file bytes. No imaging stack in
Python is needed, and the JPEGs are the kind a browser or phone export makes."""
import base64

_DRAW = """
const done = arguments[arguments.length - 1];
const specs = arguments[0];
(async () => {
  function rng(seed) {  // mulberry32
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function picture(seed, width, height) {
    const r = rng(seed);
    const waves = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => ({
      fx: 0.5 + 5 * r(), fy: 0.5 + 5 * r(), phase: 6.283 * r(), amp: 20 + 30 * r() })));
    const discs = Array.from({ length: 8 }, () => ({
      x: r(), y: r(), rad: 0.05 + 0.2 * r(), c: [r(), r(), r()].map((v) => 160 * v - 80) }));
    const fine = Array.from({ length: 3 }, () => ({ fx: 40 + 60 * r(), fy: 40 + 60 * r(), amp: 6 + 6 * r() }));
    const data = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      const v = y / height;
      for (let x = 0; x < width; x++) {
        const u = x / width;
        const i = (y * width + x) * 4;
        for (let c = 0; c < 3; c++) {
          let value = 128;
          for (const w of waves[c]) value += w.amp * Math.sin(6.283 * (w.fx * u + w.fy * v) + w.phase) / 2;
          for (const d of discs) {
            const dx = u - d.x, dy = v - d.y;
            value += d.c[c] * Math.exp(-(dx * dx + dy * dy) / (d.rad * d.rad));
          }
          value += fine[c].amp * Math.sin(fine[c].fx * u * 6.283) * Math.sin(fine[c].fy * v * 6.283);
          data[i + c] = value;
        }
        data[i + 3] = 255;
      }
    }
    return new ImageData(data, width, height);
  }
  async function base64(blob) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }
  const out = [];
  for (const spec of specs) {
    const full = new OffscreenCanvas(spec.width, spec.height);
    full.getContext('2d').putImageData(picture(spec.seed, spec.width, spec.height), 0, 0);
    let canvas = full;
    if (spec.scale !== 1) {
      canvas = new OffscreenCanvas(Math.round(spec.width * spec.scale), Math.round(spec.height * spec.scale));
      const context = canvas.getContext('2d');
      context.imageSmoothingQuality = 'high';
      context.drawImage(full, 0, 0, canvas.width, canvas.height);
    }
    const blob = await canvas.convertToBlob(spec.type === 'png' ? { type: 'image/png' } : { type: 'image/jpeg', quality: spec.quality });
    out.push(await base64(blob));
  }
  return out;
})().then(done, (e) => done({ error: String(e && e.stack || e) }));
"""


def draw_images(driver, specs):
    """`specs`: [{seed, width, height, type: 'png'|'jpeg', quality (jpeg, 0-1), scale}] ->
    a list of file bytes, in order. The page must be open (any page of the site)."""
    full = [{"scale": 1, "quality": 0.9, **s} for s in specs]
    result = driver.execute_async_script(_DRAW, full)
    assert not (isinstance(result, dict) and "error" in result), result
    return [base64.b64decode(b) for b in result]
