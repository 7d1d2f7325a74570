import ArgumentParser
import AssetDedupCore
import Foundation
import StoreProtocols

/// `assetdedup review-similar ASSET_ID --keep ID | --ignore`: an admin's decision on the
/// near-duplicate group that holds an asset, shown by the next report.
///
/// The group is worked out now, as the report does (the user's fingerprints, grouped at the
/// default threshold), and recorded with its members: when the group changes later, the report
/// shows the decision as out of date instead of applying it to assets nobody looked at.
struct ReviewSimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review-similar",
        abstract: "Record a decision on the near-duplicate group holding ASSET_ID: keep one asset, or ignore the group.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "Any asset of the group, as listed on the near-duplicates page.") var asset: String
    @Option(help: "The asset to keep (a member of the group).") var keep: String?
    @Flag(help: "The assets only look alike (a burst, an edit worth keeping): mark the group reviewed.") var ignore = false
    @Option(help: "A note shown with the decision.") var note: String?
    @Option(help: "Who decided (default: $SUDO_USER or $USER).") var by: String?

    func validate() throws {
        guard (keep == nil) != !ignore else { throw ValidationError("give exactly one of --keep ASSET_ID or --ignore") }
        do {
            _ = try AssetID(parsing: asset)
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
            let review: NearDuplicateReview
            do {
                review = try store.reviewNearDuplicates(
                    of: try AssetID(parsing: asset), decision: ignore ? "ignore" : "keep",
                    keepAssetID: try keep.map { try AssetID(parsing: $0) }, note: note, reviewedBy: reviewer)
            } catch let error as NearDuplicateGroupError {
                throw CLIError(error.description)
            }
            let what = review.keepAssetID.map { "keep asset \($0)" } ?? review.decision
            print(
                "review recorded for the group of assets \(review.memberIDs.map(\.description).joined(separator: ", ")): "
                    + "\(what) by \(review.reviewedBy)")
        }
    }
}
