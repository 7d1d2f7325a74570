import ArgumentParser
import AssetDedupCore
import Delivery
import Foundation
import Integrity
import Logging
import StoreProtocols

/// `assetdedup verify`: re-reads blobs and provider copies and records what it finds. Exit 0
/// when all is well, 1 when a copy is missing or corrupt or content is below `min_copies`, 3
/// when nothing is wrong but some copy could not be reached (for cron).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Re-read and re-hash blobs and provider copies; record each copy's state; exit 1 on a missing or corrupt copy.",
        discussion: """
            Blobs are hashed whole (streamed from a bucket); directory providers' copies are hashed; \
            s3 providers' are checked by HEAD (size), or read and hashed with --deep; http \
            providers' are asked at their presence_url, else unverifiable. Verdicts are kept \
            (copy_checks). A run without --since/--sample/--provider belongs to a pass: a run cut \
            short (--limit, a kill) is continued by the next one. Exit status: 0 all good, 1 a copy \
            missing or corrupt or content below min_copies, 3 only unreachable copies.
            """)
    @OptionGroup var options: StoreOptions
    @OptionGroup var blobOptions: BlobOptions
    @OptionGroup var providerOptions: ProviderOptions
    @Option(help: "Skip content whose blob was checked within this many hours.") var since: Double?
    @Option(help: "Check at most this many pieces of content.") var limit: Int?
    @Option(help: "Only this provider's copies (blobs are always checked).") var provider: String?
    @Option(help: "Check this percentage of the content that is due, picked at random (e.g. 5%).") var sample: String?
    @Option(help: "Read at most this many MB (10^6 bytes) a second.") var limitRate: Double?
    @Flag(help: "Download and hash s3 providers' objects instead of comparing their size.") var deep = false
    @Flag(help: "Print every verdict, not only problems.") var verbose = false
    @Flag(help: "Print progress to stderr every few seconds (default when stderr is a terminal).") var progress = false
    @Flag(
        help:
            "Repair what is missing or corrupt: provider copies are queued for delivery again (serve sends them), blobs restored from a provider copy that hashes right, content below min_copies queued to providers that lack it."
    ) var repair = false

    /// `--sample` as a percentage in (0, 100].
    var samplePercent: Double? {
        sample.flatMap { Double($0.hasSuffix("%") ? String($0.dropLast()) : $0) }
    }

    func validate() throws {
        if let since, !(since >= 0) { throw ValidationError("--since must be 0 or more hours") }
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
        if sample != nil, !(samplePercent.map { $0 > 0 && $0 <= 100 } ?? false) {
            throw ValidationError("--sample must be a percentage above 0 and at most 100, like 5%")
        }
        if let limitRate, !(limitRate > 0) { throw ValidationError("--limit-rate must be a positive MB/s") }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let providers = try providerOptions.loadProviders()
        // One verify at a time on the database (serve's integrity job takes the same lease).
        let lease = try CommandLease(
            name: "verify", what: "verify", owner: LeaseOwner(role: "verify"), store: store,
            open: options.makeOpener())
        defer { lease.release() }
        var settings = CopyVerifier.Options()
        settings.deep = deep
        settings.provider = try provider.map { try providers.requireProvider($0).id }
        settings.since = since.map { Date().addingTimeInterval(-$0 * 3600) }
        settings.limit = limit
        settings.samplePercent = samplePercent
        settings.pacer = limitRate.map { ReadPacer(bytesPerSecond: $0 * 1_000_000) }
        let verifier = CopyVerifier(
            store: store, blobs: try blobOptions.open(dataDirectory: providerOptions.data, readOnly: true),
            providers: providers, options: settings)
        let meter = ProgressMeter(enabled: progress || isatty(2) == 1)
        let summary = try verifier.run(
            report: { check in
                guard verbose || check.state != .ok else { return }
                print(
                    "\(check.state.rawValue): \(check.sha256.hex) \(check.location)\(check.detail.map { " (\($0))" } ?? "")"
                )
            }, progress: meter.update)
        let counts = CopyCheck.State.allCases.map { "\($0.rawValue) \(summary.counts[$0] ?? 0)" }.joined(
            separator: ", ")
        var pass = ""
        if let started = summary.continuedPass { pass += "; continued the pass begun \(started)" }
        if summary.finishedPass { pass += "; pass finished" }
        let megabytes = String(format: "%.1f", Double(summary.bytes) / 1e6)
        print("verify: \(summary.content) content checked (\(megabytes) MB read); copies: \(counts)\(pass)")

        var logger = Logger(label: "assetdedup.verify")
        logger.logLevel = .critical  // every action is printed below
        var repairs = 0
        if repair {
            // Every known problem, an interrupted run's included: the pass it continued skips those.
            let blobs = try blobOptions.open(dataDirectory: providerOptions.data)
            let scratch = "\(providerOptions.data)/tmp"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let actions = try CopyRepairer(
                store: store, blobs: blobs, providers: providers, scratch: scratch, logger: logger
            ).repairKnownProblems()
            repairs = actions.count
            for action in actions {
                print(
                    "\(action.done ? "repaired" : "NOT repaired"): \(action.check.sha256.hex) \(action.check.location): \(action.what)"
                )
            }
        }
        let short = try MinimumCopies(minCopies: providers.minCopies, providers: providers)
            .enforce(store: store, queue: repair)
        for shortfall in short {
            let held = shortfall.content.goodCopies.map(\.rawValue).joined(separator: ", ")
            let queued =
                shortfall.queued.isEmpty
                ? "" : "; queued to \(shortfall.queued.map(\.rawValue).joined(separator: ", "))"
            let left = shortfall.stillShort > 0 && repair ? "; \(shortfall.stillShort) short with no provider left" : ""
            print(
                "below minimum copies: \(shortfall.content.sha256.hex) \(shortfall.content.goodCopies.count) of \(providers.minCopies) (\(held.isEmpty ? "none" : held))\(queued)\(left)"
            )
        }
        // Repaired or not, what was found is the exit status: cron mails the run that found it.
        if summary.failed || repairs > 0 || !short.isEmpty { throw ExitCode.failure }
        if summary.unreachable { throw ExitCode(3) }
    }
}

/// `--progress`: one line to stderr at most every 5 s (content, bytes, rate).
final class ProgressMeter {
    let enabled: Bool
    private let start = Date()
    private var last = Date()

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ summary: CopyVerifier.Summary) {
        guard enabled, Date().timeIntervalSince(last) >= 5 else { return }
        last = Date()
        let seconds = max(last.timeIntervalSince(start), 0.001)
        let line = String(
            format: "verify: %d content, %.1f MB read, %.1f MB/s\n", summary.content, Double(summary.bytes) / 1e6,
            Double(summary.bytes) / 1e6 / seconds)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
