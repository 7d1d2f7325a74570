import AssetDedupCore
import BlobProtocols
import Foundation
import StoreProtocols

/// Resumable uploads (draft-ietf-httpbis-resumable-upload-15, the path without `104`): create
/// with `POST /uploads`, learn the offset with `HEAD`, append with `PATCH`, cancel with `DELETE`.
/// Offset and hash state live in the session row and move together after each fdatasync.
extension API {
    /// The same 404 for an unknown id and for another user's upload.
    static let uploadNotFound = APIError(status: 404, code: "not_found", message: "no such upload")

    /// `Upload-Limit`: the largest upload this server takes (`--max-upload-bytes`).
    var uploadLimitHeader: (String, String) { ("Upload-Limit", "max-size=\(limits.maxUploadBytes)") }

    /// 128 random bits as 32 hex characters.
    static func newUploadID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = UInt64.random(in: 0 ... .max, using: &generator)
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func isUploadID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: OPTIONS /uploads

    /// The limits (drafts -05 on: `Upload-Limit`; -11: `Accept-Patch`); no token needed.
    func uploadOptions(_ request: HTTPRequest) throws -> HTTPResponse {
        let interop = try DraftInterop(request.headers)
        return HTTPResponse(
            status: 204,
            headers: [uploadLimitHeader, ("Accept-Patch", "application/partial-upload")] + interop.echo)
    }

    // MARK: POST /uploads

    /// Creates an upload from its first bytes (maybe all of them). A `Repr-Digest` naming content
    /// this user already has answers at once from the existing blob: no bytes needed.
    func createUpload(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let providerText = request.query["provider_id"] else {
            throw APIError.badRequest("missing_field", "missing query parameter 'provider_id'")
        }
        let provider = try configuredProvider(providerText)
        let headers = try ResumableHeaders(request.headers, creating: true)
        guard let complete = headers.complete else {
            throw APIError.badRequest("missing_header", "Upload-Complete (?0 or ?1) is required")
        }
        let rules = UploadRules.Request(complete: complete, length: headers.length, bodyLength: request.contentLength)
        let decision = UploadRules.create(rules, maxBytes: limits.maxUploadBytes)
        guard case .append = decision else { throw refusal(decision, provided: 0) }
        let filename = request.query["filename"].map(Self.cleanFilename)
        let contentType = request.headers["content-type"].map(Self.cleanMime)
        // curl's --data-binary default says nothing about the file; nor does the append type.
        let generic: Set = ["", "application/x-www-form-urlencoded", "application/partial-upload"]
        let mime = request.query["mime"].map(Self.cleanMime) ?? contentType.flatMap { generic.contains($0) ? nil : $0 }

        if let digest = headers.digest, let asset = try store.findAsset(user: user.userID, sha256: digest),
            try blobs.contains(digest), headers.length.map({ $0 == asset.size }) ?? true
        {
            var response = try completeUpload(
                CommittedUpload(
                    user: user, sha256: digest, size: asset.size, provider: provider,
                    mimeType: mime ?? asset.mimeType, filename: filename ?? asset.originalFilename),
                request: request)
            response.headers += [("Upload-Offset", String(asset.size)), headers.interop.completeness(true)]
            response.headers += headers.interop.echo
            return response
        }

        let session = UploadSession(
            id: Self.newUploadID(), userID: user.userID, providerID: provider, filename: filename, mimeType: mime,
            length: headers.length, hashState: ResumableSHA256().state, claimedSHA256: headers.digest)
        let outcome = try startUpload(
            session, request, complete: complete, user: user, location: "/api/v1/uploads/\(session.id)")
        return draftAnswer(outcome, session: session, creating: true, headers.interop)
    }

    /// Records a new upload and appends its first bytes (maybe none), for every protocol. On a
    /// failure nothing of it is kept (the client never learned its URL), unless it completed:
    /// that answer may be a provider failure, and the asset is kept.
    func startUpload(
        _ session: UploadSession, _ request: HTTPRequest, complete: Bool, user: AuthenticatedUser,
        checksum: ChunkChecksum? = nil, location: String
    ) throws -> AppendOutcome {
        let file = try blobs.createPartial(upload: session.id)
        let owner = AppendLockOwner.make()
        do {
            try store.createUploadSession(session, lockOwner: owner)
        } catch {
            blobs.removePartial(upload: session.id)
            throw error
        }
        do {
            return try append(
                to: session, file: file, request, complete: complete, owner: owner, user: user, checksum: checksum)
        } catch {
            if try store.uploadSession(id: session.id, user: user.userID)?.isComplete != true {
                try? store.deleteUploadSession(id: session.id)
                blobs.removePartial(upload: session.id)
            } else if let error = error as? APIError, error.body.code == APIError.blobBeingCollected.body.code {
                // Complete and kept: the client retries the completion at this URL.
                throw APIError(
                    status: error.status, code: error.body.code, message: error.body.message,
                    retryable: error.body.retryable, headers: error.headers + [("Location", location)])
            }
            throw error
        }
    }

    // MARK: HEAD /uploads/{id}

    /// Where the upload stands: the offset to resume from, and whether it is complete.
    func uploadStatus(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let interop = try DraftInterop(request.headers)
        guard Self.isUploadID(id), let session = try store.uploadSession(id: id, user: user.userID) else {
            throw Self.uploadNotFound
        }
        var headers = [
            ("Upload-Offset", String(session.offset)), interop.completeness(session.isComplete), uploadLimitHeader,
        ]
        if let length = session.length { headers.append(("Upload-Length", String(length))) }
        return HTTPResponse(status: 204, headers: headers + interop.echo)
    }

    // MARK: PATCH /uploads/{id}

    /// Appends at the client's `Upload-Offset`, which must be the server's; 204 while incomplete,
    /// the upload JSON once complete.
    func appendUpload(id: String, _ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        guard Self.isUploadID(id) else { throw Self.uploadNotFound }
        let headers = try ResumableHeaders(request.headers)
        if headers.interop.requiresPartialUploadType,
            Self.cleanMime(request.headers["content-type"] ?? "") != "application/partial-upload"
        {
            throw APIError.unsupportedMediaType("application/partial-upload")
        }
        guard let complete = headers.complete, let offset = headers.offset else {
            let name = headers.interop.completeness(true).0
            throw APIError.badRequest("missing_header", "Upload-Offset and \(name) are required")
        }
        let locked = try lockSession(id: id, user: user)
        var session = locked.session
        let owner = locked.owner
        guard session.kind == .single else {
            // A tus partial or final upload: its own protocol finishes it.
            try store.unlockUploadSession(id: id, owner: owner)
            throw Self.uploadNotFound
        }
        let state = UploadRules.State(
            offset: session.offset, length: session.length, isComplete: session.isComplete,
            isAnswered: session.answeredAt != nil)
        let rules = UploadRules.Request(
            offset: offset, complete: complete, length: headers.length, bodyLength: request.contentLength)
        let file: any PartialUpload
        do {
            switch UploadRules.append(to: state, rules, maxBytes: limits.maxUploadBytes) {
            case .append(let length):
                session.length = length
            case .finishAgain where session.sha256 != nil:
                // A completion whose answer was lost (crash, provider failure) is finished again.
                try store.unlockUploadSession(id: id, owner: owner)
                let response = try finish(
                    session, digest: session.sha256!, size: session.offset, user: user, request: request)
                return draftAnswer(.finished(response), session: session, creating: false, headers.interop)
            case let refused:
                throw refusal(refused, provided: offset)
            }
            file = try openPartial(session, owner: owner, provided: offset)
        } catch {
            try? store.unlockUploadSession(id: id, owner: owner)
            throw error
        }
        let outcome = try append(to: session, file: file, request, complete: complete, owner: owner, user: user)
        return draftAnswer(outcome, session: session, creating: false, headers.interop)
    }

    /// The draft's words for an append's outcome: `201` + `Location` for a creation, `204` with
    /// the offset while incomplete (201 before draft -06), the upload JSON with
    /// `Upload-Complete: ?1` once complete.
    func draftAnswer(_ outcome: AppendOutcome, session: UploadSession, creating: Bool, _ interop: DraftInterop)
        -> HTTPResponse
    {
        let location = ("Location", "/api/v1/uploads/\(session.id)")
        var response: HTTPResponse
        switch outcome {
        case .stored(let offset):
            var headers = [("Upload-Offset", String(offset)), interop.completeness(false), uploadLimitHeader]
            if let length = session.length { headers.append(("Upload-Length", String(length))) }
            if creating { headers.insert(location, at: 0) }
            response = HTTPResponse(status: creating ? 201 : interop.incompleteAppendStatus, headers: headers)
        case .finished(let answer):
            response = answer
            response.headers.append(interop.completeness(true))
            if creating { response.headers.append(location) }
        }
        response.headers += interop.echo
        return response
    }

    /// The error a refusing decision answers with (`provided`: the request's `Upload-Offset`).
    func refusal(_ decision: UploadRules.Decision, provided: Int64) -> any Error {
        switch decision {
        case .mismatchingOffset(let expected): UploadProblem.mismatchingOffset(expected: expected, provided: provided)
        case .inconsistentLength(let detail): UploadProblem.inconsistentLength(detail)
        case .tooLarge: APIError.tooLarge("uploads are limited to \(limits.maxUploadBytes) bytes")
        case .completed, .finishAgain, .append: UploadProblem.completedUpload
        }
    }

    /// Takes the append lock of the user's upload `id` (the caller releases it): 404 for an
    /// unknown id and for another user's alike, 409 `append_in_progress` while another request
    /// appends.
    func lockSession(id: String, user: AuthenticatedUser) throws -> (session: UploadSession, owner: String) {
        guard Self.isUploadID(id) else { throw Self.uploadNotFound }
        let owner = AppendLockOwner.make()
        switch try store.lockUploadSession(
            id: id, user: user.userID, owner: owner, staleAfter: limits.appendLockStaleSeconds,
            isOwnerAlive: AppendLockOwner.isAlive)
        {
        case .notFound:
            throw Self.uploadNotFound
        case .held(_, let since):
            throw APIError(
                status: 409, code: "append_in_progress",
                message: "another request has been appending to this upload since \(since); retry after it ends",
                retryable: true)
        case .locked(let found):
            return (found, owner)
        }
    }

    // MARK: DELETE /uploads/{id}

    /// Cancels the upload: the row and the partial bytes go.
    func cancelUpload(id: String, user: AuthenticatedUser) throws -> HTTPResponse {
        _ = try lockSession(id: id, user: user)
        try store.deleteUploadSession(id: id)
        blobs.removePartial(upload: id)
        return HTTPResponse(status: 204)
    }
}
