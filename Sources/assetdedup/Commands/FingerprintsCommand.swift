import ArgumentParser
import BlobStore
import Foundation
import HTTPAPI
import MediaFingerprinter
import StoreProtocols

/// `assetdedup fingerprints`: perceptual fingerprints of assets stored before they were computed.
struct FingerprintsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprints", abstract: "Perceptual fingerprints (near-duplicates).",
        subcommands: [Backfill.self])

    /// `fingerprints backfill`: every asset with content and no fingerprint row, in id order.
    struct Backfill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fingerprint assets that have none; resumable (a killed run continues with what is left).")
        @OptionGroup var options: StoreOptions
        @OptionGroup var blobOptions: BlobOptions
        @Option(help: "Data folder (blobs/, tmp/).") var data: String = "var"
        @Option(help: "Assets read per query, and a progress line after each batch.") var batch: Int = 100

        func validate() throws {
            guard (1...10_000).contains(batch) else {
                throw ValidationError("--batch must be 1 to 10000, got \(batch)")
            }
        }

        func run() throws {
            let store = try options.openMigratedStore()
            let blobs = try blobOptions.open(dataDirectory: data)
            let fingerprinter = MediaFingerprinter()
            let job = FingerprintBackfillJob(store: store, batchSize: batch) { row in
                try fingerprinter.fingerprint(blob: row.sha256, in: blobs)
            }
            // Unbuffered, one line a batch: a cron log or a watching process sees each as it happens.
            let out = FileHandle.standardOutput
            let summary = try job.run { out.write(Data((Self.line($0) + "\n").utf8)) }
            var report = "fingerprints: done, " + Self.counts(summary) + "\n"
            for (asset, reason) in summary.failed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                report += "  asset \(asset): \(reason)\n"
            }
            out.write(Data(report.utf8))
            if !summary.failed.isEmpty { throw ExitCode.failure }
        }

        static func line(_ progress: FingerprintBackfillJob.Progress) -> String {
            "fingerprints: \(progress.done)/\(progress.total) assets, " + counts(progress)
        }

        static func counts(_ p: FingerprintBackfillJob.Progress) -> String {
            "\(p.images) image, \(p.videos) video, \(p.none) none, \(p.failed.count) failed"
        }
    }
}
