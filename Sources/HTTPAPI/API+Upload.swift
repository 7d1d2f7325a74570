import AssetDedupCore
import AssetStore
import BlobStore
import Foundation
import Providers

/// An upload whose bytes are hashed and committed to the blob store: what `completeUpload` needs.
struct CommittedUpload {
    let user: AuthenticatedUser
    let sha256: SHA256Digest
    let size: Int64
    let blobPath: String
    let provider: ProviderID
    let mimeType: String?
    let filename: String?
}

extension API {
    /// `POST /assets/upload`: stream, hash, store the blob once, then reuse / add provider /
    /// create. The provider upload runs outside any database transaction.
    func upload(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let boundary = MultipartUpload.boundary(contentType: request.headers["content-type"] ?? "") else {
            throw APIError.unsupportedMediaType("multipart/form-data with a boundary")
        }
        if let length = request.contentLength, length > limits.maxUploadBytes {
            throw APIError.tooLarge("uploads are limited to \(limits.maxUploadBytes) bytes")
        }
        let multipart = MultipartUpload(boundary: boundary, blobs: blobs)
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
        if let claimed, claimed != digest {
            throw APIError(
                status: 422, code: "sha256_mismatch",
                message: "the file's sha256 is \(digest.hex), not the \(claimed.hex) that was sent; nothing was kept")
        }
        let blobPath = try blobs.commit(file.writer, as: digest)
        return try completeUpload(
            CommittedUpload(
                user: user, sha256: digest, size: file.writer.size, blobPath: blobPath, provider: provider,
                mimeType: file.contentType.map(Self.cleanMime), filename: file.filename.map(Self.cleanFilename)),
            request: request)
    }

    /// The shared second half of every upload path (multipart, resumable): the blob is in the
    /// store; find or create the user's asset row, then put it on the provider unless it is there.
    /// Answers with the upload JSON (201 when the row was created).
    func completeUpload(_ upload: CommittedUpload, request: HTTPRequest) throws -> HTTPResponse {
        let user = upload.user
        let provider = upload.provider
        let digest = upload.sha256
        let blobPath = upload.blobPath
        let (asset, created) = try store.findOrCreateAsset(
            NewAsset(
                userID: user.userID, sha256: digest, size: upload.size, mimeType: upload.mimeType,
                originalFilename: upload.filename, providerID: provider))

        return try uploadLocks.withLock(asset: asset.id, provider: provider) {
            // Re-read under the lock: a concurrent upload may have just put it on the provider.
            let current = try store.asset(id: asset.id, user: user.userID) ?? asset
            if case .reuse = DedupDecision.decide(existing: current, provider: provider) {
                return .json(UploadResult(asset: current, status: created ? .created : .reused, provider: provider))
            }
            let adapter = providers.provider(provider)!
            // The lock covers this process only; the claim row covers `sync` and other nodes.
            if let recorded = try claim(current, on: adapter) {
                let updated = try store.asset(id: recorded, user: user.userID) ?? current
                return .json(UploadResult(asset: updated, status: created ? .created : .reused, provider: provider))
            }
            let blob = BlobReference(
                path: blobPath, sha256: digest, size: current.size, filename: current.originalFilename,
                mimeType: current.mimeType)
            let providerAssetID: String
            do {
                providerAssetID = try adapter.upload(blob)
            } catch {
                try? store.releaseClaim(asset: current.id, provider: provider)
                guard let error = error as? ProviderError else { throw error }
                logger.warning("upload of asset \(current.id) to \(provider) failed: \(error.message)")
                throw APIError(
                    status: 502, code: "provider_failed",
                    message:
                        "provider \(provider) failed: \(error.message); the asset is kept (id \(current.id)), upload again to retry",
                    retryable: error.retryable)
            }
            try store.recordUpload(asset: current.id, provider: provider, providerAssetID: providerAssetID)
            let updated = try store.asset(id: current.id, user: user.userID) ?? current
            return .json(
                UploadResult(asset: updated, status: created ? .created : .addedProvider, provider: provider),
                status: created ? 201 : 200)
        }
    }

    /// Who claims uploads from this process, as stored in `provider_upload_claims`.
    static let claimOwner = "api pid \(getpid())"

    /// Claims the asset's upload to `adapter`; nil when this request may send it, the asset's
    /// id when someone else recorded it (at once or while we waited). Another process holding
    /// a fresh claim is waited for, polling every 100 ms, up to `limits.claimWaitSeconds`; then
    /// 409 `upload_in_progress` (retryable), the asset kept. A stale claim (its holder died) is
    /// taken over by `claimUpload` itself.
    func claim(_ asset: Asset, on adapter: any Provider) throws -> AssetID? {
        let staleAfter = adapter.claimStaleSeconds
        let deadline = ContinuousClock.now + .milliseconds(Int64(limits.claimWaitSeconds * 1000))
        while true {
            switch try store.claimUpload(
                asset: asset.id, provider: adapter.id, owner: Self.claimOwner, staleAfter: staleAfter)
            {
            case .claimed:
                return nil
            case .alreadyUploaded:
                return asset.id
            case .claimedElsewhere(let by, let since):
                guard ContinuousClock.now < deadline else {
                    throw APIError(
                        status: 409, code: "upload_in_progress",
                        message:
                            "\(by) has been uploading this file to \(adapter.id) since \(since); the asset is kept (id \(asset.id)), upload again shortly to get its provider id",
                        retryable: true)
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    /// A client file name as a name, not a path; at most 255 characters, no control characters.
    static func cleanFilename(_ name: String) -> String {
        let base = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(
            base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init).prefix(255))
    }

    /// A MIME type as `type/subtype` in lower case, parameters dropped.
    static func cleanMime(_ value: String) -> String {
        String(value.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }
}
