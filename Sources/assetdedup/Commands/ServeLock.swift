import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells `restore` that an app serves the database: every `serve` holds a shared `flock` on
/// `<db>.serve.lock` while it runs, `restore` needs it exclusively. The kernel drops it when a
/// process ends however it ends, so a `kill -9` never leaves a stale lock.
final class ServeLock {
    private let fd: Int32

    init(databasePath: String, exclusive: Bool) throws {
        let path = "\(databasePath).serve.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(fd)
            throw CLIError(
                exclusive
                    ? "assetdedup serve is running on \(databasePath) (lock \(path)); stop it before restoring"
                    : "a restore is running on \(databasePath) (lock \(path)); start serve when it is done")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
