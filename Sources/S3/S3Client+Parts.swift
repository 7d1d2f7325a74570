import Crypto
import Dispatch
import Foundation
import SigV4
import Synchronization

extension S3Client {
    /// How a file splits into parts: numbers from 1, every part `partSize` but the last.
    struct PartPlan: Sendable {
        var path: String
        var size: Int64
        var partSize: Int64

        var count: Int { Int((size + partSize - 1) / partSize) }

        func range(_ number: Int) -> (offset: Int64, length: Int64) {
            let offset = Int64(number - 1) * partSize
            return (offset, min(partSize, size - offset))
        }
    }

    /// The parts handed out to the threads, what they finished, and the first failure (after
    /// which no new part starts).
    final class PartQueue: Sendable {
        struct State {
            var next = 1
            var done: [CompletedPart] = []
            var failure: (any Error)?
        }
        let state = Mutex(State())
        let count: Int

        init(count: Int) { self.count = count }

        func take() -> Int? {
            state.withLock { s in
                guard s.failure == nil, s.next <= count else { return nil }
                defer { s.next += 1 }
                return s.next
            }
        }

        func finish(_ part: CompletedPart) { state.withLock { $0.done.append(part) } }

        func fail(_ error: any Error) { state.withLock { if $0.failure == nil { $0.failure = error } } }
    }

    /// Sends every part of `plan` on `threads` threads (each holding one part in memory at a time)
    /// and returns them for Complete; throws the first failure once all threads have stopped.
    func uploadParts(bucket: String, key: String, uploadID: String, plan: PartPlan, threads: Int) throws
        -> [CompletedPart]
    {
        let queue = PartQueue(count: plan.count)
        let group = DispatchGroup()
        for _ in 0..<max(1, min(threads, plan.count)) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while let number = queue.take() {
                    do {
                        queue.finish(
                            try uploadPart(bucket: bucket, key: key, uploadID: uploadID, plan: plan, number: number))
                    } catch {
                        queue.fail(error)
                    }
                }
            }
            thread.start()
        }
        group.wait()
        return try queue.state.withLock { s in
            if let failure = s.failure { throw failure }
            return s.done
        }
    }

    /// Reads one part into memory, hashes it, and PUTs it with its payload hash signed and its
    /// `x-amz-checksum-sha256`.
    func uploadPart(bucket: String, key: String, uploadID: String, plan: PartPlan, number: Int) throws -> CompletedPart
    {
        try hooks.beforePart?(number)
        let (offset, length) = plan.range(number)
        let bytes = try Self.read(plan.path, offset: offset, length: Int(length))
        let digest = Array(SHA256.hash(data: bytes))
        let checksum = Data(digest).base64EncodedString()
        let what = "UploadPart \(number) of \(bucket)/\(key)"
        let response = try send(
            "PUT", bucket: bucket, key: key, query: [.init("partNumber", String(number)), .init("uploadId", uploadID)],
            headers: Self.checksumHeaders(digest), body: .bytes(bytes), digest: digest, what: what)
        try response.check(what)
        guard let etag = response.header("ETag"), !etag.isEmpty else {
            throw S3Error.invalidResponse(what, "no ETag")
        }
        return CompletedPart(number: number, etag: etag, checksum: checksum)
    }

    static func read(_ path: String, offset: Int64, length: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error.localFile(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var done = 0
            while done < length {
                let n = pread(fd, buffer.baseAddress! + done, length - done, off_t(offset + Int64(done)))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n == 0 ? "shorter than \(offset + Int64(length)) bytes" : String(cString: strerror(errno))
                    break
                }
                done += n
            }
            initialized = done
        }
        if let failure { throw S3Error.localFile(path, failure) }
        return bytes
    }
}

/// SHA-256 of a body as curl streams it to a file; used only on the transfer's own thread.
final class StreamHasher {
    private var hasher = SHA256()

    func update(_ chunk: UnsafeRawBufferPointer) { hasher.update(bufferPointer: chunk) }

    func finalize() -> [UInt8] { Array(hasher.finalize()) }
}
