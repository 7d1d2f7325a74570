import Foundation

/// A multipart upload of a file that is still being written: each part goes out as soon as the
/// writer has passed its end, so sending overlaps receiving instead of following it.
///
/// The writer calls `written(_:)` after each write and `complete(size:)` once, with the final
/// size; parts are read back from the file (nothing is held in memory but the `concurrency`
/// parts in flight). The multipart upload is begun lazily, only when more than one part of bytes
/// has arrived, so a small file never pays for it (`complete` then answers false and the caller
/// sends it in one PUT). The object appears only at CompleteMultipartUpload. Whatever fails, or a
/// release without `complete`, aborts the upload: this is an optimisation the caller can always
/// fall back from, by sending the finished file the ordinary way.
public final class S3StreamingUpload: Sendable {
    /// The sending threads hold the sender, not this object, so releasing this aborts.
    let sender: StreamingPartSender

    /// `sizeHint` (the request's length, when known) grows the part size so a huge body stays
    /// within S3's 10,000 parts.
    public init(client: S3Client, bucket: String, key: String, path: String, sizeHint: Int64?, concurrency: Int = 4) {
        sender = StreamingPartSender(
            client: client, bucket: bucket, key: key, path: path, sizeHint: sizeHint, concurrency: concurrency)
    }

    deinit { sender.abort() }

    /// The file now holds `total` bytes; parts wholly below it may go.
    public func written(_ total: Int64) { sender.written(total) }

    /// The file is complete at `size` bytes: sends the rest, waits for every part and completes.
    /// Returns false when no multipart upload was begun (the file is small: send it in one PUT).
    /// Throws the first failure, after aborting.
    public func complete(size: Int64) throws -> Bool { try sender.complete(size: size) }

    /// Stops sending and aborts the multipart upload, if one was begun and not completed.
    public func abort() { sender.abort() }
}

/// The state the sending threads share, guarded by one condition.
///
/// `@unchecked Sendable` is safe: the `let` properties are immutable values set at init, and
/// every `var` is read and written only while `condition` is locked (each method takes it).
final class StreamingPartSender: @unchecked Sendable {
    let bucket: String
    let key: String
    let client: S3Client
    let path: String
    let partSize: Int64
    let concurrency: Int

    /// Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var uploadID: String?
    private var writtenBytes: Int64 = 0
    private var finalSize: Int64?
    private var nextPart = 1
    private var running = 0
    private var threadsStarted = 0
    private var done: [S3Client.CompletedPart] = []
    private var failure: (any Error)?
    private var finished = false

    init(client: S3Client, bucket: String, key: String, path: String, sizeHint: Int64?, concurrency: Int = 4) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.path = path
        let hinted = ((sizeHint ?? 0) + Int64(S3Client.maxParts) - 1) / Int64(S3Client.maxParts)
        self.partSize = max(Int64(S3Client.minPartSize), hinted)
        self.concurrency = max(1, concurrency)
    }

    func written(_ total: Int64) {
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil, finalSize == nil else { return }
        let wholeParts = total / partSize
        let newPart = wholeParts > writtenBytes / partSize
        writtenBytes = total
        // Only once there is more than one part: a body of one part or less is one PUT. The
        // sending threads are woken when a part is whole, not on every write.
        guard total > partSize, newPart || uploadID == nil else { return }
        if uploadID == nil {
            do {
                uploadID = try client.createMultipartUpload(bucket: bucket, key: key, contentType: nil, checksums: true)
            } catch {
                failure = error
                return
            }
            startThreads()
        }
        condition.broadcast()
    }

    func complete(size: Int64) throws -> Bool {
        condition.lock()
        writtenBytes = size
        finalSize = size
        // Never begun (a small file), or CreateMultipartUpload failed: the caller sends it in one go.
        guard let id = uploadID else {
            finished = true
            condition.unlock()
            return false
        }
        condition.broadcast()
        while running > 0 { condition.wait() }
        let failed = failure
        let parts = done
        condition.unlock()
        do {
            if let failed { throw failed }
            try client.completeMultipartUpload(bucket: bucket, key: key, uploadID: id, parts: parts)
            condition.withLock { finished = true }
            return true
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        condition.lock()
        if finished {
            condition.unlock()
            return
        }
        if failure == nil { failure = CancellationError() }
        condition.broadcast()
        while running > 0 { condition.wait() }
        let id = uploadID
        uploadID = nil
        finished = true
        condition.unlock()
        if let id { try? client.abortMultipartUpload(bucket: bucket, key: key, uploadID: id) }
    }

    /// Called with the lock held.
    private func startThreads() {
        while threadsStarted < concurrency {
            threadsStarted += 1
            running += 1
            let thread = Thread { [self] in sendParts() }
            thread.start()
        }
    }

    /// One sending thread: takes the next part once it is written (or the file is complete),
    /// until there are none left or something failed.
    private func sendParts() {
        condition.lock()
        defer {
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
        while failure == nil {
            let offset = Int64(nextPart - 1) * partSize
            let end = finalSize ?? writtenBytes
            if let finalSize, offset >= finalSize { return }
            guard offset + partSize <= end || (finalSize != nil && offset < end), let id = uploadID else {
                condition.wait()
                continue
            }
            let number = nextPart
            nextPart += 1
            let plan = S3Client.PartPlan(path: path, size: finalSize ?? Int64.max, partSize: partSize)
            condition.unlock()
            let sent = Result {
                try client.uploadPart(bucket: bucket, key: key, uploadID: id, plan: plan, number: number)
            }
            condition.lock()
            switch sent {
            case .success(let part): done.append(part)
            case .failure(let error): if failure == nil { failure = error }
            }
        }
    }
}
