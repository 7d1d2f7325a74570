#if canImport(Glibc)
    import Glibc
#endif

/// The few system calls the directory adapter needs, with errno turned into a readable error.
enum FileSystem {
    /// A failed call, which path, and `strerror(errno)`.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ operation: String, _ path: String, errno code: Int32 = errno) {
            description = "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    /// Runs a call that returns -1 on failure, retrying on EINTR.
    @discardableResult
    static func retrying(_ operation: String, _ path: String, _ call: () -> Int) throws -> Int {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw Failure(operation, path) }
        }
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Failure("mkdir", current) }
        }
    }

    static func rename(_ source: String, to target: String) throws {
        if Glibc.rename(source, target) != 0 { throw Failure("rename", target) }
    }

    /// fsync on a folder makes a rename inside it durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("open", path) }
        defer { close(fd) }
        try retrying("fsync", path) { Int(fsync(fd)) }
    }
}
