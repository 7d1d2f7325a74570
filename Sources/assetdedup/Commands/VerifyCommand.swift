import ArgumentParser
import AssetDedupCore
import Foundation
import Integrity
import Logging
import StoreProtocols

/// `assetdedup verify`: re-reads blobs and provider copies and records what it finds; exit 1
/// when a copy is missing or corrupt (for cron).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Re-read and re-hash blobs and provider copies; record each copy's state; exit 1 on a missing or corrupt copy.",
        discussion: """
            Blobs are hashed whole (downloaded from a bucket); directory providers' copies are hashed; \
            s3 providers' are checked by HEAD (size), or downloaded and hashed with --deep; http \
            providers' are unverifiable. Verdicts are kept (copy_checks): with --since, content \
            checked within that many hours is skipped, so an interrupted run goes on where it stopped.
            """)
    @OptionGroup var options: StoreOptions
    @OptionGroup var blobOptions: BlobOptions
    @OptionGroup var providerOptions: ProviderOptions
    @Option(help: "Skip content whose blob was checked within this many hours.") var since: Double?
    @Option(help: "Check at most this many pieces of content.") var limit: Int?
    @Option(help: "Only this provider's copies (blobs are always checked).") var provider: String?
    @Flag(help: "Download and hash s3 providers' objects instead of comparing their size.") var deep = false
    @Flag(help: "Print every verdict, not only problems.") var verbose = false
    @Flag(
        help:
            "Repair what is missing or corrupt: provider copies are queued for delivery again (serve sends them), blobs restored from a provider copy that hashes right."
    ) var repair = false

    func validate() throws {
        if let since, !(since >= 0) { throw ValidationError("--since must be 0 or more hours") }
        if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let providers = try providerOptions.loadProviders()
        let only = try provider.map { try providers.requireProvider($0).id }
        let verifier = CopyVerifier(
            store: store, blobs: try blobOptions.open(dataDirectory: providerOptions.data, readOnly: true),
            providers: providers, deep: deep, provider: only)
        let summary = try verifier.run(since: since.map { Date().addingTimeInterval(-$0 * 3600) }, limit: limit) {
            check in
            guard verbose || check.state != .ok else { return }
            print(
                "\(check.state.rawValue): \(check.sha256.hex) \(check.location)\(check.detail.map { " (\($0))" } ?? "")"
            )
        }
        let counts = CopyCheck.State.allCases.map { "\($0.rawValue) \(summary.counts[$0] ?? 0)" }.joined(
            separator: ", ")
        print("verify: \(summary.content) content checked; copies: \(counts)")
        guard summary.failed else { return }
        guard repair else { throw ExitCode.failure }
        var logger = Logger(label: "assetdedup.verify")
        logger.logLevel = .critical  // every action is printed below
        let blobs = try blobOptions.open(dataDirectory: providerOptions.data)
        let scratch = "\(providerOptions.data)/tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let actions = CopyRepairer(store: store, blobs: blobs, providers: providers, scratch: scratch, logger: logger)
            .repair(summary.problems, copies: summary.copies)
        for action in actions {
            print(
                "\(action.done ? "repaired" : "NOT repaired"): \(action.check.sha256.hex) \(action.check.location): \(action.what)"
            )
        }
        // Repaired or not, what was found is the exit status: cron mails the run that found it.
        throw ExitCode.failure
    }
}
