import AssetDedupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An advisory `flock` on a file beside the database, held for this object's lifetime. The
/// kernel drops it when the process ends however it ends, so a `kill -9` never leaves a stale lock.
final class FileLock {
    private let fd: Int32

    /// Takes the lock at once or throws `refusal` (with the lock's path appended).
    init(path: String, exclusive: Bool, refusal: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(fd)
            throw CLIError("\(refusal) (lock \(path))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Tells `restore` that an app serves the database: every `serve` holds `<db>.serve.lock`
    /// shared while it runs, `restore` needs it exclusively.
    static func serve(databasePath: String, exclusive: Bool) throws -> FileLock {
        try FileLock(
            path: "\(databasePath).serve.lock", exclusive: exclusive,
            refusal: exclusive
                ? "assetdedup serve is running on \(databasePath); stop it before restoring"
                : "a restore is running on \(databasePath); start serve when it is done")
    }
}
