import ArgumentParser
import AssetStore
import BlobStore
import Foundation

/// `assetdedup backfill`: hash legacy rows from their files and bring the files into the blob store.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Hash legacy assets with no sha256 from their stored files; resumable, merges same-user duplicates.")
    @OptionGroup var options: StoreOptions
    @Option(help: "Data folder whose blobs/ receives the files.") var data: String = "var"
    @Option(help: "Folder that relative legacy storage paths are resolved against.") var files: String = "."

    func run() throws {
        try reportingErrors {
            let store = try options.openMigratedStore()
            let blobs = try BlobStore(dataDirectory: data)
            let job = BackfillJob(store: store) { row in
                guard let stored = row.storagePath, !stored.isEmpty else {
                    throw CLIError("asset \(row.assetID) has no storage_path")
                }
                let path = stored.hasPrefix("/") ? stored : "\(files)/\(stored)"
                return try blobs.ingest(existingFile: path)
            }
            let isTTY = isatty(STDOUT_FILENO) == 1
            let summary = try job.run { progress in
                let line = "backfill: \(progress.done)/\(progress.total) rows, \(progress.bytes) bytes hashed"
                if isTTY {
                    print("\r\(line)", terminator: "")
                    fflush(nil)
                } else {
                    print(line)
                }
            }
            if isTTY { print() }
            print("backfill: \(summary.hashed) hashed, \(summary.merged) merged, \(summary.failed.count) failed")
            for (asset, reason) in summary.failed { print("  asset \(asset): \(reason)") }
            if !summary.failed.isEmpty { throw ExitCode.failure }
        }
    }
}
