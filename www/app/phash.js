// The 64-bit DCT perceptual hash, bit for bit the server's (Sources/PerceptualHash): BT.601
// luminance in PIL's fixed point, an area-average reduction to 32x32 rounded to 8 bits, DCT-II
// along columns then rows, the top-left 8x8 block with the DC term, bit = coefficient > median,
// bit 63 = (0,0), 16 hex digits. Every step does the same double operations in the same order as
// the Swift code, so equal pixels give equal hex (Tests/PerceptualHashTests/Vectors). Pure: used
// by phash-worker.js (which decodes files) and by the tests on raw pixels.

/** Side of the square the image is reduced to (imagehash: hash_size * highfreq_factor). */
export const REDUCED_SIDE = 32;
/** Side of the low-frequency block that becomes the 64 bits. */
export const BLOCK_SIDE = 8;

/**
 * BT.601 luma of one pixel as PIL's `convert("L")` computes it (16-bit fixed point, rounded):
 * `Luminance.bt601` on the server. Alpha is ignored, as PIL and the server ignore it.
 */
export function luma(r, g, b) {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * Area-average weights for one axis, `AreaResampler.init(from:to:)`: each output pixel is the
 * mean of the inputs it covers, partial pixels weighted by the covered fraction.
 */
export function areaWeights(inputCount, outputCount) {
  const scale = inputCount / outputCount;
  const starts = [];
  const offsets = [0];
  const weights = [];
  for (let out = 0; out < outputCount; out++) {
    const lo = out * scale;
    const hi = (out + 1) * scale;
    const first = Math.floor(lo);
    const last = Math.min(inputCount - 1, Math.ceil(hi) - 1);
    starts.push(first);
    for (let i = first; i <= Math.max(first, last); i++) {
      const covered = Math.min(hi, i + 1) - Math.max(lo, i);
      weights.push(Math.max(0, covered) / scale);
    }
    offsets.push(weights.length);
  }
  return { starts, offsets, weights: Float64Array.from(weights) };
}

/**
 * The 32x32 area reduction fed one row of luminance at a time, top to bottom, so a large image
 * can be read in strips: horizontal pass per row, then each row is added into the output rows
 * that cover it. The sums happen in the server's order (`AreaResampler.resample`), so the
 * result is the same doubles.
 */
export class AreaReducer {
  constructor(width, height, side = REDUCED_SIDE) {
    if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
      throw new Error(`image size must be positive, got ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    this.side = side;
    this.horizontal = areaWeights(width, side);
    const vertical = areaWeights(height, side);
    // For each input row y: the output rows it feeds and with which weight, in output-row order
    // (the server adds, for each output row, its input rows in increasing y: the same order).
    this.feeds = Array.from({ length: height }, () => []);
    for (let oy = 0; oy < side; oy++) {
      let y = vertical.starts[oy];
      for (let k = vertical.offsets[oy]; k < vertical.offsets[oy + 1]; k++) {
        this.feeds[y].push([oy, vertical.weights[k]]);
        y += 1;
      }
    }
    this.row = new Float64Array(side);
    this.out = new Float64Array(side * side);
    this.nextRow = 0;
  }

  /** Adds row `this.nextRow`; `value(x)` is its luminance at column x. */
  addRow(value) {
    const { starts, offsets, weights } = this.horizontal;
    const { side, row, out } = this;
    for (let x = 0; x < side; x++) {
      let sum = 0.0;
      let i = starts[x];
      for (let k = offsets[x]; k < offsets[x + 1]; k++) {
        sum += weights[k] * value(i);
        i += 1;
      }
      row[x] = sum;
    }
    for (const [oy, weight] of this.feeds[this.nextRow]) {
      const base = oy * side;
      for (let x = 0; x < side; x++) out[base + x] += weight * row[x];
    }
    this.nextRow += 1;
  }

  /** The reduced plane, once every row was added. */
  result() {
    if (this.nextRow !== this.height) throw new Error(`${this.nextRow} of ${this.height} rows added`);
    return this.out;
  }
}

/** `cos(pi * k * (2n + 1) / 64)` for the 8 kept frequencies and the 32 samples. */
const DCT_ROWS = (() => {
  const rows = new Float64Array(BLOCK_SIDE * REDUCED_SIDE);
  for (let k = 0; k < BLOCK_SIDE; k++) {
    for (let n = 0; n < REDUCED_SIDE; n++) {
      rows[k * REDUCED_SIDE + n] = Math.cos(Math.PI * k * (2 * n + 1) / (2 * REDUCED_SIDE));
    }
  }
  return rows;
})();

/**
 * The 64 bits as 16 hex digits from a 32x32 row-major plane (`hashBits(reduced32:)`): rounded
 * half away from zero and clamped to 8 bits (the plane is never negative, so `Math.round`'s
 * half-up is the same), DCT columns then rows, bit = coefficient > median of the 64.
 */
export function hashFromReduced(reduced) {
  const side = REDUCED_SIDE;
  const block = BLOCK_SIDE;
  const pixels = Float64Array.from(reduced, (v) => Math.min(255, Math.max(0, Math.round(v))));
  const t = new Float64Array(block * side);
  for (let k = 0; k < block; k++) {
    for (let m = 0; m < side; m++) {
      const c = DCT_ROWS[k * side + m];
      for (let n = 0; n < side; n++) t[k * side + n] += c * pixels[m * side + n];
    }
  }
  const d = new Float64Array(block * block);
  for (let k = 0; k < block; k++) {
    for (let l = 0; l < block; l++) {
      let sum = 0.0;
      for (let n = 0; n < side; n++) sum += t[k * side + n] * DCT_ROWS[l * side + n];
      d[k * block + l] = sum;
    }
  }
  const sorted = Float64Array.from(d).sort();
  const median = (sorted[31] + sorted[32]) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let b = 0; b < 4; b++) value = (value << 1) | (d[nibble * 4 + b] > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/**
 * The hash of `width` x `height` pixels of `bytesPerPixel` bytes (3: RGB, 4: RGBA as
 * `getImageData` gives them), row-major.
 */
export function phashFromPixels(data, width, height, bytesPerPixel = 4) {
  if (bytesPerPixel !== 3 && bytesPerPixel !== 4) throw new Error(`bytes per pixel must be 3 or 4, got ${bytesPerPixel}`);
  if (data.length !== width * height * bytesPerPixel) {
    throw new Error(`a ${width}x${height} image needs ${width * height * bytesPerPixel} bytes, got ${data.length}`);
  }
  const reducer = new AreaReducer(width, height);
  addPixelRows(reducer, data, width, height, bytesPerPixel);
  return hashFromReduced(reducer.result());
}

/** Feeds `rows` rows of pixels (a strip) to `reducer`. */
export function addPixelRows(reducer, data, width, rows, bytesPerPixel = 4) {
  const lum = new Uint8Array(width);
  for (let y = 0; y < rows; y++) {
    let s = y * width * bytesPerPixel;
    for (let x = 0; x < width; x++) {
      lum[x] = luma(data[s], data[s + 1], data[s + 2]);
      s += bytesPerPixel;
    }
    reducer.addRow((x) => lum[x]);
  }
}
