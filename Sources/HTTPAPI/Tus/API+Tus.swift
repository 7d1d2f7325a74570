import AssetDedupCore
import BlobProtocols
import Foundation
import StoreProtocols

/// tus 1.0.0 (https://tus.io/protocols/resumable-upload) under `/api/v1/tus`: a thin
/// translation onto the upload engine the IETF drafts use (`startUpload`, `lockSession`,
/// `append`, `finish`): the same sessions, append lock, hash state, expiry, limits and dedup.
/// Extensions: creation, creation-with-upload, creation-defer-length, termination, expiration,
/// checksum (sha256, sha1, md5) and concatenation. `Upload-Metadata` keys: `provider_id`
/// (required, but for a partial upload), `filename`, `filetype`, `sha256`.
extension API {
    static let tusVersion = "1.0.0"
    static let tusExtensions =
        "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum,concatenation"
    static let tusContentType = "application/offset+octet-stream"
    /// What a `Host` header may hold to be echoed into a `Location`.
    private static let hostBytes = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]".utf8)

    /// A tus upload's URL, absolute when the request named its host (aiotus cannot join a path
    /// to its endpoint; the others take either).
    static func tusLocation(_ id: String, _ request: HTTPRequest) -> String {
        let path = "/api/v1/tus/\(id)"
        guard let host = request.headers["host"], !host.isEmpty, host.utf8.allSatisfy(hostBytes.contains) else {
            return path
        }
        let scheme = request.headers["x-forwarded-proto"] == "https" ? "https" : "http"
        return "\(scheme)://\(host)\(path)"
    }

    // MARK: OPTIONS

    /// What this server speaks; no token needed (a browser's preflight carries none).
    func tusOptions() -> HTTPResponse {
        HTTPResponse(
            status: 204,
            headers: [
                ("Tus-Version", Self.tusVersion), ("Tus-Extension", Self.tusExtensions),
                ("Tus-Max-Size", String(limits.maxUploadBytes)), ("Tus-Checksum-Algorithm", ChunkChecksum.supported),
            ])
    }

    /// Every request but OPTIONS names the protocol version; another is 412 with the ones we speak.
    func tusCheckVersion(_ request: HTTPRequest) throws {
        guard request.headers["tus-resumable"]?.trimmingCharacters(in: .whitespaces) == Self.tusVersion else {
            throw APIError(
                status: 412, code: "unsupported_tus_version",
                message: "Tus-Resumable must be \(Self.tusVersion)", headers: [("Tus-Version", Self.tusVersion)])
        }
    }

    // MARK: POST /tus

    /// Creation (with or without the first bytes, with a length or deferred), a partial upload,
    /// or a final upload joining partial ones. Announced content the user holds (`sha256` in
    /// the metadata) is answered at once: the upload is complete at its full length, the asset
    /// answer in the body, and HEAD says so, so a client that asks the offset sends nothing.
    func tusCreate(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        try tusCheckVersion(request)
        let headers = try TusHeaders(request.headers)
        let partial = headers.concat == .partial
        let provider = try tusProvider(headers, required: !partial)
        let claimed = try tusClaimedDigest(headers)
        if case .final(let ids) = headers.concat {
            return try tusConcatenate(ids, headers: headers, provider: provider!, claimed: claimed, request, user: user)
        }
        switch (headers.length, headers.deferLength) {
        case (nil, false):
            throw APIError.badRequest("missing_header", "Upload-Length or Upload-Defer-Length: 1 is required")
        case (.some, true):
            throw APIError.badRequest("invalid_header", "send Upload-Length or Upload-Defer-Length, not both")
        default: break
        }
        let bodyLength = request.contentLength ?? 0
        let hasBody = Self.cleanMime(request.headers["content-type"] ?? "") == Self.tusContentType
        if bodyLength > 0 && !hasBody { throw APIError.unsupportedMediaType(Self.tusContentType) }
        let length = headers.length
        let filename = headers.metadata["filename"].map(Self.cleanFilename)
        let mime = headers.metadata["filetype"].map(Self.cleanMime).flatMap { $0.isEmpty ? nil : $0 }
        let complete = length.map { bodyLength == $0 } ?? false
        let decision = UploadRules.create(
            UploadRules.Request(complete: complete, length: length, bodyLength: bodyLength),
            maxBytes: limits.maxUploadBytes)
        guard case .append = decision else { throw refusal(decision, provided: 0) }

        var session = UploadSession(
            id: Self.newUploadID(), userID: user.userID, providerID: provider, kind: partial ? .partial : .single,
            metadata: headers.rawMetadata, filename: filename, mimeType: mime, length: length,
            hashState: ResumableSHA256().state, claimedSHA256: claimed)
        if !partial, let claimed, let asset = try store.findAsset(user: user.userID, sha256: claimed),
            try blobs.contains(claimed), length.map({ $0 == asset.size }) ?? true, let provider
        {
            session.filename = filename ?? asset.originalFilename
            session.mimeType = mime ?? asset.mimeType
            return try tusAnswerHeld(
                session, sha256: claimed, size: asset.size, provider: provider, request, user: user)
        }
        let outcome = try startUpload(
            session, request, complete: complete, user: user, checksum: headers.checksum,
            location: Self.tusLocation(session.id, request))
        return tusAnswer(outcome, session: session, creating: true, request)
    }

    /// The metadata's provider: a configured one (422 otherwise); 400 when required and missing.
    private func tusProvider(_ headers: TusHeaders, required: Bool) throws -> ProviderID? {
        guard let text = headers.metadata["provider_id"] else {
            guard !required else {
                throw APIError.badRequest(
                    "missing_metadata", "Upload-Metadata must carry provider_id (base64 of a configured provider's id)")
            }
            return nil
        }
        return try configuredProvider(text)
    }

    private func tusClaimedDigest(_ headers: TusHeaders) throws -> SHA256Digest? {
        guard let text = headers.metadata["sha256"] else { return nil }
        guard let digest = try? SHA256Digest(parsing: text) else {
            throw APIError.badRequest("invalid_metadata", "Upload-Metadata sha256 must be 64 hex characters")
        }
        return digest
    }

    /// Content the user holds: the asset answer now, and a completed upload at the URL.
    private func tusAnswerHeld(
        _ session: UploadSession, sha256: SHA256Digest, size: Int64, provider: ProviderID, _ request: HTTPRequest,
        user: AuthenticatedUser
    ) throws -> HTTPResponse {
        try tusCreatedComplete(
            session,
            CommittedUpload(
                user: user, sha256: sha256, size: size, provider: provider, mimeType: session.mimeType,
                filename: session.filename),
            request)
    }

    /// A creation that is complete at once (held content, a final concatenation): the asset
    /// answer as a `201` with the upload's URL, and the upload recorded complete and answered, so
    /// HEAD reports the full offset and GET the asset afterwards. A failed answer records nothing.
    private func tusCreatedComplete(_ session: UploadSession, _ upload: CommittedUpload, _ request: HTTPRequest) throws
        -> HTTPResponse
    {
        var response = try completeUpload(upload, request: request)
        guard response.status < 300 else { return response }
        try recordCompleted(session, sha256: upload.sha256, size: upload.size)
        response.status = 201
        response.headers += [
            ("Location", Self.tusLocation(session.id, request)), ("Upload-Offset", String(upload.size)),
            ("Upload-Length", String(upload.size)),
        ]
        return response
    }

    /// A session row for an upload that is complete and answered already (held content, a
    /// final concatenation): what HEAD and GET read afterwards.
    private func recordCompleted(_ session: UploadSession, sha256: SHA256Digest, size: Int64) throws {
        let owner = AppendLockOwner.make()
        var row = session
        row.length = size
        try store.createUploadSession(row, lockOwner: owner)
        try recorded(
            store.recordCompletion(
                id: session.id, owner: owner, offset: size, hashState: session.hashState, sha256: sha256))
        try store.markUploadAnswered(id: session.id)
    }

    /// The final upload of a concatenation: the partial uploads' bytes, in order, hashed into one
    /// staged file, committed and answered like any upload.
    private func tusConcatenate(
        _ ids: [String], headers: TusHeaders, provider: ProviderID, claimed: SHA256Digest?, _ request: HTTPRequest,
        user: AuthenticatedUser
    ) throws -> HTTPResponse {
        var parts: [UploadSession] = []
        for id in ids {
            guard Self.isUploadID(id), let part = try store.uploadSession(id: id, user: user.userID),
                part.kind == .partial
            else {
                throw APIError.badRequest("invalid_concat", "no partial upload \(id) of yours to join")
            }
            guard part.isComplete else {
                throw APIError.badRequest(
                    "invalid_concat",
                    "partial upload \(id) is at \(part.offset) of \(part.length.map(String.init) ?? "?") bytes: finish it first"
                )
            }
            parts.append(part)
        }
        let total = parts.reduce(Int64(0)) { $0 + $1.offset }
        if let length = headers.length, length != total {
            throw APIError.badRequest(
                "invalid_concat", "Upload-Length \(length) differs from the partial uploads' \(total) bytes")
        }
        guard total <= limits.maxUploadBytes else {
            throw APIError.tooLarge("uploads are limited to \(limits.maxUploadBytes) bytes")
        }
        let writer = try blobs.makeTempWriter()
        for part in parts { try blobs.copyPartial(upload: part.id, length: part.offset, into: writer) }
        let digest = try writer.finish()
        if let claimed, claimed != digest {
            throw APIError(
                status: 422, code: "sha256_mismatch",
                message:
                    "the joined upload's sha256 is \(digest.hex), not the \(claimed.hex) of its metadata; nothing was kept"
            )
        }
        try claimBlob(digest)
        try blobs.commit(writer, as: digest)
        let session = UploadSession(
            id: Self.newUploadID(), userID: user.userID, providerID: provider, kind: .final,
            metadata: headers.rawMetadata, concat: headers.rawConcat,
            filename: headers.metadata["filename"].map(Self.cleanFilename),
            mimeType: headers.metadata["filetype"].map(Self.cleanMime), length: total,
            hashState: ResumableSHA256().state, claimedSHA256: claimed)
        // The partial uploads stay until they expire: tus-js-client resuming a parallel upload
        // HEADs each one and sends the final again, which is then `reused`, no bytes resent.
        return try tusCreatedComplete(
            session,
            CommittedUpload(
                user: user, sha256: digest, size: total, provider: provider, mimeType: session.mimeType,
                filename: session.filename, stagedPath: writer.path),
            request)
    }

    // MARK: HEAD /tus/{id}

    /// The offset to resume from, the length (or that it is deferred), the metadata as sent,
    /// and until when an unfinished upload is kept.
    func tusStatus(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        try tusCheckVersion(request)
        let session = try tusSession(id: id, user: user)
        return HTTPResponse(status: 200, headers: tusStateHeaders(session, offset: session.offset))
    }

    private func tusSession(id: String, user: AuthenticatedUser) throws -> UploadSession {
        guard Self.isUploadID(id), let session = try store.uploadSession(id: id, user: user.userID) else {
            throw Self.uploadNotFound
        }
        return session
    }

    /// `Upload-Offset`, `Upload-Length` or `Upload-Defer-Length`, `Upload-Metadata`,
    /// `Upload-Concat` and, while unfinished, `Upload-Expires`.
    private func tusStateHeaders(_ session: UploadSession, offset: Int64) -> [(String, String)] {
        var headers = [("Upload-Offset", String(offset))]
        if let length = session.length {
            headers.append(("Upload-Length", String(length)))
        } else {
            headers.append(("Upload-Defer-Length", "1"))
        }
        if let metadata = session.metadata { headers.append(("Upload-Metadata", metadata)) }
        switch session.kind {
        case .partial: headers.append(("Upload-Concat", "partial"))
        case .final: headers.append(("Upload-Concat", session.concat ?? "final;"))
        case .single: break
        }
        if !session.isComplete || session.kind == .partial, let expires = tusExpiry(session) {
            headers.append(("Upload-Expires", expires))
        }
        return headers
    }

    /// When the sweep may drop the upload: `updated_at` plus the expiry, as an HTTP date.
    private func tusExpiry(_ session: UploadSession) -> String? {
        let updated = Timestamp.date(session.updatedAt) ?? Date()
        return Self.httpDate(updated.addingTimeInterval(limits.uploadExpirySeconds))
    }

    /// RFC 9110's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    // MARK: GET /tus/{id}

    /// A finished upload's asset (as `GET /assets/{id}` shows it), so a client that lost the
    /// last PATCH's answer learns the outcome; 409 `upload_incomplete` before that.
    /// Not a tus request (no client sends it), so no `Tus-Resumable` is required: plain curl works.
    func tusResult(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let session = try tusSession(id: id, user: user)
        guard session.kind != .partial, session.isComplete, let sha256 = session.sha256,
            let asset = try store.findAsset(user: user.userID, sha256: sha256)
        else {
            throw APIError(
                status: 409, code: "upload_incomplete",
                message:
                    "the upload is at \(session.offset) of \(session.length.map(String.init) ?? "?") bytes; finish it with PATCH",
                headers: tusStateHeaders(session, offset: session.offset))
        }
        var response = try getAsset(id: String(asset.id.rawValue), user: user)
        response.headers += tusStateHeaders(session, offset: session.offset)
        return response
    }

    // MARK: PATCH /tus/{id}

    /// Appends at `Upload-Offset`: 204 with the new offset, or the asset answer (its JSON and
    /// status: 201 created, 200 reused or added_provider, 202 queued, 502) once the upload is
    /// complete. A PATCH at offset 0 to an upload completed already (held content answered at
    /// creation, which clients that do not ask the offset go on to send) answers 204 with the
    /// full offset and keeps nothing of the body.
    func tusAppend(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        try tusCheckVersion(request)
        guard Self.isUploadID(id) else { throw Self.uploadNotFound }
        guard Self.cleanMime(request.headers["content-type"] ?? "") == Self.tusContentType else {
            throw APIError.unsupportedMediaType(Self.tusContentType)
        }
        let headers = try TusHeaders(request.headers)
        guard let offset = headers.offset else {
            throw APIError.badRequest("missing_header", "Upload-Offset is required")
        }
        let locked: (session: UploadSession, owner: String)
        do {
            locked = try lockSession(id: id, user: user)
        } catch let error as APIError where error.body.code == "append_in_progress" {
            // tus clients retry 423 Locked later (tusd's answer); a 409 sends some into a tight loop.
            throw APIError(
                status: 423, code: error.body.code, message: error.body.message, retryable: true,
                headers: error.headers)
        }
        var session = locked.session
        guard session.kind != .final else {
            try store.unlockUploadSession(id: id, owner: locked.owner)
            throw APIError(
                status: 403, code: "final_upload",
                message: "a final upload is made of its partial uploads; append to those")
        }
        if session.isComplete, session.answeredAt != nil, session.kind == .single,
            offset == 0 || offset == session.offset
        {
            try store.unlockUploadSession(id: id, owner: locked.owner)
            return HTTPResponse(status: 204, headers: [("Upload-Offset", String(session.offset))])
        }
        let bodyLength = request.contentLength ?? 0
        let length = session.length ?? headers.length
        let complete = length.map { offset + bodyLength == $0 } ?? false
        let state = UploadRules.State(
            offset: session.offset, length: session.length, isComplete: session.isComplete,
            isAnswered: session.answeredAt != nil)
        let rules = UploadRules.Request(
            offset: offset, complete: complete, length: headers.length, bodyLength: bodyLength)
        let file: any PartialUpload
        do {
            switch UploadRules.append(to: state, rules, maxBytes: limits.maxUploadBytes) {
            case .append(let newLength):
                session.length = newLength
            case .finishAgain where session.sha256 != nil && session.kind == .single:
                try store.unlockUploadSession(id: id, owner: locked.owner)
                let response = try finish(
                    session, digest: session.sha256!, size: session.offset, user: user, request: request)
                return tusAnswer(.finished(response), session: session, creating: false, request)
            case let refused:
                throw refusal(refused, provided: offset)
            }
            file = try openPartial(session, owner: locked.owner, provided: offset)
        } catch {
            try? store.unlockUploadSession(id: id, owner: locked.owner)
            throw error
        }
        let outcome = try append(
            to: session, file: file, request, complete: complete, owner: locked.owner, user: user,
            checksum: headers.checksum)
        return tusAnswer(outcome, session: session, creating: false, request)
    }

    /// tus's words for an append's outcome: `201` + `Location` for a creation, `204` with the
    /// offset for an append, the asset answer once complete (201 for a creation).
    func tusAnswer(_ outcome: AppendOutcome, session: UploadSession, creating: Bool, _ request: HTTPRequest)
        -> HTTPResponse
    {
        var response: HTTPResponse
        switch outcome {
        case .stored(let offset):
            var stored = session
            stored.offset = offset
            response = HTTPResponse(status: creating ? 201 : 204, headers: tusStateHeaders(stored, offset: offset))
        case .finished(let answer):
            response = answer
            if creating && response.status < 300 { response.status = 201 }
        }
        if creating { response.headers.insert(("Location", Self.tusLocation(session.id, request)), at: 0) }
        return response
    }

    // MARK: DELETE /tus/{id}

    /// Termination: the upload and its bytes are gone (an asset it made stays).
    func tusTerminate(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        try tusCheckVersion(request)
        do {
            return try cancelUpload(id: id, user: user)
        } catch let error as APIError where error.body.code == "append_in_progress" {
            throw APIError(status: 423, code: error.body.code, message: error.body.message, retryable: true)
        }
    }
}
