import ArgumentParser
import AssetDedupCore
import BlobStore
import Delivery
import FastCGIServer
import Foundation
import HTTPAPI
import Integrity
import Logging
import MediaFingerprinter
import Metrics
import Providers
import StoreProtocols

/// `assetdedup serve`: the FastCGI app behind nginx.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the HTTP API over FastCGI (behind nginx).")
    @OptionGroup var options: StoreOptions
    @OptionGroup var blobOptions: BlobOptions
    @Option(help: "Unix socket path to listen on (default var/assetdedup.sock).") var socket: String?
    @Option(help: "Listen on HOST:PORT (TCP) instead of a unix socket, e.g. 127.0.0.1:9000.") var listen: String?
    @Option(help: "Worker threads (each with its own database connection).") var threads: Int =
        max(8, ProcessInfo.processInfo.activeProcessorCount * 4)
    @Option(help: "Data folder holding blobs/ and tmp/.") var data: String = "var"
    @Flag(inversion: .prefixedNo, help: "Compute perceptual fingerprints of uploads (near-duplicates).")
    var fingerprints = true
    @Option(help: "Provider config file (JSON); default: two directory providers under <data>/providers.")
    var config: String?
    @Option(help: "Largest upload body accepted, in bytes.") var maxUploadBytes: Int64 = 8 << 30
    @Option(help: "How long a request waits for another writer's database lock before answering 503, in ms.")
    var busyTimeoutMs: Int32 = 5_000
    @Option(help: "Delivery worker threads pushing uploads to providers (each with its own database connection).")
    var deliveryWorkers: Int = 2
    @Option(help: "How long an upload waits for its delivery before answering 202 queued, in seconds.")
    var deliveryWaitSeconds: Double = 30
    @Option(
        help:
            "How long an upload of a video waits for its fingerprint (made in the background) before answering without it, in seconds."
    )
    var fingerprintWaitSeconds: Double = 10
    @Option(help: "Resumable uploads idle longer than this many hours expire and are removed.")
    var uploadExpiryHours: Double = 24
    @Option(
        help: "Trashed assets are purged after this many days (their provider copies per each provider's on_delete).")
    var trashDays: Double = 30

    @Option(
        help:
            "Run the integrity job every this many minutes: verify what is due, repair it through the delivery queue, queue deliveries up to min_copies (0, the default: off)."
    ) var integrityEveryMinutes: Double = 0
    @Option(help: "The integrity job reads at most this many MB a second.") var integrityLimitRate: Double = 50
    @Option(help: "The integrity job checks at most this much content a round (its pass goes on next round).")
    var integrityBatch: Int = 10_000

    @Option(
        help:
            "Folder where nginx buffers upload bodies (nginx-config --body-temp); the app reads them there by path. Default <data>/nginx/client_body."
    ) var requestBodyDir: String?

    func validate() throws {
        if socket != nil && listen != nil { throw ValidationError("give --socket or --listen, not both") }
        if !(1...512).contains(threads) { throw ValidationError("--threads must be 1 to 512, got \(threads)") }
        if maxUploadBytes < 1 { throw ValidationError("--max-upload-bytes must be positive") }
        if !(0...600_000).contains(busyTimeoutMs) { throw ValidationError("--busy-timeout-ms must be 0 to 600000") }
        if !(1...64).contains(deliveryWorkers) {
            throw ValidationError("--delivery-workers must be 1 to 64, got \(deliveryWorkers)")
        }
        if !(0...600).contains(deliveryWaitSeconds) {
            throw ValidationError("--delivery-wait-seconds must be 0 to 600")
        }
        if !(0...120).contains(fingerprintWaitSeconds) {
            throw ValidationError("--fingerprint-wait-seconds must be 0 to 120")
        }
        if !(uploadExpiryHours > 0) { throw ValidationError("--upload-expiry-hours must be positive") }
        if !(trashDays >= 0) { throw ValidationError("--trash-days must be 0 or more") }
        if !(integrityEveryMinutes >= 0) { throw ValidationError("--integrity-every-minutes must be 0 or more") }
        if !(integrityLimitRate > 0) { throw ValidationError("--integrity-limit-rate must be a positive MB/s") }
        if integrityBatch < 1 { throw ValidationError("--integrity-batch must be positive") }
    }

    func run() throws {
        let logger: Logger = {
            var logger = Logger(label: "assetdedup.serve")
            logger.logLevel = .info
            return logger
        }()
        let address = try ListenAddress(parsing: listen ?? socket ?? "\(data)/assetdedup.sock")
        let store = try options.openMigratedStore()
        let openStore = try options.makeOpener(busyTimeoutMilliseconds: busyTimeoutMs)
        // Shared with other serve processes on a SQLite file; `restore` needs it exclusively.
        let serveLock: FileLock? =
            if case .sqlite(let path) = options.location {
                try FileLock.serve(databasePath: path, exclusive: false)
            } else { nil }
        defer { withExtendedLifetime(serveLock) {} }
        let blobs = try blobOptions.open(dataDirectory: data)
        // Every upload is staged under <data>/tmp, whatever the blob storage.
        let swept = try BlobStore(dataDirectory: data).sweepTempFiles()
        if swept > 0 { logger.notice("removed \(swept) stale temp file(s) left by an earlier crash") }
        let providers =
            try config.map { try ProviderConfig(contentsOf: $0) } ?? ProviderConfig.defaults(dataDirectory: data)
        let metrics = Metrics(routes: API.routes.labels, serveThreads: threads)
        let uploadSweep = UploadSessionSweep(blobs: blobs, expirySeconds: uploadExpiryHours * 3600)
        let trash = TrashRetention(
            purger: AssetPurger(providers: providers, metrics: metrics, logger: logger), seconds: trashDays * 86400)
        try Self.sweep(uploadSweep, trash: trash, store: store, logger: logger)
        Self.startPeriodicSweep(uploadSweep, trash: trash, openStore: openStore, logger: logger)
        for case let directory as DirectoryProvider in providers.providers {
            try? FileManager.default.createDirectory(atPath: directory.root, withIntermediateDirectories: true)
        }
        let limits = {
            var limits = APILimits(maxUploadBytes: maxUploadBytes)
            limits.deliveryWaitSeconds = deliveryWaitSeconds
            limits.fingerprintWaitSeconds = fingerprintWaitSeconds
            limits.uploadExpirySeconds = uploadExpiryHours * 3600
            return limits
        }()
        let bodyDirectory = requestBodyDir ?? "\(data)/nginx/client_body"
        try? FileManager.default.createDirectory(atPath: bodyDirectory, withIntermediateDirectories: true)
        let bodyFiles = RequestBodyFiles(directory: bodyDirectory)
        // nginx's folder cannot be known from here, but one serve cannot use is a sure mismatch.
        if let problem = RequestBodyFiles.problem(directory: bodyDirectory) {
            logger.warning(
                "request body folder \(bodyDirectory) \(problem): every upload will answer 503 request_body_unavailable; give --request-body-dir the folder of nginx's client_body_temp_path (nginx-config --body-temp)"
            )
        }
        let fingerprinter: (any MediaFingerprinting)? = fingerprints ? MediaFingerprinter() : nil
        // Videos are fingerprinted one at a time on a thread of their own, off the request threads.
        let backgroundFingerprints = fingerprinter.map { fingerprinter in
            let background = BackgroundFingerprints()
            background.start(fingerprinter: fingerprinter, blobs: blobs, openStore: openStore, logger: logger)
            return background
        }
        defer { backgroundFingerprints?.stop() }
        // Review pages' thumbnails, kept by content on this node (a cache: safe to delete).
        let thumbnails = ThumbnailCache(directory: "\(data)/thumbnails", maker: ImageThumbnailMaker())
        // nginx deletes its body files itself; only a killed nginx leaves some behind.
        let staleBodies = bodyFiles.sweep(olderThan: 6 * 3600)
        if staleBodies > 0 { logger.notice("removed \(staleBodies) request body file(s) a killed nginx left") }
        // One hub per process: request threads wake the workers, workers wake waiting requests.
        let hub = DeliveryHub(serveThreads: threads)
        // One set of metrics per process, shared by request threads and delivery workers.
        let pool = try DeliveryPool(
            count: deliveryWorkers,
            runner: DeliveryRunner(
                providers: providers, blobs: blobs, hub: hub, metrics: metrics, logger: logger),
            openStore: openStore)
        pool.start()
        if integrityEveryMinutes > 0 {
            var options = CopyVerifier.Options()
            options.limit = integrityBatch
            IntegrityJob.start(
                every: integrityEveryMinutes * 60,
                round: IntegrityRound(
                    blobs: blobs, providers: providers, options: options,
                    bytesPerSecond: integrityLimitRate * 1_000_000, scratch: "\(data)/tmp", metrics: metrics,
                    logger: logger),
                openStore: openStore, logger: logger)
        }
        defer {
            if !pool.stop(waitingAtMost: 5) {
                logger.notice("delivery workers still inside a provider call; their jobs resume after a restart")
            }
        }
        let server = try FastCGIServer(address: address)
        try server.run(
            threads: threads,
            makeResponder: { _ in
                APIResponder(
                    api: API(
                        store: try openStore(), blobs: blobs, providers: providers, deliveries: hub, limits: limits,
                        bodyFiles: bodyFiles, metrics: metrics, fingerprinter: fingerprinter,
                        backgroundFingerprints: backgroundFingerprints, thumbnails: thumbnails, logger: logger))
            },
            log: { logger.notice("\($0)") },
            // Requests waiting for a delivery answer (202 if still queued) before the grace ends.
            onStop: { grace in hub.drain(by: Date().addingTimeInterval(max(grace - 2, 0))) })
        logger.notice("stopped")
    }

    /// One sweep of expired resumable uploads, logged when it removed something.
    /// An unreachable blob storage does not stop serve: checks still work, and the next
    /// periodic sweep tries again.
    static func sweep(_ sweep: UploadSessionSweep, trash: TrashRetention, store: any APIStore, logger: Logger) throws {
        let purged = try trash.purger.purgeTrash(olderThanSeconds: trash.seconds, store: store)
        if purged.purged + purged.deferred > 0 {
            logger.notice(
                "purged \(purged.purged) asset(s) trashed over \(trash.seconds / 86400) days ago (\(purged.deferred) deferred: delivery in progress)"
            )
        }
        let outcome: UploadSessionSweep.Outcome
        do {
            outcome = try sweep.run(store: store)
        } catch let error as BlobStorageUnavailable {
            logger.warning("upload sweep skipped: \(error)")
            return
        }
        if outcome.sessions + outcome.orphanFiles > 0 {
            logger.notice(
                "removed \(outcome.sessions) expired resumable upload(s) and \(outcome.orphanFiles) orphan partial file(s)"
            )
        }
    }

    /// Sweeps again every tenth of the expiry window (at most hourly) on a background thread
    /// with its own connection, so no request thread pays for it.
    static func startPeriodicSweep(
        _ sweep: UploadSessionSweep, trash: TrashRetention, openStore: @escaping StoreOpener, logger: Logger
    ) {
        let interval = min(sweep.expirySeconds / 10, 3600)
        let thread = Thread {
            guard let store = try? openStore() else { return }
            while true {
                Thread.sleep(forTimeInterval: interval)
                do { try Self.sweep(sweep, trash: trash, store: store, logger: logger) } catch {
                    logger.warning("resumable upload sweep failed: \(error)")
                }
            }
        }
        thread.name = "upload-sweep"
        thread.start()
    }
}

/// serve's trash retention: assets trashed longer than `seconds` are purged by each sweep.
struct TrashRetention: Sendable {
    let purger: AssetPurger
    let seconds: Double
}
