import AssetDedupCore
@_exported import BlobProtocols

#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed files: one blob per content for all users, at
/// `<data>/blobs/sha256/ab/cd/<hex>`, written through `<data>/tmp` and published by rename.
/// The default `BlobStorage`.
public struct BlobStore: BlobStorage, BlobStaging {
    public let dataDirectory: String
    public var blobsDirectory: String { dataDirectory + "/blobs" }
    public var tempDirectory: String { dataDirectory + "/tmp" }
    /// Partial bytes of resumable uploads; not under `tmp/`, which `serve` sweeps at start.
    public var uploadsDirectory: String { dataDirectory + "/uploads" }

    /// Creates the blob and temp folders if needed; `creatingFolders: false` for read-only
    /// callers (a dry run writes nothing).
    public init(dataDirectory: String, creatingFolders: Bool = true) throws {
        self.dataDirectory = dataDirectory
        guard creatingFolders else { return }
        try Self.makeDirectories(dataDirectory + "/blobs/sha256")
        try Self.makeDirectories(dataDirectory + "/tmp")
        try Self.makeDirectories(dataDirectory + "/uploads")
    }

    /// Where the blob for `digest` lives (whether or not it exists yet).
    public func path(for digest: SHA256Digest) -> String {
        Self.path(for: digest, dataDirectory: dataDirectory)
    }

    /// The same path without opening the store (which creates folders): for read-only tools.
    public static func path(for digest: SHA256Digest, dataDirectory: String) -> String {
        let hex = digest.hex
        return "\(dataDirectory)/blobs/sha256/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
    }

    public var location: String { blobsDirectory }

    public func contains(_ digest: SHA256Digest) -> Bool {
        access(path(for: digest), F_OK) == 0
    }

    public func readPrefix(of digest: SHA256Digest, count: Int) throws -> [UInt8] {
        try LocalFiles.readPrefix(path: path(for: digest), count: count)
    }

    /// The blob's own file: no copy.
    public func withLocalFile<T>(_ digest: SHA256Digest, _ body: (String) throws -> T) throws -> T {
        let path = path(for: digest)
        guard access(path, R_OK) == 0 else { throw FileError("read", path: path) }
        return try body(path)
    }

    public func remoteObject(for digest: SHA256Digest) -> BlobObject? { nil }

    /// A new temp file under `tmp/`, named so the startup sweep can recognise it.
    public func makeTempWriter() throws -> HashingFileWriter { try makeTempWriter(durable: true) }

    /// A temp file; `durable: false` for staging that another store keeps (see `HashingFileWriter`).
    public func makeTempWriter(durable: Bool) throws -> HashingFileWriter {
        var generator = SystemRandomNumberGenerator()
        let name = "upload-\(getpid())-\(UInt64.random(in: 0 ... .max, using: &generator)).part"
        return try HashingFileWriter(path: "\(tempDirectory)/\(name)", durable: durable)
    }

    /// Publishes a finished temp file as the blob for `digest` (rename, then fsync the folder).
    /// If the blob already exists the temp file is simply dropped: same content, same bytes.
    public func commit(_ writer: HashingFileWriter, as digest: SHA256Digest) throws {
        let target = path(for: digest)
        let folder = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(folder)
        if contains(digest) { return }  // writer's deinit unlinks the temp file
        try sys("rename", writer.path) { Int(rename(writer.path, target)) }
        writer.markKept()
        try Self.syncDirectory(folder)
    }

    /// Brings an existing file (a legacy upload) into the store by hard link, or by copy when
    /// it lives on another file system. Returns the digest and size.
    @discardableResult
    public func ingest(existingFile source: String) throws -> (digest: SHA256Digest, size: Int64) {
        let (digest, size) = try LocalFiles.sha256(ofFile: source)
        guard !contains(digest) else { return (digest, size) }
        let target = path(for: digest)
        let folder = String(target[..<target.lastIndex(of: "/")!])
        try Self.makeDirectories(folder)
        if link(source, target) == 0 || errno == EEXIST {
            try Self.syncDirectory(folder)
            return (digest, size)
        }
        let writer = try makeTempWriter()
        try writer.copy(from: source)
        let copied = try writer.finish()
        guard copied == digest else { throw FileError("copy (file changed while copying)", path: source, errno: EIO) }
        try commit(writer, as: digest)
        return (digest, size)
    }

    /// Removes temp files a crash left; returns how many were removed. Run at startup. Several
    /// `serve` nodes may share this data folder, so a file whose writer (the pid in its name) still
    /// runs on this host is another node's upload in flight and stays; it goes once that process is
    /// gone, or after `abandonedAfterSeconds` untouched (a writer copies at disk speed, so a live
    /// one never leaves its file alone that long).
    @discardableResult
    public func sweepTempFiles(abandonedAfterSeconds: Double = 3600) throws -> Int {
        guard let dir = opendir(tempDirectory) else { throw FileError("opendir", path: tempDirectory) }
        defer { closedir(dir) }
        let now = Double(time(nil))
        var removed = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let path = "\(tempDirectory)/\(name)"
            var info = stat()
            guard name.hasSuffix(".part"), stat(path, &info) == 0 else { continue }
            let abandoned = Self.isAbandonedTempFile(
                name: name, secondsUntouched: now - Double(info.st_mtim.tv_sec), after: abandonedAfterSeconds,
                isRunning: Self.isRunning)
            if abandoned && unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// The sweep's rule, without files: `upload-<pid>-<random>.part` is abandoned when that pid is
    /// not a running process other than this one (an earlier process with our pid is gone too),
    /// or when it was untouched for `after` seconds. A name without a pid is judged by age alone.
    static func isAbandonedTempFile(
        name: String, secondsUntouched: Double, after: Double, isRunning: (pid_t) -> Bool
    ) -> Bool {
        if secondsUntouched >= after { return true }
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "upload", let pid = pid_t(parts[1]), pid > 0 else { return false }
        return pid == getpid() || !isRunning(pid)
    }

    /// Whether `pid` is a process on this host (`kill(pid, 0)`; EPERM means it exists).
    static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileError("mkdir", path: current)
            }
        }
    }

    /// fsync on a folder makes a rename inside it durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("open", path: path) }
        defer { close(fd) }
        try sys("fsync", path) { Int(fsync(fd)) }
    }
}

extension BlobStore {
    /// Walks `blobs/sha256/ab/cd/<hex>`; names that are not a digest are skipped.
    public func forEachBlob(_ visit: (StoredBlob) throws -> Void) throws {
        let root = blobsDirectory + "/sha256"
        for (first, _) in try Self.listFolder(root) where first.count == 2 {
            for (second, _) in try Self.listFolder("\(root)/\(first)") where second.count == 2 {
                for (name, info) in try Self.listFolder("\(root)/\(first)/\(second)") {
                    guard let digest = try? SHA256Digest(parsing: name), (info.st_mode & S_IFMT) == S_IFREG else {
                        continue
                    }
                    try visit(
                        StoredBlob(digest: digest, size: Int64(info.st_size), modified: Double(info.st_mtim.tv_sec)))
                }
            }
        }
    }

    public func deleteBlob(_ digest: SHA256Digest) throws {
        let path = path(for: digest)
        if unlink(path) != 0 && errno != ENOENT { throw FileError("unlink", path: path) }
    }

    /// Temp files under `tmp/` that the startup sweep's rule calls abandoned and that are older
    /// than the cut-off.
    public func sweepAbandonedWrites(olderThanSeconds: Double, dryRun: Bool) throws -> (count: Int, bytes: Int64) {
        let now = Double(time(nil))
        var found = (count: 0, bytes: Int64(0))
        for (name, info) in try Self.listFolder(tempDirectory) where name.hasSuffix(".part") {
            let untouched = now - Double(info.st_mtim.tv_sec)
            guard untouched >= olderThanSeconds,
                Self.isAbandonedTempFile(
                    name: name, secondsUntouched: untouched, after: 3600, isRunning: Self.isRunning)
            else { continue }
            if dryRun || unlink("\(tempDirectory)/\(name)") == 0 {
                found.count += 1
                found.bytes += Int64(info.st_size)
            }
        }
        return found
    }

    /// The entries of a folder with their `lstat`, without `.` and `..`.
    static func listFolder(_ path: String) throws -> [(String, stat)] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw FileError("opendir", path: path)
        }
        defer { closedir(dir) }
        var entries: [(String, stat)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            var info = stat()
            guard name != ".", name != "..", lstat("\(path)/\(name)", &info) == 0 else { continue }
            entries.append((name, info))
        }
        return entries
    }
}
