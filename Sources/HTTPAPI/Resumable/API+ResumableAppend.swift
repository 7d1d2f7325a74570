import AssetDedupCore
import BlobProtocols
import Foundation
import StoreProtocols

/// What one append came to; each protocol (the IETF drafts, tus) words it its own way.
enum AppendOutcome {
    /// The bytes are recorded; the upload goes on from `offset` (a tus partial upload stays
    /// here when complete: its final upload joins it).
    case stored(offset: Int64)
    /// The upload completed: the asset answer of `completeUpload` (201, 200, 202 or 502).
    case finished(HTTPResponse)
}

extension API {
    /// Streams the request body onto the partial file while hashing it, then records the new
    /// offset and hash state in one transaction (after fdatasync). The caller holds the lock;
    /// every path out of here releases it. The upload engine every protocol shares.
    ///
    /// A failed append (full disk, too many bytes, a `checksum` that does not match the body)
    /// is cut back to the recorded offset, so the upload resumes from there. A body the client
    /// broke off is kept up to where it stopped, unless it carried a checksum (a part of it
    /// cannot be checked).
    func append(
        to session: UploadSession, file: any PartialUpload, _ request: HTTPRequest, complete: Bool, owner: String,
        user: AuthenticatedUser, checksum: ChunkChecksum? = nil
    ) throws -> AppendOutcome {
        var checksum = checksum
        guard var hasher = ResumableSHA256(state: session.hashState), hasher.count == session.offset else {
            try? store.unlockUploadSession(id: session.id, owner: owner)
            throw APIError.internalError
        }
        let end = min(session.length ?? limits.maxUploadBytes, limits.maxUploadBytes)
        var broken: (any Error)?
        if let expected = request.contentLength { file.reserve(min(expected, end - file.length)) }
        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let count: Int
                do {
                    count = try request.body.read(into: buffer)
                } catch {
                    broken = error
                    break
                }
                if count == 0 { break }
                if file.length + Int64(count) > end {
                    guard session.length == nil else {
                        throw UploadProblem.inconsistentLength("the body goes past Upload-Length \(end)")
                    }
                    throw APIError.tooLarge("uploads are limited to \(limits.maxUploadBytes) bytes")
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                try file.append(chunk)
                hasher.update(chunk)
                checksum?.update(chunk)
            }
            if let checksum, broken != nil || !checksum.matches() {
                throw broken == nil ? APIError.checksumMismatch(checksum.algorithm) : APIError.checksumUnchecked
            }
            // The last append is on the disk before it becomes a blob; the others at least
            // every `PartialUploadFile.syncInterval` bytes (docs/DESIGN.md, Resumable uploads).
            try file.sync(durable: complete)
        } catch {
            try? file.truncate(to: session.offset)
            try? store.unlockUploadSession(id: session.id, owner: owner)
            if let error = error as? FileError, error.isNoSpace {
                logger.error("storage full appending to upload \(session.id): \(error)")
                throw APIError(
                    status: 507, code: "insufficient_storage",
                    message:
                        "the server's storage is full; this append was not kept, the upload stays at offset \(session.offset): resume from there later"
                )
            }
            throw error
        }

        let offset = file.length
        metrics.receivedUploadBytes(offset - session.offset)
        if broken == nil, let expected = request.contentLength, offset - session.offset != expected {
            // The transport may end a cut body as a plain end of stream: never complete on it.
            broken = APIError.badRequest(
                "incomplete_body",
                "the body ended after \(offset - session.offset) of \(expected) bytes; kept what arrived")
        }
        if let broken {
            // Keep what arrived: the client resumes from HEAD's offset.
            try recorded(
                store.recordAppend(
                    id: session.id, owner: owner, offset: offset, hashState: hasher.state, length: session.length))
            throw broken
        }
        guard complete else {
            try recorded(
                store.recordAppend(
                    id: session.id, owner: owner, offset: offset, hashState: hasher.state, length: session.length))
            return .stored(offset: offset)
        }
        if case .inconsistentLength(let detail) = UploadRules.afterBody(
            end: offset, length: session.length, complete: true)
        {
            // Keep the bytes (durable and hashed); the client may go on from HEAD's offset.
            try recorded(
                store.recordAppend(
                    id: session.id, owner: owner, offset: offset, hashState: hasher.state, length: session.length))
            throw UploadProblem.inconsistentLength(detail)
        }
        let digest = hasher.finalize()
        if offset == 0 && session.kind != .partial {
            try store.deleteUploadSession(id: session.id)
            blobs.removePartial(upload: session.id)
            throw APIError.emptyFile
        }
        if let claimed = session.claimedSHA256, claimed != digest {
            try store.deleteUploadSession(id: session.id)
            blobs.removePartial(upload: session.id)
            throw APIError(
                status: 422, code: "sha256_mismatch",
                message:
                    "the upload's sha256 is \(digest.hex), not the \(claimed.hex) of its Repr-Digest; nothing was kept")
        }
        try recorded(
            store.recordCompletion(
                id: session.id, owner: owner, offset: offset, hashState: hasher.state, sha256: digest))
        if session.kind == .partial { return .stored(offset: offset) }
        return .finished(try finish(session, digest: digest, size: offset, user: user, request: request))
    }

    /// Opens the upload's partial bytes under the append lock. A local file opened after the
    /// machine restarted comes back at the length its last `fdatasync` covered when appends
    /// were acknowledged after it (a power loss may have taken them): the record is rewound
    /// there, with the hash state of what is left, and the client gets the offset to resume
    /// from, as for any other offset that is not the server's (409).
    func openPartial(_ session: UploadSession, owner: String, provided: Int64) throws -> any PartialUpload {
        let file = try blobs.openPartial(upload: session.id, recordedOffset: session.offset)
        guard file.length < session.offset else { return file }
        logger.warning(
            "upload \(session.id): rewound from \(session.offset) to \(file.length) bytes, what its file kept across a restart of the machine"
        )
        try recorded(
            store.recordAppend(
                id: session.id, owner: owner, offset: file.length, hashState: try file.hashState(),
                length: session.length))
        throw UploadProblem.mismatchingOffset(expected: file.length, provided: provided)
    }

    /// Completion: the partial file becomes the blob by rename (never re-read), then the shared
    /// second half of every upload. Marked answered once that succeeds, so a retried PATCH after
    /// a lost answer finishes again and a later one is the completed-upload problem.
    func finish(
        _ session: UploadSession, digest: SHA256Digest, size: Int64, user: AuthenticatedUser, request: HTTPRequest
    ) throws -> HTTPResponse {
        guard let provider = session.providerID else { throw APIError.internalError }
        // A 503 here keeps the partial bytes and the completed row: the client's retried PATCH
        // finishes again (`.finishAgain`).
        try claimBlob(digest)
        if try blobs.hasPartial(upload: session.id) {
            try blobs.commitPartial(upload: session.id, as: digest)
        } else {
            guard try blobs.contains(digest) else { throw APIError.internalError }
        }
        var response = try completeUpload(
            CommittedUpload(
                user: user, sha256: digest, size: size, provider: provider,
                mimeType: session.mimeType, filename: session.filename),
            request: request)
        if response.status < 300 { try store.markUploadAnswered(id: session.id) }
        response.headers.append(("Upload-Offset", String(size)))
        return response
    }

    /// Refuses to answer success for an append whose lock was taken over meanwhile (only possible
    /// for a holder on another host after `appendLockStaleSeconds`): its record was not written.
    func recorded(_ done: Bool) throws {
        guard done else {
            throw APIError(
                status: 409, code: "append_lock_lost",
                message: "this append's lock was taken over by another request; read the offset with HEAD and resume",
                retryable: true)
        }
    }
}
