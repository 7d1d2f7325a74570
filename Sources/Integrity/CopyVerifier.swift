import AssetDedupCore
import BlobProtocols
import Foundation
import Providers
import StoreProtocols

/// `assetdedup verify` (issue 24): re-reads stored content, the blob and each provider copy
/// assets record, and keeps each copy's verdict in the store (`copy_checks`).
///
/// Incremental and checkpointed: a whole-store run belongs to a pass (`verify_passes`) that
/// checks content whose blob was not checked since the pass began; a run cut short (`--limit`,
/// a kill) leaves the pass open and the next run continues it; a pass that reaches the end is
/// finished, and the next run begins a new one. `--since`, `--sample` and `--provider` runs
/// are partial by design and neither continue nor finish a pass.
public struct CopyVerifier {
    /// What one run checks and how fast.
    public struct Options: Sendable {
        /// Read whole objects from S3 providers (a `HEAD` of size otherwise).
        public var deep = false
        /// Only this provider's copies (the blob is still checked: repairs start from it).
        public var provider: ProviderID?
        /// Skip content whose blob was checked at or after this time.
        public var since: Date?
        /// At most this many pieces of content.
        public var limit: Int?
        /// Check this percentage of the content that is due, picked at random (restic's
        /// `--read-data-subset`): a nightly sample finds rot without reading everything.
        public var samplePercent: Double?
        /// Paces reads (`--limit-rate`).
        public var pacer: ReadPacer?

        public init() {}

        /// Whether the run is a whole-store one that continues and finishes passes.
        var isWholePass: Bool { provider == nil && since == nil && samplePercent == nil }
    }

    /// The pass whole-store runs belong to.
    public static let passName = "all"

    public let store: any CopyChecks
    public let blobs: any BlobStorage
    public let providers: ProviderConfig
    public let options: Options
    /// The clock (stored timestamps); tests pass their own.
    public let now: () -> Date
    /// Whether a piece of content is in a sample of `percent`; tests pass a fixed choice.
    public let sample: (SHA256Digest, Double) -> Bool

    public init(
        store: any CopyChecks, blobs: any BlobStorage, providers: ProviderConfig, options: Options = Options(),
        now: @escaping () -> Date = Date.init,
        sample: @escaping (SHA256Digest, Double) -> Bool = { _, percent in Double.random(in: 0..<100) < percent }
    ) {
        self.store = store
        self.blobs = blobs
        self.providers = providers
        self.options = options
        self.now = now
        self.sample = sample
    }

    /// What a run found.
    public struct Summary: Equatable, Sendable {
        public var content = 0
        /// Bytes read and hashed (blobs, and provider copies read whole).
        public var bytes: Int64 = 0
        public var counts: [CopyCheck.State: Int] = [:]
        /// Copies found missing or corrupt (the exit status says so).
        public var problems: [CopyCheck] = []
        /// The provider copies recorded for the content with problems (what a repair starts from).
        public var copies: [SHA256Digest: [ProviderID: String]] = [:]
        /// The pass this run continued (its start), when it did not begin one.
        public var continuedPass: String?
        /// Whether this run reached the end of its pass.
        public var finishedPass = false

        public var failed: Bool { !problems.isEmpty }
        public var unreachable: Bool { (counts[.unreachable] ?? 0) > 0 }
    }

    /// Checks what is due; `report` sees each verdict, `progress` the running totals after each
    /// piece of content.
    public func run(report: (CopyCheck) -> Void = { _ in }, progress: (Summary) -> Void = { _ in }) throws -> Summary {
        var summary = Summary()
        var cutoff = options.since.map(Timestamp.string)
        if options.isWholePass {
            if let pass = try store.verifyPass(Self.passName), pass.finishedAt == nil {
                cutoff = pass.startedAt
                summary.continuedPass = pass.startedAt
            } else {
                let start = Timestamp.string(now())
                try store.startVerifyPass(Self.passName, at: start)
                cutoff = start
            }
        }
        // Checks made in this run are stamped strictly after the cut-off, even in its millisecond,
        // so the pass they belong to never takes them for older ones.
        let floor = cutoff.flatMap(Timestamp.date).map { $0.addingTimeInterval(0.001) }
        var after: String?
        var exhausted = false
        let limit = options.limit
        while limit.map({ summary.content < $0 }) ?? true {
            let batch = try store.contentToVerify(
                after: after, limit: min(200, (limit ?? .max) - summary.content), checkedSince: cutoff)
            guard let last = batch.last else {
                exhausted = true
                break
            }
            after = last.sha256.hex
            for content in batch {
                if let percent = options.samplePercent, !sample(content.sha256, percent) { continue }
                summary.content += 1
                let checks = try verify(content, notBefore: floor)
                try store.recordCopyChecks(checks.map(\.0))
                for (check, bytes) in checks {
                    summary.bytes += bytes
                    summary.counts[check.state, default: 0] += 1
                    if check.state == .missing || check.state == .corrupt {
                        summary.problems.append(check)
                        summary.copies[content.sha256] = content.copies
                    }
                    report(check)
                }
                progress(summary)
            }
        }
        if !exhausted, limit != nil {
            // Stopped by --limit exactly at the end: one more look says whether anything is left.
            exhausted = try store.contentToVerify(after: after, limit: 1, checkedSince: cutoff).isEmpty
        }
        if options.isWholePass && exhausted {
            try store.finishVerifyPass(Self.passName, at: Timestamp.string(now()))
            summary.finishedPass = true
        }
        return summary
    }

    /// The verdicts on one piece of content (its blob, then each recorded provider copy), each
    /// with the bytes read for it.
    func verify(_ content: StoredContent, notBefore floor: Date? = nil) throws -> [(CopyCheck, Int64)] {
        let stamp = Timestamp.string(max(now(), floor ?? .distantPast))
        func check(_ location: String, _ state: CopyCheck.State, _ detail: String? = nil) -> CopyCheck {
            CopyCheck(sha256: content.sha256, location: location, state: state, detail: detail, checkedAt: stamp)
        }
        var checks = [checkBlob(content, check)]
        for (id, providerAssetID) in content.copies.sorted(by: { $0.key < $1.key })
        where options.provider == nil || options.provider == id {
            guard let adapter = providers.provider(id) else {
                checks.append((check(id.rawValue, .unverifiable, "provider '\(id)' is not configured"), 0))
                continue
            }
            let verdict = adapter.verify(
                sha256: content.sha256, size: content.size, providerAssetID: providerAssetID, deep: options.deep)
            // What the adapter read whole (a folder always, s3 with --deep) counts against the rate.
            let read: Int64 =
                (adapter.kind == "directory" || (adapter.kind == "s3" && options.deep)) && verdict != .missing
                ? content.size : 0
            if read > 0 { options.pacer?.account(Int(read)) }
            switch verdict {
            case .ok: checks.append((check(id.rawValue, .ok), read))
            case .missing: checks.append((check(id.rawValue, .missing, "no copy at \(providerAssetID)"), 0))
            case .corrupt(let detail): checks.append((check(id.rawValue, .corrupt, detail), read))
            case .unreachable(let detail): checks.append((check(id.rawValue, .unreachable, detail), 0))
            case .unverifiable(let detail): checks.append((check(id.rawValue, .unverifiable, detail), 0))
            }
        }
        return checks
    }

    private func checkBlob(_ content: StoredContent, _ check: (String, CopyCheck.State, String?) -> CopyCheck)
        -> (CopyCheck, Int64)
    {
        do {
            guard try blobs.contains(content.sha256) else { return (check("blob", .missing, "no blob"), 0) }
            let (digest, size) = try blobs.hashBlob(content.sha256) { options.pacer?.account($0) }
            return digest == content.sha256
                ? (check("blob", .ok, nil), size)
                : (check("blob", .corrupt, "\(size) bytes hashing to \(digest.hex)"), size)
        } catch {
            return (check("blob", .unreachable, "\(error)"), 0)
        }
    }
}
