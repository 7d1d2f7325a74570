import Crypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file's SHA-256 read in fixed chunks (constant memory), with its size and mtime checked
/// before and after: a file that changed while it was read is an error, not a digest.
public struct HashedFile: Sendable, Equatable {
    public let path: String
    public let size: Int64
    public let sha256: String
}

public struct HashError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// A digest with the identity the file had while it was read (what the hash cache keys on).
public struct IdentifiedHash: Sendable, Equatable {
    public let file: HashedFile
    public let identity: FileIdentity
}

public enum FileHasher {
    public static let chunkSize = 1 << 20

    public static func hash(path: String) -> Result<HashedFile, HashError> {
        hash(path: path, afterRead: nil)
    }

    /// `afterRead` runs between the last read and the second look at the file (tests change it there).
    static func hash(path: String, afterRead: (() -> Void)?) -> Result<HashedFile, HashError> {
        identified(path: path, afterRead: afterRead).map(\.file)
    }

    /// The digest and the file's identity (device, inode, size, mtime) as it was while read.
    public static func identified(path: String, afterRead: (() -> Void)? = nil) -> Result<IdentifiedHash, HashError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(HashError(reason: "cannot open: \(errnoText())")) }
        defer { close(fd) }
        var before = stat()
        guard fstat(fd, &before) == 0 else { return .failure(HashError(reason: "cannot stat: \(errnoText())")) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress!, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(HashError(reason: "cannot read: \(errnoText())"))
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
        afterRead?()
        var after = stat()
        guard stat(path, &after) == 0 else { return .failure(HashError(reason: "vanished while read: \(errnoText())")) }
        if after.st_size != before.st_size || total != Int64(before.st_size) || after.st_ino != before.st_ino
            || mtime(after) != mtime(before)
        {
            return .failure(HashError(reason: "changed while read (size or modification time differ)"))
        }
        let digest = hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return .success(
            IdentifiedHash(file: HashedFile(path: path, size: total, sha256: digest), identity: FileIdentity(before)))
    }

    static func mtime(_ st: stat) -> Int64 {
        #if canImport(Glibc)
            return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #else
            return Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #endif
    }
}

/// Runs `work` for each index on `jobs` threads at once; results in input order.
public func parallelMap<T: Sendable, R: Sendable>(_ items: [T], jobs: Int, _ work: @escaping @Sendable (T) -> R) -> [R]
{
    let box = ResultBox<R>(count: items.count)
    let next = Counter()
    let workers = max(1, min(jobs, items.count))
    var threads: [pthread_t] = []
    let body: @Sendable () -> Void = {
        while true {
            let i = next.take()
            guard i < items.count else { return }
            box.set(i, work(items[i]))
        }
    }
    for _ in 0..<workers {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
                body.run()
                return nil
            }, context)
        if rc == 0 {
            threads.append(thread)
        } else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            body()
        }
    }
    for thread in threads { pthread_join(thread, nil) }
    return box.values()
}

private final class ThreadBody: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private var lock = pthread_mutex_t()
    init() { pthread_mutex_init(&lock, nil) }
    deinit { pthread_mutex_destroy(&lock) }
    func take() -> Int {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        value += 1
        return value - 1
    }
}

final class ResultBox<R>: @unchecked Sendable {
    private var items: [R?]
    private var lock = pthread_mutex_t()
    init(count: Int) {
        items = Array(repeating: nil, count: count)
        pthread_mutex_init(&lock, nil)
    }
    deinit { pthread_mutex_destroy(&lock) }
    func set(_ i: Int, _ value: R) {
        pthread_mutex_lock(&lock)
        items[i] = value
        pthread_mutex_unlock(&lock)
    }
    func values() -> [R] { items.map { $0! } }
}
