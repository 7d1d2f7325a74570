// Web Worker that computes the perceptual hash of one image File at a time (phash.js), off the
// page's thread. Decoding is the browser's: `createImageBitmap` with EXIF orientation applied
// (the server's libvips thumbnail autorotates too) and the browser's default colour handling:
// an embedded ICC profile is converted to sRGB, as the server's thumbnail does; an untagged
// file's values are taken as they are on both sides. The pixels are read in strips of rows through a small
// OffscreenCanvas, so the JS-side memory is one strip, not the whole image.
// Messages in: {type:'phash', id, file, stripPixels, maxExactPixels} (both optional: tests lower
// them to read in small strips and to take the downscaling path on small images). Out: {type:'done', id, phash, width, height, exact}
// or {type:'error', id, message} (the caller treats that as "no hash").
import { AreaReducer, addPixelRows, hashFromReduced } from './phash.js';

/**
 * Largest image hashed from its full-size pixels. Beyond it the browser first scales the image
 * down (createImageBitmap's resize, 'high' quality) to fit, which is not the server's area
 * average, so such a hash may be a few bits off (`exact: false`). 50 MP covers every phone and
 * most camera photos at full size; the decoded bitmap itself (4 bytes a pixel) is the
 * browser's memory either way.
 */
export const MAX_EXACT_PIXELS = 50_000_000;
/** Pixels read per getImageData call: one strip of rows (16 MiB of RGBA at most). */
const STRIP_PIXELS = 4 * 1024 * 1024;

async function decode(file, maxExactPixels) {
  const options = { imageOrientation: 'from-image', colorSpaceConversion: 'default', premultiplyAlpha: 'none' };
  let bitmap = await createImageBitmap(file, options);
  let exact = true;
  const pixels = bitmap.width * bitmap.height;
  if (pixels > maxExactPixels) {
    const scale = Math.sqrt(maxExactPixels / pixels);
    const resized = await createImageBitmap(bitmap, {
      resizeWidth: Math.max(1, Math.floor(bitmap.width * scale)),
      resizeHeight: Math.max(1, Math.floor(bitmap.height * scale)),
      resizeQuality: 'high',
    });
    bitmap.close();
    bitmap = resized;
    exact = false;
  }
  return { bitmap, exact };
}

async function phashOf(file, stripPixels = STRIP_PIXELS, maxExactPixels = MAX_EXACT_PIXELS) {
  const { bitmap, exact } = await decode(file, maxExactPixels);
  try {
    const { width, height } = bitmap;
    if (width === 0 || height === 0) throw new Error('empty image');
    const stripRows = Math.max(1, Math.min(height, Math.floor(stripPixels / width)));
    const canvas = new OffscreenCanvas(width, stripRows);
    const context = canvas.getContext('2d', { willReadFrequently: true, alpha: true });
    const reducer = new AreaReducer(width, height);
    for (let top = 0; top < height; top += stripRows) {
      const rows = Math.min(stripRows, height - top);
      context.clearRect(0, 0, width, stripRows);
      // 1:1 copy at integer offsets: no filtering, the decoded values as they are.
      context.drawImage(bitmap, 0, top, width, rows, 0, 0, width, rows);
      const { data } = context.getImageData(0, 0, width, rows);
      addPixelRows(reducer, data, width, rows, 4);
    }
    return { phash: hashFromReduced(reducer.result()), width, height, exact };
  } finally {
    bitmap.close();
  }
}

self.onmessage = (event) => {
  const { type, id, file, stripPixels, maxExactPixels } = event.data;
  if (type !== 'phash') return;
  phashOf(file, stripPixels || undefined, maxExactPixels || undefined).then(
    (result) => postMessage({ type: 'done', id, ...result }),
    (error) => postMessage({ type: 'error', id, message: String((error && error.message) || error) }),
  );
};
