import ArgumentParser
import Foundation
import UploadClient

@main
struct UploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assetdedup-upload",
        abstract: "Upload files and folders to an AssetDedup server, sending only content it does not hold.",
        discussion: """
            The token comes from --token-file, ASSETDEDUP_TOKEN, or $XDG_CONFIG_HOME/assetdedup/upload.json \
            ({"server": URL, "token": TOKEN}), never from a flag. Exit status: 0 all done, 1 some files \
            failed (each named on stderr), 2 usage or server errors.
            """)

    @Option(help: "The server's base URL, e.g. http://127.0.0.1:8080 (or \"server\" in the config file).")
    var server: String?

    @Option(name: .long, help: "A provider to put every file on (repeat for more).")
    var provider: [String] = []

    @Option(help: "A file holding the API token.")
    var tokenFile: String?

    @Option(help: "Only files matching this glob (repeatable; no '/': the name, else the path below the folder).")
    var include: [String] = []

    @Option(help: "Leave out files matching this glob (repeatable).")
    var exclude: [String] = []

    @Flag(help: "Take hidden files and folders too.")
    var hidden = false

    @Flag(help: "Follow symlinks inside folders.")
    var followSymlinks = false

    @Flag(help: "Take system files too (.DS_Store, Thumbs.db, desktop.ini, ._*).")
    var systemFiles = false

    @Option(help: "Files hashed at once (disk and CPU bound).")
    var jobs: Int = 2

    @Option(help: "Uploads (and other requests) at once (link and server bound).")
    var concurrency: Int = 2

    @Flag(
        help:
            "After the first pass, keep watching the folders: upload files that appear once they stop changing. Ctrl-C ends."
    )
    var watch = false

    @Option(help: "With --watch: seconds a file must stay unchanged before it is sent.")
    var settleSeconds: Double = 2

    @Option(help: "Times a request is tried again after a 503 or a dropped connection (a server that is down too).")
    var retries: Int = 4

    @Flag(help: "No progress display on stderr.")
    var noProgress = false

    @Flag(help: "Hash and check only: say what would happen, send nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON summary object on stdout.")
    var json = false

    @Option(help: "Files of at least this many bytes go by tus, in chunks.")
    var resumableThreshold: Int64 = 16 << 20

    @Option(help: "Bytes per tus PATCH.")
    var chunkSize: Int64 = 8 << 20

    @Option(help: "Send file bytes at most this fast (bytes per second, per transfer).")
    var limitRate: Int64?

    @Option(help: "The hash cache (default $XDG_CACHE_HOME/assetdedup/upload-cache.sqlite, else ~/.cache/...).")
    var cacheFile: String?

    @Flag(help: "Read and hash every file, and remember no upload URL.")
    var noCache = false

    @Flag(help: "Say on stderr what is hashed, taken from the cache, requested and resumed.")
    var verbose = false

    @Argument(help: "Files and folders (folders recursively).")
    var paths: [String] = []

    /// Usage errors exit 2 (argument-parser's own is 64), like server errors; the rest as thrown.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 1 || code.rawValue == 2 { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }

    /// The hash cache, or nil (`--no-cache`, no home, or it cannot be opened: said, and the run
    /// goes on reading every file).
    func openCache(say: (String) -> Void) -> HashCache? {
        guard !noCache, let path = cacheFile ?? HashCache.defaultPath(environment: ProcessInfo.processInfo.environment)
        else { return nil }
        do {
            return try HashCache(path: path)
        } catch {
            say("assetdedup-upload: no hash cache (\(path): \(error)); every file is read")
            return nil
        }
    }

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one file or folder") }
        guard !provider.isEmpty else { throw ValidationError("name at least one --provider") }
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be 1 to 64") }
        guard retries >= 0 && retries <= 20 else { throw ValidationError("--retries must be 0 to 20") }
        guard concurrency >= 1 && concurrency <= 64 else { throw ValidationError("--concurrency must be 1 to 64") }
        guard settleSeconds > 0 && settleSeconds <= 3600 else {
            throw ValidationError("--settle-seconds must be above 0 and at most 3600")
        }
        guard !(watch && json) else { throw ValidationError("--watch prints lines as files go; --json is one object") }
        guard !(watch && dryRun) else { throw ValidationError("--watch and --dry-run exclude each other") }
        guard resumableThreshold >= 1 else { throw ValidationError("--resumable-threshold must be positive") }
        guard chunkSize >= 1 else { throw ValidationError("--chunk-size must be positive") }
        guard limitRate.map({ $0 >= 1 }) ?? true else { throw ValidationError("--limit-rate must be positive") }
        guard !(noCache && cacheFile != nil) else {
            throw ValidationError("--no-cache and --cache-file exclude each other")
        }
    }

    func run() throws {
        let credentials: Credentials
        do {
            credentials = try Credentials.resolve(
                server: server, tokenFile: tokenFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("assetdedup-upload: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var options = UploadOptions()
        options.providers = provider
        options.jobs = jobs
        options.concurrency = concurrency
        options.dryRun = dryRun
        options.resumableThreshold = resumableThreshold
        options.chunkSize = chunkSize
        options.crawl.include = include
        options.crawl.exclude = exclude
        options.crawl.includeHidden = hidden
        options.crawl.followSymlinks = followSymlinks
        options.crawl.includeSystemFiles = systemFiles
        // Watching starts before the first pass, so a file written during the pass is not missed.
        var watcher: FolderWatcher?
        if watch {
            do {
                watcher = try FolderWatcher(roots: paths, settle: settleSeconds, options: options.crawl)
            } catch {
                FileHandle.standardError.write(Data("assetdedup-upload: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let client = APIClient(server: credentials.server, token: credentials.token)
        client.maxSendBytesPerSecond = limitRate
        client.maxAttempts = retries + 1
        let say: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        if verbose { client.trace = say }
        var uploader = Uploader(client: client, options: options, cache: openCache(say: say))
        if verbose { uploader.log = say }
        var printer: ProgressPrinter?
        if !noProgress && !verbose {
            let progress = UploadProgress()
            let shown = ProgressPrinter(tty: isatty(STDERR_FILENO) == 1) {
                FileHandle.standardError.write(Data($0.utf8))
            }
            progress.onChange = { shown.show($0) }
            uploader.progress = progress
            printer = shown
        }
        var summary = uploader.run(paths: paths)
        printer?.finish()
        report(summary)
        guard let watcher, summary.error == nil else {
            if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
            return
        }
        say("watching \(paths.joined(separator: " ")) (Ctrl-C ends)")
        var failed = summary.exitCode != 0
        while let settled = watcher.next() {
            summary = uploader.run(paths: settled)
            printer?.finish()
            report(summary, totals: false)
            if summary.error != nil { throw ExitCode(2) }
            failed = failed || summary.exitCode != 0
        }
        say("watch ended")
        if failed { throw ExitCode(1) }
    }

    /// Lines per file on stdout (failures on stderr), the counts, or the JSON summary.
    func report(_ summary: Summary, totals: Bool = true) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(summary)) ?? Data("{}".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
        if !json {
            for file in summary.files where file.outcome != .failed {
                var line = "\(file.outcome.rawValue)\t\(file.provider ?? "-")\t\(file.path)"
                if let id = file.asset_id { line += "\tasset \(id)" }
                if let reason = file.reason { line += "\t(\(reason))" }
                if !file.similar.isEmpty {
                    line += "\tsimilar to " + file.similar.map { "asset \($0)" }.joined(separator: ", ")
                }
                print(line)
            }
        }
        if !json && totals && summary.error == nil {
            let counts = ["new", "reused", "added_provider", "skipped", "failed"].map {
                "\($0) \(summary.counts[$0] ?? 0)"
            }
            print((dryRun ? "dry run: " : "") + counts.joined(separator: ", ") + ", \(summary.bytes_sent) bytes sent")
        }
        fflush(nil)  // every stream: the lines leave now, also into a pipe
        for file in summary.files where file.outcome == .failed {
            FileHandle.standardError.write(Data("failed: \(file.path): \(file.reason ?? "")\n".utf8))
        }
        if let error = summary.error {
            FileHandle.standardError.write(Data("assetdedup-upload: \(error)\n".utf8))
        }
    }
}
