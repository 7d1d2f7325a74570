#if canImport(Glibc)
    import Glibc

    /// The write end of the watch's stop pipe, for the signal handler (which may only write).
    nonisolated(unsafe) private var stopPipe: Int32 = -1

    /// `--watch`: inotify on folders (and the folders made in them later), handing out files
    /// once they have not changed for `settle` seconds, so a copy still being written is not sent
    /// half-done. SIGINT and SIGTERM write to a pipe the wait polls (a self-pipe): Ctrl-C ends the
    /// watch cleanly (a batch being sent is finished first; a big file's tus upload resumes anyway).
    public final class FolderWatcher {
        public enum WatchError: Error, CustomStringConvertible {
            case system(String)
            public var description: String {
                switch self {
                case .system(let text): return text
                }
            }
        }

        private let inotify: Int32
        private let signals: Int32
        private let settle: Double
        private let options: CrawlOptions
        /// Watch descriptor -> (folder path, path below its root).
        private var folders: [Int32: (path: String, relative: String)] = [:]
        /// File path -> (path below its root, when it last changed).
        private var pending: [String: (relative: String, changed: Double)] = [:]
        private let clock: () -> Double

        /// Takes SIGINT and SIGTERM for the process (one watcher per process) and watches every
        /// folder under `roots`.
        public init(
            roots: [String], settle: Double, options: CrawlOptions,
            clock: @escaping () -> Double = UploadProgress.monotonicSeconds
        ) throws {
            self.settle = settle
            self.options = options
            self.clock = clock
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw WatchError.system("pipe: \(errnoText())") }
            for fd in ends {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
            signals = ends[0]
            stopPipe = ends[1]
            let handler: @convention(c) (Int32) -> Void = { _ in
                var byte: UInt8 = 1
                _ = write(stopPipe, &byte, 1)
            }
            signal(SIGINT, handler)
            signal(SIGTERM, handler)
            inotify = inotify_init1(Int32(IN_CLOEXEC))
            guard inotify >= 0 else { throw WatchError.system("inotify: \(errnoText())") }
            for root in roots { try add(folder: root, relative: "") }
        }

        deinit {
            close(inotify)
            close(signals)
        }

        private static let events = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_ATTRIB)

        private func add(folder: String, relative: String) throws {
            let wd = inotify_add_watch(inotify, folder, Self.events | UInt32(IN_ONLYDIR))
            guard wd >= 0 else { throw WatchError.system("cannot watch \(folder): \(errnoText())") }
            folders[wd] = (folder, relative)
            // Folders inside it, made before the watch began, are watched too.
            guard let dir = opendir(folder) else { return }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                guard name != "." && name != ".." && Int32(entry.pointee.d_type) == Int32(DT_DIR) else { continue }
                if !options.includeHidden && name.hasPrefix(".") { continue }
                try? add(folder: folder + "/" + name, relative: relative.isEmpty ? name : relative + "/" + name)
            }
        }

        /// Files that have settled, in name order; waits until there are some. nil: a signal
        /// asked the watch to end.
        public func next() -> [String]? {
            while true {
                let now = clock()
                let settled = pending.filter { now - $0.value.changed >= settle }.map(\.key).sorted()
                if !settled.isEmpty {
                    for path in settled { pending[path] = nil }
                    // Gone meanwhile (a temporary file renamed away, deleted): not ours to report.
                    let present = settled.filter { access($0, F_OK) == 0 }
                    if !present.isEmpty { return present }
                    continue
                }
                let wait = pending.values.map { settle - (now - $0.changed) }.min()
                var fds = [
                    pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: signals, events: Int16(POLLIN), revents: 0),
                ]
                let timeout = wait.map { Int32(max(1, ($0 * 1000).rounded(.up))) } ?? -1
                let n = poll(&fds, 2, timeout)
                if n < 0 && errno != EINTR { return nil }
                if fds[1].revents != 0 { return nil }
                if fds[0].revents != 0 { readEvents() }
            }
        }

        private func readEvents() {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let n = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            let now = clock()
            var at = 0
            // struct inotify_event: wd, mask, cookie, len, then `len` bytes of NUL-padded name.
            while at + 16 <= n {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: at, as: Int32.self),
                        raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self),
                        Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                    )
                }
                let nameBytes = buffer[(at + 16)..<(at + 16 + length)].prefix { $0 != 0 }
                at += 16 + length
                guard let folder = folders[wd], !nameBytes.isEmpty else { continue }
                let name = String(decoding: nameBytes, as: UTF8.self)
                let path = folder.path + "/" + name
                let relative = folder.relative.isEmpty ? name : folder.relative + "/" + name
                if mask & UInt32(IN_ISDIR) != 0 {
                    if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, options.includeHidden || !name.hasPrefix(".") {
                        try? add(folder: path, relative: relative)
                        // Files that landed in it before its watch began.
                        for file in Crawler(options: options).crawl([path]).files {
                            pending[file.path] = (relative, now)
                        }
                    }
                    continue
                }
                guard options.refusal(name: name, relative: relative) == nil else { continue }
                var st = stat()
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                pending[path] = (relative, now)
            }
        }
    }
#endif
