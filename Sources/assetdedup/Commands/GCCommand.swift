import ArgumentParser
import BlobStore
import Delivery
import Foundation
import GarbageCollection
import StoreProtocols

/// `assetdedup gc`: deletes blobs no asset references (an upload that failed after its blob was
/// written), partial uploads without a row and abandoned temp files; safe while uploads run.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Collect orphan blobs (mark, delete a grace period later), stale partial uploads, temp files.",
        discussion: """
            An orphan blob is marked by one run and deleted by a later run at least --grace-hours \
            after it was marked; an upload that reuses the blob meanwhile removes the mark. \
            --grace-hours 0 marks and deletes in one run: only for tests, or when no uploads run.
            """)
    @OptionGroup var options: StoreOptions
    @OptionGroup var blobOptions: BlobOptions
    @Option(help: "Data folder (blobs/, uploads/, tmp/).") var data: String = "var"
    @Option(help: "Leave blobs younger than this alone, and delete a mark only this long after it was made.")
    var graceHours: Double = 24
    @Flag(help: "Print what would be done; change nothing.") var dryRun = false

    func validate() throws {
        guard graceHours >= 0, graceHours.isFinite else {
            throw ValidationError("--grace-hours must be 0 or more, got \(graceHours)")
        }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let blobs = try blobOptions.open(dataDirectory: data, readOnly: dryRun)
        // One gc at a time on this database; a dry run writes nothing, not even the lease.
        let lease =
            dryRun
            ? nil
            : try CommandLease(
                name: "gc", what: "gc", owner: LeaseOwner(role: "gc"), store: store, open: options.makeOpener())
        defer { lease?.release() }
        let collector = BlobCollector(store: store, blobs: blobs, graceSeconds: graceHours * 3600, dryRun: dryRun)
        let print = { (summary: BlobCollector.Summary) in
            let lines = BlobCollector.lines(summary, dryRun: dryRun, grace: graceHours * 3600)
            FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        }
        do {
            print(try collector.run())
        } catch let error as GCError {
            print(error.summary)
            throw CLIError("gc stopped: \(error.reason)")
        }
    }
}
