import Foundation

public enum Outcome: String, Sendable, Codable {
    case new, reused, added_provider, skipped, failed
}

/// One line of the summary: a file (and provider) and what became of it.
public struct FileReport: Sendable, Codable, Equatable {
    public var path: String
    public var sha256: String?
    public var size: Int64?
    public var provider: String?
    public var outcome: Outcome
    public var asset_id: Int64?
    public var reason: String?
    /// The caller's near-duplicates of new content, as the upload answer names them (asset ids,
    /// nearest first); empty when none or not computed.
    public var similar: [Int64] = []
    /// File bytes this client sent for it (0 for reused and added_provider).
    public var bytes_sent: Int64 = 0

    /// Every key in every object, `null` when unknown: scripts can index without checking.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(size, forKey: .size)
        try c.encode(provider, forKey: .provider)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(asset_id, forKey: .asset_id)
        try c.encode(reason, forKey: .reason)
        try c.encode(similar, forKey: .similar)
        try c.encode(bytes_sent, forKey: .bytes_sent)
    }
}

public struct Summary: Sendable, Codable {
    public var files: [FileReport]
    public var counts: [String: Int]
    public var dry_run: Bool
    public var bytes_sent: Int64
    /// A problem that stopped the run (exit 2), if any.
    public var error: String?
    /// Files read to hash them, and their bytes; files whose digest came from the hash cache.
    public var files_hashed = 0
    public var bytes_hashed: Int64 = 0
    public var files_from_cache = 0

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(files, forKey: .files)
        try c.encode(counts, forKey: .counts)
        try c.encode(dry_run, forKey: .dry_run)
        try c.encode(bytes_sent, forKey: .bytes_sent)
        try c.encode(error, forKey: .error)
        try c.encode(files_hashed, forKey: .files_hashed)
        try c.encode(bytes_hashed, forKey: .bytes_hashed)
        try c.encode(files_from_cache, forKey: .files_from_cache)
    }

    public var exitCode: Int32 {
        if error != nil { return 2 }
        return files.contains { $0.outcome == .failed } ? 1 : 0
    }
}

public struct UploadOptions: Sendable {
    public var providers: [String] = []
    /// Files hashed at once (`--jobs`: disk and CPU bound).
    public var jobs = 2
    /// Requests to the server at once (`--concurrency`: link and server bound).
    public var concurrency = 2
    public var dryRun = false
    public var resumableThreshold: Int64 = 16 << 20
    public var chunkSize: Int64 = 8 << 20
    public var crawl = CrawlOptions()
    public init() {}
}

/// crawl -> hash (on `jobs` threads) -> batch check per provider -> plan -> send (on `jobs` threads).
public struct Uploader: Sendable {
    public let client: APIClient
    public let options: UploadOptions
    /// A line of progress for a human (plain mode); called from worker threads.
    public var log: (@Sendable (String) -> Void)?
    /// Digests by file identity and tus URLs across runs (`HashCache`); nil: hash everything, resume nothing.
    public var cache: HashCache?
    /// Files and bytes done per phase, for a progress display; nil: not counted.
    public var progress: UploadProgress?
    /// Set once the server could not be reached: the files after it are not tried (each would
    /// wait out its retries), they fail naming the reason, and the run exits 2.
    let unreachable = Latch()

    public init(client: APIClient, options: UploadOptions, cache: HashCache? = nil) {
        self.client = client
        self.options = options
        self.cache = cache
    }

    /// One file's digest: from the cache (no read) or read now, recorded for the next run.
    struct HashStep: Sendable {
        var result: Result<HashedFile, HashError>
        var read = false
    }

    func hash(_ path: String) -> HashStep {
        if let cache, let identity = FileIdentity.of(path: path), let sha256 = cache.sha256(for: identity) {
            log?("cached \(path)")
            progress?.advance(files: 1, bytes: identity.size)
            return HashStep(result: .success(HashedFile(path: path, size: identity.size, sha256: sha256)))
        }
        // A file that changed while read is read once more (a copy still being written may have
        // settled); changing again, it is reported.
        var started = HashCache.nowNanoseconds()
        var result = FileHasher.identified(path: path)
        if case .failure(let error) = result, error.reason.hasPrefix("changed") {
            started = HashCache.nowNanoseconds()
            result = FileHasher.identified(path: path)
        }
        if case .success(let hashed) = result {
            cache?.record(hashed.identity, sha256: hashed.file.sha256, hashedAt: started)
            log?("hashed \(path)")
        }
        progress?.advance(files: 1, bytes: (try? result.get())?.file.size ?? 0)
        return HashStep(result: result.map(\.file), read: true)
    }

    public func run(paths: [String]) -> Summary {
        var reports: [FileReport] = []
        let crawl = Crawler(options: options.crawl).crawl(paths)
        for s in crawl.skipped { reports.append(FileReport(path: s.path, outcome: .skipped, reason: s.reason)) }
        for f in crawl.failed { reports.append(FileReport(path: f.path, outcome: .failed, reason: f.reason)) }

        progress?.begin("hashing", files: crawl.files.count, bytes: crawl.files.reduce(0) { $0 + $1.size })
        let steps = parallelMap(crawl.files, jobs: options.jobs) { file in self.hash(file.path) }
        var stats = HashStats()
        var files: [HashedFile] = []
        for (found, step) in zip(crawl.files, steps) {
            switch step.result {
            case .success(let file):
                files.append(file)
                if step.read {
                    stats.files += 1
                    stats.bytes += file.size
                } else {
                    stats.cached += 1
                }
            case .failure(let error):
                reports.append(FileReport(path: found.path, size: found.size, outcome: .failed, reason: error.reason))
            }
        }

        var answers: [String: [String: CheckAnswer]] = [:]
        do {
            for provider in options.providers {
                for batch in Planner.checkBatches(files) {
                    answers[provider, default: [:]].merge(try client.check(hashes: batch, provider: provider)) { $1 }
                }
            }
        } catch {
            return summarise(reports, bytes: 0, error: "\(error)", hashing: stats)
        }
        let plan = Planner.plan(
            files: files, providers: options.providers, answers: answers, resumableThreshold: options.resumableThreshold
        )

        // Three rounds, each in parallel: what needs nothing from this run (uploads, add-provider
        // of held content); add-provider of content the first round sent to another provider;
        // then copies inside the run take the answer of the item they wait for.
        var byIndex: [Int: FileReport] = [:]
        let sends = plan.filter { if case .upload = $0.action { return true } else { return false } }
        progress?.begin(
            "sending", files: sends.count, bytes: options.dryRun ? 0 : sends.reduce(0) { $0 + $1.file.size })
        let first = plan.indices.filter {
            switch plan[$0].action {
            case .sameAs, .addProviderAfter: return false
            default: return true
            }
        }
        for (index, report) in zip(first, parallelMap(first, jobs: options.concurrency) { self.execute(plan[$0]) }) {
            byIndex[index] = report
        }
        let second = plan.indices.compactMap { index -> (Int, FileReport)? in
            guard case .addProviderAfter(let sender) = plan[index].action else { return nil }
            return (index, byIndex[sender]!)
        }
        let secondReports = parallelMap(second.map { Pair($0.0, $0.1) }, jobs: options.concurrency) { pair in
            self.execute(plan[pair.index], after: pair.sender)
        }
        for (pair, report) in zip(second, secondReports) { byIndex[pair.0] = report }
        var fatal: String?
        for (index, item) in plan.enumerated() {
            if case .sameAs(let first) = item.action {
                let earlier = byIndex[first]!
                var report = Self.report(
                    item, .reused, assetID: earlier.asset_id, reason: "same content as \(earlier.path)")
                if earlier.outcome == .failed {
                    report.outcome = .failed
                    report.reason = "same content as \(earlier.path), which failed"
                }
                byIndex[index] = report
            }
            let report = byIndex[index]!
            if report.outcome == .failed, report.reason?.hasPrefix("HTTP 401") == true { fatal = report.reason }
            if fatal == nil, report.outcome == .failed,
                report.reason?.hasPrefix(APIClient.unreachable(client.server)) == true
            {
                fatal = report.reason
            }
            reports.append(report)
        }
        let results = Array(byIndex.values)
        let bytes = results.reduce(Int64(0)) { $0 + ($1.bytes_sent) }
        return summarise(reports, bytes: bytes, error: fatal, hashing: stats)
    }

    static func report(_ item: PlanItem, _ outcome: Outcome, assetID: Int64?, reason: String?) -> FileReport {
        FileReport(
            path: item.file.path, sha256: item.file.sha256, size: item.file.size, provider: item.provider,
            outcome: outcome, asset_id: assetID, reason: reason)
    }

    func execute(_ item: PlanItem) -> FileReport {
        let dry = options.dryRun ? "dry run" : nil
        switch item.action {
        case .reuse(let id):
            return Self.report(item, .reused, assetID: id, reason: "already on \(item.provider)")
        case .fail(let reason):
            return Self.report(item, .failed, assetID: nil, reason: reason)
        case .sameAs, .addProviderAfter:
            preconditionFailure("resolved by the caller")
        case .addProvider(let id):
            if options.dryRun { return Self.report(item, .added_provider, assetID: id, reason: dry) }
            if let gone = unreachable.value {
                return Self.report(item, .failed, assetID: id, reason: "not sent: \(gone)")
            }
            do {
                let answer = try client.addProvider(assetID: id, provider: item.provider)
                log?("added_provider \(item.provider) \(item.file.path)")
                return Self.report(
                    item, Self.outcome(answer.status, adding: true), assetID: answer.assetID ?? id, reason: answer.note)
            } catch {
                return Self.report(item, .failed, assetID: id, reason: failure(error))
            }
        case .upload(let method):
            if options.dryRun {
                progress?.advance(files: 1)
                return Self.report(item, .new, assetID: nil, reason: dry)
            }
            defer { progress?.advance(files: 1, bytes: options.dryRun ? 0 : item.file.size) }
            if let gone = unreachable.value {
                return Self.report(item, .failed, assetID: nil, reason: "not sent: \(gone)")
            }
            do {
                let answer =
                    method == .tus
                    ? try client.uploadTus(
                        file: item.file, provider: item.provider, chunkSize: options.chunkSize, memory: cache)
                    : try client.uploadMultipart(file: item.file, provider: item.provider)
                log?("\(answer.status) \(item.provider) \(item.file.path)")
                var r = Self.report(
                    item, Self.outcome(answer.status, adding: false), assetID: answer.assetID, reason: answer.note)
                r.bytes_sent = answer.bytesSent
                r.similar = answer.similar
                return r
            } catch {
                return Self.report(item, .failed, assetID: nil, reason: failure(error))
            }
        }
    }

    /// A request's failure in words; a server that cannot be reached also stops the rest.
    func failure(_ error: any Error) -> String {
        let text = client.describe(error)
        if text.hasPrefix(APIClient.unreachable(client.server)) {
            unreachable.set(APIClient.unreachable(client.server))
        }
        return text
    }

    /// Content `sender` sent to another provider in this run: add this provider to its asset.
    func execute(_ item: PlanItem, after sender: FileReport) -> FileReport {
        guard sender.outcome != .failed else {
            return Self.report(item, .failed, assetID: nil, reason: "its upload to \(sender.provider ?? "") failed")
        }
        guard let id = sender.asset_id else {
            return options.dryRun
                ? Self.report(item, .added_provider, assetID: nil, reason: "dry run")
                : Self.report(
                    item, .failed, assetID: nil, reason: "its upload to \(sender.provider ?? "") gave no asset id")
        }
        return execute(PlanItem(file: item.file, provider: item.provider, action: .addProvider(assetID: id)))
    }

    /// The server's `status` word as an outcome: `queued` is the bytes accepted, delivery later.
    static func outcome(_ status: String, adding: Bool) -> Outcome {
        switch status {
        case "created": return .new
        case "reused": return .reused
        case "added_provider": return .added_provider
        default: return adding ? .added_provider : .new
        }
    }

    func summarise(_ reports: [FileReport], bytes: Int64, error: String?, hashing: HashStats) -> Summary {
        var counts: [String: Int] = [:]
        for outcome in [Outcome.new, .reused, .added_provider, .skipped, .failed] { counts[outcome.rawValue] = 0 }
        for r in reports { counts[r.outcome.rawValue, default: 0] += 1 }
        var summary = Summary(files: reports, counts: counts, dry_run: options.dryRun, bytes_sent: bytes, error: error)
        summary.files_hashed = hashing.files
        summary.bytes_hashed = hashing.bytes
        summary.files_from_cache = hashing.cached
        return summary
    }
}

/// What hashing cost this run: files and bytes read, files answered by the cache.
struct HashStats {
    var files = 0
    var bytes: Int64 = 0
    var cached = 0
}

/// A value set once by any thread (the first setting wins) and read by all.
final class Latch: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? { lock.withLock { stored } }
    func set(_ text: String) { lock.withLock { if stored == nil { stored = text } } }
}

private struct Pair: Sendable {
    let index: Int
    let sender: FileReport
    init(_ index: Int, _ sender: FileReport) {
        self.index = index
        self.sender = sender
    }
}
