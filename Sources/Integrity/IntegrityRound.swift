import AssetDedupCore
import BlobProtocols
import Foundation
import Logging
import Metrics
import Providers
import StoreProtocols

/// One round of serve's background integrity job (`serve --integrity-every-minutes`, off by
/// default): verify what is due (a whole pass, continued across rounds), repair what was found
/// (bad copies queued through the delivery queue, which serve's workers send; bad blobs
/// restored from a good copy), then queue deliveries up to `min_copies`. Every outcome is
/// logged and counted in the metrics.
public struct IntegrityRound: Sendable {
    public let blobs: any BlobStorage
    public let providers: ProviderConfig
    /// What each round checks; `pacer` is ignored (each round paces itself afresh at
    /// `bytesPerSecond`, so idle hours between rounds are no licence to read in a burst).
    public let options: CopyVerifier.Options
    public let bytesPerSecond: Double?
    public let scratch: String
    public let metrics: Metrics
    public let logger: Logger

    public init(
        blobs: any BlobStorage, providers: ProviderConfig, options: CopyVerifier.Options, bytesPerSecond: Double?,
        scratch: String, metrics: Metrics, logger: Logger
    ) {
        self.blobs = blobs
        self.providers = providers
        self.options = options
        self.bytesPerSecond = bytesPerSecond
        self.scratch = scratch
        self.metrics = metrics
        self.logger = logger
    }

    /// What one round did.
    public struct Outcome: Equatable, Sendable {
        public var summary: CopyVerifier.Summary
        public var repaired = 0
        public var notRepaired = 0
        public var queuedForMinimum = 0
    }

    public func run(store: any CopyChecks & DeliveryQueue) throws -> Outcome {
        var options = options
        options.pacer = bytesPerSecond.map { ReadPacer(bytesPerSecond: $0) }
        let summary = try CopyVerifier(store: store, blobs: blobs, providers: providers, options: options).run(
            report: { check in
                metrics.integrity(Self.outcome(check.state))
                if check.state != .ok && check.state != .unverifiable {
                    logger.warning(
                        "verify: \(check.state.rawValue) \(check.sha256.hex) \(check.location)\(check.detail.map { " (\($0))" } ?? "")"
                    )
                }
            })
        var outcome = Outcome(summary: summary)
        do {
            let actions = try CopyRepairer(
                store: store, blobs: blobs, providers: providers, scratch: scratch, logger: logger
            ).repairKnownProblems()
            outcome.repaired = actions.filter(\.done).count
            outcome.notRepaired = actions.count - outcome.repaired
            metrics.integrity(.repaired, count: outcome.repaired)
            metrics.integrity(.notRepaired, count: outcome.notRepaired)
        }
        let short = try MinimumCopies(minCopies: providers.minCopies, providers: providers)
            .enforce(store: store, queue: true)
        outcome.queuedForMinimum = short.reduce(0) { $0 + $1.queued.count }
        metrics.integrity(.queuedForMinimum, count: outcome.queuedForMinimum)
        if !short.isEmpty {
            logger.notice(
                "integrity: \(short.count) content below min_copies \(providers.minCopies); \(outcome.queuedForMinimum) deliveries queued"
            )
        }
        return outcome
    }

    static func outcome(_ state: CopyCheck.State) -> Metrics.IntegrityOutcome {
        switch state {
        case .ok: .ok
        case .missing: .missing
        case .corrupt: .corrupt
        case .unreachable: .unreachable
        case .unverifiable: .unverifiable
        }
    }
}
