import SQLInterface
import SQLiteConnection
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What says a file still holds the content hashed before, without reading it: the file
/// (device, inode) and its size and modification time, as git's index and restic's cache judge.
public struct FileIdentity: Sendable, Equatable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let mtimeNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
    }

    init(_ st: stat) {
        self.init(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeNanoseconds: FileHasher.mtime(st))
    }

    /// The identity of the file at `path` now (following symlinks), or nil when it cannot be stat'ed.
    public static func of(path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(st)
    }
}

/// A tus upload this client created and has not seen finish: where to resume it.
public struct RememberedUpload: Sendable, Equatable {
    public let location: String
    public let size: Int64
}

/// Where resumable upload URLs are kept between runs, so a big file resumes after Ctrl-C,
/// `kill -9`, a reboot or a dropped link instead of starting over.
public protocol UploadURLMemory: Sendable {
    func upload(server: String, provider: String, sha256: String) -> RememberedUpload?
    func rememberUpload(server: String, provider: String, sha256: String, size: Int64, location: String)
    func forgetUpload(server: String, provider: String, sha256: String)
}

/// The uploader's local cache, one SQLite file (`$XDG_CACHE_HOME/assetdedup/upload-cache.sqlite`):
/// digests by file identity, so a re-run reads only what changed, and the tus URLs of uploads
/// in flight. A cache: losing it costs a re-hash and a fresh upload, never a wrong answer.
///
/// One connection behind a mutex, shared by the hashing and sending threads (their writes are a
/// row each); several uploader processes on one cache wait on SQLite's busy timeout. A failing
/// cache write is dropped: the run goes on as if uncached.
public final class HashCache: UploadURLMemory {
    private let db: Mutex<Database>
    public let path: String

    /// A digest is trusted only for files whose mtime is this much older than the moment they
    /// were hashed: a write in the same clock tick as the hash (or within FAT's 2 s) could leave
    /// size and mtime as they were ("racily clean", in git's words). Such files are read again.
    public static let racyWindowNanoseconds: Int64 = 2_000_000_000
    /// Remembered uploads older than this are dropped at open (the server expires them sooner).
    public static let uploadMemorySeconds: Int64 = 7 * 24 * 3600

    /// The default file: `$XDG_CACHE_HOME/assetdedup/upload-cache.sqlite`, else under `$HOME/.cache`.
    public static func defaultPath(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return xdg + "/assetdedup/upload-cache.sqlite"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.cache/assetdedup/upload-cache.sqlite"
    }

    /// Opens (creating the folder, the file and the tables if needed) the cache at `path`.
    public init(path: String) throws {
        try Self.makeParentDirectories(of: path)
        let db = try Database(path: path, busyTimeoutMilliseconds: 5_000)
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS file_hashes (
                device INTEGER NOT NULL,
                inode INTEGER NOT NULL,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                hashed_at_ns INTEGER NOT NULL,
                PRIMARY KEY (device, inode)
            );
            CREATE TABLE IF NOT EXISTS tus_uploads (
                server TEXT NOT NULL,
                provider TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size INTEGER NOT NULL,
                location TEXT NOT NULL,
                created_at_ns INTEGER NOT NULL,
                PRIMARY KEY (server, provider, sha256)
            );
            """)
        try db.run(
            "DELETE FROM tus_uploads WHERE created_at_ns < ?",
            [Self.nowNanoseconds() - Self.uploadMemorySeconds * 1_000_000_000], cached: false)
        self.db = Mutex(db)
        self.path = path
    }

    /// The digest recorded for a file with this identity, when it can be trusted (see `racyWindowNanoseconds`).
    public func sha256(for identity: FileIdentity) -> String? {
        db.withLock { db in
            try? db.queryFirst(
                """
                SELECT sha256 FROM file_hashes
                WHERE device = ? AND inode = ? AND size = ? AND mtime_ns = ? AND mtime_ns <= hashed_at_ns - ?
                """,
                [
                    Int64(bitPattern: identity.device), Int64(bitPattern: identity.inode), identity.size,
                    identity.mtimeNanoseconds, Self.racyWindowNanoseconds,
                ]
            ) { $0.text(0) }
        }
    }

    /// Records `sha256` for the file as it was while read; `hashedAt` is when the read started.
    public func record(_ identity: FileIdentity, sha256: String, hashedAt: Int64) {
        db.withLock { db in
            _ = try? db.run(
                """
                INSERT INTO file_hashes (device, inode, size, mtime_ns, sha256, hashed_at_ns) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (device, inode) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
                    sha256 = excluded.sha256, hashed_at_ns = excluded.hashed_at_ns
                """,
                [
                    Int64(bitPattern: identity.device), Int64(bitPattern: identity.inode), identity.size,
                    identity.mtimeNanoseconds, sha256, hashedAt,
                ])
        }
    }

    public func upload(server: String, provider: String, sha256: String) -> RememberedUpload? {
        db.withLock { db in
            try? db.queryFirst(
                "SELECT location, size FROM tus_uploads WHERE server = ? AND provider = ? AND sha256 = ?",
                [server, provider, sha256]
            ) { RememberedUpload(location: $0.text(0), size: $0.int(1)) }
        }
    }

    public func rememberUpload(server: String, provider: String, sha256: String, size: Int64, location: String) {
        db.withLock { db in
            _ = try? db.run(
                """
                INSERT INTO tus_uploads (server, provider, sha256, size, location, created_at_ns) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (server, provider, sha256) DO UPDATE SET size = excluded.size,
                    location = excluded.location, created_at_ns = excluded.created_at_ns
                """,
                [server, provider, sha256, size, location, Self.nowNanoseconds()])
        }
    }

    public func forgetUpload(server: String, provider: String, sha256: String) {
        db.withLock { db in
            _ = try? db.run(
                "DELETE FROM tus_uploads WHERE server = ? AND provider = ? AND sha256 = ?", [server, provider, sha256])
        }
    }

    /// Wall-clock time in nanoseconds, the clock file mtimes are written in.
    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// `mkdir -p` of the folder holding `path` (0700: the cache names the user's files).
    static func makeParentDirectories(of path: String) throws {
        guard let slash = path.lastIndex(of: "/") else { return }
        var current = path.hasPrefix("/") ? "" : "."
        for component in path[..<slash].split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw HashError(reason: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
