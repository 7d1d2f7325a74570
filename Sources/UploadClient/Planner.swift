/// What the server said about one (sha256, provider) pair: the caller's asset with that
/// content, if any, and the providers it is on.
public struct CheckAnswer: Sendable, Equatable {
    public var exists: Bool
    public var assetID: Int64?
    public var uploadedTo: [String]
    public var error: String?
    public init(exists: Bool, assetID: Int64?, uploadedTo: [String], error: String? = nil) {
        self.exists = exists
        self.assetID = assetID
        self.uploadedTo = uploadedTo
        self.error = error
    }
}

public enum UploadMethod: String, Sendable, Equatable {
    case multipart, tus
}

/// One thing to do for one file and one provider.
public enum PlannedAction: Sendable, Equatable {
    /// The content is on the provider already: nothing to send.
    case reuse(assetID: Int64)
    /// The user holds the content, not on this provider: `POST /assets/{id}/providers`.
    case addProvider(assetID: Int64)
    /// New content: send the bytes.
    case upload(UploadMethod)
    /// New content that an earlier item of this run sends to another provider: once that one
    /// has made the asset, `POST /assets/{id}/providers` with its id (the bytes go once).
    case addProviderAfter(index: Int)
    /// The same content as an earlier item of this run for the same provider: wait for it.
    case sameAs(index: Int)
    /// The check itself failed for this item.
    case fail(reason: String)
}

public struct PlanItem: Sendable, Equatable {
    public let file: HashedFile
    public let provider: String
    public let action: PlannedAction
}

/// Turns hashed files and the server's batch-check answers into actions; no I/O.
public enum Planner {
    /// `answers[provider][sha256]`; a missing answer counts as "not held".
    public static func plan(
        files: [HashedFile], providers: [String], answers: [String: [String: CheckAnswer]], resumableThreshold: Int64
    ) -> [PlanItem] {
        var items: [PlanItem] = []
        var sentBy: [String: Int] = [:]  // sha256 -> the item that sends its bytes (any provider)
        for provider in providers {
            var firstHere: [String: Int] = [:]  // sha256 -> the item that acts for it on this provider
            for file in files {
                let answer = answers[provider]?[file.sha256]
                let action: PlannedAction
                if let error = answer?.error {
                    action = .fail(reason: error)
                } else if let answer, answer.exists, let id = answer.assetID, answer.uploadedTo.contains(provider) {
                    action = .reuse(assetID: id)
                } else if let earlier = firstHere[file.sha256] {
                    action = .sameAs(index: earlier)
                } else {
                    firstHere[file.sha256] = items.count
                    if let answer, answer.exists, let id = answer.assetID {
                        action = .addProvider(assetID: id)
                    } else if let sender = sentBy[file.sha256] {
                        action = .addProviderAfter(index: sender)
                    } else {
                        sentBy[file.sha256] = items.count
                        action = .upload(file.size >= resumableThreshold ? .tus : .multipart)
                    }
                }
                items.append(PlanItem(file: file, provider: provider, action: action))
            }
        }
        return items
    }

    /// The distinct hashes to check, in first-seen order, split into batches of at most `limit`.
    public static func checkBatches(_ files: [HashedFile], limit: Int = 1000) -> [[String]] {
        var seen = Set<String>()
        let unique = files.map(\.sha256).filter { seen.insert($0).inserted }
        return stride(from: 0, to: unique.count, by: limit).map { Array(unique[$0..<min($0 + limit, unique.count)]) }
    }
}
