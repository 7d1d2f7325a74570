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

    /// Every copy whose last check found it missing or corrupt (this run's findings, and an
    /// interrupted run's), with the provider copies recorded for its content.
    public func knownProblems() throws -> (problems: [CopyCheck], copies: [SHA256Digest: [ProviderID: String]]) {
        var problems: [CopyCheck] = []
        try store.forEachCopyProblem(limit: nil) { check in
            if check.state == .missing || check.state == .corrupt { problems.append(check) }
        }
        var copies: [SHA256Digest: [ProviderID: String]] = [:]
        for sha256 in Set(problems.map(\.sha256)) { copies[sha256] = try store.storedContent(sha256)?.copies ?? [:] }
        return (problems, copies)
    }

    /// Repairs every known problem (`knownProblems`).
    public func repairKnownProblems() throws -> [Action] {
        let known = try knownProblems()
        return repair(known.problems, copies: known.copies)
    }

    /// One repair, as `verify` prints it.
    public struct Action: Equatable, Sendable {
        public let check: CopyCheck
        public let done: Bool
        public let what: String
    }

    /// Repairs each problem: blobs first (provider copies are sent from the blob). Content whose
    /// blob is bad and could not be restored is left as it is, its provider copies included:
    /// deleting a bad copy would leave nothing to send a good one from. Each action is logged
    /// and kept in the store (`copy_repairs`).
    public func repair(_ problems: [CopyCheck], copies: [SHA256Digest: [ProviderID: String]]) -> [Action] {
        let ordered = problems.filter { $0.location == "blob" } + problems.filter { $0.location != "blob" }
        var lost = Set<SHA256Digest>()
        return ordered.map { check in
            let action: Action
            do {
                if check.location == "blob" {
                    action = try restoreBlob(check, copies: copies[check.sha256] ?? [:])
                    if !action.done { lost.insert(check.sha256) }
                } else if lost.contains(check.sha256) {
                    action = Action(
                        check: check, done: false,
                        what: "left as it is: the blob is bad too and no provider copy hashes right")
                } else {
                    action = try redeliver(check)
                }
            } catch {
                action = Action(check: check, done: false, what: "not repaired: \(error)")
            }
            if action.done {
                logger.notice("repair \(check.sha256.hex) \(check.location): \(action.what)")
            } else {
                logger.error("repair \(check.sha256.hex) \(check.location): \(action.what)")
            }
            do {
                try store.recordRepair(
                    CopyRepair(
                        sha256: check.sha256, location: check.location, done: action.done, what: action.what,
                        repairedAt: Timestamp.string(Date())))
            } catch {
                logger.error("repair \(check.sha256.hex) \(check.location): not recorded: \(error)")
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
            // Hashed right on the way in: the blob is verified again.
            try store.recordCopyCheck(
                CopyCheck(
                    sha256: check.sha256, location: "blob", state: .ok, detail: "restored from \(provider)",
                    checkedAt: Timestamp.string(Date())))
            return Action(check: check, done: true, what: "restored from \(provider)'s copy")
        }
        return Action(check: check, done: false, what: "no provider copy hashes right")
    }
}
