import BlobProtocols

#if canImport(Glibc)
    import Glibc
#endif

/// Request bodies that nginx buffered to files (`client_body_in_file_only`), read by path.
///
/// nginx takes a slow client's upload at the client's pace and hands the app only the finished
/// file, so a trickling body never holds an app thread. The path arrives as the FastCGI param
/// `REQUEST_BODY_FILE`, which only nginx's config sets; it is still accepted only inside the
/// one folder nginx writes bodies to, so a local process talking FastCGI to a TCP listener
/// cannot make the app read any other file as an upload.
public struct RequestBodyFiles: Sendable {
    /// The folder, resolved (no symlinks, no trailing slash); nil accepts no body file.
    public let directory: String?
    /// The folder as given, for the refusal's reason when it could not be resolved.
    let configured: String?

    public init(directory: String?) {
        self.configured = directory
        self.directory = directory.flatMap(Self.resolve)
    }

    /// Opens the body file nginx named; throws when it is outside the folder or unreadable.
    public func open(_ path: String) throws -> FileRequestBody {
        guard let directory else {
            throw BodyFileRefused(
                path: path,
                reason: configured.map { "--request-body-dir \($0) was not a folder serve could use when it started" }
                    ?? "serve has no --request-body-dir")
        }
        guard let resolved = Self.resolve(path), resolved.hasPrefix(directory + "/") else {
            throw BodyFileRefused(path: path, reason: "it is not inside --request-body-dir \(directory)")
        }
        return try FileRequestBody(path: resolved)
    }

    /// Why serve could not read body files in `path`, or nil when it can: the folder is missing,
    /// not a folder, or not readable and searchable by this process. What `serve` checks at start;
    /// a mismatch it cannot see (nginx writing elsewhere) shows per request as
    /// `503 request_body_unavailable`.
    public static func problem(directory path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot be used (\(String(cString: strerror(errno))))" }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "is not a folder" }
        guard access(path, R_OK | X_OK) == 0 else {
            return "is not readable by this process (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    static func resolve(_ path: String) -> String? {
        guard let raw = realpath(path, nil) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Removes body files older than `maxAge` seconds: nginx deletes its own when a request
    /// ends, so only a killed nginx leaves any. Returns how many were removed.
    @discardableResult
    public func sweep(olderThan maxAge: Double) -> Int {
        guard let directory, let dir = opendir(directory) else { return 0 }
        defer { closedir(dir) }
        let cutoff = time(nil) - time_t(maxAge)
        var removed = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var info = stat()
            let path = "\(directory)/\(name)"
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mtim.tv_sec < cutoff else {
                continue
            }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }
}

/// A body file path that the app will not read.
public struct BodyFileRefused: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "request body file \(path) refused: \(reason)" }
}

/// One buffered request body, read in chunks like a streamed one; closes its file in `deinit`.
public final class FileRequestBody: RequestBody {
    public let path: String
    public let size: Int64
    private let fd: Int32

    init(path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileError("open", path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            let error = FileError("fstat (not a regular file)", path: path, errno: errno == 0 ? EINVAL : errno)
            close(fd)
            throw error
        }
        // The file is read once, front to back: let the kernel read ahead generously.
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        self.fd = fd
        self.path = path
        self.size = Int64(info.st_size)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(fd, base, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw FileError("read", path: path)
        }
    }
}
