import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Who holds a resumable upload's append lock: `host:pid:process:request`, so a lock left by a
/// killed process is recognised as stale at once on this host, even when a restarted app gets
/// the same pid back (as pid 1 in a container does): the process token then differs.
enum AppendLockOwner {
    static let host: String = {
        var name = [UInt8](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
    }()

    /// Random per process start.
    static let process = String(UInt64.random(in: 0 ... .max), radix: 16)

    /// A fresh owner name for one request.
    static func make() -> String {
        "\(host):\(getpid()):\(process):\(String(UInt64.random(in: 0 ... .max), radix: 16))"
    }

    /// Whether the owner's process still runs: nil for another host (cannot tell; the lock
    /// times out), false for a gone process on this host or an earlier process with our pid.
    static func isAlive(_ owner: String) -> Bool? {
        let parts = owner.split(separator: ":")
        guard parts.count == 4, parts[0] == host, let pid = pid_t(parts[1]) else { return nil }
        if pid == getpid() { return parts[2] == process }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
