import ArgumentParser
import AssetDedupCore
import Foundation

/// `--keep ID | --ignore [--note] [--by]`: the decision `review` and `review-similar` record.
struct ReviewDecisionOptions: ParsableArguments {
    @Option(help: "The asset to keep (a member of the group).") var keep: String?
    @Flag(help: "Mark the group as reviewed and acceptable (they only look alike, or may stay).") var ignore = false
    @Option(help: "A note shown with the decision.") var note: String?
    @Option(help: "Who decided (default: $SUDO_USER or $USER).") var by: String?

    func validate() throws {
        guard (keep == nil) != !ignore else { throw ValidationError("give exactly one of --keep ASSET_ID or --ignore") }
        do {
            if let keep { _ = try AssetID(parsing: keep) }
            _ = try UserName.validate(reviewer)
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
        if let note, note.count > 1000 { throw ValidationError("--note is limited to 1000 characters") }
    }

    var decision: String { ignore ? "ignore" : "keep" }

    var keepAssetID: AssetID? { keep.flatMap { try? AssetID(parsing: $0) } }

    var reviewer: String {
        by ?? ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "admin"
    }
}
