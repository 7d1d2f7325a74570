// A small pool of hash workers: several files hash at once when there are cores for it (each
// worker holds at most a few slices or one small file, so memory stays bounded by pool size,
// not file size).

/** Workers to start: one per core, at least one, at most four (disk bandwidth caps the gain). */
export function defaultPoolSize() {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
}

/** Queues files for hashing; `hash(file, onProgress)` resolves to `{sha256, engine}`. */
export class HashPool {
  constructor(size = defaultPoolSize(), engine = null, reader = null) {
    this.size = size;
    this.reader = reader; // 'inline' or 'slices' forces a fallback file reader (tests); null picks
    this.engine = engine; // 'js' forces the fallback, 'wasm' the wasm stream (tests); null picks
    this.idle = [];
    this.workers = [];
    this.queue = [];
    this.jobs = new Map(); // id -> {resolve, reject, onProgress, worker}
    this.nextId = 1;
  }

  hash(file, onProgress = () => {}) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, file, resolve, reject, onProgress });
      this.pump();
    });
  }

  /** Rejects every queued and running job with an AbortError; workers stay for reuse. */
  cancelAll() {
    for (const job of this.queue.splice(0)) job.reject(abortError());
    for (const [id, job] of this.jobs) job.worker.postMessage({ type: 'cancel', id });
  }

  /** Stops the workers (sign-out, page teardown). */
  terminate() {
    this.cancelAll();
    for (const worker of this.workers) worker.terminate();
    for (const job of this.jobs.values()) job.reject(abortError());
    this.jobs.clear();
    this.workers = [];
    this.idle = [];
  }

  pump() {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() || this.spawn();
      if (!worker) return;
      const job = this.queue.shift();
      job.worker = worker;
      this.jobs.set(job.id, job);
      worker.postMessage({ type: 'hash', id: job.id, file: job.file, engine: this.engine, reader: this.reader });
    }
  }

  spawn() {
    if (this.workers.length >= this.size) return null;
    const worker = new Worker(new URL('hash-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event) => this.receive(worker, event.data);
    worker.onerror = (event) => this.crash(worker, event.message || 'hash worker failed');
    this.workers.push(worker);
    return worker;
  }

  receive(worker, message) {
    const job = this.jobs.get(message.id);
    if (!job) return;
    if (message.type === 'progress') {
      job.onProgress(message.bytes);
      return;
    }
    this.jobs.delete(message.id);
    this.idle.push(worker);
    if (message.type === 'done') job.resolve({ sha256: message.sha256, engine: message.engine });
    else if (message.type === 'cancelled') job.reject(abortError());
    else job.reject(new Error(message.message));
    this.pump();
  }

  /** A worker that died takes its job down with it; a fresh worker replaces it on demand. */
  crash(worker, reason) {
    this.workers = this.workers.filter((w) => w !== worker);
    this.idle = this.idle.filter((w) => w !== worker);
    for (const [id, job] of this.jobs) {
      if (job.worker !== worker) continue;
      this.jobs.delete(id);
      job.reject(new Error(reason));
    }
    worker.terminate();
    this.pump();
  }
}

function abortError() {
  return new DOMException('hashing cancelled', 'AbortError');
}
