import AssetDedupCore
import BlobProtocols
import Foundation
import Providers
import StoreProtocols

/// An upload whose bytes are hashed and committed to the blob store: what `completeUpload` needs.
struct CommittedUpload {
    let user: AuthenticatedUser
    let sha256: SHA256Digest
    let size: Int64
    let provider: ProviderID
    let mimeType: String?
    let filename: String?
    /// This node's staged copy of the bytes, while it still exists: fingerprinting reads it
    /// instead of fetching the blob back from a bucket. nil when there is none.
    var stagedPath: String? = nil
}

extension API {
    /// `POST /assets/upload`: stream, hash, store the blob once, then reuse / add provider /
    /// create. The provider upload runs as a delivery job, outside any database transaction.
    func upload(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let boundary = MultipartUpload.boundary(contentType: request.headers["content-type"] ?? "") else {
            throw APIError.unsupportedMediaType("multipart/form-data with a boundary")
        }
        if let length = request.contentLength, length > limits.maxUploadBytes {
            throw APIError.tooLarge("uploads are limited to \(limits.maxUploadBytes) bytes")
        }
        let multipart = MultipartUpload(boundary: boundary, blobs: blobs, sizeHint: request.contentLength)
        try multipart.consume(request.body, maxBytes: limits.maxUploadBytes) { name, value in
            // Reject before the file streams in when the fields come first (as our client sends them).
            switch name {
            case "provider_id": _ = try configuredProvider(value)
            case "sha256": _ = try SHA256Digest(parsing: value)
            default: break
            }
        }
        guard let providerText = multipart.fields["provider_id"] else {
            throw APIError.badRequest("missing_field", "missing form field 'provider_id'")
        }
        let provider = try configuredProvider(providerText)
        let claimed = try multipart.fields["sha256"].map { try SHA256Digest(parsing: $0) }
        guard let file = multipart.file else { throw APIError.badRequest("missing_field", "missing form field 'file'") }

        let digest = try file.writer.finish()
        metrics.receivedUploadBytes(file.writer.size)
        guard file.writer.size > 0 else { throw APIError.emptyFile }
        if let claimed, claimed != digest {
            throw APIError(
                status: 422, code: "sha256_mismatch",
                message: "the file's sha256 is \(digest.hex), not the \(claimed.hex) that was sent; nothing was kept")
        }
        try claimBlob(digest)
        try blobs.commit(file.writer, as: digest)
        return try completeUpload(
            CommittedUpload(
                user: user, sha256: digest, size: file.writer.size, provider: provider,
                mimeType: file.contentType.map(Self.cleanMime), filename: file.filename.map(Self.cleanFilename),
                stagedPath: file.writer.path),
            request: request)
    }

    /// Every upload calls this before it commits a blob or trusts one that exists (commit keeps
    /// the stored copy and drops the new bytes): it takes the blob out of gc's reach, or answers
    /// 503 `blob_being_collected` when gc is deleting it right now. Nothing is written then.
    func claimBlob(_ digest: SHA256Digest) throws {
        if try store.claimBlobForUpload(sha256: digest) == .beingCollected { throw APIError.blobBeingCollected }
    }

    /// The shared second half of every upload path (multipart, resumable): the blob is in the
    /// store; find or create the user's asset row, fingerprint it (once), then put it on the provider through the
    /// delivery queue unless it is there (see `deliver`). Answers with the upload JSON: 201
    /// created, 200 reused / added_provider, 202 queued, 502 provider_failed.
    ///
    /// The media type is the content's (`MediaSniffer` on the first bytes, never the name or the
    /// declared type alone); empty files are 422 `empty_file`, and content the provider's
    /// `accept` excludes is 415 before any row or delivery exists.
    func completeUpload(_ upload: CommittedUpload, request: HTTPRequest) throws -> HTTPResponse {
        guard upload.size > 0 else { throw APIError.emptyFile }
        let mimeType = MediaSniffer.mimeType(declared: upload.mimeType, header: try contentHeader(upload))
        try checkAccepted(mimeType, by: upload.provider)
        let (asset, created) = try store.findOrCreateAsset(
            NewAsset(
                userID: upload.user.userID, sha256: upload.sha256, size: upload.size, mimeType: mimeType,
                originalFilename: upload.filename, providerID: upload.provider))
        fingerprintIfMissing(
            asset.id, sha256: upload.sha256, mimeType: mimeType, stagedPath: upload.stagedPath, request: request)
        return try deliver(asset, to: upload.provider, created: created, request: request)
    }

    /// 415 `unsupported_media_type` when the provider's `accept` excludes `mimeType`.
    func checkAccepted(_ mimeType: String?, by provider: ProviderID) throws {
        let policy = providers.policy(provider)
        guard policy.accepts(mimeType) else {
            metrics.lifecycle(.refusedMedia)
            throw APIError(
                status: 415, code: "unsupported_media_type",
                message:
                    "provider '\(provider)' accepts \((policy.accept ?? []).joined(separator: ", ")); this content is \(mimeType ?? "unknown") (detected from its bytes); nothing was sent to it"
            )
        }
    }

    /// The content's first bytes: from this node's staged copy when it still exists, else the blob.
    private func contentHeader(_ upload: CommittedUpload) throws -> [UInt8] {
        if let staged = upload.stagedPath,
            let header = try? LocalFiles.readPrefix(path: staged, count: MediaSniffer.headerLength),
            header.count == min(Int64(MediaSniffer.headerLength), upload.size)
        {
            return header
        }
        return try blobs.readPrefix(of: upload.sha256, count: MediaSniffer.headerLength)
    }

    /// A client file name as a name, not a path; at most 255 characters, no control characters.
    static func cleanFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(
            base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init).prefix(255))
    }

    /// A MIME type as `type/subtype` in lower case, parameters dropped; "" when it is not one
    /// (RFC 6838 name characters only: a NUL or a control character never reaches a row).
    static func cleanMime(_ value: String) -> String {
        let type = String(value.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$&-^_.+/".utf8)
        let parts = type.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, type.utf8.allSatisfy(allowed.contains) else {
            return ""
        }
        return type
    }
}
