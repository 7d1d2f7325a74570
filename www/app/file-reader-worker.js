// Nested worker started by each hash worker: reads one File at a time into a few reusable
// buffers and transfers each filled buffer to the hash worker, so the next slice is read on
// this thread while the hash worker's thread hashes the current one (in one thread, reading and
// hashing add up). The hash worker hands buffers back; never more than BUFFERS are out, so
// memory stays bounded whatever the file size.
// Messages in: {type:'start', id, file, sliceBytes, buffers, kind}, {type:'buffer', id, buffer},
// {type:'stop', id}. Messages out: {type:'slice', id, buffer, filled, done},
// {type:'error', id, name, message}.

let job = null;

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'start') {
    if (job) stop(job);
    job = {
      id: message.id,
      free: Array.from({ length: message.buffers }, () => new ArrayBuffer(message.sliceBytes)),
      stopped: false,
      wake: null,
      reader: null,
    };
    read(job, message.file, message.sliceBytes, message.kind).catch((error) => {
      if (!job || job.stopped) return;
      postMessage({ type: 'error', id: job.id, name: error && error.name, message: String(error && error.message || error) });
    });
  } else if (job && message.id === job.id) {
    if (message.type === 'stop') {
      stop(job);
    } else if (message.type === 'buffer') {
      job.free.push(message.buffer);
      wake(job);
    }
  }
};

function stop(current) {
  current.stopped = true;
  if (current.reader) current.reader.cancel().catch(() => {});
  wake(current);
  if (job === current) job = null;
}

function wake(current) {
  const resume = current.wake;
  current.wake = null;
  if (resume) resume();
}

/** A free buffer, waiting for the hash worker to return one; null once the job is stopped. */
async function takeBuffer(current) {
  while (!current.stopped && current.free.length === 0) {
    await new Promise((resolve) => { current.wake = resolve; });
  }
  return current.stopped ? null : current.free.pop();
}

/** Reads with a BYOB stream reader, or `slice().arrayBuffer()` where that is missing or asked for. */
async function read(current, file, sliceBytes, kind) {
  try {
    if (kind !== 'slices') current.reader = file.stream().getReader({ mode: 'byob' });
  } catch {
    current.reader = null;
  }
  let offset = 0;
  for (let done = false; !done;) {
    let buffer = await takeBuffer(current);
    if (!buffer) return;
    let filled = 0;
    if (current.reader) {
      while (filled < sliceBytes) {
        const result = await current.reader.read(new Uint8Array(buffer, filled));
        buffer = result.value ? result.value.buffer : buffer; // each read hands the buffer back
        if (result.done) {
          done = true;
          break;
        }
        filled += result.value.byteLength;
      }
    } else {
      buffer = await file.slice(offset, offset + sliceBytes).arrayBuffer(); // the free one is dropped
      filled = buffer.byteLength;
      done = filled === 0 || offset + filled >= file.size;
    }
    offset += filled;
    if (current.stopped) return;
    postMessage({ type: 'slice', id: current.id, buffer, filled, done }, [buffer]);
  }
}
