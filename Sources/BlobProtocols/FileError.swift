#if canImport(Glibc)
    import Glibc
#endif

/// A failed file-system call: which call, on which path, and errno.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(_ operation: String, path: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// The volume is full (ENOSPC) or over quota (EDQUOT): the API answers 507.
    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
    public var isNotFound: Bool { errno == ENOENT }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// Runs a system call that returns -1 on failure, retrying on EINTR (for this package's file code).
@discardableResult
package func sys(_ operation: String, _ path: String, _ call: () -> Int) throws -> Int {
    while true {
        let result = call()
        if result >= 0 { return result }
        if errno == EINTR { continue }
        throw FileError(operation, path: path)
    }
}
