// The page's side of phash-worker.js: one worker, started on first use, one image at a time
// (a decoded image can be large; the SHA-256 pool keeps the other cores busy). Every failure
// (not an image the browser decodes, no OffscreenCanvas, a crashed worker) resolves to null:
// "no perceptual hash", which never stops an upload.

/** Computes perceptual hashes of image Files in a worker; `hash(file)` resolves to hex or null. */
export class PerceptualHasher {
  /** `stripPixels` and `maxExactPixels` override the worker's limits (tests). */
  constructor({ stripPixels = null, maxExactPixels = null } = {}) {
    this.stripPixels = stripPixels;
    this.maxExactPixels = maxExactPixels;
    this.worker = null;
    this.queue = [];
    this.running = null; // {id, file, resolve}
    this.nextId = 1;
    this.broken = false; // the worker could not start: every later file gets null at once
  }

  /** The 16-hex-digit hash of `file`, or null when the browser cannot hash it. */
  hash(file) {
    if (this.broken) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, file, resolve });
      this.pump();
    });
  }

  pump() {
    if (this.running || this.queue.length === 0) return;
    const worker = this.start();
    if (!worker) {
      for (const job of this.queue.splice(0)) job.resolve(null);
      return;
    }
    this.running = this.queue.shift();
    worker.postMessage({ type: 'phash', id: this.running.id, file: this.running.file, stripPixels: this.stripPixels, maxExactPixels: this.maxExactPixels });
  }

  start() {
    if (this.worker) return this.worker;
    if (this.broken) return null;
    try {
      this.worker = new Worker(new URL('phash-worker.js', import.meta.url), { type: 'module' });
    } catch (error) {
      console.warn('perceptual hashing unavailable:', error);
      this.broken = true;
      return null;
    }
    this.worker.onmessage = (event) => this.finish(event.data.id, event.data.type === 'done' ? event.data.phash : null, event.data.message);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.worker.terminate();
      this.worker = null; // a fresh one takes the next file
      if (this.running) this.finish(this.running.id, null, event.message || 'perceptual hash worker failed');
    };
    return this.worker;
  }

  finish(id, phash, message) {
    if (!this.running || this.running.id !== id) return;
    const job = this.running;
    this.running = null;
    if (!phash) console.info(`no perceptual hash for ${job.file.name}: ${message}`);
    job.resolve(phash || null);
    this.pump();
  }

  /** Drops queued files (they resolve to null) and stops the worker. */
  terminate() {
    for (const job of this.queue.splice(0)) job.resolve(null);
    if (this.running) this.finish(this.running.id, null, 'cancelled');
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }
}
