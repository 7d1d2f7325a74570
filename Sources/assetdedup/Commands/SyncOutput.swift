import AssetDedupCore
import Foundation
import Providers

/// What `sync` prints: a bar redrawn in place on a terminal, one line per asset otherwise
/// (cron logs, pipes), and a summary. Unbuffered, so a watcher sees each line as it happens.
struct SyncOutput {
    let provider: ProviderID
    let isTTY: Bool
    private let out = FileHandle.standardOutput

    init(provider: ProviderID, isTTY: Bool) {
        self.provider = provider
        self.isTTY = isTTY
    }

    func line(_ text: String) {
        out.write(Data(((isTTY ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    func progress(_ progress: SyncProgress, item: SyncItem?, outcome: SyncOutcome?) {
        if let item, let outcome {
            let counter = "(\(progress.doneCount)/\(progress.totalCount), \(SyncProgress.bytes(progress.doneBytes)))"
            switch outcome {
            case .uploaded(let id) where !isTTY:
                line("uploaded asset \(item.assetID) to \(provider) as \(id) \(counter)")
            case .alreadyThere(let id) where !isTTY:
                line("already on \(provider): asset \(item.assetID) as \(id), recorded \(counter)")
            case .inProgressElsewhere(let by):
                line(
                    "skipped asset \(item.assetID): in progress elsewhere (\(by)); a later sync picks it up if still missing"
                )
            case .failed(let reason, let retryable):
                line("FAILED asset \(item.assetID)\(retryable ? " (retryable)" : ""): \(reason)")
            default:
                break
            }
        }
        if isTTY { out.write(Data("\r\u{1B}[K\(progress.bar())".utf8)) }
    }

    func summary(_ result: SyncProgress, failures: [(AssetID, String)]) {
        let rate =
            result.elapsed > 0 ? ", \(SyncProgress.bytes(Int64(Double(result.uploadedBytes) / result.elapsed)))/s" : ""
        var text =
            "sync \(provider): \(result.uploaded) uploaded, \(result.alreadyThere) already there, \(result.failed) failed;"
        if result.inProgressElsewhere > 0 { text += " \(result.inProgressElsewhere) in progress elsewhere;" }
        text +=
            " \(SyncProgress.bytes(result.uploadedBytes)) sent in \(String(format: "%.1f", result.elapsed)) s\(rate)"
        line(text)
        for (asset, reason) in failures { line("  asset \(asset): \(reason)") }
    }

    func noteUnhashed(_ count: Int) {
        if count > 0 {
            line("note: \(count) assets have no sha256 yet and were not considered; run 'assetdedup backfill'")
        }
    }
}
