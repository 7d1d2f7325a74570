import AssetDedupCore
import BlobProtocols
import Foundation
import Providers
import StoreProtocols

/// `assetdedup verify` (issue 24): re-reads stored content, the blob and each provider copy
/// assets record, and keeps each copy's verdict in the store (`copy_checks`). Incremental:
/// content whose blob was checked since `since` is skipped, so a run cut short and started
/// again goes on where it stopped, and a nightly run with `--since 24` checks what is due.
public struct CopyVerifier {
    public let store: any CopyChecks
    public let blobs: any BlobStorage
    public let providers: ProviderConfig
    /// Download whole objects from S3 providers (a `HEAD` of size otherwise).
    public let deep: Bool
    /// Only this provider's copies (the blob is still checked: repairs start from it).
    public let provider: ProviderID?

    public init(
        store: any CopyChecks, blobs: any BlobStorage, providers: ProviderConfig, deep: Bool = false,
        provider: ProviderID? = nil
    ) {
        self.store = store
        self.blobs = blobs
        self.providers = providers
        self.deep = deep
        self.provider = provider
    }

    /// What a run found.
    public struct Summary: Equatable, Sendable {
        public var content = 0
        public var counts: [CopyCheck.State: Int] = [:]
        /// Copies found missing or corrupt (the exit status says so).
        public var problems: [CopyCheck] = []
        /// The provider copies recorded for the content with problems (what a repair starts from).
        public var copies: [SHA256Digest: [ProviderID: String]] = [:]

        public var failed: Bool { !problems.isEmpty }
    }

    /// Checks up to `limit` pieces of content not checked since `since`; `report` sees each verdict.
    public func run(since: Date?, limit: Int?, report: (CopyCheck) -> Void = { _ in }) throws -> Summary {
        var summary = Summary()
        var after: String?
        let cutoff = since.map(Timestamp.string)
        while limit.map({ summary.content < $0 }) ?? true {
            let batch = try store.contentToVerify(
                after: after, limit: min(200, (limit ?? .max) - summary.content), checkedSince: cutoff)
            guard let last = batch.last else { break }
            after = last.sha256.hex
            for content in batch {
                summary.content += 1
                for check in try verify(content) {
                    try store.recordCopyCheck(check)
                    summary.counts[check.state, default: 0] += 1
                    if check.state == .missing || check.state == .corrupt {
                        summary.problems.append(check)
                        summary.copies[content.sha256] = content.copies
                    }
                    report(check)
                }
            }
        }
        return summary
    }

    /// The verdicts on one piece of content: its blob, then each recorded provider copy.
    func verify(_ content: StoredContent) throws -> [CopyCheck] {
        let now = Timestamp.string(Date())
        func check(_ location: String, _ state: CopyCheck.State, _ detail: String? = nil) -> CopyCheck {
            CopyCheck(sha256: content.sha256, location: location, state: state, detail: detail, checkedAt: now)
        }
        var checks = [checkBlob(content, check)]
        for (id, providerAssetID) in content.copies.sorted(by: { $0.key < $1.key })
        where provider == nil || provider == id {
            guard let adapter = providers.provider(id) else {
                checks.append(check(id.rawValue, .unverifiable, "provider '\(id)' is not configured"))
                continue
            }
            switch adapter.verify(
                sha256: content.sha256, size: content.size, providerAssetID: providerAssetID, deep: deep)
            {
            case .ok: checks.append(check(id.rawValue, .ok))
            case .missing: checks.append(check(id.rawValue, .missing, "no copy at \(providerAssetID)"))
            case .corrupt(let detail): checks.append(check(id.rawValue, .corrupt, detail))
            case .unreachable(let detail): checks.append(check(id.rawValue, .unreachable, detail))
            case .unverifiable(let detail): checks.append(check(id.rawValue, .unverifiable, detail))
            }
        }
        return checks
    }

    private func checkBlob(_ content: StoredContent, _ check: (String, CopyCheck.State, String?) -> CopyCheck)
        -> CopyCheck
    {
        do {
            guard try blobs.contains(content.sha256) else { return check("blob", .missing, "no blob") }
            let (digest, size) = try blobs.withLocalFile(content.sha256) { try LocalFiles.sha256(ofFile: $0) }
            return digest == content.sha256
                ? check("blob", .ok, nil) : check("blob", .corrupt, "\(size) bytes hashing to \(digest.hex)")
        } catch {
            return check("blob", .unreachable, "\(error)")
        }
    }
}
