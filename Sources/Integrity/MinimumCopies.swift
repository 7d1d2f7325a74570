import AssetDedupCore
import Foundation
import Providers
import StoreProtocols

/// The minimum-copies policy (config `min_copies`, git-annex's numcopies): live content should
/// be on at least that many providers with a good copy. `verify --repair`, `sync` and serve's
/// repair job call `enforce`, which queues deliveries (sent by the delivery queue's workers)
/// to configured providers that lack the content and accept its type, in config order.
public struct MinimumCopies {
    public let minCopies: Int
    public let providers: ProviderConfig

    public init(minCopies: Int, providers: ProviderConfig) {
        self.minCopies = minCopies
        self.providers = providers
    }

    /// One piece of content below the minimum and what was queued for it.
    public struct Shortfall: Equatable, Sendable {
        public let content: UnderReplicated
        /// Providers a delivery was queued to.
        public let queued: [ProviderID]
        /// Copies it will still lack with those delivered (no provider left to send to).
        public let stillShort: Int
    }

    /// Providers that could take `content`: configured, accepting its type, without a good copy,
    /// in config order.
    public func candidates(for content: UnderReplicated) -> [ProviderID] {
        providers.providers.map(\.id).filter { id in
            !content.goodCopies.contains(id) && providers.policy(id).accepts(content.mimeType)
        }
    }

    /// Lists live content below the minimum (up to `limit`) and, when `queue` is set, queues a
    /// delivery of its oldest live asset to as many candidates as it lacks. A candidate already
    /// recorded for that asset (a copy found bad: repair's business) is passed over.
    public func enforce(store: any CopyChecks & DeliveryQueue, queue: Bool, limit: Int = 10_000) throws -> [Shortfall] {
        guard minCopies > 0 else { return [] }
        var found: [Shortfall] = []
        var after: String?
        while found.count < limit {
            let batch = try store.contentBelowMinimum(
                minCopies: minCopies, after: after, limit: min(200, limit - found.count))
            guard let last = batch.last else { break }
            after = last.sha256.hex
            for content in batch {
                var needed = minCopies - content.goodCopies.count
                var queued: [ProviderID] = []
                if queue {
                    for provider in candidates(for: content) where needed > 0 {
                        guard case .pending = try store.enqueueDelivery(asset: content.asset, provider: provider)
                        else { continue }
                        queued.append(provider)
                        needed -= 1
                    }
                }
                found.append(Shortfall(content: content, queued: queued, stillShort: max(needed, 0)))
            }
        }
        return found
    }
}
