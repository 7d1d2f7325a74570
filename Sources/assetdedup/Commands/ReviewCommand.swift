import ArgumentParser
import AssetDedupCore
import StoreProtocols
import Foundation

/// `assetdedup review GROUP --keep ID | --ignore`: an admin's decision on a duplicate group,
/// shown by the next report.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Record a decision on a duplicate group (GROUP is its sha256): keep one asset, or ignore it.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "The group's sha256 (64 hex characters), as shown on the duplicates page.") var group: String
    @Option(help: "The asset to keep (it must hold this content).") var keep: String?
    @Flag(help: "Mark the group as reviewed and acceptable.") var ignore = false
    @Option(help: "A note shown with the decision.") var note: String?
    @Option(help: "Who decided (default: $SUDO_USER or $USER).") var by: String?

    func validate() throws {
        guard (keep == nil) != !ignore else { throw ValidationError("give exactly one of --keep ASSET_ID or --ignore") }
        do {
            _ = try SHA256Digest(parsing: group)
            if let keep { _ = try AssetID(parsing: keep) }
            _ = try UserName.validate(reviewer)
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
        if let note, note.count > 1000 { throw ValidationError("--note is limited to 1000 characters") }
    }

    private var reviewer: String {
        by ?? ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "admin"
    }

    func run() throws {
        try reportingErrors {
            let store = try options.openMigratedStore()
            let sha256 = try SHA256Digest(parsing: group)
            let review = try store.recordDuplicateReview(
                group: sha256.hex, decision: ignore ? "ignore" : "keep",
                keepAssetID: try keep.map { try AssetID(parsing: $0).rawValue }, note: note, reviewedBy: reviewer)
            let what = review.keepAssetID.map { "keep asset \($0)" } ?? review.decision
            print("review recorded for \(review.groupSHA256): \(what) by \(review.reviewedBy)")
        }
    }
}
