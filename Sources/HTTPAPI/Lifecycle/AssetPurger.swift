import AssetDedupCore
import Foundation
import Logging
import Metrics
import Providers
import StoreProtocols

/// Purges trashed assets: the row (and with it its provider records, deliveries and
/// fingerprints) in one transaction, then each provider copy no other asset holds, by the
/// provider's `on_delete`. The blob goes at the next `assetdedup gc` once nothing references it.
/// Shared by `DELETE /trash/{id}`, serve's retention sweep and `assetdedup trash purge`.
public struct AssetPurger: Sendable {
    public let providers: ProviderConfig
    public let metrics: Metrics
    public let logger: Logger

    public init(providers: ProviderConfig, metrics: Metrics = Metrics(), logger: Logger) {
        self.providers = providers
        self.metrics = metrics
        self.logger = logger
    }

    /// Purges one trashed asset.
    public func purge(_ id: AssetID, store: any AssetLifecycle) throws -> PurgeOutcome {
        let outcome = try store.purgeAsset(id: id, minCopies: providers.minCopies)
        guard case .purged(let purged) = outcome else { return outcome }
        metrics.lifecycle(.purged)
        logger.info(
            "purged asset \(id) (user \(purged.asset.userID), \(purged.asset.sha256?.hex ?? "no sha256"), \(purged.asset.size) bytes)"
        )
        guard let sha256 = purged.asset.sha256 else { return outcome }
        for (provider, live) in purged.keptForLive.sorted(by: { $0.key < $1.key }) {
            logger.info(
                "kept \(provider)'s copy of purged asset \(id): live asset \(live) has the content and too few other good copies"
            )
        }
        for (provider, providerAssetID) in purged.soleCopies.sorted(by: { $0.key < $1.key }) {
            guard providers.policy(provider).onDelete == .delete, let adapter = providers.provider(provider) else {
                continue
            }
            do {
                try adapter.delete(sha256: sha256, providerAssetID: providerAssetID)
                metrics.lifecycle(.providerCopyDeleted)
                logger.info("deleted \(provider)'s copy \(providerAssetID) of purged asset \(id) (on_delete: delete)")
            } catch {
                // The row is gone; the copy stays where it is, and the operator hears of it.
                logger.error("could not delete \(provider)'s copy \(providerAssetID) of purged asset \(id): \(error)")
            }
        }
        return outcome
    }

    /// What one retention sweep did.
    public struct Sweep: Equatable, Sendable {
        public var purged = 0
        /// Trashed assets whose delivery was in progress: the next sweep takes them.
        public var deferred = 0
    }

    /// Purges every asset trashed more than `seconds` ago, oldest first, in batches.
    @discardableResult
    public func purgeTrash(olderThanSeconds seconds: Double, store: any AssetLifecycle) throws -> Sweep {
        let cutoff = Timestamp.string(Date().addingTimeInterval(-max(seconds, 0)))
        var sweep = Sweep()
        var deferred = Set<AssetID>()
        while true {
            let batch = try store.trashedAssets(before: cutoff, limit: 200).filter { !deferred.contains($0) }
            if batch.isEmpty { break }
            for id in batch {
                switch try purge(id, store: store) {
                case .purged: sweep.purged += 1
                case .deliveryInProgress:
                    sweep.deferred += 1
                    deferred.insert(id)
                case .notTrashed, .notFound: break
                }
            }
        }
        return sweep
    }
}
