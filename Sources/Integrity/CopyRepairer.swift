import AssetDedupCore
import BlobProtocols
import Foundation
import Logging
import Providers
import StoreProtocols

/// `verify --repair`: makes what `CopyVerifier` found missing or corrupt true again, never with
/// bytes whose SHA-256 does not match.
/// - A provider copy: the bad copy is deleted where the adapter can (else a content-addressed
///   adapter would take a same-size wreck for the copy), the provider's records for that
///   content are forgotten and every asset holding it is queued for delivery, which serve's
///   workers (or `sync`) send from the blob.
/// - A blob: a provider copy that hashes right is fetched to a temp file, checked, and becomes the
///   blob again (the bad blob is removed first; a blob store keeps an existing blob on commit).
public struct CopyRepairer {
    public let store: any CopyChecks & DeliveryQueue
    public let blobs: any BlobStorage
    public let providers: ProviderConfig
    public let logger: Logger
    /// Where fetched copies are staged (this node's disk).
    public let scratch: String

    public init(
        store: any CopyChecks & DeliveryQueue, blobs: any BlobStorage, providers: ProviderConfig, scratch: String,
        logger: Logger
    ) {
        self.store = store
        self.blobs = blobs
        self.providers = providers
        self.scratch = scratch
        self.logger = logger
    }

    /// One repair, as `verify` prints it.
    public struct Action: Equatable, Sendable {
        public let check: CopyCheck
        public let done: Bool
        public let what: String
    }

    /// Repairs each problem: blobs first (provider copies are sent from the blob).
    public func repair(_ problems: [CopyCheck], copies: [SHA256Digest: [ProviderID: String]]) -> [Action] {
        let ordered = problems.filter { $0.location == "blob" } + problems.filter { $0.location != "blob" }
        return ordered.map { check in
            let action: Action
            do {
                action =
                    check.location == "blob"
                    ? try restoreBlob(check, copies: copies[check.sha256] ?? [:])
                    : try redeliver(check)
            } catch {
                action = Action(check: check, done: false, what: "not repaired: \(error)")
            }
            if action.done {
                logger.notice("repair \(check.sha256.hex) \(check.location): \(action.what)")
            } else {
                logger.error("repair \(check.sha256.hex) \(check.location): \(action.what)")
            }
            return action
        }
    }

    private func redeliver(_ check: CopyCheck) throws -> Action {
        let provider = try ProviderID(parsing: check.location)
        guard let adapter = providers.provider(provider) else {
            return Action(check: check, done: false, what: "provider '\(provider)' is not configured")
        }
        if check.state == .corrupt {
            guard adapter.canDelete else {
                return Action(
                    check: check, done: false,
                    what: "the corrupt copy cannot be deleted by a \(adapter.kind) provider; replace it by hand")
            }
            try adapter.delete(sha256: check.sha256, providerAssetID: "")
        }
        let assets = try store.forgetProviderCopies(sha256: check.sha256, provider: provider)
        for asset in assets { _ = try store.enqueueDelivery(asset: asset, provider: provider, retryNow: true) }
        return Action(
            check: check, done: true,
            what: "queued for delivery again (assets \(assets.map(\.description).joined(separator: ", ")))")
    }

    private func restoreBlob(_ check: CopyCheck, copies: [ProviderID: String]) throws -> Action {
        for (provider, providerAssetID) in copies.sorted(by: { $0.key < $1.key }) {
            guard let adapter = providers.provider(provider) else { continue }
            let path = "\(scratch)/restore-\(UUID().uuidString)"
            defer { unlink(path) }
            guard (try? adapter.fetchCopy(sha256: check.sha256, providerAssetID: providerAssetID, to: path)) == true,
                let (digest, _) = try? LocalFiles.sha256(ofFile: path), digest == check.sha256
            else { continue }
            if try blobs.contains(check.sha256) { try blobs.deleteBlob(check.sha256) }
            let restored = try blobs.ingest(existingFile: path)
            guard restored.digest == check.sha256 else { continue }
            return Action(check: check, done: true, what: "restored from \(provider)'s copy")
        }
        return Action(check: check, done: false, what: "no provider copy hashes right")
    }
}
