import ArgumentParser
import AssetDedupCore
import StoreProtocols

/// `assetdedup review GROUP --keep ID | --ignore`: an admin's decision on a duplicate group,
/// shown by the next report.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Record a decision on a duplicate group (GROUP is its sha256): keep one asset, or ignore it.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "The group's sha256 (64 hex characters), as shown on the duplicates page.") var group: String
    @OptionGroup var decision: ReviewDecisionOptions

    func validate() throws {
        do {
            _ = try SHA256Digest(parsing: group)
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
    }

    func run() throws {
        let store = try options.openMigratedStore()
        let sha256 = try SHA256Digest(parsing: group)
        let review = try store.recordDuplicateReview(
            group: sha256.hex, decision: decision.decision, keepAssetID: decision.keepAssetID?.rawValue,
            note: decision.note, reviewedBy: decision.reviewer)
        let what = review.keepAssetID.map { "keep asset \($0)" } ?? review.decision
        print("review recorded for \(review.groupSHA256): \(what) by \(review.reviewedBy)")
    }
}
