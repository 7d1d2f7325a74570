import ArgumentParser
import AssetDedupCore
import BlobStore
import Delivery
import Foundation
import Integrity
import Logging
import Providers
import StoreProtocols

/// `assetdedup sync --provider P`: push every asset the provider lacks (git-annex `copy --to`).
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Upload every asset missing on a provider; records each success at once, so a killed run resumes.")
    @OptionGroup var options: StoreOptions
    @OptionGroup var providerOptions: ProviderOptions
    @OptionGroup var blobOptions: BlobOptions
    @Option(help: "Provider id from the config.") var provider: String
    @Option(help: "Only this user's assets.") var user: String?
    @Flag(help: "List what would be uploaded; contact no provider, write nothing.") var dryRun = false
    @Option(help: "Uploads in flight at once (1-32).") var concurrency: Int = 2

    func validate() throws {
        guard (1...32).contains(concurrency) else {
            throw ValidationError("--concurrency must be 1 to 32, got \(concurrency)")
        }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let config = try providerOptions.loadProviders()
        let target = try config.requireProvider(provider)
        let owner = try user.map { try store.requireUser(named: $0).id }
        let blobs = try blobOptions.open(dataDirectory: providerOptions.data, readOnly: dryRun)
        let missing = try store.countMissing(on: target.id, user: owner)
        let unhashed = try store.countUnhashed(user: owner)
        var after: AssetID?
        let next = { () throws -> [SyncItem] in
            let page = try store.assetsMissing(on: target.id, user: owner, after: after, limit: 200)
            after = page.last?.id ?? after
            return page.map { asset in
                SyncItem(
                    assetID: asset.id, userID: asset.userID,
                    blob: BlobReference(
                        path: "", sha256: asset.sha256!, size: asset.size, filename: asset.originalFilename,
                        mimeType: asset.mimeType, object: blobs.remoteObject(for: asset.sha256!)))
            }
        }
        let out = SyncOutput(provider: target.id, isTTY: isatty(STDOUT_FILENO) == 1)
        if dryRun {
            var page = try next()
            while !page.isEmpty {
                for item in page {
                    let blobMissing = try blobs.contains(item.blob.sha256) ? "" : ", blob missing: would fail"
                    out.line(
                        "would upload asset \(item.assetID) (\(SyncProgress.bytes(item.blob.size)), sha256 \(item.blob.sha256.hex)\(blobMissing))"
                    )
                }
                page = try next()
            }
            out.line(
                "dry run: \(missing.count) assets, \(SyncProgress.bytes(missing.bytes)) would be uploaded to \(target.id)"
            )
            out.noteUnhashed(unhashed)
            try noteMinimumCopies(config, store: store, queue: false, out: out)
            return
        }
        let me = LeaseOwner(role: "sync-\(target.id)")
        let lease = try CommandLease(
            name: "sync:\(target.id)", what: "sync to \(target.id)", owner: me, store: store,
            open: options.makeOpener())
        defer { lease.release() }
        var failures: [(AssetID, String)] = []
        // Sync is a producer and a worker on serve's delivery queue: each missing asset is
        // enqueued and leased (one transaction) just before it is sent, so serve's workers
        // and sync never send one pair twice. Holding the lease proves no other sync to this
        // provider is alive: delivery leases of an earlier one are a killed run's, ended at once.
        let leftover = try LeaseOwner.expireLeasesOfDeadProcesses(in: store) { $0.role == me.role }
        if !leftover.isEmpty {
            out.line("note: took over the deliveries of \(leftover.joined(separator: ", ")), which did not finish")
        }
        let leaseOwner = me.description
        // The coordinator serve uses: outcomes are recorded (and retried) as serve records them.
        let runner = DeliveryRunner(
            providers: ProviderConfig(providers: [target]), blobs: blobs, hub: DeliveryHub(),
            logger: Self.quietLogger)
        var leased: [AssetID: Delivery] = [:]
        let job = SyncJob(provider: target, concurrency: concurrency, files: StoredBlobFiles(blobs: blobs))
        let result = try job.run(
            total: SyncProgress(totalCount: missing.count, totalBytes: missing.bytes), next: next,
            claim: { item in
                switch try store.leaseDelivery(
                    asset: item.assetID, provider: target.id, owner: leaseOwner, leaseSeconds: target.leaseSeconds)
                {
                case .leased(let delivery):
                    leased[item.assetID] = delivery
                    return .send(idempotencyKey: delivery.idempotencyKey)
                case .alreadyDelivered(let id): return .recordedMeanwhile(providerAssetID: id)
                case .heldElsewhere(let delivery): return .claimedElsewhere(by: delivery.leaseOwner ?? "another sender")
                }
            },
            record: { item, id in
                guard let delivery = leased.removeValue(forKey: item.assetID) else { return }
                if case .unrecorded = runner.record(.success(id), of: delivery, owner: leaseOwner, store: store) {
                    throw CLIError("could not record asset \(item.assetID) on \(target.id) in the database")
                }
            },
            release: { item, reason, retryable in
                guard let delivery = leased.removeValue(forKey: item.assetID) else { return }
                let error = ProviderError(provider: target.id, retryable: retryable, message: reason, attempts: 0)
                runner.record(.failure(error), of: delivery, owner: leaseOwner, store: store)
            },
            report: { progress, item, outcome in
                if let item, let outcome, case .failed(let reason, _) = outcome {
                    failures.append((item.assetID, reason))
                }
                out.progress(progress, item: item, outcome: outcome)
            })
        out.summary(result, failures: failures)
        out.noteUnhashed(unhashed)
        try noteMinimumCopies(config, store: store, queue: true, out: out)
        if result.failed > 0 { throw ExitCode.failure }
    }

    /// `min_copies`: content still below it after this sync is queued for delivery to the other
    /// providers that lack it (serve's workers send it), or, on a dry run, only counted.
    func noteMinimumCopies(_ config: ProviderConfig, store: any AssetDedupStore, queue: Bool, out: SyncOutput) throws {
        let short = try MinimumCopies(minCopies: config.minCopies, providers: config).enforce(
            store: store, queue: queue)
        guard !short.isEmpty else { return }
        let queued = short.reduce(0) { $0 + $1.queued.count }
        out.line(
            "below minimum copies (\(config.minCopies)): \(short.count) content"
                + (queue ? "; \(queued) deliveries queued to providers that lack it" : ""))
    }

    /// Sync prints every outcome itself; the runner's log lines would repeat them.
    static let quietLogger: Logger = {
        var logger = Logger(label: "assetdedup.sync")
        logger.logLevel = .critical
        return logger
    }()
}
