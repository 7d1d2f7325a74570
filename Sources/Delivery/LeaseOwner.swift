import StoreProtocols
import Foundation

/// Who holds a delivery lease: a role, the host, the pid and a random per-process nonce, so a
/// lease can be traced to a process and a dead process on this host can be recognised.
public struct LeaseOwner: Sendable, Equatable, CustomStringConvertible {
    /// `serve/1` (worker 1 of serve), `api`, `sync-runway`, ...
    public let role: String
    public let host: String
    public let pid: Int32
    public let nonce: String

    /// One nonce per process: two processes that got the same pid are still told apart.
    static let processNonce = String(UInt32.random(in: .min ... .max), radix: 16)
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingOccurrences(of: " ", with: "_")
    }()

    /// This process in `role`.
    public init(role: String) {
        self.init(role: role, host: Self.hostName, pid: getpid(), nonce: Self.processNonce)
    }

    public init(role: String, host: String, pid: Int32, nonce: String) {
        self.role = role
        self.host = host
        self.pid = pid
        self.nonce = nonce
    }

    /// Reads `role host pid N nonce` back; nil for text written some other way.
    public init?(parsing text: String) {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 5, parts[2] == "pid", let pid = Int32(parts[3]) else { return nil }
        self.init(role: parts[0], host: parts[1], pid: pid, nonce: parts[4])
    }

    public var description: String { "\(role) \(host) pid \(pid) \(nonce)" }

    /// True when this owner was a process on this host that no longer runs: its pid is gone, or
    /// it is our own pid with another nonce (an earlier process whose pid we got).
    public var isDeadProcessOnThisHost: Bool {
        guard host == Self.hostName else { return false }
        if pid == getpid() { return nonce != Self.processNonce }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Expires every lease whose owner is a dead process on this host, so it is taken over at
    /// once instead of when it runs out. Returns the owners whose leases were ended.
    @discardableResult
    public static func expireLeasesOfDeadProcesses(in store: any DeliveryStore, also: (LeaseOwner) -> Bool = { _ in false })
        throws -> [String]
    {
        var ended: [String] = []
        for text in try store.deliveryLeaseOwners() {
            guard let owner = LeaseOwner(parsing: text), owner.isDeadProcessOnThisHost || also(owner) else { continue }
            if try store.expireLeases(owner: text) > 0 { ended.append(text) }
        }
        return ended
    }
}
