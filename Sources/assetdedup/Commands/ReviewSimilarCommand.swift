import ArgumentParser
import AssetDedupCore
import HTTPAPI
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
        abstract: "Record a decision on the near-duplicate group holding ASSET_ID: keep one asset, or ignore the group."
    )
    @OptionGroup var options: StoreOptions
    @Argument(help: "Any asset of the group, as listed on the near-duplicates page.") var asset: String
    @OptionGroup var decision: ReviewDecisionOptions

    func validate() throws {
        do {
            _ = try AssetID(parsing: asset)
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let review: NearDuplicateReview
        do {
            review = try store.reviewNearDuplicates(
                of: try AssetID(parsing: asset), decision: decision.decision, keepAssetID: decision.keepAssetID,
                note: decision.note, reviewedBy: decision.reviewer)
        } catch let error as NearDuplicateGroupError {
            throw CLIError(error.description)
        }
        let trashed = try ReviewResolution.trashOthers(of: review, store: store)
        let what = review.keepAssetID.map { "keep asset \($0)" } ?? review.decision
        print(
            "review recorded for the group of assets \(review.memberIDs.map(\.description).joined(separator: ", ")): "
                + "\(what) by \(review.reviewedBy)"
                + (trashed.isEmpty ? "" : "; moved to the trash: \(trashed.map(\.description).joined(separator: ", "))")
        )
    }
}
