import AssetDedupCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One `sync` per database and provider at a time: two runs would both see an asset as
/// missing and upload it twice. An advisory `flock`, released by the kernel when the process
/// ends however it ends, so a `kill -9` never leaves a stale lock.
final class SyncLock {
    private let fd: Int32

    init(databasePath: String, provider: ProviderID) throws {
        let path = "\(databasePath).sync-\(provider).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw CLIError("another sync to \(provider) is running on this database (lock \(path))")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
