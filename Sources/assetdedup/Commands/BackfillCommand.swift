import ArgumentParser
import BlobStore
import Foundation
import StoreProtocols

/// `assetdedup backfill`: hash legacy rows from their files and bring the files into the blob store.
struct BackfillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Hash legacy assets with no sha256 from their stored files; resumable, merges same-user duplicates.")
    @OptionGroup var options: StoreOptions
    @OptionGroup var blobOptions: BlobOptions
    @Option(help: "Data folder whose blobs/ receives the files.") var data: String = "var"
    @Option(help: "Folder that relative legacy storage paths are resolved against.") var files: String = "."

    func run() throws {
        let store = try options.openMigratedStore()
        let blobs = try blobOptions.open(dataDirectory: data)
        let job = BackfillJob(store: store) { row in
            guard let stored = row.storagePath, !stored.isEmpty else {
                throw CLIError("asset \(row.assetID) has no storage_path")
            }
            let path = stored.hasPrefix("/") ? stored : "\(files)/\(stored)"
            let ingested = try blobs.ingest(existingFile: path)
            // The row gets its hash next, so claim the blob as uploads do (after the ingest:
            // the hash is known only then). gc may be deleting an orphan copy of this very
            // content right now: wait for it to finish.
            var waited = 0
            while try store.claimBlobForUpload(sha256: ingested.digest) == .beingCollected {
                guard waited < 60 else {
                    throw CLIError("blob \(ingested.digest.hex) is being garbage-collected; run backfill again")
                }
                if waited == 0 {
                    FileHandle.standardError.write(
                        Data("backfill: waiting for gc to finish deleting blob \(ingested.digest.hex)\n".utf8))
                }
                sleep(1)
                waited += 1
            }
            // Claimed: gc can no longer take it, but it may have deleted the copy the ingest
            // found between the ingest and the claim; then bring the file in again.
            return try blobs.contains(ingested.digest) ? ingested : try blobs.ingest(existingFile: path)
        }
        // Unbuffered writes: a cron log or a watching process sees each line as it happens.
        let out = FileHandle.standardOutput
        let isTTY = isatty(STDOUT_FILENO) == 1
        let summary = try job.run { progress in
            let line = "backfill: \(progress.done)/\(progress.total) rows, \(progress.bytes) bytes hashed"
            out.write(Data((isTTY ? "\r\(line)" : "\(line)\n").utf8))
        }
        if isTTY { out.write(Data("\n".utf8)) }
        var report = "backfill: \(summary.hashed) hashed, \(summary.merged) merged, \(summary.failed.count) failed\n"
        for (asset, reason) in summary.failed { report += "  asset \(asset): \(reason)\n" }
        out.write(Data(report.utf8))
        if !summary.failed.isEmpty { throw ExitCode.failure }
    }
}
